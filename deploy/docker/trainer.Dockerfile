# The built-in trainers (services/training/trainers): a workload, not a service. The kubernetes
# runner starts it as `python3 /app/services/training/trainers/train.py --trainer <name>` with
# the job contract's ARGMAX_* variables (services/training/trainers/README.md), as user 10001
# on a read-only root filesystem with a scratch volume at /scratch.
#
# Debian's ML packages, the versions the local runner and the tests use (bookworm: XGBoost 1.7,
# scikit-learn 1.2, onnx 1.12, numpy 1.24). Build from the repository root:
#   docker build -f deploy/docker/trainer.Dockerfile \
#     --build-arg ARGMAX_COMMIT="$(git rev-parse HEAD)" \
#     -t ghcr.io/argmax-dev/argmax-trainer:0.1.0 .
#
# Debian builds XGBoost without CUDA. For GPU nodes, XGBOOST_PIP names a CUDA-enabled build
# installed over Debian's — PyPI's manylinux x86_64 wheels are (CUDA 11; the node's NVIDIA
# container toolkit provides the driver); keep its version at 1.7.x so checkpoints stay readable:
#   docker build -f deploy/docker/trainer.Dockerfile --build-arg XGBOOST_PIP='xgboost==1.7.6' \
#     -t ghcr.io/argmax-dev/argmax-trainer:0.1.0-cuda .
FROM debian:bookworm-slim

ARG XGBOOST_PIP=""
ARG ARGMAX_COMMIT=""

# No bytecode: the root filesystem is read-only where it runs. Unbuffered: the platform reads
# the log while the trainer runs, and the last line of a failure must reach it.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ARGMAX_TRAINER_COMMIT=${ARGMAX_COMMIT}

RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates \
        python3 \
        python3-numpy \
        python3-scipy \
        python3-sklearn \
        python3-onnx \
        python3-xgboost \
    && if [ -n "$XGBOOST_PIP" ]; then \
        apt-get install -y --no-install-recommends python3-pip \
        && pip3 install --no-cache-dir --no-deps --break-system-packages "$XGBOOST_PIP" \
        && apt-get purge -y python3-pip \
        && apt-get autoremove -y; \
    fi \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 argmax \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /scratch argmax

COPY services/training/trainers /app/services/training/trainers

USER 10001:10001
WORKDIR /app
# The runner always gives the command; without one the image says how it is used.
CMD ["python3", "/app/services/training/trainers/train.py", "--help"]
