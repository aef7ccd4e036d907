#!/usr/bin/env bash
# The development OpenID Connect provider: Ory Hydra v2.3.0 (an OpenID Certified provider) on
# 127.0.0.1:5556 (public: discovery, authorize, token, JWKS, end-session), its admin API on
# 127.0.0.1:5558, and its login/consent app (deploy/local/oidc_login.py: the development people of
# deploy/local/oidc_people.yaml, passwords generated into .env.local) on 127.0.0.1:5557.
# Why Hydra and not Dex: Dex's tags carry no /v2 module path, so the Go module proxy serves no
# version of github.com/dexidp/dex/cmd/dex to `go install`; Hydra v2.3.0 builds from the module
# pinned in deploy/local/hydra/go.mod and go.sum.
# The tracker's client `loa-tracker` is registered at every start (Hydra keeps its state in memory).
# Usage: oidc.sh install|up|down|status|health
set -euo pipefail
LOA_COMPONENT=oidc
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="v2.3.0"
PORT="${LOA_OIDC_PORT:-5556}"
ADMIN_PORT="${LOA_OIDC_ADMIN_PORT:-5558}"
LOGIN_PORT="${LOA_OIDC_LOGIN_PORT:-5557}"
TRACKER_URL="${LOA_OIDC_TRACKER_URL:-http://127.0.0.1:8081}"
BIN="$LOA_CACHE/bin/hydra"
LOG="$LOA_LOGS/oidc.log"
LOGIN_LOG="$LOA_LOGS/oidc-login.log"
ISSUER="http://127.0.0.1:$PORT/"

installed() { [[ -x "$BIN" ]] && [[ "$(cat "$BIN.version" 2>/dev/null || true)" == "$VERSION" ]]; }

install() {
  installed && return 0
  command -v go >/dev/null || die "go is missing (needed once to build Hydra)"
  command -v gcc >/dev/null || die "gcc is missing (Hydra's in-memory SQLite store is cgo)"
  say "building github.com/ory/hydra/v2@$VERSION (several minutes, once; log: $LOA_LOGS/oidc-build.log)"
  # -tags sqlite: the in-memory store (DSN=memory) of a development provider needs SQLite
  if ! (cd "$LOA_LOCAL/hydra" && GOPATH="${LOA_GOPATH:-$(go env GOPATH)}" GOFLAGS=-modcacherw \
    CGO_ENABLED=1 go build -tags sqlite -o "$BIN" github.com/ory/hydra/v2) >"$LOA_LOGS/oidc-build.log" 2>&1; then
    tail -n 20 "$LOA_LOGS/oidc-build.log" >&2
    die "go build of Hydra failed (see $LOA_LOGS/oidc-build.log)"
  fi
  echo "$VERSION" >"$BIN.version"
}

pid() { running_pid oidc "$BIN serve"; }
login_pid() { running_pid oidc-login "oidc_login"; }
healthy() { http_ok "http://127.0.0.1:$PORT/health/ready" && http_ok "http://127.0.0.1:$LOGIN_PORT/healthz"; }

up() {
  if [[ -n "$(pid)" && -n "$(login_pid)" ]]; then say "already running (pid $(pid))"; return 0; fi
  install
  ensure_env_file
  ensure_oidc_env
  down >/dev/null
  require_free_port oidc "$PORT"
  require_free_port oidc-admin "$ADMIN_PORT"
  require_free_port oidc-login "$LOGIN_PORT"
  # Hydra's configuration is its environment (https://www.ory.sh/docs/hydra/reference/configuration);
  # --dev allows the plain-http issuer of this loopback-only development provider.
  DSN=memory SECRETS_SYSTEM="$(env_value LOA_OIDC_PROVIDER_SECRET)" URLS_SELF_ISSUER="$ISSUER" \
    URLS_LOGIN="http://127.0.0.1:$LOGIN_PORT/login" URLS_CONSENT="http://127.0.0.1:$LOGIN_PORT/consent" \
    URLS_LOGOUT="http://127.0.0.1:$LOGIN_PORT/logout" URLS_POST_LOGOUT_REDIRECT="$TRACKER_URL/login" \
    SERVE_PUBLIC_HOST=127.0.0.1 SERVE_PUBLIC_PORT="$PORT" SERVE_ADMIN_HOST=127.0.0.1 \
    SERVE_ADMIN_PORT="$ADMIN_PORT" WEBFINGER_OIDC_DISCOVERY_SUPPORTED_CLAIMS="email,name,groups" \
    WEBFINGER_OIDC_DISCOVERY_SUPPORTED_SCOPE="email,profile,groups" LOG_LEAK_SENSITIVE_VALUES=false \
    start_daemon oidc "$LOG" "$BIN" serve all --dev
  LOA_OIDC_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT" LOA_OIDC_LOGIN_PORT="$LOGIN_PORT" \
    start_daemon oidc-login "$LOGIN_LOG" "$LOA_PYTHON" "$LOA_LOCAL/oidc_login.py"
  if ! wait_until 60 "health" healthy; then
    tail -n 20 "$LOG" "$LOGIN_LOG" >&2 || true
    down
    die "not healthy on 127.0.0.1:$PORT and :$LOGIN_PORT within 60 s (logs: $LOG, $LOGIN_LOG)"
  fi
  "$LOA_PYTHON" "$LOA_LOCAL/oidc_login.py" register "http://127.0.0.1:$ADMIN_PORT" \
    "$(env_value LOA_OIDC_CLIENT_ID)" "$TRACKER_URL" || { down; die "could not register the tracker's client"; }
  say "ready: issuer $ISSUER (admin 127.0.0.1:$ADMIN_PORT, sign-in page 127.0.0.1:$LOGIN_PORT; pid $(pid))"
}

down() {
  local p
  p="$(login_pid)"
  [[ -z "$p" ]] || stop_pid oidc-login "$p"
  stop_daemon
}

component_main "$@"
