package resolvers

import (
	"context"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/internal/loaders"
	"github.com/partsmarket/gateway/store"
)

// maxNodes bounds the ids of one nodes call.
const maxNodes = 100

func nodeLoader(l *loaders.Loaders) *loaders.Loader[store.Node] { return l.Node }

// Node answers node(id): BAD_USER_INPUT for an id that is not a UUID,
// NOT_FOUND for one the caller cannot see (missing or hidden alike).
func (r *queryResolver) Node(ctx context.Context, id string) (store.Node, error) {
	if !store.ValidID(id) {
		return nil, store.Invalid("id", "must be a UUID")
	}
	return load(ctx, nodeLoader, id)
}

// Nodes answers nodes(ids) in the order of ids, with one batch of reads for
// all of them: BAD_USER_INPUT for more than 100 ids or one that is not a
// UUID (nothing is read), and a null element with a NOT_FOUND error at its
// index for each id the caller cannot see.
func (r *queryResolver) Nodes(ctx context.Context, ids []string) ([]store.Node, error) {
	if len(ids) > maxNodes {
		return nil, store.Invalid("ids", "must have at most "+itoa(maxNodes)+" items")
	}
	for i, id := range ids {
		if !store.ValidID(id) {
			return nil, store.Invalid("ids", "item "+strconv.Itoa(i)+" must be a UUID")
		}
	}
	l, err := loaders.For(ctx)
	if err != nil {
		return nil, err
	}
	// Every Load is asked for before any is awaited, so they share a batch.
	thunks := make([]func() (store.Node, error), len(ids))
	for i, id := range ids {
		thunks[i] = l.Node.Load(ctx, id)
	}
	out := make([]store.Node, len(ids))
	path := graphql.GetPath(ctx)
	for i, thunk := range thunks {
		node, err := thunk()
		if err == nil {
			out[i] = node
			continue
		}
		graphql.AddError(ctx, &gqlerror.Error{Err: err, Message: err.Error(),
			Path: append(append(ast.Path{}, path...), ast.PathIndex(i))})
	}
	return out, nil
}
