#!/usr/bin/env bash
# Mailpit: a real SMTP server on 127.0.0.1:1025 with an inspection API on 127.0.0.1:8025
# (`GET /api/v1/messages`, `GET /api/v1/message/{ID}/raw`); the e-mail channel sends to it locally
# and its tests read what arrived. Built once with `go install` into the cache, like MinIO.
# It accepts any SMTP login without TLS (development only: production relays need STARTTLS + auth,
# services/email refuses plain SMTP to a non-local host in production mode) and keeps messages in
# a file under the cache. Ports: LOA_MAILPIT_SMTP_PORT, LOA_MAILPIT_PORT.
# Usage: mailpit.sh install|up|down|status|health
set -euo pipefail
LOA_COMPONENT=mailpit
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="v1.33.1"
PORT="${LOA_MAILPIT_PORT:-8025}"
SMTP_PORT="${LOA_MAILPIT_SMTP_PORT:-1025}"
BIN="$LOA_CACHE/bin/mailpit"
DATA="$LOA_DATA/mailpit"
LOG="$LOA_LOGS/mailpit.log"

installed() { [[ -x "$BIN" ]] && [[ "$(cat "$BIN.version" 2>/dev/null || true)" == "$VERSION" ]]; }

install() {
  installed && return 0
  command -v go >/dev/null || die "go is missing (needed once to build Mailpit)"
  say "building github.com/axllent/mailpit@$VERSION (a minute or two, once; log: $LOA_LOGS/mailpit-build.log)"
  if ! GOPATH="${LOA_GOPATH:-$(go env GOPATH)}" GOBIN="$LOA_CACHE/bin" GOFLAGS=-modcacherw \
    go install "github.com/axllent/mailpit@$VERSION" >"$LOA_LOGS/mailpit-build.log" 2>&1; then
    tail -n 20 "$LOA_LOGS/mailpit-build.log" >&2
    die "go install of Mailpit failed (see $LOA_LOGS/mailpit-build.log)"
  fi
  echo "$VERSION" >"$BIN.version"
}

pid() { running_pid mailpit "$BIN"; }
healthy() { http_ok "http://127.0.0.1:$PORT/livez"; }

up() {
  if [[ -n "$(pid)" ]]; then
    say "already running (pid $(pid))"
    return 0
  fi
  install
  require_free_port mailpit-smtp "$SMTP_PORT"
  require_free_port mailpit "$PORT"
  umask 077
  mkdir -p "$DATA"
  # --max: keep the newest 5000 messages (tests send lists of 50); no version check, no telemetry.
  start_daemon mailpit "$LOG" "$BIN" --smtp "127.0.0.1:$SMTP_PORT" --listen "127.0.0.1:$PORT" \
    --database "$DATA/mailpit.db" --max 5000 --smtp-auth-accept-any --smtp-auth-allow-insecure \
    --disable-version-check
  if ! wait_until 30 "health" healthy; then
    tail -n 20 "$LOG" >&2 || true
    down
    die "not healthy on 127.0.0.1:$PORT within 30 s (log: $LOG)"
  fi
  say "ready: SMTP 127.0.0.1:$SMTP_PORT, API http://127.0.0.1:$PORT/api/v1/messages (pid $(pid))"
}

down() { stop_daemon; }

component_main "$@"
