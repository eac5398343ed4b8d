package access

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/partsmarket/gateway/store"
)

// onRootField returns ctx inside the root field context of object.field (in
// a mutation when object is Mutation, else a query),
// with a response context to collect errors.
func onRootField(ctx context.Context, object, field string) context.Context {
	ctx = graphql.WithResponseContext(ctx, graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	op := ast.Query
	if object == "Mutation" {
		op = ast.Mutation
	}
	ctx = graphql.WithOperationContext(ctx, &graphql.OperationContext{Operation: &ast.OperationDefinition{Operation: op}})
	// gqlgen names the field, not its type, in a root field's context.
	return graphql.WithRootFieldContext(ctx, &graphql.RootFieldContext{Object: field, Field: graphql.CollectedField{Field: &ast.Field{Name: field, Alias: field}}})
}

func TestAnalystReadOnly(t *testing.T) {
	guard := AnalystReadOnly{Allow: []string{"startExport"}}
	tests := []struct {
		name, object, field string
		p                   Principal
		refused             bool
	}{
		{"analyst mutation", "Mutation", "submitLead", analystP, true},
		{"analyst admin mutation", "Mutation", "removeListing", analystP, true},
		{"analyst allowed mutation", "Mutation", "startExport", analystP, false},
		{"analyst query", "Query", "leads", analystP, false},
		{"anonymous mutation", "Mutation", "submitLead", anonP, false},
		{"seller mutation", "Mutation", "setListingStatus", ownerP, false},
		{"admin mutation", "Mutation", "removeListing", adminP, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			done := graphql.True
			next := func(context.Context) graphql.Marshaler { called = true; return done }
			ctx := onRootField(WithPrincipal(context.Background(), tt.p), tt.object, tt.field)
			got := guard.InterceptRootField(ctx, next)
			errs := graphql.GetErrors(ctx)
			if tt.refused {
				if len(errs) != 1 || store.ErrorCode(errs[0].Unwrap()) != store.EFORBIDDEN || errs[0].Path.String() != tt.field ||
					called || got != graphql.Null {
					t.Errorf("got %v, errors %v (next called %v); want FORBIDDEN on %s before anything runs", got, errs, called, tt.field)
				}
				return
			}
			if len(errs) != 0 || !called || got != done {
				t.Errorf("got %v, errors %v (next called %v); want next's answer", got, errs, called)
			}
		})
	}
}

// fakeSchema is an executable schema that only has its SDL.
type fakeSchema struct {
	graphql.ExecutableSchema
	s *ast.Schema
}

func (f fakeSchema) Schema() *ast.Schema { return f.s }

func TestAnalystReadOnlyValidate(t *testing.T) {
	s := gqlparser.MustLoadSchema(&ast.Source{Input: `type Query { a: Int } type Mutation { startExport: Int submitLead: Int }`})
	noMutation := gqlparser.MustLoadSchema(&ast.Source{Input: `type Query { a: Int }`})
	tests := []struct {
		name   string
		allow  []string
		schema *ast.Schema
		ok     bool
	}{
		{"none", nil, s, true},
		{"a mutation", []string{"startExport"}, s, true},
		{"a typo", []string{"startExprot"}, s, false},
		{"a query field", []string{"a"}, s, false},
		{"no Mutation type", []string{"startExport"}, noMutation, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := AnalystReadOnly{Allow: tt.allow}.Validate(fakeSchema{s: tt.schema})
			if (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
