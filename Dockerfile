# syntax=docker/dockerfile:1
# The custom collector image: built by ocb from builder-config.yaml, run as
# a non-root user whose binary carries the file capabilities eBPF needs.
#
#   docker build -t otelcol-syscalls .
#   docker run --rm --pid=host --cap-drop=ALL --cap-add=BPF --cap-add=PERFMON \
#     -v /sys/kernel/btf:/sys/kernel/btf:ro -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
#     otelcol-syscalls
#
# The binary has cap_bpf,cap_perfmon+ep, so the container must be allowed
# both (--cap-add, or capabilities.add in Kubernetes): a file capability
# outside the bounding set makes exec fail with "operation not permitted".
# Builders that drop extended attributes lose the file capabilities; then
# run as root with only BPF and PERFMON instead (README, "Deploying").

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
ARG OCB_VERSION=v0.165.0
ENV CGO_ENABLED=0
RUN apt-get update \
    && apt-get install -y --no-install-recommends libcap2-bin \
    && rm -rf /var/lib/apt/lists/*
RUN go install go.opentelemetry.io/collector/cmd/builder@${OCB_VERSION}
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# ocb resolves the receiver's `path: .` from the working directory.
RUN builder --config builder-config.yaml \
    && setcap cap_bpf,cap_perfmon+ep _build/otelcol-syscalls \
    && getcap _build/otelcol-syscalls

FROM gcr.io/distroless/static-debian12:nonroot
# At /NAME, where the opentelemetry-collector Helm chart runs command.name.
COPY --from=build /src/_build/otelcol-syscalls /otelcol-syscalls
COPY --from=build /src/config.yaml /etc/otelcol-syscalls/config.yaml
USER 65532:65532
# 9464: the default config's Prometheus exporter; 8888: collector telemetry;
# 13133: health_check, where a config enables it.
EXPOSE 9464 8888 13133
ENTRYPOINT ["/otelcol-syscalls"]
CMD ["--config=/etc/otelcol-syscalls/config.yaml"]
