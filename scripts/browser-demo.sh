#!/usr/bin/env bash
# The browser demo: builds the chat page from ws-wasm and serves it, with its local
# WebSocket server, on 127.0.0.1. Open the printed URL; Ctrl-C stops everything.
#   bash scripts/browser-demo.sh [PORT]      (default 8080)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wasm-tools.sh

ensure_wasm_tools
build_demo
DEMO_SERVER_PID=
trap 'if [ -n "$DEMO_SERVER_PID" ]; then kill "$DEMO_SERVER_PID" 2>/dev/null || true; fi' EXIT
start_demo_server "${1:-8080}"
echo
echo "   ws-wasm chat demo: $DEMO_URL"
echo "   (stop and restart the server from the page; Ctrl-C here to quit)"
wait "$DEMO_SERVER_PID"
