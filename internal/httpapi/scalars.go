package httpapi

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// timeCheck refuses an operation whose Time arguments (literals or
// variables, at any depth of input objects and lists) are not RFC 3339,
// as GRAPHQL_VALIDATION_FAILED before anything runs. gqlparser validates
// built-in scalars only; gqlgen would otherwise parse custom scalars in
// the middle of execution.
type timeCheck struct{ schema *ast.Schema }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = timeCheck{}

// ExtensionName names the extension for gqlgen.
func (timeCheck) ExtensionName() string { return "TimeCheck" }

// Validate accepts any schema.
func (timeCheck) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext checks the operation's Time values.
func (c timeCheck) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation == nil {
		return nil
	}
	w := timeWalker{schema: c.schema, vars: op.Variables, seen: map[string]bool{}}
	w.selections(op.Operation.SelectionSet)
	return w.err
}

type timeWalker struct {
	schema *ast.Schema
	vars   map[string]any
	seen   map[string]bool
	err    *gqlerror.Error
}

func (w *timeWalker) selections(set ast.SelectionSet) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				w.literal(a.Value)
			}
			w.selections(s.SelectionSet)
		case *ast.InlineFragment:
			w.selections(s.SelectionSet)
		case *ast.FragmentSpread:
			if s.Definition != nil && !w.seen[s.Name] {
				w.seen[s.Name] = true
				w.selections(s.Definition.SelectionSet)
			}
		}
	}
}

// literal checks a value of the document; variables are checked by their
// JSON value against their declared type.
func (w *timeWalker) literal(v *ast.Value) {
	if v == nil || w.err != nil {
		return
	}
	if v.Kind == ast.Variable {
		if v.VariableDefinition != nil {
			w.json(v.VariableDefinition.Type, w.vars[v.Raw])
		}
		return
	}
	if v.Definition != nil && v.Definition.Name == "Time" && v.Kind == ast.StringValue {
		w.check(v.Raw)
	}
	for _, c := range v.Children {
		w.literal(c.Value)
	}
}

// json checks a variable's value of type t.
func (w *timeWalker) json(t *ast.Type, v any) {
	if t == nil || v == nil || w.err != nil {
		return
	}
	if t.Elem != nil {
		if list, ok := v.([]any); ok {
			for _, item := range list {
				w.json(t.Elem, item)
			}
			return
		}
		w.json(t.Elem, v)
		return
	}
	switch def := w.schema.Types[t.NamedType]; {
	case def == nil:
	case def.Name == "Time":
		s, _ := v.(string)
		w.check(s)
	case def.Kind == ast.InputObject:
		obj, _ := v.(map[string]any)
		for _, f := range def.Fields {
			w.json(f.Type, obj[f.Name])
		}
	}
}

func (w *timeWalker) check(s string) {
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		w.err = gqlerror.Errorf("a Time must be an RFC 3339 timestamp such as 2026-01-02T15:04:05Z")
		errcode.Set(w.err, errcode.ValidationFailed)
	}
}
