# The web app's image: the package and its runtime dependencies only (no test tools, no checkov,
# no Terraform). Built by the delivery pipeline and pushed to the Container Registry that the
# app_service module pulls from with the web app's managed identity.
#
# `chatref serve` listens on 0.0.0.0:$PORT (default 8000; Terraform sets WEBSITES_PORT to match)
# in the token and easyauth auth modes; in local mode (the default) it stays on 127.0.0.1, so
# the container serves nobody until CHATREF_AUTH_MODE says how callers are authenticated.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/chatref && /opt/chatref/bin/pip install --no-compile .

FROM python:3.11-slim-bookworm
RUN useradd --create-home --uid 10001 chatref
COPY --from=build /opt/chatref /opt/chatref
COPY --chown=chatref:chatref docs /opt/chatref-docs/docs
COPY --chown=chatref:chatref README.md /opt/chatref-docs/README.md
ENV PATH=/opt/chatref/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CHATREF_DATA_DIR=/home/chatref/data
USER chatref
WORKDIR /home/chatref
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('PORT', '8000'), timeout=4)"
CMD ["sh", "-c", "chatref ingest /opt/chatref-docs/docs /opt/chatref-docs/README.md; exec chatref serve"]
