package access

import (
	"context"
	"fmt"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/store"
)

// AnalystReadOnly is the gqlgen handler extension that keeps analysts from
// changing marketplace data: it refuses an ANALYST every root Mutation field
// with FORBIDDEN before its directives and resolver run, the mutations open
// to anonymous callers included, and whatever mutation is added later,
// unless the field is named in Allow. Its methods return no store errors
// except that FORBIDDEN.
type AnalystReadOnly struct {
	// Allow names the mutations an ANALYST may call: those that change no
	// marketplace data (an export of what analysts may read).
	Allow []string
}

var (
	_ graphql.HandlerExtension     = AnalystReadOnly{}
	_ graphql.RootFieldInterceptor = AnalystReadOnly{}
)

// ExtensionName names the extension for gqlgen.
func (AnalystReadOnly) ExtensionName() string { return "AnalystReadOnly" }

// Validate refuses an Allow list naming a field the schema's Mutation type
// does not have, so that a typo cannot leave the exception unapplied
// unnoticed.
func (a AnalystReadOnly) Validate(s graphql.ExecutableSchema) error {
	m := s.Schema().Mutation
	for _, name := range a.Allow {
		if m == nil || m.Fields.ForName(name) == nil {
			return fmt.Errorf("access: AnalystReadOnly allows %q, which is not a mutation", name)
		}
	}
	return nil
}

// InterceptRootField refuses an ANALYST's root mutation field unless it is
// allowed, and passes every other root field on. It sees root fields only,
// so the fields below them pay nothing for it.
func (a AnalystReadOnly) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	fc := graphql.GetRootFieldContext(ctx)
	if fc == nil || FromContext(ctx).Role != RoleAnalyst || !isMutation(ctx) || slices.Contains(a.Allow, fc.Field.Name) {
		return next(ctx)
	}
	err := &store.Error{Code: store.EFORBIDDEN, Message: msgAnalystReadOnly}
	graphql.AddError(ctx, &gqlerror.Error{Err: err, Message: err.Message, Path: ast.Path{ast.PathName(fc.Field.Alias)}})
	return graphql.Null
}

// isMutation reports whether ctx's operation is a mutation. (A root field's
// context names the field, not its type.)
func isMutation(ctx context.Context) bool {
	if !graphql.HasOperationContext(ctx) {
		return false
	}
	op := graphql.GetOperationContext(ctx).Operation
	return op != nil && op.Operation == ast.Mutation
}
