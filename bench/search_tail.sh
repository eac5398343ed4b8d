#!/usr/bin/env bash
# search_tail.sh: the long-tail search benchmark (issue 12, BENCHMARKS.md):
# a gateway with both caches off on an already loaded database (bench/gen),
# driven by bench/load's search-tail operation (over 1,700 terms of the
# generated catalog with Zipf skew: part numbers, kinds, brands, machine
# models and a few terms that match nothing), with the CPU time of the
# PostgreSQL backends serving that database, of the gateway and of the
# load generator read from /proc (so the server must be on this machine).
#
# Settings (environment): DATABASE_URL (the loaded database; required),
# CONCURRENCY (32), DURATION (30s), WARMUP (10s), COLD (0; 1: the cold
# start instead, issue 12 item 5: no warm-up, and ROUNDS (3) measured
# rounds of DURATION back to back from the moment the gateway answers, so
# the first round is the first DURATION after a start).
# Output: bench/load's report (one per round); the gateway's log in
# .data/bench/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
: "${DATABASE_URL:?set DATABASE_URL to the loaded database}"
CONCURRENCY=${CONCURRENCY:-32}
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-10s}
COLD=${COLD:-0}
ROUNDS=${ROUNDS:-3}
OUT="$ROOT/.data/bench"
mkdir -p "$OUT" bin
go build -o bin/gateway .
go build -o bin/bench-load ./bench/load
bin/gateway migrate up >/dev/null

# The database's name, for the backends to measure.
dbname=$(printf '%s' "$DATABASE_URL" | sed -E 's#^[a-z]+://[^/]*/([^?]*).*#\1#')
free_port() {
	local p=$1
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
	echo "$p"
}
port=$(free_port 18180)
metrics_port=$(free_port 19190)
# A workload file is needed by bench/load; the tail terms come from the
# catalog, so a minimal one will do.
workload="$OUT/search-tail-workload.json"
printf '{"scale":1,"terms":[{"value":"x","weight":1}],"regions":[{"value":"x","weight":1}],"conditions":[{"value":"NEW","weight":1}],"listings":["x"]}\n' >"$workload"

env ENV=development PORT="$port" METRICS_ADDR="127.0.0.1:$metrics_port" \
	RESPONSE_CACHE_TTL=0 SEARCH_CACHE_TTL=0 RATE_LIMIT_POINTS_PER_MINUTE=1000000000000 \
	bin/gateway serve 2>"$OUT/search-tail-gateway.log" &
gateway_pid=$!
trap 'kill -TERM "$gateway_pid" 2>/dev/null; wait "$gateway_pid" || true' EXIT

run_load() {
	bin/bench-load -url "http://127.0.0.1:$port" -metrics-url "http://127.0.0.1:$metrics_port/metrics" \
		-pid "$gateway_pid" -workload "$workload" -concurrency "$CONCURRENCY" -duration "$DURATION" \
		-warmup "$1" -ops search-tail -probe 0 -wait 60s -pg-url "$DATABASE_URL" -pg-database "$dbname"
}
if [ "$COLD" = 1 ]; then
	for i in $(seq 1 "$ROUNDS"); do
		echo "== cold start: round $i of $ROUNDS ($DURATION each, from the gateway's start)"
		run_load 0s
	done
else
	run_load "$WARMUP"
fi
