# ebb's one image: the ebb binary, whose subcommands are the services (ebb bus, ebb poller,
# ebb decider, ebb actuator, ebb metrics-api) and the tools (ebb tap). The manifests in
# deploy/kustomize run it as `ebb <service> <flags>`. Build from the repository root with
# `make images` (or: docker build -t ebb:dev .).
ARG GO_VERSION=1.26.8
ARG BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM golang:${GO_VERSION} AS build
ARG VERSION=dev
WORKDIR /src
COPY . .
# A static binary (no cgo), reproducible paths, the version stamped for `ebb version`.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/ebb ebb.dev/cmd/ebb

# distroless/static: CA certificates and time zones (cron triggers), no shell, no package manager.
FROM ${BASE_IMAGE}
COPY --from=build /out/ebb /ebb
# Numeric, so the kubelet can check runAsNonRoot; the manifests run as the same user.
USER 65532:65532
ENTRYPOINT ["/ebb"]
