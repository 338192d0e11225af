# moodtape in a container: slim, non-root, the model inside (it ships in the wheel), a health check.
#
#   docker build -t moodtape .
#   docker run --rm -p 8000:8000 -e MOODTAPE_SECRET_KEY=$(openssl rand -hex 32) moodtape
#
# Several instances with PostgreSQL, Redis and a TLS balancer: deploy/compose.yaml. This file is
# not built in CI (no Docker there); tests/cluster_topology.py runs the same topology natively.

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# Wheels for moodtape and every dependency (the [postgres] extra brings the PostgreSQL driver,
# where the store supports it); no compilers or caches reach the final image.
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres]"

FROM python:3.12-slim
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin moodtape
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels moodtape && rm -rf /wheels
USER moodtape
WORKDIR /home/moodtape
# Behind the balancer (one hop); two gunicorn processes per container (ONNX Runtime threads are
# split between them: MOODTAPE_THREADS defaults to cores // processes). Plain HTTP inside: the
# balancer terminates TLS, so the camera works for visitors.
ENV MOODTAPE_HOST=0.0.0.0 \
    MOODTAPE_PORT=8000 \
    MOODTAPE_PROCESSES=2 \
    MOODTAPE_PROXY_HOPS=1 \
    MOODTAPE_DATA_DIR=/home/moodtape/data \
    MOODTAPE_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
EXPOSE 8000
# /healthz: the process answers. Balancers should route on /readyz (model, database, Redis).
HEALTHCHECK --interval=15s --timeout=3s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
# gunicorn stops gracefully on SIGTERM within MOODTAPE_SHUTDOWN_SECONDS (10); give Docker more.
STOPSIGNAL SIGTERM
CMD ["moodtape", "serve"]
