#!/usr/bin/env bash
# Runs the Autobahn|Testsuite client cases (sections 1-7 and 10) against every adapter's echo
# client and fails unless every case is OK or INFORMATIONAL (a NON-STRICT verdict fails it).
#
#   scripts/autobahn.sh                 # all adapters
#   scripts/autobahn.sh ws-tokio        # just one (ws-tokio, ws-async-std, ws-blocking)
#
# The suite is Python 2 code: it runs under pyenv's Python 2.7.18 with pinned dependencies
# installed into a cache folder (AUTOBAHN_HOME, default ~/.cache/resilient-ws/autobahn).
# Reports land in target/autobahn/; the per-adapter summary is printed and kept in
# target/autobahn/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

adapters=("$@")
[ ${#adapters[@]} -gt 0 ] || adapters=(ws-tokio ws-async-std ws-blocking)

cache=${AUTOBAHN_HOME:-$HOME/.cache/resilient-ws/autobahn}
out=$root/target/autobahn
port=${AUTOBAHN_PORT:-9001}
mkdir -p "$cache" "$out"

python2=""
if command -v pyenv >/dev/null 2>&1 && [ -x "$(pyenv root)/versions/2.7.18/bin/python" ]; then
  python2="$(pyenv root)/versions/2.7.18/bin/python"
elif [ -x "$HOME/.pyenv/versions/2.7.18/bin/python" ]; then
  python2="$HOME/.pyenv/versions/2.7.18/bin/python"
elif command -v python2.7 >/dev/null 2>&1; then
  python2=$(command -v python2.7)
fi
if [ -z "$python2" ]; then
  echo "autobahn: no Python 2.7 found (expected pyenv's 2.7.18); the suite cannot run" >&2
  exit 1
fi

if [ ! -f "$cache/.installed" ]; then
  echo "== installing autobahntestsuite into $cache"
  "$python2" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$cache/site" \
    autobahntestsuite==25.10.1 txaio==2.1.0 incremental==16.10.1 pyOpenSSL==19.1.0 \
    cryptography==3.3.2 Twisted==19.10.0 zope.interface==4.6.0 jinja2==2.11.3 \
    markupsafe==1.1.1 Werkzeug==1.0.1 klein==17.10.0 service_identity==18.1.0 \
    unittest2==1.1.0 six==1.16.0 'autobahn[accelerate,twisted]==0.10.9'
  # A plain PYTHONPATH entry breaks zope.interface's namespace package; site.addsitedir works.
  mkdir -p "$cache/boot"
  printf 'import site\nsite.addsitedir(%s)\n' "'$cache/site'" > "$cache/boot/sitecustomize.py"
  touch "$cache/.installed"
fi

echo "== building the echo clients"
cargo build --quiet --release -p ws-cli
cargo build --quiet --release -p ws-async-std --example echo_smol
cargo build --quiet --release -p ws-blocking --example echo_blocking

cases='["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"]'
cat > "$out/spec.json" <<JSON
{
  "url": "ws://127.0.0.1:$port",
  "outdir": "$out/reports",
  "cases": $cases,
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
JSON

server_pid=""
keep_open=""
cleanup() {
  [ -n "$keep_open" ] && exec 3>&- || true
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

echo "== starting the fuzzing server on 127.0.0.1:$port"
(cd "$out" && PYTHONPATH="$cache/boot" exec "$python2" "$cache/site/bin/wstest" \
  -m fuzzingserver -s "$out/spec.json" > "$out/server.log" 2>&1) &
server_pid=$!
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "autobahn: the fuzzing server exited; its log:" >&2
    cat "$out/server.log" >&2
    exit 1
  fi
  sleep 0.1
done

# ws-cli closes when stdin ends: give it a stdin that never ends while the script runs.
fifo=$out/stdin.fifo
rm -f "$fifo" && mkfifo "$fifo"
exec 3<>"$fifo"
keep_open=1

echo_client() { # adapter url
  case $1 in
    ws-tokio) timeout 60 "$root/target/release/ws-cli" connect "$2" --echo --no-reconnect --json \
                <"$fifo" >/dev/null 2>&1 || true ;;
    ws-async-std) timeout 60 "$root/target/release/examples/echo_smol" "$2" >/dev/null 2>&1 || true ;;
    ws-blocking) timeout 60 "$root/target/release/examples/echo_blocking" "$2" >/dev/null 2>&1 || true ;;
  esac
}

count=$( (timeout 20 "$root/target/release/ws-cli" connect "ws://127.0.0.1:$port/getCaseCount" \
  --no-reconnect --json <"$fifo" 2>/dev/null || true) \
  | python3 -c 'import json,sys
for line in sys.stdin:
    e = json.loads(line)
    if e["event"] == "message":
        print(e["text"]); break')
case $count in
  ''|*[!0-9]*) echo "autobahn: could not read the case count (got '$count')" >&2; exit 1 ;;
esac
echo "== $count cases per adapter"

for adapter in "${adapters[@]}"; do
  started=$(date +%s)
  for case in $(seq 1 "$count"); do
    echo_client "$adapter" "ws://127.0.0.1:$port/runCase?case=$case&agent=$adapter"
  done
  timeout 20 "$root/target/release/ws-cli" connect \
    "ws://127.0.0.1:$port/updateReports?agent=$adapter" --no-reconnect --json <"$fifo" >/dev/null 2>&1 || true
  echo "   $adapter: $count cases in $(( $(date +%s) - started )) s"
done

python3 - "$out/reports/index.json" "${adapters[@]}" <<'PY' | tee "$out/summary.txt"
import collections, json, sys
index = json.load(open(sys.argv[1]))
passing = {"OK", "INFORMATIONAL"}
failed = False
for agent in sys.argv[2:]:
    results = index.get(agent, {})
    verdicts = collections.Counter(r["behavior"] for r in results.values())
    closes = collections.Counter(r["behaviorClose"] for r in results.values())
    bad = sorted((c for c, r in results.items() if r["behavior"] not in passing
                  or r["behaviorClose"] not in passing),
                 key=lambda c: [int(x) for x in c.split(".")])
    line = ", ".join(f"{v} {k}" for k, v in sorted(verdicts.items()))
    print(f"{agent}: {len(results)} cases: {line}; close: " +
          ", ".join(f"{v} {k}" for k, v in sorted(closes.items())))
    if not results or bad:
        failed = True
        print(f"  FAILED cases: {' '.join(bad) or 'no results'}")
sys.exit(1 if failed else 0)
PY
