#!/usr/bin/env bash
# What `make run` does once every service is ready: connect the sandbox accounts, publish the
# Vietnamese sample article through the ingest API, and follow it on every channel until each
# delivery is final. Run again by hand at any time: `bash deploy/local/demo.sh`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export PYTHONPATH="shared:.${PYTHONPATH:+:$PYTHONPATH}"
PY="${PY:-.venv/bin/python}"
SAMPLE="samples/thong-cao-bao-chi.md"
ID="$(sed -n 's/^id: *//p' "$SAMPLE" | head -1)"

"$PY" deploy/local/sandbox_accounts.py
ANSWER="$("$PY" -m loa.cli.main publish "$SAMPLE")"
echo "$ANSWER"
ARTICLE_URL="$(printf '%s' "$ANSWER" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["canonical_url"])')"
"$PY" -m loa.cli.main status "$ID" --wait --timeout 120
echo
echo "The sample on the website:    $ARTICLE_URL"
echo "What each platform received: http://127.0.0.1:8090/   Ops dashboard: http://127.0.0.1:8081/"
