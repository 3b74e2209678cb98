#!/usr/bin/env bash
# Seconds from `npm start` to the first GET /healthz 200, three ways, in a fresh clone of this
# checkout (node_modules linked from here, so `npm ci` is not part of the time): the first start
# (no dist/), a restart with nothing changed, a restart after touching one src file (its content
# unchanged), and one after editing it; then `node dist/main.js` alone, the floor.
# Usage: bash bench/start-time.sh [git ref, default HEAD]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REF=${1:-HEAD}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kauth-start.XXXXXX")
PID=
cleanup() {
  if [ -n "$PID" ]; then kill -TERM -- "-$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

git clone -q "$ROOT" "$WORK/app"
git -C "$WORK/app" checkout -q "$(git -C "$ROOT" rev-parse "$REF")"
[ -e "$WORK/app/node_modules" ] || ln -s "$ROOT/node_modules" "$WORK/app/node_modules"
PORT=$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')

# One start (`npm start`, or the command given) until /healthz answers 200; prints the seconds and
# stops the server.
time_start() {
  local label=$1 log started
  log="$WORK/$(echo "$label" | tr -c 'a-z0-9\n' '-').log"
  shift
  [ $# -gt 0 ] || set -- npm start
  started=$(date +%s.%N)
  (cd "$WORK/app" && HOST=127.0.0.1 PORT=$PORT DATA_DIR=$WORK/data LOG_LEVEL=warn exec setsid "$@") >"$log" 2>&1 &
  PID=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/healthz" || true)" = 200 ]; do
    kill -0 "$PID" 2>/dev/null || { cat "$log" >&2; echo "npm start exited ($label)" >&2; exit 1; }
    sleep 0.2
  done
  printf '%-28s %6.1f s   (load average %s)\n' "$label" "$(echo "$(date +%s.%N) - $started" | bc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  kill -TERM -- "-$PID" 2>/dev/null || true
  while kill -0 "$PID" 2>/dev/null; do sleep 0.2; done
  PID=
}

echo "commit $(git -C "$WORK/app" rev-parse --short HEAD), node $(node --version), $(nproc) CPUs"
time_start "first start (fresh clone)"
time_start "restart, nothing changed"
touch "$WORK/app/src/config.ts"
time_start "restart, one src file touched"
echo "// edited" >>"$WORK/app/src/config.ts"
time_start "restart, one src file edited"
time_start "node dist/main.js (no build)" node dist/main.js
