#!/usr/bin/env bash
# PostgreSQL (Debian's package) with its own cluster in the cache, on 127.0.0.1:5432 only.
# Passwords only (SCRAM-SHA-256): pg_hba.conf is rewritten at each start (also in a cluster an older
# release made with `trust`), the bootstrap superuser `loa` gets LOA_PG_PASSWORD from .env.local.
# Then deploy/local/storage_users.py makes the owner role (migrations) and one DML-only role and
# database per store (loa.access.storage). Database `loa` is created. Nothing listens beyond 127.0.0.1.
# PostgreSQL refuses to run as root: as root, the server runs as the system user `loa-pg`.
# Usage: postgres.sh install|up|down|status|health
set -euo pipefail
LOA_COMPONENT=postgres
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${LOA_PG_PORT:-5432}"
SERVICE_USER="${LOA_PG_SYSTEM_USER:-loa-pg}"
ROOT_DIR="$LOA_DATA/postgres" # holds pgdata/ and run/ (the socket); may be a link, see place_root
LOG="$LOA_LOGS/postgres.log"

bin_dir() { find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1; }

install() {
  if [[ -z "$(bin_dir)" || ! -x "$(bin_dir)/postgres" ]]; then
    [[ $EUID -eq 0 ]] || die "PostgreSQL is missing: sudo apt-get install -y postgresql"
    say "installing Debian's postgresql package"
    # Debian would create and start a 'main' cluster on 5432; we run our own cluster instead.
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/00-loa.conf
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) \
      >"$LOA_LOGS/postgres-install.log" 2>&1 || die "apt-get install postgresql failed (see $LOA_LOGS/postgres-install.log)"
  fi
  if [[ $EUID -eq 0 ]] && ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
}

as_service() { # run a command as the server's user (root cannot run PostgreSQL)
  if [[ $EUID -eq 0 ]]; then runuser -u "$SERVICE_USER" -- "$@"; else "$@"; fi
}

place_root() {
  # The server's user must reach the cluster folder. When the cache sits under a folder it
  # cannot enter (e.g. /root), the cluster lives in /var/lib/loa-pg/<hash> and the cache links to it.
  [[ -e "$ROOT_DIR" ]] && return 0
  if [[ $EUID -eq 0 ]] && ! runuser -u "$SERVICE_USER" -- test -x "$LOA_DATA"; then
    local outside
    outside="/var/lib/loa-pg/$(printf '%s' "$LOA_CACHE" | sha256sum | head -c 12)"
    mkdir -p "$outside"
    ln -s "$outside" "$ROOT_DIR"
    say "$SERVICE_USER cannot enter $LOA_DATA; cluster placed in $outside (linked from $ROOT_DIR)"
  else
    mkdir -p "$ROOT_DIR"
  fi
}

pgdata() { printf '%s/pgdata' "$(cd -P "$ROOT_DIR" && pwd)"; }
sockdir() { printf '%s/run' "$(cd -P "$ROOT_DIR" && pwd)"; }

init_cluster() {
  place_root
  mkdir -p "$(sockdir)"
  [[ $EUID -eq 0 ]] && chown "$SERVICE_USER" "$(cd -P "$ROOT_DIR" && pwd)" "$(sockdir)"
  [[ -f "$(pgdata)/PG_VERSION" ]] && return 0
  say "creating a cluster in $(pgdata)"
  # --auth=reject: nothing gets in until secure_stopped_cluster writes the rules and the password
  as_service "$(bin_dir)/initdb" -D "$(pgdata)" -U loa --auth=reject -E UTF8 --locale=C.UTF-8 \
    >>"$LOA_LOGS/postgres-initdb.log" 2>&1 || die "initdb failed (see $LOA_LOGS/postgres-initdb.log)"
}

SERVER_OPTIONS="-c password_encryption=scram-sha-256"

