#!/usr/bin/env bash
# The Helm chart (deploy/helm/loa) checked offline: helm lint and helm template with each values
# file, then every rendered object against its API schema (deploy/helm/validate.py). Helm is built
# once with `go install` into the cache, as MinIO is (deploy/local/minio.sh). No cluster needed.
# Usage: check.sh install|check        (`make helm-check` runs check)
set -euo pipefail
LOA_COMPONENT=helm
# shellcheck source=../local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

VERSION="${LOA_HELM_VERSION:-v4.3.2}"
BIN="$LOA_CACHE/bin/helm"
CHART="$LOA_REPO/deploy/helm/loa"
VALUES=(values.yaml values-production.yaml values-existing-infra.yaml values-development.yaml)

install() { go_install_cached helm helm.sh/helm/v4/cmd/helm "$VERSION"; }

check() {
  install
  cd "$LOA_REPO"
  export PYTHONPATH="$LOA_REPO/shared:$LOA_REPO"
  local out values rendered=()
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' RETURN
  # helm keeps no state between runs here: its cache, config and data in the temporary folder
  export HELM_CACHE_HOME="$out/cache" HELM_CONFIG_HOME="$out/config" HELM_DATA_HOME="$out/data"
  "$LOA_VENV_PYTHON" -m deploy.helm.chart_tables --check
  for values in "${VALUES[@]}"; do
    "$BIN" lint --strict "$CHART" -f "$CHART/$values" >"$out/lint.log" 2>&1 || { cat "$out/lint.log" >&2; die "helm lint failed with $values"; }
    "$BIN" template loa "$CHART" --namespace loa -f "$CHART/$values" >"$out/$values" || die "helm template failed with $values"
    rendered+=("$out/$values")
  done
  "$LOA_VENV_PYTHON" "$LOA_REPO/deploy/helm/validate.py" "${rendered[@]}"
  say "chart linted and rendered with ${VALUES[*]}; every object valid"
}

case "${1:-}" in
  install) install ;;
  check) check ;;
  *) die "usage: $0 install|check" ;;
esac
