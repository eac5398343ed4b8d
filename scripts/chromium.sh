#!/usr/bin/env bash
# chromium.sh: print the path of a headless-capable Chromium (one line on
# stdout; everything else goes to stderr), installing Debian's chromium
# package with apt-get when none is found. The browser test of GraphiQL
# (graphiql_test.go) runs it; CHROMIUM, when set, names the binary to use.
set -euo pipefail

log() { printf 'chromium.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

find_chromium() {
	local c
	if [ -n "${CHROMIUM:-}" ]; then
		command -v "$CHROMIUM" && return 0
		die "CHROMIUM is set to $CHROMIUM, which is not an executable"
	fi
	for c in chromium chromium-browser google-chrome-stable google-chrome; do
		command -v "$c" && return 0
	done
	return 1
}

find_chromium && exit 0

command -v apt-get >/dev/null 2>&1 ||
	die "Chromium is not installed and apt-get is not available: install chromium (or set CHROMIUM)"
sudo=()
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 ||
		die "Chromium is not installed and this user cannot install it (no sudo): install the chromium package"
	sudo=(sudo)
fi
# One install at a time, even from parallel test processes.
exec 9>"${TMPDIR:-/tmp}/gateway-chromium-install.lock"
flock 9
if ! find_chromium >/dev/null; then
	log "installing Chromium with apt-get (Debian package chromium)"
	"${sudo[@]}" apt-get update >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >&2
fi
find_chromium || die "apt-get installed chromium, but no chromium is on PATH"