write_hba() { # pg_hba.conf: SCRAM-SHA-256 passwords on the socket and loopback, nothing else
  local file
  file="$(pgdata)/pg_hba.conf"
  as_service sh -c 'umask 077 && cat >"$1.tmp" && mv "$1.tmp" "$1"' sh "$file" <<'EOF'
# Written by deploy/local/postgres.sh at each start: passwords only (SCRAM-SHA-256), no trust.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
EOF
}

superuser_password_sql() { # the ALTER ROLE of the bootstrap superuser; goes to stdin, never argv
  local password
  password="$(env_value LOA_PG_PASSWORD)"
  [[ ${#password} -ge 16 ]] || die "LOA_PG_PASSWORD must have at least 16 characters (set it in $LOA_ENV_FILE)"
  printf "SET password_encryption = 'scram-sha-256';\nALTER ROLE loa PASSWORD '%s';\n" "${password//\'/\'\'}"
}

secure_stopped_cluster() { # before a start: the rules, and the password set in single-user mode
  write_hba
  superuser_password_sql | as_service "$(bin_dir)/postgres" --single -D "$(pgdata)" postgres >/dev/null 2>>"$LOG" \
    || die "could not set the superuser's password (log: $LOG)"
}

secure_running_cluster() { # a server already up (maybe with an older release's trust): password, rules, reload
  superuser_password_sql | as_superuser "$(bin_dir)/psql" -q -h 127.0.0.1 -p "$PORT" -U loa -d postgres \
    -v ON_ERROR_STOP=1 >/dev/null || die "could not set the superuser's password"
  write_hba
  as_service "$(bin_dir)/pg_ctl" reload -D "$(pgdata)" >>"$LOG" 2>&1 </dev/null
}

as_superuser() { PGPASSWORD="$(env_value LOA_PG_PASSWORD)" "$@"; } # the password via the environment, not argv

pid() {
  [[ -e "$ROOT_DIR" && -f "$(pgdata)/postmaster.pid" ]] || return 0
  local p
  p="$(head -n1 "$(pgdata)/postmaster.pid" 2>/dev/null || true)"
  [[ "$p" =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null && printf '%s' "$p"
  return 0
}

healthy() { "$(bin_dir)/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U loa -d postgres; }

up() {
  install
  ensure_env_file
  if [[ -n "$(pid)" ]]; then
    secure_running_cluster
    LOA_PG_PORT="$PORT" store_setup postgres
    say "already running (pid $(pid))"
    return 0
  fi
  require_free_port postgres "$PORT"
  init_cluster
  : >>"$LOG"
  secure_stopped_cluster
  # The server inherits this shell's log file descriptor, so its user needs no access to the cache.
  if ! as_service "$(bin_dir)/pg_ctl" start -w -t 60 -D "$(pgdata)" -o \
    "$SERVER_OPTIONS -c listen_addresses=127.0.0.1 -p $PORT -k $(sockdir) -c max_connections=200 -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
    >>"$LOG" 2>&1 </dev/null; then
    tail -n 20 "$LOG" >&2
    die "did not start on 127.0.0.1:$PORT (log: $LOG)"
  fi
  echo "$(pid)" >"$(pidfile postgres)"
  wait_until 30 "ready" healthy || die "not accepting connections on 127.0.0.1:$PORT (log: $LOG)"
  if [[ "$(as_superuser "$(bin_dir)/psql" -h 127.0.0.1 -p "$PORT" -U loa -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'loa'")" != 1 ]]; then
    as_superuser "$(bin_dir)/createdb" -h 127.0.0.1 -p "$PORT" -U loa loa
  fi
  LOA_PG_PORT="$PORT" store_setup postgres
  say "ready on 127.0.0.1:$PORT, database loa, superuser loa (password in $LOA_ENV_FILE), SCRAM only (pid $(pid))"
}

down() {
  if [[ -z "$(pid)" ]]; then rm -f "$(pidfile postgres)"; say "not running"; return 0; fi
  say "stopping pid $(pid)"
  as_service "$(bin_dir)/pg_ctl" stop -w -t 60 -m fast -D "$(pgdata)" >>"$LOG" 2>&1 </dev/null
  rm -f "$(pidfile postgres)"
}

component_main "$@"
