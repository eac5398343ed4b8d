// Package inputcheck refuses, before an operation runs, input that no
// resolver may see: a list of more than MaxListItems items and a string with
// a NUL character or that is not valid UTF-8. It walks every argument of
// every field the operation selects (literals and variables alike, at any
// depth of input objects and lists) against the schema's types, so a list
// argument or a string field added to the schema is bounded without any
// resolver code. A refused operation runs nothing: no SQL, no budget charge.
//
// encoding/json decodes invalid UTF-8 (and lone UTF-16 surrogates such as
// "\ud800") to U+FFFD, the replacement character, before any code of the
// gateway sees a variable. The check therefore refuses U+FFFD itself: it is
// what a decoder puts in place of bytes that were not text, and no valid
// input needs it.
package inputcheck

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/store"
)

// MaxListItems bounds every list argument and list input field
// (docs/api/limits.md); resolvers may enforce smaller bounds of their own.
const MaxListItems = 100

// Extension is the gqlgen extension that checks an operation's input before
// it runs. Register it with handler.Server.Use before the limits and the
// budget, so refused input costs nothing.
type Extension struct {
	// Schema gives the types of arguments and input fields.
	Schema *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = Extension{}

// ExtensionName names the extension for gqlgen.
func (Extension) ExtensionName() string { return "InputCheck" }

// Validate accepts any schema.
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses the operation with BAD_USER_INPUT naming
// the first offending argument path (e.g. "filter.status").
func (e Extension) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation == nil {
		return nil
	}
	if err := Check(e.Schema, op.Operation, op.Variables); err != nil {
		return &gqlerror.Error{Err: err, Message: err.Error()}
	}
	return nil
}

// Check walks the arguments of every field op selects, with the operation's
// coerced variables, and returns the BAD_USER_INPUT error of the first list
// over MaxListItems or bad string, or nil. The field of the error is the
// argument's input path: the argument's name, then input field names and
// list indexes ("input.contacts.3.value"); a list too long is named
// without an index ("filter.status").
func Check(schema *ast.Schema, op *ast.OperationDefinition, vars map[string]any) *store.Error {
	var err *store.Error
	EachField(op.SelectionSet, map[string]bool{}, func(f *ast.Field) {
		if err != nil || f.Definition == nil {
			return
		}
		for _, a := range f.Arguments {
			def := f.Definition.Arguments.ForName(a.Name)
			if def == nil || a.Value == nil {
				continue
			}
			v, verr := a.Value.Value(vars)
			if verr != nil {
				continue // validation has refused it already
			}
			if err = value(schema, a.Name, def.Type, v); err != nil {
				return
			}
		}
	})
	return err
}

// value checks v, of type t, at path.
func value(schema *ast.Schema, path string, t *ast.Type, v any) *store.Error {
	if v == nil || t == nil {
		return nil
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok { // a single value given for a list
			return value(schema, path, t.Elem, v)
		}
		if len(list) > MaxListItems {
			return store.Invalid(path, "must have at most "+strconv.Itoa(MaxListItems)+" items")
		}
		for i, item := range list {
			if err := value(schema, path+"."+strconv.Itoa(i), t.Elem, item); err != nil {
				return err
			}
		}
		return nil
	}
	switch x := v.(type) {
	case string:
		return text(path, x)
	case graphql.Upload:
		return text(path, x.Filename)
	case map[string]any:
		def := schema.Types[t.NamedType]
		if def == nil || def.Kind != ast.InputObject {
			return nil
		}
		for _, f := range def.Fields {
			if err := value(schema, path+"."+f.Name, f.Type, x[f.Name]); err != nil {
				return err
			}
		}
	}
	return nil
}

// text refuses a string with a NUL character, with bytes that are not
// UTF-8, or with the replacement character U+FFFD that stands for them.
func text(path, s string) *store.Error {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return store.Invalid(path, "must not contain NUL characters")
	case !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError):
		return store.Invalid(path, "must be valid UTF-8 text")
	}
	return nil
}

// EachField calls visit for every field of set, through inline fragments and
// fragment spreads (each named fragment once: its fields have the same
// arguments wherever it is spread). Call it with an empty seen map.
func EachField(set ast.SelectionSet, seen map[string]bool, visit func(*ast.Field)) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			visit(s)
			EachField(s.SelectionSet, seen, visit)
		case *ast.InlineFragment:
			EachField(s.SelectionSet, seen, visit)
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				EachField(s.Definition.SelectionSet, seen, visit)
			}
		}
	}
}
