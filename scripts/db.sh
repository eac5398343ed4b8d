#!/usr/bin/env bash
# db.sh: find or start the PostgreSQL server the gateway uses in development
# and tests, and print its URL (one line on stdout; everything else goes to
# stderr).
#
#   scripts/db.sh        print DATABASE_URL when it is set and answering;
#                        otherwise start (creating it on first use) a private
#                        cluster under .data/postgres on 127.0.0.1 and print
#                        its URL
#   scripts/db.sh stop   stop the private cluster
#   scripts/db.sh roles  the same server and database, set up for the
#                        split of roles that production has: creates the
#                        roles gateway_owner and gateway_app when missing
#                        (scripts/dev_roles.sql), lets gateway_owner create
#                        in the database and hands it the gateway's objects
#                        that the server URL's role created before (older
#                        checkouts migrated as that role), and prints two
#                        shell assignments for eval: MIGRATE_DATABASE_URL
#                        (gateway_owner's URL) and DATABASE_URL
#                        (gateway_app's). Needs psql and a server URL whose
#                        role may create roles.
#
# The rum extension (the ordered search index of migration 00023; not
# trusted, so only a superuser may create it): both modes install the
# Debian package postgresql-<major>-rum with apt-get when the server runs on
# this machine without it; the roles mode also creates the extension in the
# database, as the server URL's role, before the migrations run (the tests
# create it in their own databases, internal/testdb). Where neither is
# possible (a managed server, a role that is not a superuser) they say so
# and go on: the gateway then searches without that index, slower.
#
# The private cluster is for development only: trust authentication on
# loopback, fsync off. Its port is DB_PORT when set, else the first free port
# from 54329 up, remembered in .data/port, so that several checkouts on one
# machine (a work tree and a CI clone) each run their own.
# Safe to run from several processes at once (flock on .data/db.lock).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA="$ROOT/.data"
PORT=""
DBNAME=gateway

log() { printf 'db.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

is_root() { [ "$(id -u)" = 0 ]; }

# check_url waits up to 30 s for the server named by DATABASE_URL to answer.
# It never prints the URL itself: it may hold a password.
check_url() {
	local i rc
	if command -v pg_isready >/dev/null 2>&1; then
		for i in $(seq 1 30); do
			rc=0
			pg_isready -q -d "$DATABASE_URL" || rc=$?
			case $rc in
			0) return 0 ;;
			3) die "DATABASE_URL is not a valid connection string" ;;
			esac
			sleep 1
		done
		die "the server in DATABASE_URL does not answer (pg_isready exit $rc)"
	elif command -v psql >/dev/null 2>&1; then
		for i in $(seq 1 30); do
			if psql "$DATABASE_URL" -Atqc 'SELECT 1' >/dev/null 2>&1; then
				return 0
			fi
			sleep 1
		done
		die "the server in DATABASE_URL does not answer (psql SELECT 1 failed)"
	else
		log "neither pg_isready nor psql found; using DATABASE_URL unchecked"
	fi
}

# as_role prints URL $1 (URL or key=value form) signing in as role $2,
# whose password is its name (scripts/dev_roles.sql).
as_role() {
	case "$1" in
	postgres://* | postgresql://*)
		printf '%s' "$1" | sed -E "s#^(postgres(ql)?://)([^@/?]*@)?#\\1$2:$2@#"
		;;
	*) printf '%s user=%s password=%s' "$1" "$2" "$2" ;;
	esac
}

