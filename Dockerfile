# syntax=docker/dockerfile:1
# Bollard's container image: a static binary on distroless, non-root, no shell.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t REGISTRY/bollard:TAG .
#
# test/chart/dockerfile_test.go runs this file's `go build` line, so it cannot
# drift from the code.

ARG GO_VERSION=1.26.8

# The build runs on the builder's own platform and cross-compiles, so a
# multi-platform build (docker buildx --platform linux/amd64,linux/arm64)
# needs no emulation.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
ARG TARGETOS=linux TARGETARCH=amd64 VERSION=dev
ENV GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    GOOS=${TARGETOS} GOARCH=${TARGETARCH} CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /sidecar ./cmd/sidecar

# distroless static: CA certificates, /etc/passwd with nonroot (65532), no
# shell, no package manager. Time zone data is embedded in the binary
# (time/tzdata), so policies' business hours work here too.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /sidecar /sidecar
USER 65532:65532
EXPOSE 8181 8182 8443
ENTRYPOINT ["/sidecar"]
CMD ["serve", "--config", "/etc/bollard/bollard.yaml"]
