# The web app's image: the package and its runtime dependencies only (no test tools, no checkov,
# no Terraform), installed from a wheelhouse built on the host: nothing is downloaded during the
# build, which runs with --network=none. Build it with `make image` (localhost/chatref:dev).
#
# BASE_IMAGE: any Debian bookworm with Python 3.11 and venv. `make image` uses one made here from
# Debian's packages (scripts/base-image.sh: mmdebstrap + podman import), since no registry image
# can be pulled on these machines; the release workflow passes the official
# python:3.11-slim-bookworm. The wheelhouse must be built for the same Python (3.11, glibc).
#
# Run (see docs/operations.md): read-only root file system, one writable data volume.
#   podman run --network host --read-only -v chatref-data:/home/chatref/data localhost/chatref:dev
# In the default auth mode (local) it listens on 127.0.0.1:$PORT only (hence --network host);
# with CHATREF_AUTH_MODE=token or easyauth it listens on 0.0.0.0:$PORT (App Service).

ARG BASE_IMAGE=localhost/debian-python:bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_INDEX=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/chatref
# Dependencies first: this layer is cached until the wheelhouse's dependencies change.
COPY build/wheelhouse/deps /wheels/deps
# Packages' own test suites, type stubs and C headers/sources are not needed to run them.
RUN /opt/chatref/bin/pip install -q --no-deps /wheels/deps/*.whl \
    && find /opt/chatref/lib -depth -type d -name tests -path '*/site-packages/*/*' \
        -exec rm -rf {} + \
    && find /opt/chatref/lib/python3.11/site-packages -type f \
        \( -name '*.pyi' -o -name '*.h' -o -name '*.c' -o -name '*.pxd' \) -delete
COPY build/wheelhouse/app /wheels/app
# After the consistency check: pip and setuptools are not needed at run time, nor is hf-xet,
# huggingface_hub's download accelerator (nothing is downloaded at run time; 11 MB).
RUN /opt/chatref/bin/pip install -q --no-deps /wheels/app/*.whl \
    && /opt/chatref/bin/pip check \
    && /opt/chatref/bin/pip uninstall -q -y hf-xet pip setuptools

FROM ${BASE_IMAGE}
RUN useradd --uid 10001 --user-group --home-dir /home/chatref --create-home \
        --shell /usr/sbin/nologin chatref \
    && install -d -o chatref -g chatref /home/chatref/data
COPY --from=build /opt/chatref /opt/chatref
COPY docs /opt/chatref/docs/docs
COPY README.md /opt/chatref/docs/README.md
ENV PATH=/opt/chatref/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CHATREF_DATA_DIR=/home/chatref/data \
    PORT=8000
# The bundled docs, indexed now (same code, no network) so a first start only copies the index.
RUN CHATREF_DATA_DIR=/opt/chatref/seed chatref ingest --json \
        /opt/chatref/docs/docs /opt/chatref/docs/README.md >/dev/null \
    && rm -rf /opt/chatref/seed/.wordllama \
    && test -s /opt/chatref/seed/index.sqlite
# The build's name (the release passes its commit; scripts/image.sh `git describe`), last so
# that it invalidates no other layer: /health/ready shows it to the operator, and the release's
# smoke chat waits until the slot answers from it (scripts/smoke_chat.py --expect-build).
ARG CHATREF_BUILD=dev
ENV CHATREF_BUILD=${CHATREF_BUILD}
LABEL org.opencontainers.image.revision=${CHATREF_BUILD}
USER chatref
WORKDIR /home/chatref
VOLUME /home/chatref/data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python3 -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/health/live', timeout=4)"
CMD ["python3", "-m", "chatref.web.container", "--seed", "/opt/chatref/seed"]