# ensure_rum gives the database of URL $1 the rum extension, as well as it
# can (see the head of this file); with $3 = install it only makes sure the
# server has the package (the tests create the extension in their own
# databases, internal/testdb). It never fails the script.
ensure_rum() {
	local url=$1 psql_bin=${2:-psql} mode=${3:-create} major host
	command -v "$psql_bin" >/dev/null 2>&1 || { log "psql not found: not creating the rum extension"; return 0; }
	local q=("$psql_bin" -X -Atq -d "$url")
	if [ -z "$("${q[@]}" -c "SELECT 1 FROM pg_extension WHERE extname = 'rum'" 2>/dev/null)" ]; then
		if [ -z "$("${q[@]}" -c "SELECT 1 FROM pg_available_extensions WHERE name = 'rum'" 2>/dev/null)" ]; then
			major=$("${q[@]}" -c "SELECT current_setting('server_version_num')::int / 10000" 2>/dev/null || true)
			host=$("${q[@]}" -c "SELECT coalesce(host(inet_server_addr()), 'local')" 2>/dev/null || true)
			case "$host" in
			local | 127.* | ::1) ;;
			*)
				log "the server has no rum extension and is not on this machine: searches run without the ordered index"
				return 0
				;;
			esac
			[ -n "$major" ] && install_rum "$major"
		fi
		[ "$mode" = install ] && return 0
		"${q[@]}" -c 'CREATE EXTENSION IF NOT EXISTS rum' >&2 ||
			log "could not create the rum extension (needs a superuser): searches run without the ordered index"
	fi
}

# install_rum installs the Debian package of the rum extension for
# PostgreSQL major version $1, when apt-get can.
install_rum() {
	local sudo=()
	[ -f "/usr/share/postgresql/$1/extension/rum.control" ] && return 0
	command -v apt-get >/dev/null 2>&1 || { log "apt-get not found: cannot install postgresql-$1-rum"; return 0; }
	if ! is_root; then
		command -v sudo >/dev/null 2>&1 || { log "no sudo: cannot install postgresql-$1-rum"; return 0; }
		sudo=(sudo -n)
	fi
	log "installing the rum extension with apt-get (Debian package postgresql-$1-rum)"
	if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "postgresql-$1-rum" >&2; then
		"${sudo[@]}" apt-get update >&2 || true
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "postgresql-$1-rum" >&2 ||
			log "installing postgresql-$1-rum failed: searches run without the ordered index"
	fi
}

# setup_roles creates the development roles on the server of URL $1 and
# readies its database for them, then prints the assignments of the roles
# mode.
setup_roles() {
	local url=$1 psql_bin=${2:-psql}
	command -v "$psql_bin" >/dev/null 2>&1 || die "the roles mode needs psql"
	"$psql_bin" -X -q -v ON_ERROR_STOP=1 -d "$url" -f "$ROOT/scripts/dev_roles.sql" >&2 ||
		die "creating the roles gateway_owner and gateway_app failed (may the server URL's role create roles?)"
	"$psql_bin" -X -q -v ON_ERROR_STOP=1 -d "$url" >&2 <<'SQL' || die "handing the database to gateway_owner failed"
SELECT format('GRANT CREATE ON DATABASE %I TO gateway_owner', current_database()) \gexec
GRANT CREATE ON SCHEMA public TO gateway_owner;
-- What this role created in public before (not extensions' members, not
-- sequences that belong to a table's column: they follow their table).
SELECT format('ALTER %s %s OWNER TO gateway_owner',
        CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
        c.oid::regclass)
    FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relowner = current_user::regrole
        AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
            AND d.deptype IN ('e', 'a', 'i')) \gexec
SELECT format('ALTER ROUTINE %s OWNER TO gateway_owner', p.oid::regprocedure)
    FROM pg_proc p
    WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = current_user::regrole
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
            AND d.deptype = 'e') \gexec
SQL
	printf 'MIGRATE_DATABASE_URL=%q\n' "$(as_role "$url" gateway_owner)"
	printf 'DATABASE_URL=%q\n' "$(as_role "$url" gateway_app)"
}

if [ -n "${DATABASE_URL:-}" ] && [ "${1:-}" != stop ]; then
	check_url
	if [ "${1:-}" = roles ]; then
		ensure_rum "$DATABASE_URL"
		setup_roles "$DATABASE_URL"
	else
		ensure_rum "$DATABASE_URL" psql install
		printf '%s\n' "$DATABASE_URL"
	fi
	exit 0
fi

mkdir -p "$DATA"
if command -v flock >/dev/null 2>&1; then
	exec 9>"$DATA/db.lock"
	flock -w 600 9 || die "timed out waiting for $DATA/db.lock"
else
	log "flock not found; not guarding against concurrent runs"
fi

