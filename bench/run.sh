#!/usr/bin/env bash
# run.sh: the marketplace-scale benchmark (issue 6), end to end:
#
#   1. build the gateway, bench/gen and bench/load into bin/
#   2. find or start PostgreSQL (scripts/db.sh: DATABASE_URL's server, or the
#      private cluster), then drop, create and migrate the database
#      BENCH_DB (default gateway_bench; never the development database)
#   3. generate data at SCALE with bench/gen (unless REUSE=1 and the data
#      of a previous run at that scale is there)
#   4. start the gateway on it, as the serving role gateway_app (see
#      scripts/db.sh roles), with METRICS_ADDR and rate limits too high
#      to matter, run bench/load (CONCURRENCY clients, DURATION per
#      operation) and stop the gateway
#
# Settings (environment): SCALE (0.02), CONCURRENCY (32), DURATION (10s),
# WARMUP (2s below scale 0.5; 60s from there: at scale 1 the public caches
# take about 40 s to fill, and the goals are about the steady state), OPS
# (all five), BENCH_DB (gateway_bench), REUSE (0), LOAD_ARGS (more flags for
# bench/load), GZIP_ROUNDS (0; N: instead of one run, N pairs of runs
# against the same gateway, by clients that accept gzip and by clients that
# do not, to measure what compression costs).
# Output: the load generator's report on stdout; the gateway's log and the
# workload file in .data/bench/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SCALE=${SCALE:-0.02}
CONCURRENCY=${CONCURRENCY:-32}
DURATION=${DURATION:-10s}
if [ -z "${WARMUP:-}" ]; then
	WARMUP=$(awk -v s="$SCALE" 'BEGIN { print (s >= 0.5 ? "60s" : "2s") }')
fi
OPS=${OPS:-search,detail,inbox,metrics,submit}
BENCH_DB=${BENCH_DB:-gateway_bench}
REUSE=${REUSE:-0}
GZIP_ROUNDS=${GZIP_ROUNDS:-0}
OUT="$ROOT/.data/bench"

log() { printf 'bench: %s\n' "$*" >&2; }

case "$BENCH_DB" in
*bench*) ;;
*)
	log "BENCH_DB must contain \"bench\" (it is dropped and recreated)"
	exit 1
	;;
esac

mkdir -p "$OUT" bin
log "building"
go build -o bin/gateway .
go build -o bin/bench-gen ./bench/gen
go build -o bin/bench-load ./bench/load

server_url=$(scripts/db.sh)
# The same server, database BENCH_DB.
case "$server_url" in
postgres://* | postgresql://*)
	BENCH_URL=$(printf '%s' "$server_url" | sed -E "s#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\\1/$BENCH_DB#")
	;;
*) BENCH_URL="$server_url dbname=$BENCH_DB" ;;
esac
export DATABASE_URL=$BENCH_URL

workload="$OUT/workload-$SCALE.json"
if [ "$REUSE" = 1 ] && [ -f "$workload" ] && [ -f "$OUT/loaded" ] && [ "$(cat "$OUT/loaded")" = "$BENCH_DB $SCALE" ]; then
	log "reusing the data at scale $SCALE in $BENCH_DB (migrating it to this version)"
	bin/gateway migrate up >/dev/null
else
	rm -f "$OUT/loaded"
	log "generating scale $SCALE into $BENCH_DB"
	bin/bench-gen -recreate -scale "$SCALE" -workload "$workload"
	echo "$BENCH_DB $SCALE" >"$OUT/loaded"
fi
# The gateway serves as production's does: as a role that owns nothing and
# is bound by row-level security (gateway_app), granted by migrate up run
# as the owner (scripts/db.sh roles hands the objects to gateway_owner).
eval "$(scripts/db.sh roles)"
export DATABASE_URL MIGRATE_DATABASE_URL
bin/gateway migrate up >/dev/null

# free_port prints the first port from $1 up that nothing listens on.
free_port() {
	local p=$1
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
	echo "$p"
}
port=$(free_port 18080)
metrics_port=$(free_port 19090)

gateway_pid=""
log "starting the gateway on :$port (metrics on 127.0.0.1:$metrics_port, log $OUT/gateway.log)"
env ENV=development PORT="$port" METRICS_ADDR="127.0.0.1:$metrics_port" CAPTCHA_PROVIDER=test \
	RATE_LIMIT_LEADS_PER_IP_PER_HOUR=1000000000 RATE_LIMIT_LEADS_PER_EMAIL_PER_DAY=1000000000 \
	RATE_LIMIT_REPORTS_PER_IP_PER_HOUR=1000000000 RATE_LIMIT_POINTS_PER_MINUTE=1000000000000 \
	bin/gateway serve 2>"$OUT/gateway.log" &
gateway_pid=$!
stop_gateway() {
	if [ -n "$gateway_pid" ] && kill -0 "$gateway_pid" 2>/dev/null; then
		kill -TERM "$gateway_pid"
		wait "$gateway_pid" || true
	fi
}
trap stop_gateway EXIT

load() {
	bin/bench-load -url "http://127.0.0.1:$port" -metrics-url "http://127.0.0.1:$metrics_port/metrics" \
		-pid "$gateway_pid" -workload "$workload" -concurrency "$CONCURRENCY" -duration "$DURATION" \
		-warmup "$WARMUP" -ops "$OPS" -wait 60s ${LOAD_ARGS:-} "$@"
}
if [ "$GZIP_ROUNDS" -gt 0 ]; then
	# What gzip costs: the same gateway (caches as warm for both) answers
	# alternating runs of clients that accept gzip and clients that do not.
	for round in $(seq 1 "$GZIP_ROUNDS"); do
		for gzip in true false; do
			echo "=== round $round: clients accept gzip: $gzip"
			load -probe 0 -gzip="$gzip"
		done
	done
else
	load
fi
