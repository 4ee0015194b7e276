# syntax=docker/dockerfile:1
#
# The aimsource operator image: `aimsource run` as an unprivileged user on a slim Python.
#
#   docker build -t REGISTRY/aimsource:0.1.0 .
#
# Both stages use the same base, pinned by tag. For reproducible, tamper-evident builds pin it by
# digest as well, e.g. PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:<digest>, with the digest
# taken from `docker buildx imagetools inspect python:3.11.14-slim-bookworm`, and let a bot such as
# Renovate keep it fresh; a digest is not written here because this repository cannot verify one.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- builder: turn the project and its dependencies into wheels --------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --wheel-dir /wheels .

# --- final: the wheels installed, nothing to build with ------------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="aimsource" \
      org.opencontainers.image.description="Operator and CLI for AMD AIM's AIMClusterModelSource" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/tmp
# Install exactly the builder's wheels: every file is named, no index is consulted, so pip fails
# rather than fetch anything the builder did not build. Then remove the packaging tools: the running
# operator never installs anything. pip compiles bytecode now, which matters because the root
# filesystem is read-only at run time.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index /wheels/*.whl \
    && python -m pip uninstall --yes pip setuptools wheel \
    && rm -rf /root/.cache
# 65532 is the conventional "nonroot" uid; deploy/deployment.yaml runs the pod as the same ids.
USER 65532:65532
WORKDIR /tmp
EXPOSE 8080 8081
ENTRYPOINT ["aimsource"]
CMD ["run"]
