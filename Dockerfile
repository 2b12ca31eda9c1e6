# triage-bot service image: a wheel built in one stage, installed with runtime dependencies only.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY bot ./bot
# bot/knowledge_base links here: the shipped knowledge base goes into the wheel.
COPY knowledge ./knowledge
# Wheels of the project and of the server's dependencies only (no [dev] extra), at the
# versions pinned in constraints.txt (resolved on Python 3.11, the base image's).
RUN pip wheel --constraint constraints.txt --wheel-dir /wheels ".[server]"

FROM ${PYTHON_IMAGE} AS runtime
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TRIAGE_DATABASE_URL=sqlite:////data/triage.db \
    TRIAGE_KNOWLEDGE_DIR=/app/knowledge
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels /wheels/*.whl \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin triage \
    && mkdir -p /data /app \
    && chown triage:triage /data
WORKDIR /app
COPY --chown=root:root knowledge ./knowledge
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# `serve` runs the Alembic migrations before it starts listening.
CMD ["triage-bot", "serve", "--host", "0.0.0.0", "--port", "8000"]