# as_pg runs a command as the user that owns the cluster: the caller, or the
# postgres user when the caller is root (PostgreSQL refuses to run as root).
as_pg() {
	if ! is_root; then
		(cd / && "$@")
	elif command -v runuser >/dev/null 2>&1; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && su postgres -s /bin/sh -c "$(printf '%q ' "$@")")
	fi
}

# has_pg_user reports whether the postgres user exists.
has_pg_user() { getent passwd postgres >/dev/null 2>&1; }

# pg_bin_dir prints the directory holding initdb and pg_ctl for major version
# $1, or for the newest version installed when $1 is empty.
pg_bin_dir() {
	local want=${1:-} d
	if [ -n "$want" ]; then
		d="/usr/lib/postgresql/$want/bin"
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	else
		d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
		[ -n "$d" ] && [ -x "$d/initdb" ] && { echo "$d"; return 0; }
	fi
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		d=$(dirname "$(command -v initdb)")
		if [ -z "$want" ] || "$d/initdb" --version | grep -Eq " $want([^0-9]|\$)"; then
			echo "$d"
			return 0
		fi
	fi
	return 1
}

install_postgres() {
	command -v apt-get >/dev/null 2>&1 ||
		die "PostgreSQL is not installed and apt-get is not available: install PostgreSQL (initdb and pg_ctl on PATH) or set DATABASE_URL"
	local sudo=()
	if ! is_root; then
		command -v sudo >/dev/null 2>&1 ||
			die "PostgreSQL is not installed and this user cannot install it (no sudo): install the postgresql package or set DATABASE_URL"
		sudo=(sudo)
	fi
	log "installing PostgreSQL with apt-get (Debian package postgresql)"
	"${sudo[@]}" apt-get update >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
}

