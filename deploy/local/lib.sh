# Shared functions of the local stack scripts (sourced, never run).
# Everything lives in one cache folder: ${LOA_CACHE_DIR:-<repo>/.loa}
#   bin/        minio binary          kafka/libs/  broker jars     (Go modules: `go env GOPATH`)
#   data/       kafka, minio, postgres data      run/  pidfiles, sockets      logs/  every log

LOA_REPO="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOA_LOCAL="$LOA_REPO/deploy/local"
mkdir -p "${LOA_CACHE_DIR:-$LOA_REPO/.loa}"
LOA_CACHE="$(cd -P "${LOA_CACHE_DIR:-$LOA_REPO/.loa}" && pwd)"
LOA_RUN="$LOA_CACHE/run"
LOA_LOGS="$LOA_CACHE/logs"
LOA_DATA="$LOA_CACHE/data"
LOA_ENV_FILE="${LOA_ENV_FILE:-$LOA_REPO/.env.local}"
LOA_PYTHON="${LOA_PYTHON:-python3}"
LOA_VENV_PYTHON="${LOA_VENV_PYTHON:-$LOA_REPO/.venv/bin/python}"
mkdir -p "$LOA_RUN" "$LOA_LOGS" "$LOA_DATA"

say() { printf '[%s] %s\n' "${LOA_COMPONENT:-stack}" "$*"; }
die() { printf '[%s] error: %s\n' "${LOA_COMPONENT:-stack}" "$*" >&2; exit 1; }

# --- development credentials ---------------------------------------------------------------
random_token() { # random_token BYTES: URL-safe base64 of BYTES random bytes, no padding
  head -c "$1" /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='
}

ensure_env_file() {
  # Writes .env.local once with random secrets; never prints a secret. The local stack is a
  # development stack: LOA_MODE=development (the code's default is production), also appended to
  # a file written before the mode existed.
  if [[ -f "$LOA_ENV_FILE" ]]; then
    if ! grep -q '^LOA_MODE=' "$LOA_ENV_FILE"; then
      [[ -z "$(tail -c1 "$LOA_ENV_FILE")" ]] || printf '\n' >>"$LOA_ENV_FILE" # no last newline
      printf 'LOA_MODE=development\n' >>"$LOA_ENV_FILE"
    fi
    ensure_store_secrets
    return 0
  fi
  local fernet
  fernet="$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_')" # Fernet keys keep the '=' padding
  (
    umask 077
    cat >"$LOA_ENV_FILE.tmp" <<EOF
# Development credentials for the local stack, generated once; never commit this file.
LOA_S3_ACCESS_KEY=loa-dev
LOA_S3_SECRET_KEY=$(random_token 24)
LOA_API_TOKEN=$(random_token 32)
LOA_CREDENTIALS_KEY=$fernet
LOA_MODE=development
EOF
    mv "$LOA_ENV_FILE.tmp" "$LOA_ENV_FILE"
  )
  ensure_store_secrets
  say "wrote development credentials to $LOA_ENV_FILE (git-ignored; secrets not shown)"
}

ensure_env_key() { # ensure_env_key KEY VALUE: append KEY=VALUE to .env.local unless KEY is there
  grep -q "^$1=" "$LOA_ENV_FILE" 2>/dev/null && return 0
  [[ ! -s "$LOA_ENV_FILE" || -z "$(tail -c1 "$LOA_ENV_FILE")" ]] || printf '\n' >>"$LOA_ENV_FILE" # no last newline
  (umask 077 && printf '%s=%s\n' "$1" "$2" >>"$LOA_ENV_FILE")
}

ensure_secret() { # ensure_secret KEY [BYTES]: KEY=<random> appended to .env.local unless it has KEY
  grep -q "^$1=" "$LOA_ENV_FILE" 2>/dev/null && return 0
  ensure_env_key "$1" "$(random_token "${2:-24}")"
}

ensure_oidc_env() {
  # The development OpenID Connect provider (oidc.sh): the tracker's client, the provider's own
  # secret, and one generated password per development person (deploy/local/oidc_people.json).
  local key
  ( # one writer at a time: components started together must not append a key twice
    flock 9
    ensure_env_key LOA_OIDC_ISSUER "http://127.0.0.1:${LOA_OIDC_PORT:-5556}/"
    ensure_env_key LOA_OIDC_CLIENT_ID loa-tracker
    ensure_secret LOA_OIDC_CLIENT_SECRET 32
    ensure_secret LOA_OIDC_PROVIDER_SECRET 32
    for key in $("$LOA_PYTHON" "$LOA_LOCAL/oidc_login.py" password-keys); do ensure_secret "$key" 18; done
  ) 9>>"$LOA_RUN/env-file.lock"
}

ensure_store_secrets() { # the stores' secrets (loa.access.storage) once in .env.local, also in an older file
  local keys key
  keys="$(PYTHONPATH="$LOA_REPO/shared" "$LOA_PYTHON" -m loa.access.storage)" || die "cannot list the stores' secrets"
  ( # one writer at a time: components started together must not append a key twice
    flock 9
    for key in $keys; do ensure_secret "$key"; done
    # the archive's export signing key: 32 random bytes are an Ed25519 private key (RFC 8032 5.1.5)
    ensure_env_key LOA_ARCHIVE_SIGNING_KEY "$(head -c 32 /dev/urandom | base64 -w0)"
  ) 9>>"$LOA_RUN/env-file.lock"
}

store_setup() { # store_setup minio|postgres|seaweedfs [ARG]: the stores' users and roles (deploy/local/storage_users.py)
  [[ -x "$LOA_VENV_PYTHON" ]] || die "$LOA_VENV_PYTHON is missing: run make setup first (the stores' users need the minio SDK and psycopg)"
  LOA_ENV_FILE="$LOA_ENV_FILE" "$LOA_VENV_PYTHON" "$LOA_LOCAL/storage_users.py" "$@"
}

