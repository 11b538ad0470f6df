#!/usr/bin/env bash
# Start -> ready of the todo server against an existing Postgres (wal_level=logical) whose data it already holds
# (run it once first to take the initial snapshot): wall time from launching the JVM until /probes/readiness
# answers 200, RUNS times, plain and with an AppCDS archive (JDK 17: one training run writes it, later runs map it).
#
#   bench/startup.sh jdbc:postgresql://127.0.0.1:5432/postgres [user] [runs]
#
# Needs `mvn -q install -DskipTests` first, curl, and a free port 8099.
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${1:?usage: bench/startup.sh JDBC_URL [USER] [RUNS]}
DB_USER=${2:-postgres}
RUNS=${3:-5}
PORT=8099
CP_FILE=$(mktemp)
mvn -q -o dependency:build-classpath -pl examples/todo-server -Dmdep.outputFile="$CP_FILE" >/dev/null
# Class data sharing maps jars only, not directories: the example's jar, then its dependencies.
CP="$(ls examples/todo-server/target/syncline-example-todo-server-*.jar | head -1):$(cat "$CP_FILE")"
ARCHIVE=$(mktemp -u --suffix=.jsa)
LOG=$(mktemp)

run() { # JVM options...; prints the milliseconds until ready
  local start end pid code
  start=$(date +%s%N)
  java "$@" -cp "$CP" dev.syncline.examples.todo.Main --port "$PORT" --jdbc-url "$URL" --db-user "$DB_USER" \
    >"$LOG" 2>&1 &
  pid=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/probes/readiness")" = 200 ]; do
    if ! kill -0 "$pid" 2>/dev/null; then cat "$LOG" >&2; exit 1; fi
    sleep 0.01
  done
  end=$(date +%s%N)
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  echo $(( (end - start) / 1000000 ))
}

echo "plain: $(for i in $(seq "$RUNS"); do run; done | paste -sd' ') ms"
run -XX:ArchiveClassesAtExit="$ARCHIVE" >/dev/null
echo "AppCDS: $(for i in $(seq "$RUNS"); do run -XX:SharedArchiveFile="$ARCHIVE"; done | paste -sd' ') ms"
rm -f "$ARCHIVE" "$CP_FILE" "$LOG"