# Where the cluster lives. When root, the postgres user must be able to reach
# it; if the checkout is somewhere it cannot (say under /root), the cluster
# goes to /var/tmp instead and .data/postgres points there.
cluster_paths() {
	BASE="$DATA"
	if is_root && has_pg_user && ! as_pg test -x "$DATA" 2>/dev/null; then
		BASE="/var/tmp/gateway-db-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
	fi
	PGDATA_DIR="$BASE/postgres"
	RUN_DIR="$BASE/postgres-run"
	LOG_FILE="$BASE/postgres.log"
	# A Unix socket path longer than 107 bytes is refused: go TCP-only then.
	SOCKET_DIR="$RUN_DIR"
	if [ $((${#RUN_DIR} + 20)) -gt 107 ]; then
		SOCKET_DIR=""
	fi
}

prepare_dirs() {
	if [ "$BASE" != "$DATA" ] && [ ! -L "$DATA/postgres" ]; then
		log "the postgres user cannot reach $DATA; keeping the cluster in $BASE"
		rm -rf "$DATA/postgres"
		ln -s "$BASE/postgres" "$DATA/postgres"
	fi
	mkdir -p "$BASE" "$PGDATA_DIR" "$RUN_DIR"
	touch "$LOG_FILE"
	if is_root; then
		chown postgres "$PGDATA_DIR" "$RUN_DIR" "$LOG_FILE"
	fi
	chmod 700 "$PGDATA_DIR"
}

# server_pid prints the pid of this cluster's running postmaster, if any.
server_pid() {
	local pid
	[ -f "$PGDATA_DIR/postmaster.pid" ] || return 1
	pid=$(head -n 1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true)
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	[ -r "/proc/$pid/cmdline" ] || kill -0 "$pid" 2>/dev/null || return 1
	if [ -r "/proc/$pid/cmdline" ]; then
		# The pid may have been reused by another program since a crash.
		tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$PGDATA_DIR" || return 1
	fi
	echo "$pid"
}

# port_free reports whether nothing listens on 127.0.0.1:$1.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# choose_port sets PORT: the running cluster's own, else DB_PORT, else the
# port this checkout used last while it is still free, else the first free
# port from 54329 up (remembered in .data/port).
choose_port() {
	if server_pid >/dev/null; then
		PORT=$(sed -n 4p "$PGDATA_DIR/postmaster.pid")
		return 0
	fi
	if [ -n "${DB_PORT:-}" ]; then
		PORT=$DB_PORT
		return 0
	fi
	[ -f "$DATA/port" ] && PORT=$(cat "$DATA/port")
	if [[ "$PORT" =~ ^[0-9]+$ ]] && port_free "$PORT"; then
		return 0
	fi
	PORT=54329
	while ! port_free "$PORT"; do
		PORT=$((PORT + 1))
		[ "$PORT" -lt 54429 ] || die "no free port between 54329 and 54428"
	done
	echo "$PORT" >"$DATA/port"
}

start_server() {
	local opts
	if server_pid >/dev/null; then
		return 0
	fi
	if [ -f "$PGDATA_DIR/postmaster.pid" ]; then
		log "removing stale postmaster.pid left by a server that is gone"
		rm -f "$PGDATA_DIR/postmaster.pid"
	fi
	rm -f "$RUN_DIR/.s.PGSQL.$PORT" "$RUN_DIR/.s.PGSQL.$PORT.lock"
	opts="-c port=$PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='$SOCKET_DIR'"
	opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
	log "starting PostgreSQL on 127.0.0.1:$PORT (log: $LOG_FILE)"
	# 9>&-: the server must not inherit (and so hold) the lock file.
	if ! as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 -o "$opts" start </dev/null >&2 9>&-; then
		tail -n 20 "$LOG_FILE" >&2 || true
		die "PostgreSQL did not start (is port $PORT taken by another server?)"
	fi
}

stop_server() {
	if ! server_pid >/dev/null; then
		log "the private cluster is not running"
		return 0
	fi
	as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >&2
}

cluster_paths

if [ "${1:-}" = stop ]; then
	if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
		log "no private cluster at $PGDATA_DIR"
		exit 0
	fi
	BIN=$(pg_bin_dir "$(cat "$PGDATA_DIR/PG_VERSION")") ||
		die "no PostgreSQL binaries for version $(cat "$PGDATA_DIR/PG_VERSION")"
	stop_server
	exit 0
elif [ -n "${1:-}" ] && [ "$1" != roles ]; then
	die "usage: scripts/db.sh [stop|roles]"
fi

if [ -f "$PGDATA_DIR/PG_VERSION" ]; then
	version=$(cat "$PGDATA_DIR/PG_VERSION")
	BIN=$(pg_bin_dir "$version") ||
		die "the cluster in $PGDATA_DIR needs PostgreSQL $version, which is not installed; install it or remove $PGDATA_DIR"
else
	if ! BIN=$(pg_bin_dir "") || { is_root && ! has_pg_user; }; then
		install_postgres
		BIN=$(pg_bin_dir "") || die "PostgreSQL binaries not found after installing"
	fi
	if is_root; then
		has_pg_user ||
			die "running as root needs a postgres user to own the cluster (PostgreSQL refuses to run as root)"
	fi
	cluster_paths
	rm -rf "$PGDATA_DIR"
	prepare_dirs
	log "creating a private cluster in $PGDATA_DIR ($("$BIN/initdb" --version))"
	as_pg "$BIN/initdb" -D "$PGDATA_DIR" --auth=trust -U postgres -E UTF8 --locale=C --no-sync >&2 ||
		die "initdb failed"
fi

prepare_dirs
choose_port
start_server

psql=("$BIN/psql" -X -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atq)
[ -x "$BIN/psql" ] || psql=(psql -X -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atq)
for _ in $(seq 1 30); do
	"${psql[@]}" -c 'SELECT 1' >/dev/null 2>&1 && break
	sleep 0.5
done
if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")" ]; then
	log "creating database $DBNAME"
	"${psql[@]}" -c "CREATE DATABASE $DBNAME" >&2
fi

url=$(printf 'postgres://postgres@127.0.0.1:%s/%s?sslmode=disable' "$PORT" "$DBNAME")
psql_bin="$BIN/psql"
[ -x "$psql_bin" ] || psql_bin=psql
if [ "${1:-}" = roles ]; then
	ensure_rum "$url" "$psql_bin"
	setup_roles "$url" "$psql_bin"
else
	ensure_rum "$url" "$psql_bin" install
	printf '%s\n' "$url"
fi
