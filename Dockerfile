# nudger, every role: `nudger serve` (web app + scheduler, the default) or `nudger worker`.
# Build: docker build -t nudger .   Run them together: docker compose up (compose.yaml).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NUDGER_DATA_DIR=/data

RUN useradd --create-home --uid 10001 nudger \
    && mkdir -m 700 /data && chown nudger:nudger /data

WORKDIR /app
# Exact versions with their sha256 (make lock refreshes them); a layer of its own, so code
# changes do not reinstall them.
COPY requirements/runtime.lock ./requirements/
RUN pip install --require-hashes -r requirements/runtime.lock
COPY pyproject.toml README.md LICENSE ./
COPY nudger ./nudger
COPY templates ./templates
COPY config ./config
RUN pip install --no-deps --no-build-isolation . \
    && python -c "import nudger.cli"

USER nudger
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"

CMD ["nudger", "serve", "--host", "0.0.0.0", "--port", "8000"]
