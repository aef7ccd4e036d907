#!/usr/bin/env bash
# SeaweedFS, the second S3-compatible store (docs/storage.md): S3 on 127.0.0.1:8333, its master,
# volume and filer on their own ports beside it (none of the shared stack's). MinIO stays the
# default; the tests use this one with LOA_S3_BACKEND=seaweedfs (`make test-s3-alt`).
# Built once from the pinned module into the cache. SeaweedFS has no admin API for users: the
# identities (admin = LOA_S3_ACCESS_KEY, one per service from loa.access.storage) are a config
# file written before each start by deploy/local/storage_users.py; then it makes the buckets.
# Usage: seaweedfs.sh install|up|down|status|health
set -euo pipefail
LOA_COMPONENT=seaweedfs
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODULE=github.com/seaweedfs/seaweedfs
VERSION="${LOA_SEAWEEDFS_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}"
PORT="${LOA_SEAWEEDFS_PORT:-8333}"
MASTER_PORT="${LOA_SEAWEEDFS_MASTER_PORT:-9433}" # each of these three also uses port+10000 (gRPC)
VOLUME_PORT="${LOA_SEAWEEDFS_VOLUME_PORT:-8480}"
FILER_PORT="${LOA_SEAWEEDFS_FILER_PORT:-8988}"
BIN="$LOA_CACHE/bin/weed"
DATA="$LOA_DATA/seaweedfs"
IDENTITIES="$LOA_RUN/seaweedfs-identities.json"
LOG="$LOA_LOGS/seaweedfs.log"

installed() { [[ -x "$BIN" ]] && [[ "$(cat "$BIN.version" 2>/dev/null || true)" == "$VERSION" ]]; }

install() {
  installed && return 0
  command -v go >/dev/null || die "go is missing (needed once to build SeaweedFS)"
  say "building $MODULE/weed@$VERSION (several minutes, once; log: $LOA_LOGS/seaweedfs-build.log)"
  # Not `go install pkg@version`: SeaweedFS's go.mod has replace directives, which Go refuses
  # there. Its module is downloaded and built as the main module, its go.sum pinning every dependency.
  local dir
  if ! dir="$(GOPATH="${LOA_GOPATH:-$(go env GOPATH)}" GOFLAGS=-modcacherw \
    go mod download -json "$MODULE@$VERSION" | "$LOA_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"; then
    die "go mod download of $MODULE@$VERSION failed"
  fi
  if ! (cd "$dir" && GOPATH="${LOA_GOPATH:-$(go env GOPATH)}" GOFLAGS=-modcacherw \
    go build -o "$BIN" ./weed) >"$LOA_LOGS/seaweedfs-build.log" 2>&1; then
    tail -n 20 "$LOA_LOGS/seaweedfs-build.log" >&2
    die "go build of SeaweedFS failed (see $LOA_LOGS/seaweedfs-build.log)"
  fi
  echo "$VERSION" >"$BIN.version"
}

pid() { running_pid seaweedfs "$BIN server"; }
healthy() { http_ok "http://127.0.0.1:$PORT/healthz"; }

up() {
  ensure_env_file
  if [[ -n "$(pid)" ]]; then
    store_setup seaweedfs
    say "already running (pid $(pid))"
    return 0
  fi
  install
  for port in "$PORT" "$MASTER_PORT" "$VOLUME_PORT" "$FILER_PORT"; do
    require_free_port seaweedfs "$port"
  done
  umask 077 # data and the identities file private to this user
  mkdir -p "$DATA"
  store_setup seaweedfs-identities "$IDENTITIES"
  # Loopback only; small volumes (64 MB each, not 30 GB preallocated); no Iceberg/Lance side ports.
  start_daemon seaweedfs "$LOG" "$BIN" server -s3 -ip 127.0.0.1 -ip.bind 127.0.0.1 -dir "$DATA" \
    -master.port "$MASTER_PORT" -volume.port "$VOLUME_PORT" -filer.port "$FILER_PORT" \
    -master.volumeSizeLimitMB 64 -volume.max 0 \
    -s3.port "$PORT" -s3.port.iceberg 0 -s3.port.lance 0 -s3.config "$IDENTITIES"
  if ! wait_until 90 "health" healthy; then
    tail -n 20 "$LOG" >&2 || true
    down
    die "not healthy on 127.0.0.1:$PORT within 90 s (log: $LOG)"
  fi
  store_setup seaweedfs
  say "ready on 127.0.0.1:$PORT (pid $(pid))"
}

down() { stop_daemon; }

component_main "$@"
