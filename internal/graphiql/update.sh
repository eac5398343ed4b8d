#!/usr/bin/env bash
# update.sh: fetch the pinned GraphiQL, React and ReactDOM builds from the
# npm registry and copy the files the page needs into assets/, without
# their source maps. Run it after changing a version below, then commit
# assets/. The gateway never fetches anything at run time: these files are
# built into the binary (go:embed) and served by it.
set -euo pipefail

GRAPHIQL=4.1.2 # the last GraphiQL with a UMD build (5.x ships ESM and Monaco only)
REACT=18.2.0   # the React its UMD build expects (window.React, ReactDOM.render)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null
for p in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
	mkdir "$p"
	tar -xzf "$p.tgz" -C "$p"
done

# copy FILE NAME: copies FILE to assets/NAME without its sourceMappingURL
# comment (the maps are not shipped).
copy() {
	sed -e 's|//# sourceMappingURL=[^ ]*$||' -e 's|/\*# sourceMappingURL=[^ ]* \*/||' "$1" >"$here/assets/$2"
}
copy "graphiql-$GRAPHIQL/package/graphiql.min.js" graphiql.min.js
copy "graphiql-$GRAPHIQL/package/graphiql.min.css" graphiql.min.css
copy "react-$REACT/package/umd/react.production.min.js" react.production.min.js
copy "react-dom-$REACT/package/umd/react-dom.production.min.js" react-dom.production.min.js
cp "graphiql-$GRAPHIQL/package/LICENSE" "$here/assets/LICENSE.graphiql"
cp "react-$REACT/package/LICENSE" "$here/assets/LICENSE.react"
printf 'graphiql %s\nreact %s\nreact-dom %s\n' "$GRAPHIQL" "$REACT" "$REACT" >"$here/assets/VERSIONS"
echo "update.sh: assets/ now holds graphiql $GRAPHIQL and react $REACT" >&2
