package httpapi

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/internal/inputcheck"
)

// scalarCheck refuses an operation whose custom scalar arguments (literals or
// variables, at any depth of input objects and lists) are malformed, as
// GRAPHQL_VALIDATION_FAILED before anything runs: a Time that is not
// RFC 3339, or an Upload that is not a file of the multipart request.
// gqlparser validates built-in scalars only; gqlgen would otherwise parse
// custom scalars in the middle of execution.
type scalarCheck struct{ schema *ast.Schema }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = scalarCheck{}

// ExtensionName names the extension for gqlgen.
func (scalarCheck) ExtensionName() string { return "TimeCheck" }

// Validate accepts any schema.
func (scalarCheck) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext checks the operation's Time values.
func (c scalarCheck) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation == nil {
		return nil
	}
	w := scalarWalker{schema: c.schema, vars: op.Variables}
	inputcheck.EachField(op.Operation.SelectionSet, map[string]bool{}, func(f *ast.Field) {
		for _, a := range f.Arguments {
			w.literal(a.Value)
		}
	})
	return w.err
}

type scalarWalker struct {
	schema *ast.Schema
	vars   map[string]any
	err    *gqlerror.Error
}

// literal checks a value of the document; variables are checked by their
// JSON value against their declared type.
func (w *scalarWalker) literal(v *ast.Value) {
	if v == nil || w.err != nil {
		return
	}
	if v.Kind == ast.Variable {
		if v.VariableDefinition != nil {
			w.json(v.VariableDefinition.Type, w.vars[v.Raw])
		}
		return
	}
	switch {
	case v.Definition == nil:
	case v.Definition.Name == "Time" && v.Kind == ast.StringValue:
		w.check(v.Raw)
	case v.Definition.Name == "Upload" && v.Kind != ast.NullValue:
		w.fail("an Upload must be a file of a multipart request")
	}
	for _, c := range v.Children {
		w.literal(c.Value)
	}
}

// json checks a variable's value of type t.
func (w *scalarWalker) json(t *ast.Type, v any) {
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
	case def.Name == "Upload":
		if _, ok := v.(graphql.Upload); !ok {
			w.fail("an Upload must be a file of a multipart request")
		}
	case def.Kind == ast.InputObject:
		obj, _ := v.(map[string]any)
		for _, f := range def.Fields {
			w.json(f.Type, obj[f.Name])
		}
	}
}

func (w *scalarWalker) check(s string) {
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		w.fail("a Time must be an RFC 3339 timestamp such as 2026-01-02T15:04:05Z")
	}
}

func (w *scalarWalker) fail(message string) {
	if w.err == nil {
		w.err = gqlerror.Errorf("%s", message)
		errcode.Set(w.err, errcode.ValidationFailed)
	}
}

// noIntrospection refuses __schema and __type, as GRAPHQL_VALIDATION_FAILED
// before anything runs, where introspection is off; __typename stays.
type noIntrospection struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = noIntrospection{}

// ExtensionName names the extension for gqlgen.
func (noIntrospection) ExtensionName() string { return "NoIntrospection" }

// Validate accepts any schema.
func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses an operation that introspects.
func (noIntrospection) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation == nil {
		return nil
	}
	var err *gqlerror.Error
	inputcheck.EachField(op.Operation.SelectionSet, map[string]bool{}, func(f *ast.Field) {
		if err == nil && (f.Name == "__schema" || f.Name == "__type") {
			err = gqlerror.Errorf("introspection is disabled")
			errcode.Set(err, errcode.ValidationFailed)
		}
	})
	return err
}
