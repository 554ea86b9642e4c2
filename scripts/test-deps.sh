#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: ffmpeg and
# ffprobe (real transcoding and an independent HLS client), Chromium (the
# portal and player in a real browser), versitygw (a real S3 server) and the
# AWS SDK for JavaScript's CloudFront model (to validate edge's documents),
# video.js's m3u8-parser (to read edge's playlists independently) and the
# Standard Webhooks JavaScript library (to verify edge's webhook signatures).
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
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi

gobin="$(go env GOPATH)/bin"
if ! command -v versitygw >/dev/null && [ ! -x "$gobin/versitygw" ]; then
  echo "test-deps: go install versitygw@$VERSITYGW_VERSION"
  go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
fi
# AWS's own CloudFront model and parameter validator, for the cdn tests.
if [ ! -d scripts/awsmodel/node_modules/aws-sdk ]; then
  echo "test-deps: npm install (scripts/awsmodel: aws-sdk, AWS's API models)"
  npm install --prefix scripts/awsmodel --no-audit --no-fund --silent >/dev/null
fi
# video.js's m3u8-parser, so the ladder tests read edge's playlists with a
# parser edge does not use itself.
if [ ! -d scripts/hlscheck/node_modules/m3u8-parser ]; then
  echo "test-deps: npm install (scripts/hlscheck: m3u8-parser)"
  npm install --prefix scripts/hlscheck --no-audit --no-fund --silent >/dev/null
fi
# The Standard Webhooks reference library for JavaScript, so the webhook
# tests check edge's signatures with code edge does not use itself.
if [ ! -d scripts/whcheck/node_modules/standardwebhooks ]; then
  echo "test-deps: npm install (scripts/whcheck: standardwebhooks)"
  npm install --prefix scripts/whcheck --no-audit --no-fund --silent >/dev/null
fi
echo "test-deps: ffmpeg $(ffmpeg -version | head -1 | cut -d' ' -f3), $(chromium --version 2>/dev/null | head -1), versitygw installed"
