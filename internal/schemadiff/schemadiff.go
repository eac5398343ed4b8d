// Package schemadiff finds the changes between two versions of a schema
// that break existing clients: a removed type, field, argument, enum value,
// union member or interface, a changed type, a new required argument or
// input field. Additions and descriptions are never breaking. A field that
// is going away is marked @deprecated first and removed only once clients
// have moved (then the baseline is updated on purpose, see CONTRIBUTING.md).
package schemadiff

import (
	"fmt"
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
)

// Breaking returns one line per breaking change from old to new, sorted;
// none: new is safe for every client of old.
func Breaking(old, new *ast.Schema) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for name, o := range old.Types {
		if o.BuiltIn {
			continue
		}
		n := new.Types[name]
		if n == nil {
			add("%s: type removed", name)
			continue
		}
		if n.Kind != o.Kind {
			add("%s: kind changed from %s to %s", name, o.Kind, n.Kind)
			continue
		}
		input := o.Kind == ast.InputObject
		for _, of := range o.Fields {
			nf := n.Fields.ForName(of.Name)
			coord := name + "." + of.Name
			if nf == nil {
				add("%s: field removed", coord)
				continue
			}
			if !compatible(of.Type, nf.Type, input) {
				add("%s: type changed from %s to %s", coord, of.Type, nf.Type)
			}
			if !input {
				out = append(out, arguments(coord, of.Arguments, nf.Arguments)...)
			}
		}
		if input {
			for _, nf := range n.Fields {
				if o.Fields.ForName(nf.Name) == nil && required(nf.Type, nf.DefaultValue) {
					add("%s.%s: new required input field", name, nf.Name)
				}
			}
		}
		for _, ov := range o.EnumValues {
			if n.EnumValues.ForName(ov.Name) == nil {
				add("%s.%s: enum value removed", name, ov.Name)
			}
		}
		for _, t := range o.Types {
			if !slices.Contains(n.Types, t) {
				add("%s: union member %s removed", name, t)
			}
		}
		for _, i := range o.Interfaces {
			if !slices.Contains(n.Interfaces, i) {
				add("%s: no longer implements %s", name, i)
			}
		}
	}
	slices.Sort(out)
	return out
}

// arguments returns the breaking changes of a field's arguments.
func arguments(coord string, old, new ast.ArgumentDefinitionList) []string {
	var out []string
	for _, oa := range old {
		na := new.ForName(oa.Name)
		switch {
		case na == nil:
			out = append(out, fmt.Sprintf("%s(%s:): argument removed", coord, oa.Name))
		case !compatible(oa.Type, na.Type, true):
			out = append(out, fmt.Sprintf("%s(%s:): type changed from %s to %s", coord, oa.Name, oa.Type, na.Type))
		}
	}
	for _, na := range new {
		if old.ForName(na.Name) == nil && required(na.Type, na.DefaultValue) {
			out = append(out, fmt.Sprintf("%s(%s:): new required argument", coord, na.Name))
		}
	}
	return out
}

// required reports whether an argument or input field must be given.
func required(t *ast.Type, def *ast.Value) bool { return t.NonNull && def == nil }

// compatible reports whether a value of type old still fits clients when
// it becomes new: an output may become non-null (clients get less null), an
// input may become nullable (clients may still send a value); anything else
// must stay the same, list nesting included.
func compatible(old, new *ast.Type, input bool) bool {
	if old.NonNull != new.NonNull {
		if input && !new.NonNull || !input && new.NonNull {
			return compatible(nullable(old), nullable(new), input)
		}
		return false
	}
	if (old.Elem == nil) != (new.Elem == nil) {
		return false
	}
	if old.Elem != nil {
		return compatible(old.Elem, new.Elem, input)
	}
	return old.NamedType == new.NamedType
}

// nullable returns t without its non-null mark.
func nullable(t *ast.Type) *ast.Type {
	c := *t
	c.NonNull = false
	return &c
}
