#!/usr/bin/env bash
# Sourced by browser-tests.sh and browser-demo.sh: installs what the browser adapter's
# build, tests and demo need, idempotently and quietly when everything is there already, and
# defines the build of the demo page.
#   - the wasm32-unknown-unknown target (rustup)
#   - wasm-bindgen-cli, exactly the wasm-bindgen version in Cargo.lock (cargo install)
#   - Debian's chromium and chromium-driver, and Node for the demo page's test (apt-get)

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

ensure_wasm_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "-- installing the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown >/dev/null
  fi
  local version
  version=$(wasm_bindgen_version)
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $version" ]; then
    echo "-- installing wasm-bindgen-cli $version (a few minutes, once)"
    # --locked first; crates.io may no longer carry one of its locked dependencies (then the
    # newest compatible versions are used).
    cargo install --quiet wasm-bindgen-cli --version "$version" --locked 2>/dev/null ||
      cargo install --quiet wasm-bindgen-cli --version "$version"
  fi
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v node >/dev/null || missing+=(nodejs)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "-- installing ${missing[*]} (apt-get)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# Builds the demo page into $DEMO_DIR (index.html + pkg/) with a size-tuned release profile
# and prints the .wasm's size, raw and gzipped.
DEMO_DIR=${DEMO_DIR:-target/ws-wasm-demo}
build_demo() {
  CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_LTO=true \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_PANIC=abort \
    cargo build --quiet --release -p ws-wasm --example chat --target wasm32-unknown-unknown \
      --target-dir target/ws-wasm-size
  rm -rf "$DEMO_DIR" && mkdir -p "$DEMO_DIR/pkg"
  wasm-bindgen --target web --no-typescript --out-dir "$DEMO_DIR/pkg" \
    target/ws-wasm-size/wasm32-unknown-unknown/release/examples/chat.wasm
  local wasm="$DEMO_DIR/pkg/chat_bg.wasm"
  local raw gz
  raw=$(stat -c %s "$wasm")
  gz=$(gzip -9 -c "$wasm" | wc -c)
  echo "-- demo .wasm after wasm-bindgen: $raw bytes raw, $gz gzipped"
  # No wasm-opt: Debian's binaryen (108) is too old for this module. With --all-features its
  # output does not compile; with exactly rustc's features it compiles but breaks
  # wasm-bindgen's externref table when the page starts.
  cp ws-wasm/demo/index.html "$DEMO_DIR/"
}

# Starts the demo/test server on 127.0.0.1:$1 (0: any port) serving $DEMO_DIR; sets
# DEMO_SERVER_PID and DEMO_URL once it listens.
start_demo_server() {
  cargo build --quiet -p ws-wasm-demo-server
  local log
  log=$(mktemp)
  target/debug/ws-wasm-demo-server --port "$1" --static "$DEMO_DIR" >"$log" 2>&1 &
  DEMO_SERVER_PID=$!
  local deadline=$((SECONDS + 20))
  until grep -q '^listening ' "$log"; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$DEMO_SERVER_PID" 2>/dev/null; then
      cat "$log" >&2
      echo "the demo server did not start" >&2
      return 1
    fi
    sleep 0.05
  done
  DEMO_URL=$(sed -n 's/^listening //p' "$log")
  rm -f "$log"
}
