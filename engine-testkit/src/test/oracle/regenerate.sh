#!/usr/bin/env bash
# Regenerates the project's own conformance vectors (../resources/conformance/own) from the corpus in this
# directory by asking the reference implementation (../shared/conformance/oracle, beside the checkout). Two passes:
# the first asks only whether each config compiles; the second adds row cases for those that do. The corpus in
# v0.40/ (features of sync-rules 0.39-0.40) asks the reference built from source by build-reference.sh; its vectors
# record that version.
#
#   engine-testkit/src/test/oracle/regenerate.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../../.." && pwd)"
ORACLE="$ROOT/../shared/conformance/oracle"
OUT="$HERE/../resources/conformance/own"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$ORACLE/run.sh" "$HERE" "$TMP/pass1" >/dev/null
python3 - "$TMP/pass1" > "$TMP/valid.json" <<'PY'
import json, os, sys
ids = []
for f in sorted(os.listdir(sys.argv[1])):
    for c in json.load(open(os.path.join(sys.argv[1], f)))["cases"]:
        if c["kind"] == "compile" and c["expected"].get("valid"):
            ids.append(c["id"])
print(json.dumps(ids))
PY
KNOWN="$(cat "$OUT/KNOWN_DIFFERENCES.txt")"
rm -rf "$OUT" && mkdir -p "$OUT"
printf '%s\n' "$KNOWN" > "$OUT/KNOWN_DIFFERENCES.txt"
SYNCLINE_ORACLE_VALID="$TMP/valid.json" "$ORACLE/run.sh" "$HERE" "$OUT"
SCRATCH_0_40="${ORACLE_SCRATCH_0_40:-/tmp/oracle-0.40}"
[ -d "$SCRATCH_0_40" ] || { echo "build the 0.40 reference first: $HERE/build-reference.sh" >&2; exit 1; }
ORACLE_SCRATCH="$SCRATCH_0_40" "$ORACLE/run.sh" "$HERE/v0.40" "$OUT" --allow-other-version
