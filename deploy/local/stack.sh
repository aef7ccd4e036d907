#!/usr/bin/env bash
# The local stack: Kafka 127.0.0.1:9092, MinIO 127.0.0.1:9000 (console 9001), PostgreSQL 127.0.0.1:5432,
# the development OpenID Connect provider 127.0.0.1:5556 (oidc.sh: Hydra, its sign-in page on 5557),
# Mailpit's SMTP 127.0.0.1:1025 and its API 127.0.0.1:8025 (mailpit.sh: the e-mail channel's server).
# Usage: stack.sh up|down|status|install|rotate-kafka-password SERVICE   (cache: ${LOA_CACHE_DIR:-<repo>/.loa})
# Ports: LOA_KAFKA_PORT LOA_KAFKA_CONTROLLER_PORT LOA_MINIO_PORT LOA_MINIO_CONSOLE_PORT LOA_PG_PORT
#   LOA_OIDC_PORT LOA_OIDC_LOGIN_PORT LOA_OIDC_ADMIN_PORT LOA_MAILPIT_SMTP_PORT LOA_MAILPIT_PORT
#   up       install what is missing, start what is not running, wait until healthy (idempotent)
#   down     stop every process the stack started
#   status   one line per component: port, pid, health; exit 1 if one is unhealthy
#   install  fetch/build the binaries only (Kafka jars, MinIO, PostgreSQL package, Hydra, Mailpit)
#   rotate-kafka-password SERVICE  a new SCRAM password for SERVICE's principal (kafka_rotate.py)
set -euo pipefail
HERE="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
COMPONENTS=(postgres minio kafka oidc mailpit)

run_all() {
  local action="$1" c
  for c in "${COMPONENTS[@]}"; do bash "$HERE/$c.sh" "$action"; done
}

case "${1:-}" in
  install)
    ensure_env_file
    run_all install
    ;;
  up)
    started=$SECONDS
    ensure_env_file
    # Installs happen one after the other (each is cached); starts overlap to save time.
    run_all install
    pids=()
    for c in "${COMPONENTS[@]}"; do
      bash "$HERE/$c.sh" up &
      pids+=($!)
    done
    failed=0
    for p in "${pids[@]}"; do wait "$p" || failed=1; done
    if ((failed)); then
      echo "[stack] error: a component failed to start (messages above; logs in $LOA_LOGS)" >&2
      exit 1
    fi
    echo "[stack] up in $((SECONDS - started)) s: Kafka 127.0.0.1:${LOA_KAFKA_PORT:-9092}, MinIO 127.0.0.1:${LOA_MINIO_PORT:-9000} (console 127.0.0.1:${LOA_MINIO_CONSOLE_PORT:-9001}), PostgreSQL 127.0.0.1:${LOA_PG_PORT:-5432}, OIDC provider 127.0.0.1:${LOA_OIDC_PORT:-5556}, Mailpit SMTP 127.0.0.1:${LOA_MAILPIT_SMTP_PORT:-1025} (API 127.0.0.1:${LOA_MAILPIT_PORT:-8025}); logs in $LOA_LOGS"
    ;;
  down)
    rc=0
    for c in mailpit oidc kafka minio postgres; do bash "$HERE/$c.sh" down || rc=1; done
    exit "$rc"
    ;;
  status)
    rc=0
    for c in "${COMPONENTS[@]}"; do bash "$HERE/$c.sh" status || rc=1; done
    exit "$rc"
    ;;
  rotate-kafka-password)
    [[ -n "${2:-}" ]] || die "usage: stack.sh rotate-kafka-password SERVICE (ingest, tracker or a channel)"
    LOA_ENV_FILE="$LOA_ENV_FILE" PYTHONPATH="$LOA_REPO/shared:$LOA_REPO" "$LOA_VENV_PYTHON" \
      "$HERE/kafka_rotate.py" "$2" "127.0.0.1:${LOA_KAFKA_PORT:-9092}" "$LOA_CACHE/tls/ca.pem"
    ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