ensure_env_path() { # ensure_env_path KEY PATH: KEY=PATH in .env.local unless KEY names a file that exists
  local key="$1" value="$2" current
  current="$(sed -n "s/^${key}=//p" "$LOA_ENV_FILE" 2>/dev/null | tail -n1)"
  [[ -n "$current" && -f "$current" ]] && return 0 # kept: another stack (a test's private one) may run
  sed -i --follow-symlinks "/^${key}=/d" "$LOA_ENV_FILE" 2>/dev/null || true
  [[ ! -s "$LOA_ENV_FILE" || -z "$(tail -c1 "$LOA_ENV_FILE")" ]] || printf '\n' >>"$LOA_ENV_FILE"
  printf '%s=%s\n' "$key" "$value" >>"$LOA_ENV_FILE"
}

env_value() { # env_value KEY: the environment's value, else the one in .env.local
  local key="$1"
  if [[ -n "${!key:-}" ]]; then printf '%s' "${!key}"; return 0; fi
  [[ -f "$LOA_ENV_FILE" ]] || return 0
  sed -n "s/^${key}=//p" "$LOA_ENV_FILE" | tail -n1
}

# --- processes and ports -------------------------------------------------------------------
pidfile() { printf '%s/%s.pid' "$LOA_RUN" "$1"; }

# running_pid NAME MATCH: the pid in NAME's pidfile if that process lives and its command line
# contains MATCH (guards against a recycled pid); nothing otherwise.
running_pid() {
  local file pid
  file="$(pidfile "$1")"
  [[ -f "$file" ]] || return 0
  pid="$(head -n1 "$file" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 0
  printf '%s' "$pid"
}

port_listening() { # port_listening PORT: true if something listens on PORT (any address)
  [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]
}

port_owner() { # port_owner PORT: "pid=... (name)" of the listener, as far as ss can tell
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*))' | head -n1 || true
}

# require_free_port COMPONENT PORT: fail, naming the port, when a process we did not start holds it.
require_free_port() {
  if port_listening "$2"; then
    die "port $2 (needed by $1) is already taken by another process: $(port_owner "$2"). Stop it, or free the port, then retry."
  fi
}

# wait_until SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.5 s until it succeeds.
wait_until() {
  local limit="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.5
  done
}

# start_daemon NAME LOGFILE COMMAND...: start COMMAND detached (own session), pid into NAME's pidfile.
start_daemon() {
  local name="$1" log="$2"
  shift 2
  : >>"$log"
  setsid "$@" >>"$log" 2>&1 </dev/null &
  echo $! >"$(pidfile "$name")"
}

# stop_pid NAME PID: SIGTERM, wait up to 30 s, then SIGKILL; remove the pidfile.
stop_pid() {
  local name="$1" pid="$2" i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "did not stop in 30 s, killing pid $pid"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$(pidfile "$name")"
}

http_ok() { # http_ok URL: true if URL answers 2xx
  "$LOA_PYTHON" - "$1" <<'EOF'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        sys.exit(0 if 200 <= r.status < 300 else 1)
except Exception:
    sys.exit(1)
EOF
}

print_status() { # print_status COMPONENT PORT PID HEALTH
  printf '%-10s %-16s pid %-8s %s\n' "$1" "$2" "${3:--}" "$4"
}

# --- a component's script (kafka.sh, minio.sh, postgres.sh) --------------------------------
# It sets LOA_COMPONENT and PORT, defines pid, healthy, install, up and down, and ends with
# `component_main "$@"`.

stop_daemon() { # stop_daemon: stop the component's process (see stop_pid), or say it is not running
  local p
  p="$(pid)"
  if [[ -z "$p" ]]; then rm -f "$(pidfile "$LOA_COMPONENT")"; say "not running"; return 0; fi
  say "stopping pid $p"
  stop_pid "$LOA_COMPONENT" "$p"
}

component_status() { # one status line; fails only when the process runs but is not healthy
  local p health=down
  p="$(pid)"
  if [[ -n "$p" ]]; then health=unhealthy; healthy && health=healthy; fi
  print_status "$LOA_COMPONENT" "127.0.0.1:$PORT" "$p" "$health"
  [[ "$health" != unhealthy ]]
}

component_main() { # component_main ACTION: install|up|down|status|health
  case "${1:-}" in
    install) install ;;
    up) up ;;
    down) down ;;
    status) component_status ;;
    health) healthy ;;
    *) die "usage: $0 install|up|down|status|health" ;;
  esac
}

# --- binaries built with `go install` into the cache ----------------------------------------
# go_install_cached NAME PACKAGE VERSION: $LOA_CACHE/bin/NAME built from PACKAGE@VERSION once
# (NAME.version records it); Go's module and build caches stay in Go's own place (`go env GOPATH`,
# or LOA_GOPATH), shared by every clone on the machine. Fails naming the log.
go_install_cached() {
  local name="$1" package="$2" version="$3" bin="$LOA_CACHE/bin/$1" log="$LOA_LOGS/$1-build.log"
  [[ -x "$bin" && "$(cat "$bin.version" 2>/dev/null || true)" == "$version" ]] && return 0
  command -v go >/dev/null || die "go is missing (needed once to build $name)"
  say "building $package@$version (a few minutes, once; log: $log)"
  mkdir -p "$LOA_CACHE/bin"
  if ! GOPATH="${LOA_GOPATH:-$(go env GOPATH)}" GOBIN="$LOA_CACHE/bin" GOFLAGS=-modcacherw \
    go install "$package@$version" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "go install of $name failed (see $log)"
  fi
  echo "$version" >"$bin.version"
}
