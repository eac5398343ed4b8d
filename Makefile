# Development and CI entry points. Needs Go; PostgreSQL is found or started
# by scripts/db.sh (DATABASE_URL when set, else a private cluster in .data/).
# Nothing here uses the network except the Go module proxy (and apt-get, via
# scripts/db.sh, on a machine without PostgreSQL).

.DEFAULT_GOAL := build

.PHONY: build run test fmt-check vet generate generate-check db-stop bench bench-compare schema-check schema-baseline

# The binary: serve, migrate up|down|status, seed, token.
build:
	go build -o bin/gateway .

# Start (or find) PostgreSQL, migrate, load the demo data, print tokens of
# the demo admin, analyst and seller owner, and serve the API, with GraphiQL
# at http://localhost:8080 (ENV=development unless set). As in
# production, migrations and the seed run as the owner of the schema
# (gateway_owner, MIGRATE_DATABASE_URL) and the API is served by a role that
# owns nothing (gateway_app, DATABASE_URL); scripts/db.sh roles sets them up.
run: build
	@urls="$$(scripts/db.sh roles)" && eval "$$urls" && \
	export DATABASE_URL MIGRATE_DATABASE_URL && \
	export ENV="$${ENV:-development}" && \
	bin/gateway migrate up && \
	bin/gateway seed && \
	echo "gateway: demo tokens, valid 12h (send as Authorization: Bearer <token>):" >&2 && \
	bin/gateway token --demo --ttl 12h && \
	echo "gateway: GraphiQL on http://localhost:$${PORT:-8080}" >&2 && \
	exec bin/gateway serve

# Everything CI checks: formatting, vet, generated code, then the tests
# against a real PostgreSQL (each package gets fresh databases, see
# internal/testdb).
test: fmt-check vet generate-check
	@url="$$(scripts/db.sh)" && DATABASE_URL="$$url" go test -race -count=1 -timeout 30m ./...

fmt-check:
	@files="$$(find . \( -path ./.git -o -path ./.data -o -path ./bin \) -prune -o -name '*.go' -print | xargs gofmt -l)" && \
	if [ -n "$$files" ]; then \
		echo "gofmt: these files are not formatted (run gofmt -w on them):" >&2; \
		echo "$$files" >&2; \
		exit 1; \
	fi

vet:
	go vet ./...

# Regenerate graph/ from schema.graphql and gqlgen.yml, and
# docs/configuration.md and .env.example from internal/config/vars.go.
generate:
	go generate ./...

# Fails when go generate changes or adds anything under graph/: the
# generated code must be committed as generated.
generate-check: generate
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || \
		{ echo "generate-check: not a git checkout, cannot compare graph/ with what is committed" >&2; exit 1; }
	@if ! git diff --quiet -- graph/ || [ -n "$$(git ls-files --others --exclude-standard -- graph/)" ]; then \
		echo "generate-check: graph/ differs from what go generate produces:" >&2; \
		git status --short -- graph/ >&2; \
		echo "run 'make generate' and commit graph/ (it is generated code, never edited by hand)" >&2; \
		exit 1; \
	fi

# The marketplace-scale benchmark (issue 6, BENCHMARKS.md): builds, loads
# SCALE (0.02; SCALE=1 is 50,000 sellers and 1,000,000 listings) into the
# database gateway_bench (recreated; never the development data), starts the
# gateway with high rate limits and measures the canonical operations with
# CONCURRENCY clients for DURATION each. See bench/run.sh.
bench: SCALE ?= 0.02
bench: CONCURRENCY ?= 32
bench: DURATION ?= 10s
bench:
	SCALE='$(SCALE)' CONCURRENCY='$(CONCURRENCY)' DURATION='$(DURATION)' bench/run.sh

# The gateway side by side with PostGraphile 5 on one database (issue 12,
# BENCHMARKS.md): a private benchmark cluster in .data/bench-pg (kept
# running, and its data at SCALE kept for the next run), Node and
# PostGraphile from npm in .data/bench-compare/npm, a check that both return
# the same rows, ROUNDS alternating rounds of DURATION per query and side
# with CONCURRENCY clients, and pgbench over the gateway's own statements.
# BENCH_DATA=<another checkout>/.data reuses that checkout's cluster, data
# and npm folder. See bench/compare/run.sh; `bench/compare/run.sh stop`
# stops the cluster.
bench-compare: SCALE ?= 0.2
bench-compare: ROUNDS ?= 3
bench-compare: DURATION ?= 15s
bench-compare: CONCURRENCY ?= 32
bench-compare:
	SCALE='$(SCALE)' ROUNDS='$(ROUNDS)' DURATION='$(DURATION)' CONCURRENCY='$(CONCURRENCY)' bench/compare/run.sh

# Breaking changes of schema.graphql against the last release's schema
# (schema/baseline.graphql): removed or retyped fields, arguments, enum
# values, new required arguments. Deprecate (@deprecated) instead of
# removing; see CONTRIBUTING.md. The same check runs in make test.
# SCHEMA_BASELINE=git:<tag> compares with schema.graphql at a tag instead.
schema-check: SCHEMA_BASELINE ?= schema/baseline.graphql
schema-check:
	go run ./internal/schemadiff/cmd/schemacheck -baseline '$(SCHEMA_BASELINE)' schema.graphql

# At a release: the released schema becomes the baseline of schema-check.
schema-baseline:
	cp schema.graphql schema/baseline.graphql

# Stop the private PostgreSQL cluster scripts/db.sh started.
db-stop:
	scripts/db.sh stop
