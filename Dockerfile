# syntax=docker/dockerfile:1
# The exporter's image: docker build -t chat-supervision-exporter .

# Build the project's wheel and its dependencies' wheels. They all ship manylinux wheels for
# CPython 3.11, so neither stage needs a compiler.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exporter ./exporter
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
LABEL org.opencontainers.image.title="chat-supervision-exporter" \
      org.opencontainers.image.description="Prometheus exporter for real-time supervision of live-chat and call contact centres" \
      org.opencontainers.image.source="https://github.com/chat-supervision-exporter/chat-supervision-exporter" \
      org.opencontainers.image.documentation="https://github.com/chat-supervision-exporter/chat-supervision-exporter#readme" \
      org.opencontainers.image.licenses="Apache-2.0"
# Wheels are bind-mounted from the build stage rather than copied, so they take no layer.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels chat-supervision-exporter \
    && useradd --system --uid 10001 --user-group --create-home --home-dir /data \
       --shell /usr/sbin/nologin exporter
# A numeric user, so that runtimes enforcing non-root (Kubernetes runAsNonRoot) can check it.
# /data is its writable working directory, where `demo` keeps its SQLite file by default.
USER 10001:10001
WORKDIR /data
EXPOSE 24280
# Slim images have no curl. The check assumes the default listen address; change it too if
# you pass another --web.listen-address.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:24280/-/healthy', timeout=2)"]
ENTRYPOINT ["chat-supervision-exporter"]
