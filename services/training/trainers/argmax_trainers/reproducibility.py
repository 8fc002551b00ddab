"""What `reproducibility.json` records: enough to run the same training again and to know
what it ran on."""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def code_sha256() -> str:
    """SHA-256 over the trainer's own Python files and its parameter tables (names and contents,
    sorted): the code version even where there is no git checkout (an image)."""
    h = hashlib.sha256()
    root = os.path.dirname(PACKAGE_DIR)
    files = [os.path.join(root, "train.py")]
    for name in sorted(os.listdir(PACKAGE_DIR)):
        if name.endswith((".py", ".json")):
            files.append(os.path.join(PACKAGE_DIR, name))
    for path in files:
        if os.path.exists(path):
            h.update(os.path.relpath(path, root).encode() + b"\0")
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def git_commit() -> str | None:
    if os.environ.get("ARGMAX_TRAINER_COMMIT"):
        return os.environ["ARGMAX_TRAINER_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "-C", PACKAGE_DIR, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        )
        commit = out.stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", PACKAGE_DIR, "status", "--porcelain", "--", "."], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def library_versions() -> dict[str, str]:
    import numpy
    import onnx
    import scipy
    import sklearn
    import xgboost

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "xgboost": xgboost.__version__,
        "onnx": onnx.__version__,
    }


def hardware() -> dict:
    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    memory = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    gpus: list[str] = []
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
            gpus = [line.strip() for line in out.stdout.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            pass
    return {
        "cpu_model": cpu or platform.processor() or None,
        "cpu_cores": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_bytes": memory,
        "gpus": gpus,
        "machine": platform.machine(),
        "os": f"{platform.system()} {platform.release()}",
        "python_executable": sys.executable,
    }
