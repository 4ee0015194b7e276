# syntax=docker/dockerfile:1
#
# The aimsource operator image: `aimsource run` as an unprivileged user, from a virtual environment
# on a Python base. docs/image.md says how to build it with Docker, Podman or Buildah and push it.
#
#   docker build -t REGISTRY/aimsource:0.1.0 .
#
# The base is a build argument, the same for both stages (the virtual environment made in the
# builder points at the base's Python). Users build on the public python:slim image pinned below; CI
# builds on a Debian base that mmdebstrap makes from Debian packages (scripts/build-image), because
# its machines reach Debian's archive but no image registry. Both are Debian bookworm with Python
# 3.11. For reproducible, tamper-evident builds pin the base by digest as well, e.g.
# PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:<digest>, with the digest taken from
# `docker buildx imagetools inspect python:3.11.14-slim-bookworm`, and let a bot such as Renovate keep
# it fresh; a digest is not written here because this repository cannot verify one.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- builder: the project and its dependencies, installed into a virtual environment -----------------
FROM ${PYTHON_IMAGE} AS builder
# PIP_CERT: pip trusts the base's CA bundle rather than its own copy of certifi's, so a build that
# mounts the machine's bundle over /etc/ssl/certs (a company proxy's CA; CI does) reaches PyPI. The
# bundle is mounted, never copied: nothing of it is in any layer.
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt
# A virtual environment, not the system Python: on a Debian-packaged Python, PEP 668
# ("externally-managed-environment") refuses a plain `pip install`, and a venv works on every base.
# Its pip (from the base's ensurepip) does all the work below and is removed at the end.
RUN python3 -m venv /opt/aimsource
WORKDIR /build
# The dependencies first, in a layer of their own that a rebuild reuses until pyproject.toml
# changes: wheels of the build requirements (/build-wheels) and of the runtime dependencies
# (/wheels). They are built from a copy with a placeholder package, in a directory of its own: a
# setuptools build directory left in /build would hold the placeholder's files, newer than the real
# sources copied next, and the package's wheel would be built from them.
COPY pyproject.toml README.md ./
RUN mkdir -p /tmp/deps/src/aimsource \
    && cp pyproject.toml README.md /tmp/deps/ \
    && touch /tmp/deps/src/aimsource/__init__.py \
    && /opt/aimsource/bin/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' > /tmp/deps/build-requires.txt \
    && /opt/aimsource/bin/pip wheel --quiet --wheel-dir /build-wheels --requirement /tmp/deps/build-requires.txt \
    && /opt/aimsource/bin/pip wheel --quiet --find-links /build-wheels --wheel-dir /wheels /tmp/deps \
    && rm -r /tmp/deps /wheels/aimsource-*.whl
COPY src ./src
# The package's wheel, offline; then exactly these wheels installed (`--no-index`: pip fails rather
# than fetch what the steps above did not build), and the packaging tools taken out of the venv: the
# running operator never installs anything. Bytecode is compiled now because the root filesystem is
# read-only at run time; "unchecked-hash" pycs stay valid whatever timestamps the copy to the final
# stage gives the sources.
RUN /opt/aimsource/bin/pip wheel --quiet --no-index --find-links /build-wheels --no-deps --wheel-dir /wheels . \
    && /opt/aimsource/bin/pip install --quiet --no-index --no-compile /wheels/*.whl \
    && /opt/aimsource/bin/pip uninstall --quiet --yes pip setuptools \
    && /opt/aimsource/bin/python -m compileall -q -f -j 0 --invalidation-mode unchecked-hash /opt/aimsource/lib

# --- final: the base without its packaging tools, and the venv -------------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="aimsource" \
      org.opencontainers.image.description="Operator and CLI for AMD AIM's AIMClusterModelSource" \
      org.opencontainers.image.licenses="Apache-2.0"
# Before the venv is copied, so this layer depends on the base alone and a rebuild reuses it. The
# base's pip, setuptools and wheel go, whichever way the base installed them: as Debian packages on
# the mmdebstrap base (dpkg only warns about the names a base does not have), by pip itself on
# python:slim. So do the wheels ensurepip would install pip from. The standard library gets bytecode
# for the same reason as the venv: python:slim ships it without, and with a read-only root Python
# would compile it again at every start (the Debian base's is compiled when its packages install).
RUN set -eu; \
    venv_package="python3.$(python3 -c 'import sys; print(sys.version_info.minor)')-venv"; \
    dpkg --purge python3-pip python3-pip-whl python3-setuptools python3-setuptools-whl python3-wheel \
        python3-pkg-resources python3-venv "$venv_package"; \
    if python3 -m pip --version >/dev/null 2>&1; then \
        python3 -m pip uninstall --quiet --yes pip setuptools wheel; \
    fi; \
    stdlib="$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')"; \
    rm -rf "$stdlib/ensurepip/_bundled"; \
    python3 -m compileall -q -j 0 -x '/(test|tests|idlelib|lib2to3)/' "$stdlib"
COPY --from=builder /opt/aimsource /opt/aimsource
ENV PATH=/opt/aimsource/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    VIRTUAL_ENV=/opt/aimsource \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp
# 65532 is the conventional "nonroot" uid; deploy/operator/deployment.yaml runs the pod as the same ids.
USER 65532:65532
WORKDIR /tmp
EXPOSE 8080 8081 8082
ENTRYPOINT ["aimsource"]
CMD ["run"]
