#!/usr/bin/env bash
# The Debian packages Loa needs, in one list that `.ci/run` and the Makefile both call:
#   system_packages.sh run      what `make setup` / `make run` need (stack scripts, Kafka's JVM, Maven, npm)
#   system_packages.sh test     that, plus what the tests need (`make test`)
#   ... --check                 only list what is missing (exit 1 if anything is)
# Missing packages are installed with apt-get as root (or through passwordless sudo); otherwise the
# script names each missing command, the package and the apt-get line to run, and exits 1.
set -euo pipefail

# command:package:why
RUN=(
  "ss:iproute2:the stack scripts name the owner of a taken port"
  "pgrep:procps:the stack scripts find their processes"
  "make:make:make run / make test"
  "git:git:the MinIO build and the duplicates check"
  "gcc:gcc:cgo: the development OIDC provider (Hydra) keeps its state in an in-memory SQLite"
  "java:openjdk-17-jre-headless:Kafka"
  "mvn:maven:fetches Kafka's jars once"
  "npm:npm:twitter-text from npm: the sandbox's X emulator counts with it, the X tests compare with it"
)
TEST=(
  "docker-compose:docker-compose:tests/unit/test_compose.py validates docker-compose.yml (no engine needed)"
  "chromium:chromium:the browser tests of the dashboard and the website (tests/e2e)"
)

scope="${1:-}"
check_only=false
[[ "${2:-}" == --check ]] && check_only=true
case "$scope" in
  run) wanted=("${RUN[@]}") ;;
  test) wanted=("${RUN[@]}" "${TEST[@]}") ;;
  *) echo "usage: $0 run|test [--check]" >&2; exit 2 ;;
esac

missing=() reasons=()
for entry in "${wanted[@]}"; do
  IFS=: read -r cmd package why <<<"$entry"
  if ! command -v "$cmd" >/dev/null; then
    missing+=("$package")
    reasons+=("  $cmd (package $package): $why")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=()
if [[ $EUID -ne 0 ]] && ! $check_only && command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
fi
if $check_only || { [[ $EUID -ne 0 ]] && ((${#SUDO[@]} == 0)); }; then
  echo "system packages missing for '$scope':" >&2
  printf '%s\n' "${reasons[@]}" >&2
  echo "install them as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
