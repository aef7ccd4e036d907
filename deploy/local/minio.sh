#!/usr/bin/env bash
# MinIO (S3-compatible object store) on 127.0.0.1:9000, console on 127.0.0.1:9001.
# Built once with `go install` into the cache. Root credentials LOA_S3_ACCESS_KEY/LOA_S3_SECRET_KEY
# of .env.local (for this setup and the tests' harness only); then deploy/local/storage_users.py
# makes the buckets and one user per service with its own policy (loa.access.storage).
# Usage: minio.sh install|up|down|status|health
set -euo pipefail
LOA_COMPONENT=minio
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="${LOA_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
PORT="${LOA_MINIO_PORT:-9000}"
CONSOLE_PORT="${LOA_MINIO_CONSOLE_PORT:-9001}"
BIN="$LOA_CACHE/bin/minio"
DATA="$LOA_DATA/minio"
LOG="$LOA_LOGS/minio.log"

installed() { [[ -x "$BIN" ]] && [[ "$(cat "$BIN.version" 2>/dev/null || true)" == "$VERSION" ]]; }

install() {
  installed && return 0
  if [[ -x "$BIN" && ! -f "$BIN.version" && "$VERSION" == v0.0.0-20260212201848-7aac2a2c5b7c ]]; then
    # built by hand before this script existed, with the same pinned version
    echo "$VERSION" >"$BIN.version"
    return 0
  fi
  command -v go >/dev/null || die "go is missing (needed once to build MinIO)"
  say "building github.com/minio/minio@$VERSION (a few minutes, once; log: $LOA_LOGS/minio-build.log)"
  # The binary goes to the cache; Go's module and build caches stay in Go's own place (`go env
  # GOPATH`, ~/go), so another clone on the same machine links MinIO in a minute instead of
  # downloading 1.2 GB of modules again. LOA_GOPATH=<dir> keeps them elsewhere.
  if ! GOPATH="${LOA_GOPATH:-$(go env GOPATH)}" GOBIN="$LOA_CACHE/bin" GOFLAGS=-modcacherw \
    go install "github.com/minio/minio@$VERSION" >"$LOA_LOGS/minio-build.log" 2>&1; then
    tail -n 20 "$LOA_LOGS/minio-build.log" >&2
    die "go install of MinIO failed (see $LOA_LOGS/minio-build.log)"
  fi
  echo "$VERSION" >"$BIN.version"
}

pid() { running_pid minio "$BIN server"; }
healthy() { http_ok "http://127.0.0.1:$PORT/minio/health/live"; }

up() {
  ensure_env_file
  if [[ -n "$(pid)" ]]; then
    LOA_S3_ENDPOINT="127.0.0.1:$PORT" store_setup minio
    say "already running (pid $(pid))"
    return 0
  fi
  install
  local user password
  user="$(env_value LOA_S3_ACCESS_KEY)"
  password="$(env_value LOA_S3_SECRET_KEY)"
  [[ ${#user} -ge 3 ]] || die "LOA_S3_ACCESS_KEY must have at least 3 characters (set it in $LOA_ENV_FILE)"
  [[ ${#password} -ge 8 ]] || die "LOA_S3_SECRET_KEY must have at least 8 characters (set it in $LOA_ENV_FILE)"
  require_free_port minio "$PORT"
  require_free_port minio-console "$CONSOLE_PORT"
  # Objects private from the first byte: MinIO creates its files with the process's umask.
  umask 077
  mkdir -p "$DATA"
  chmod 700 "$DATA" # a folder an older release made with the default umask
  MINIO_ROOT_USER="$user" MINIO_ROOT_PASSWORD="$password" MINIO_BROWSER_REDIRECT=off \
    MINIO_UPDATE=off start_daemon minio "$LOG" "$BIN" server --quiet --anonymous \
    --address "127.0.0.1:$PORT" --console-address "127.0.0.1:$CONSOLE_PORT" "$DATA"
  if ! wait_until 60 "health" healthy; then
    tail -n 20 "$LOG" >&2 || true
    down
    die "not healthy on 127.0.0.1:$PORT within 60 s (log: $LOG)"
  fi
  LOA_S3_ENDPOINT="127.0.0.1:$PORT" store_setup minio
  say "ready on 127.0.0.1:$PORT, console 127.0.0.1:$CONSOLE_PORT (pid $(pid))"
}

down() { stop_daemon; }

component_main "$@"
