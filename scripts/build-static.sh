#!/bin/sh
# build-static.sh OUTPUT: builds the gateway binary the way the container
# image's build stage does (the Dockerfile runs this script, and
# container_test.go runs it too, so both get the same binary): no cgo, so
# the binary links no C library and runs on an image with nothing else in
# it; the pure-Go DNS resolver and user lookup (netgo, osusergo) for the
# same reason; paths of the build machine and the symbol table left out.
set -eu
out="${1:?usage: scripts/build-static.sh OUTPUT}"
cd "$(dirname "$0")/.."
CGO_ENABLED=0 exec go build -trimpath -tags netgo,osusergo -ldflags '-s -w -buildid=' -o "$out" .
