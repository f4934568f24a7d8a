# cloud-agents-mock in a container:
#   docker build -t cloud-agents-mock .
#   docker run --rm -p 8787:8787 cloud-agents-mock
#   docker run --rm -p 8787:8787 -v "$PWD/fixtures:/fixtures:ro" cloud-agents-mock --fixtures /fixtures/default.json
# No engine runs on the project's build machines; scripts/check-docker.sh checks
# what can be checked without one (same build command, same runtime layout, the
# health check, hadolint). Examples with compose and GitHub Actions: examples/.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
# Debian's security updates replace package versions, so pinned versions would stop the build
# from working; the base image tag pins the release instead.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libevent-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
# The Swift runtime (and FoundationEssentials, for the argument parser) is linked in, so the runtime image needs only libevent.
RUN swift build -c release --product cloud-agents-mock --static-swift-stdlib
RUN mkdir -p /out \
    && cp .build/release/cloud-agents-mock /out/

FROM ${RUNTIME_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libevent-2.1-7 libevent-pthreads-2.1-7 libstdc++6 \
    && rm -rf /var/lib/apt/lists/*
# The default fixture and the OpenAPI document are compiled into the binary.
COPY --from=build /out/ /opt/cloud-agents-mock/
RUN useradd --system --no-create-home --uid 10001 mock
USER 10001
EXPOSE 8787
# Healthy once the fixtures are loaded: the binary asks its own /_mock/ready (the image has no
# curl). With another port, set CLOUD_AGENTS_MOCK_HEALTH_URL (e.g. http://127.0.0.1:9000).
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/opt/cloud-agents-mock/cloud-agents-mock", "health", "--timeout-ms", "2000"]
# The server handles SIGTERM itself (ends open streams, exits 0), also as PID 1.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/cloud-agents-mock/cloud-agents-mock", "--host", "0.0.0.0", "--port", "8787"]
