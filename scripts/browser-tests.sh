#!/usr/bin/env bash
# The browser adapter's tests in headless Chromium: installs what they need (quietly when it
# is there), starts the control server with its ws-testkit servers on 127.0.0.1, runs the
# wasm-bindgen tests and the demo page's own test, and stops everything on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wasm-tools.sh

started=$SECONDS
ensure_wasm_tools
scratch=$(mktemp -d)
DEMO_SERVER_PID=
cleanup() {
  # The server dies of the TERM sent here: its exit status is not the script's.
  if [ -n "$DEMO_SERVER_PID" ]; then
    kill "$DEMO_SERVER_PID" 2>/dev/null || true
    wait "$DEMO_SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT

echo "== ws-wasm in headless Chromium (browser tests and the demo page)"
echo "-- building the demo page"
build_demo
start_demo_server 0
echo "-- control and demo server at $DEMO_URL"

# Chromium as root: no sandbox, no GPU, nothing talking to the internet, a fresh profile.
cat >"$scratch/webdriver.json" <<JSON
{
  "goog:chromeOptions": {
    "binary": "$(command -v chromium)",
    "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--user-data-dir=$scratch/profile"]
  }
}
JSON

echo "-- wasm-bindgen tests in headless Chromium"
WS_WASM_CONTROL=$DEMO_URL \
  WASM_BINDGEN_TEST_WEBDRIVER_JSON="$scratch/webdriver.json" \
  WASM_BINDGEN_TEST_TIMEOUT=60 \
  CHROMEDRIVER=$(command -v chromedriver) \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p ws-wasm --target wasm32-unknown-unknown --test browser

echo "-- the demo page in headless Chromium"
# Screenshots go to the scratch folder unless SCREENSHOTS names one (docs/ holds the README's).
shots=${SCREENSHOTS:-$scratch}
node scripts/browser-demo-check.mjs "$DEMO_URL" "$shots/browser-demo.png" "$scratch/page-profile" \
  "$shots/browser-demo-outage.png"

echo "-- browser tests passed in $((SECONDS - started)) s"
