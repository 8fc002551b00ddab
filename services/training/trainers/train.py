#!/usr/bin/python3
"""Entry point of Argmax's built-in trainers. Run it with Debian's interpreter:

    /usr/bin/python3 services/training/trainers/train.py --trainer xgboost            # contract mode
    /usr/bin/python3 services/training/trainers/train.py --trainer xgboost \\
        --dataset movies.jsonl --output out/ --params '{"target": "IMDB Rating"}'  # local mode
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# XGBoost's OpenMP threads spin while they wait by default: on a shared or CPU-limited machine
# that spinning steals the cores they wait for (80 rounds took 7.8 s instead of 0.7 s here
# under load). Passive waiting costs nothing measurable when the cores are free.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from argmax_trainers.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
