#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: ffmpeg and
# ffprobe (real transcoding and an independent HLS client), Chromium (the
# portal and player in a real browser) and versitygw (a real S3 server).
# Safe to re-run: it installs only what is missing.
set -euo pipefail

VERSITYGW_VERSION=v1.8.0

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  echo "test-deps: apt-get install $*"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v curl >/dev/null || missing+=(curl ca-certificates)
command -v chromium >/dev/null || missing+=(chromium fonts-liberation)
if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi

gobin="$(go env GOPATH)/bin"
if ! command -v versitygw >/dev/null && [ ! -x "$gobin/versitygw" ]; then
  echo "test-deps: go install versitygw@$VERSITYGW_VERSION"
  go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
fi
echo "test-deps: ffmpeg $(ffmpeg -version | head -1 | cut -d' ' -f3), $(chromium --version 2>/dev/null | head -1), versitygw installed"
