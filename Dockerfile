# syntax=docker/dockerfile:1
# Build: a static binary (modernc.org/sqlite needs no cgo).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/edge ./cmd/edge

# Run: slim Debian with ffmpeg (the built-in transcoder) and CA certificates
# (S3, CloudFront, Ittybit over HTTPS), as a non-root user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin edge \
 && mkdir -p /data && chown edge:edge /data
COPY --from=build /out/edge /usr/local/bin/edge
USER edge
ENV EDGE_DATA_DIR=/data EDGE_ADDR=:8080
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/edge"]
CMD ["serve"]
