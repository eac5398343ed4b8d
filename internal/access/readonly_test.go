package access

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/partsmarket/gateway/store"
)

// onField returns ctx inside the field context of object.field.
func onField(ctx context.Context, object, field string) context.Context {
	return graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: object, Field: graphql.CollectedField{Field: &ast.Field{Name: field, Alias: field}}})
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
		{"analyst payload field", "SubmitLeadPayload", "leadId", analystP, false},
		{"anonymous mutation", "Mutation", "submitLead", anonP, false},
		{"seller mutation", "Mutation", "setListingStatus", ownerP, false},
		{"admin mutation", "Mutation", "removeListing", adminP, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, called := spyNext("done")
			ctx := onField(WithPrincipal(context.Background(), tt.p), tt.object, tt.field)
			got, err := guard.InterceptField(ctx, next)
			if tt.refused {
				if store.ErrorCode(err) != store.EFORBIDDEN || *called || got != nil {
					t.Errorf("got %v, %v (next called %v); want FORBIDDEN before anything runs", got, err, *called)
				}
				return
			}
			if err != nil || !*called || got != "done" {
				t.Errorf("got %v, %v (next called %v); want next's answer", got, err, *called)
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
