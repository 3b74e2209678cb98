# Sourced before the README's runnable blocks (test/readme.test.ts). The blocks run in a scratch
# directory whose data/ is the started server's DATA_DIR, as they would in a checkout after
# `npm start`; KAUTH_ROOT is the checkout. Any failing command fails the run.
set -euo pipefail

# `npx kauth` is the checkout's bin/kauth.js, as npx resolves it inside the checkout.
npx() {
  if [ "${1:-}" = kauth ]; then
    shift
    node "$KAUTH_ROOT/bin/kauth.js" "$@"
  else
    command npx "$@"
  fi
}
