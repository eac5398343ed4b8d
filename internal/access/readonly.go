package access

import (
	"context"
	"fmt"
	"slices"

	"github.com/99designs/gqlgen/graphql"

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
	_ graphql.HandlerExtension = AnalystReadOnly{}
	_ graphql.FieldInterceptor = AnalystReadOnly{}
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

// InterceptField refuses an ANALYST's root mutation field unless it is
// allowed, and passes every other field on.
func (a AnalystReadOnly) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Mutation" || FromContext(ctx).Role != RoleAnalyst || slices.Contains(a.Allow, fc.Field.Name) {
		return next(ctx)
	}
	return nil, &store.Error{Code: store.EFORBIDDEN, Message: msgAnalystReadOnly}
}
