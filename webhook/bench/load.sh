#!/usr/bin/env bash
# Load benchmark of `celador serve` on loopback with wrk (Debian: `apt-get install wrk`).
#
# Starts the release binary with a throwaway self-signed certificate on 127.0.0.1, then POSTs
# the insecure (denied) and hardened (allowed)
# AdmissionReviews for DURATION each over CONNECTIONS keep-alive connections, and prints
# throughput and latency percentiles. Bounded in time; it stops the server when done.
#
#   webhook/bench/load.sh                       # builds target/release/celador if needed
#   DURATION=20s CONNECTIONS=16 THREADS=2 webhook/bench/load.sh
#   SERVE_ARGS="--config my.toml" webhook/bench/load.sh   # extra arguments to `celador serve`
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-8}"
THREADS="${THREADS:-2}"
PORT="${PORT:-18443}"
BIN="${BIN:-target/release/celador}"
read -r -a SERVE_ARGS <<<"${SERVE_ARGS:-}"

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 2; }
[[ -x "$BIN" ]] || cargo build --release -p celador
work="$(mktemp -d)"
server=""
cleanup() {
  [[ -n "$server" ]] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -keyout "$work/tls.key" -out "$work/tls.crt" -subj "/CN=celador-webhook.celador.svc" \
  -addext "subjectAltName=DNS:celador-webhook.celador.svc,IP:127.0.0.1" 2>/dev/null
"$BIN" serve --tls-cert "$work/tls.crt" --tls-key "$work/tls.key" --listen "127.0.0.1:$PORT" \
  --metrics-listen off "${SERVE_ARGS[@]}" 2>"$work/log.jsonl" &
server=$!
for _ in $(seq 50); do
  curl -fsk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsk "https://127.0.0.1:$PORT/readyz" >/dev/null

echo "celador serve, $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, HTTP/1.1 keep-alive over TLS"
for review in insecure hardened; do
  BODY="webhook/tests/fixtures/$review.json" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
    -s webhook/bench/post.lua "https://127.0.0.1:$PORT/validate" >"$work/$review.txt"
  result="$(grep '^RESULT' "$work/$review.txt")"
  echo "$review: ${result#RESULT }"
done
decisions="$(grep -o '"decision":"[a-z]*"' "$work/log.jsonl" | sort | uniq -c | tr -s ' ' | tr '\n' ',')"
echo "decisions logged: ${decisions%,}"
