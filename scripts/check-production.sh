#!/usr/bin/env bash
# Production install check: `npm run build`, then a fresh directory holding only what a production
# install ships (package.json, package-lock.json, dist/, schema.graphql, prisma/migrations, bin/),
# `npm ci --omit=dev --omit=optional` there, and `node dist/main.js` on an embedded database must start, serve the
# demo workspace, stop cleanly on SIGTERM; the `kauth` command must work there too.
# Every step is bounded in time; any failure exits 1 with a `production install: FAILED` line.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STARTED=$SECONDS

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kauth-production.XXXXXX")
APP=$WORK/app
DATA=$WORK/data
LOG=$WORK/server.log
SERVER_PID=

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "production install: FAILED: $*" >&2
  if [ -s "$LOG" ]; then
    echo "--- last lines of the server's output ---" >&2
    tail -n 20 "$LOG" >&2
  fi
  exit 1
}
step() { echo "[$((SECONDS - STARTED))s] $*"; }

# The service and the CLI run only on the embedded database, with nothing inherited from a test run.
unset DATABASE_URL REDIS_URL NODE_OPTIONS JWT_SECRET JWT_PUBLIC_KEY JWT_JWKS_URL METRICS_TOKEN
export NODE_ENV=production LOG_LEVEL=info

step "building (npm run build)"
timeout 300 npm run build --silent || fail "npm run build failed (or took over 300 s)"
[ -f dist/main.js ] && [ -f dist/cli.js ] || fail "npm run build did not produce dist/main.js and dist/cli.js"
[ -f dist/web/playground.html ] && [ -f dist/web/explorer.html ] || fail "npm run build did not produce the browser pages in dist/web"
# tsc never deletes the output of a source that is gone: such a file would ship with dist/.
orphans=$(cd dist && find . -path ./web -prune -o -name '*.js' -print | sed 's/\.js$//' | while read -r f; do [ -f "../src/$f.ts" ] || echo "dist/${f#./}.js"; done)
[ -z "$orphans" ] || echo "warning: dist/ holds output of sources that no longer exist (rm -rf dist and rebuild):" $orphans >&2

step "copying the production files to $APP"
mkdir -p "$APP/prisma" "$DATA"
cp package.json package-lock.json schema.graphql "$APP/"
[ ! -f .npmrc ] || cp .npmrc "$APP/"
cp -R dist bin "$APP/"
cp -R prisma/migrations "$APP/prisma/"

step "installing production dependencies (npm ci --omit=dev --omit=optional)"
(cd "$APP" && timeout 600 npm ci --omit=dev --omit=optional --no-audit --no-fund --loglevel=error) >"$WORK/npm.log" 2>&1 ||
  { tail -n 30 "$WORK/npm.log" >&2; fail "npm ci --omit=dev --omit=optional failed (or took over 600 s)"; }
# Without --omit=optional npm keeps a dev dependency that another package names as an optional peer
# (@prisma/client names prisma and typescript), and a few @types/* stay even with it. Remove every
# devDependency that only development needs (the lock file marks it "dev" or "devOptional"), so that nothing below
# can lean on one; a devDependency a runtime package needs too (semver, under fastify) stays.
kept=$(cd "$APP" && node -e '
  const fs = require("node:fs");
  const packages = require("./package-lock.json").packages;
  for (const name of Object.keys(require("./package.json").devDependencies || {}))
    if ((packages[`node_modules/${name}`]?.dev || packages[`node_modules/${name}`]?.devOptional) && fs.existsSync(`node_modules/${name}`)) { fs.rmSync(`node_modules/${name}`, { recursive: true, force: true }); console.log(name); }')
[ -z "$kept" ] || echo "note: npm ci --omit=dev --omit=optional still installed these devDependencies (removed for the check):" $kept
echo "node_modules: $(du -sh "$APP/node_modules" | cut -f1)"

PORT=$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
BASE=http://127.0.0.1:$PORT

step "starting node dist/main.js on port $PORT"
(cd "$APP" && HOST=127.0.0.1 PORT=$PORT DATA_DIR=$DATA KAUTH_DEMO=1 exec node dist/main.js) >"$LOG" 2>&1 &
SERVER_PID=$!

status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE$1" || true; }
healthy=
for _ in $(seq 1 120); do
  kill -0 "$SERVER_PID" 2>/dev/null || fail "node dist/main.js exited during start-up"
  if [ "$(status /healthz)" = 200 ]; then healthy=1; break; fi
  sleep 0.5
done
[ -n "$healthy" ] || fail "GET /healthz did not answer 200 within 60 s"
ready=$(status /readyz)
case "$ready" in
  200) ;;
  404) echo "note: no /readyz route (404)" ;;
  *) fail "GET /readyz answered $ready" ;;
esac
step "/healthz 200, /readyz $ready"

# The demo admin key: <DATA_DIR>/demo-admin-key (mode 0600), or, from older builds, the log line.
KEY=
for _ in $(seq 1 20); do
  if [ -f "$DATA/demo-admin-key" ]; then
    mode=$(stat -c '%a' "$DATA/demo-admin-key")
    [ "$mode" = 600 ] || fail "$DATA/demo-admin-key has mode $mode, not 600"
    KEY=$(tr -d '[:space:]' <"$DATA/demo-admin-key")
  else
    KEY=$(grep -o 'kauth_demo_[A-Za-z0-9]*' "$LOG" | head -n 1 || true)
  fi
  [ -z "$KEY" ] || break
  sleep 0.5
done
[ -n "$KEY" ] || fail "no demo admin key: neither $DATA/demo-admin-key nor a kauth_demo_ log line"

answer=$(curl -s --max-time 10 "$BASE/graphql" -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d '{"query":"{ viewer { scopes } }"}') || fail "POST /graphql failed"
echo "$answer" | node -e '
  const body = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
  const scopes = body.data && body.data.viewer && body.data.viewer.scopes;
  if (body.errors || !Array.isArray(scopes) || !scopes.includes("groups:write")) process.exit(1);' ||
  fail "{ viewer { scopes } } with the demo admin key answered: $answer"
step "GraphQL { viewer { scopes } } answered with the demo admin key"

# NODE_ENV=production: no playground unless KAUTH_PLAYGROUND=1; a browser gets the 401 anyone gets.
page=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Accept: text/html' "$BASE/graphql" || true)
[ "$page" = 401 ] || fail "GET /graphql (Accept: text/html) answered $page in production, not 401"
step "no playground in production (a browser at /graphql gets 401)"

step "stopping the server (SIGTERM)"
kill -TERM "$SERVER_PID"
for _ in $(seq 1 40); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
kill -0 "$SERVER_PID" 2>/dev/null && fail "the server did not exit within 20 s of SIGTERM"
code=0
wait "$SERVER_PID" || code=$?
SERVER_PID=
[ "$code" = 0 ] || fail "the server exited with code $code after SIGTERM"

step "running node bin/kauth.js tenant create prodcheck"
out=$(cd "$APP" && DATA_DIR=$DATA timeout 60 node bin/kauth.js tenant create prodcheck 2>"$WORK/cli.err") ||
  { cat "$WORK/cli.err" >&2; fail "node bin/kauth.js tenant create prodcheck failed"; }
echo "$out" | node -e 'if (JSON.parse(require("node:fs").readFileSync(0, "utf8")).slug !== "prodcheck") process.exit(1)' ||
  fail "node bin/kauth.js tenant create prodcheck printed: $out"

step "done"
echo "production install: ok"
