package httpapi

import (
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"

	"github.com/partsmarket/gateway/internal/limits"
)

// persistedQueryCacheSize bounds the Automatic Persisted Queries cache.
const persistedQueryCacheSize = 1000

// useLimits registers on gql the limits checked before any
// execution: the token limit (the parser's; the limits extension reports it
// as QUERY_TOO_COMPLEX), depth, aliases and cost (limits.Extension, which
// also adds extensions.cost to every response) and Automatic Persisted
// Queries with a bounded cache. A zero l means limits.Defaults(). budget,
// when not nil, is charged each operation that passed the limits (see
// limits.Budget; *Budget is one).
func useLimits(gql *handler.Server, l limits.Config, budget limits.Budget) {
	if l == (limits.Config{}) {
		l = limits.Defaults()
	}
	if l.Tokens > 0 {
		gql.SetParserTokenLimit(l.Tokens)
	}
	gql.Use(limits.PersistedQueries{Cache: lru.New[string](persistedQueryCacheSize)})
	gql.Use(limits.Extension{Config: l, Budget: budget})
}
