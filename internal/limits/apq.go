package limits

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// CodePersistedQueryNotFound is the extensions.code of a hash-only request
// whose hash the gateway does not know (HTTP 200, as Apollo clients expect:
// they retry with the query and the hash).
const CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"

// PersistedQueries serves Automatic Persisted Queries (Apollo's protocol):
// a request whose extensions.persistedQuery is {version: 1, sha256Hash}
// without a query runs the query registered under that hash, or answers
// PERSISTED_QUERY_NOT_FOUND ("PersistedQueryNotFound"); a request with both
// registers the query when its SHA-256 is the hash, and is refused with
// BAD_REQUEST (HTTP 400) when it is not. Malformed persistedQuery data and
// versions other than 1 are BAD_REQUEST too. It replaces gqlgen's
// extension.AutomaticPersistedQuery, whose mismatch and version errors carry
// no code and answer HTTP 200.
type PersistedQueries struct {
	// Cache holds the registered queries by hash; bound it (lru.New).
	Cache graphql.Cache[string]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = PersistedQueries{}

// ExtensionName names the extension for gqlgen.
func (PersistedQueries) ExtensionName() string { return "AutomaticPersistedQuery" }

// Validate accepts any schema.
func (PersistedQueries) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters resolves or registers a persisted query.
func (p PersistedQueries) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	raw, ok := params.Extensions["persistedQuery"]
	if !ok || raw == nil {
		return nil
	}
	ext, _ := raw.(map[string]any)
	hash, _ := ext["sha256Hash"].(string)
	if ext == nil || !versionOne(ext["version"]) {
		return badRequest("persistedQuery must be {version: 1, sha256Hash}")
	}
	hash = strings.ToLower(hash)
	if len(hash) != sha256.Size*2 {
		return badRequest("persistedQuery.sha256Hash must be a SHA-256 hash in hex")
	}
	if params.Query == "" {
		q, found := p.Cache.Get(ctx, hash)
		if !found {
			err := &gqlerror.Error{Message: "PersistedQueryNotFound"}
			errcode.Set(err, CodePersistedQueryNotFound)
			return err
		}
		params.Query = q
		return nil
	}
	sum := sha256.Sum256([]byte(params.Query))
	if hex.EncodeToString(sum[:]) != hash {
		return badRequest("provided sha does not match query")
	}
	p.Cache.Add(ctx, hash, params.Query)
	return nil
}

func versionOne(v any) bool {
	switch n := v.(type) {
	case float64:
		return n == 1
	case int:
		return n == 1
	case int64:
		return n == 1
	case interface{ String() string }: // json.Number
		return n.String() == "1"
	}
	return false
}

func badRequest(message string) *gqlerror.Error {
	err := &gqlerror.Error{Message: message}
	errcode.Set(err, CodeBadRequest)
	return err
}
