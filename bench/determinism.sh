#!/usr/bin/env bash
# The determinism check of the test suite: the whole CI (.ci/run) on fresh worktrees of one commit, first with both
# cores busy (stress-ng, from Debian's packages), then two at a time, each with its own embedded databases. Any red
# run is an intermittent failure to fix at its cause.
#
#   bench/determinism.sh [COMMIT] [STRESSED_RUNS] [PAIRS]      (defaults: HEAD 5 5; results in /tmp/determinism)
set -u
REPO="$(cd "$(dirname "$0")/.." && pwd)"
COMMIT="$(git -C "$REPO" rev-parse "${1:-HEAD}")"
STRESSED="${2:-5}"
PAIRS="${3:-5}"
OUT=/tmp/determinism
mkdir -p "$OUT"
: > "$OUT/results.txt"
command -v stress-ng >/dev/null || apt-get install -y -q stress-ng >/dev/null
ln -sfn "$(cd "$REPO/../shared" && pwd)" /tmp/shared   # the worktrees under /tmp find ../shared there
worktree() { rm -rf "$1"; git -C "$REPO" worktree prune; git -C "$REPO" worktree add -q "$1" "$COMMIT"; }
for i in $(seq "$STRESSED"); do
  worktree /tmp/det1
  stress-ng --cpu 2 --timeout 3600s >/dev/null 2>&1 &
  stress=$!
  start=$(date +%s)
  (cd /tmp/det1 && ./.ci/run > "$OUT/stress-$i.log" 2>&1); rc=$?
  kill $stress 2>/dev/null; wait $stress 2>/dev/null
  echo "stressed run $i: rc=$rc $(( $(date +%s) - start )) s" >> "$OUT/results.txt"
done
for i in $(seq "$PAIRS"); do
  worktree /tmp/det1; worktree /tmp/det2
  start=$(date +%s)
  for side in 1 2; do
    (cd /tmp/det$side && ./.ci/run > "$OUT/pair-$i-$side.log" 2>&1
     echo "pair $i build $side: rc=$? $(( $(date +%s) - start )) s" >> "$OUT/results.txt") &
  done
  wait
done
cat "$OUT/results.txt"
