"""The deterministic train / validation / test split: 70 / 15 / 15 by a hash of the record's
index in the file (0-based, header and blank lines not counted) and the seed.

A row's split depends on nothing but (seed, index): not on batch sizes, chunking, the rows
around it or whether its target is missing. The hash is splitmix64's finaliser over
`(seed * 0xD1B54A32D192ED03 + index + 1) * 0x9E3779B97F4A7C15 mod 2^64`; the top 53 bits as a
fraction u in [0, 1): train when u < 0.70, validation when u < 0.85, else test.

The holdout a retrain pipeline scores models on (`holdout.jsonl`) is the test split, sampled
down to at most a configured number of records by the same hash under a salted seed.
"""

from __future__ import annotations

import numpy as np

TRAIN, VALIDATION, TEST = 0, 1, 2
SPLIT_NAMES = ("train", "validation", "test")
TRAIN_FRACTION = 0.70
VALIDATION_FRACTION = 0.15

_M1 = np.uint64(0xD1B54A32D192ED03)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_A = np.uint64(0xBF58476D1CE4E5B9)
_B = np.uint64(0x94D049BB133111EB)


# The holdout sample (holdout.jsonl) draws from another stream of the same hash: which test
# records it keeps is independent of which records are in the test split.
_HOLDOUT_SALT = 0x686F6C646F7574  # "holdout"


def split_ids(indices: np.ndarray, seed: int) -> np.ndarray:
    """uint8 TRAIN / VALIDATION / TEST for each record index (any integer array)."""
    u = _unit(indices, seed)
    out = np.full(indices.shape, TEST, dtype=np.uint8)
    out[u < TRAIN_FRACTION + VALIDATION_FRACTION] = VALIDATION
    out[u < TRAIN_FRACTION] = TRAIN
    return out


def holdout_keep(indices: np.ndarray, seed: int, fraction: float) -> np.ndarray:
    """Which records the holdout sample keeps (a function of seed and index, like the split)."""
    if fraction >= 1.0:
        return np.ones(indices.shape, dtype=bool)
    return _unit(indices, (seed ^ _HOLDOUT_SALT) % (1 << 64)) < fraction


def _unit(indices: np.ndarray, seed: int) -> np.ndarray:
    """splitmix64's finaliser of (seed, index) as a fraction in [0, 1)."""
    with np.errstate(over="ignore"):
        z = (np.uint64(seed) * _M1 + indices.astype(np.uint64) + np.uint64(1)) * _GOLDEN
        z ^= z >> np.uint64(30)
        z *= _A
        z ^= z >> np.uint64(27)
        z *= _B
        z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)
