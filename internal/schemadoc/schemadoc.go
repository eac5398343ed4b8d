// Package schemadoc checks that the schema documents itself: every type,
// field, argument, input field, enum value and directive has a
// description, and every field guarded by an access directive (@hasRole,
// @owner, @pii) ends its description with the sentence that says who may
// read it, derived from the directives so that the two cannot disagree.
package schemadoc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Missing returns the coordinates of the schema's own elements without a
// description ("Type", "Type.field", "Type.field(arg:)", "Enum.VALUE",
// "@directive", "@directive(arg:)"), sorted; built-in definitions are not
// counted.
func Missing(s *ast.Schema) []string {
	var out []string
	need := func(coord, desc string) {
		if strings.TrimSpace(desc) == "" {
			out = append(out, coord)
		}
	}
	for name, d := range s.Types {
		if d.BuiltIn {
			continue
		}
		need(name, d.Description)
		for _, f := range d.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue // __schema and __type, added to Query by the parser
			}
			need(name+"."+f.Name, f.Description)
			for _, a := range f.Arguments {
				need(fmt.Sprintf("%s.%s(%s:)", name, f.Name, a.Name), a.Description)
			}
		}
		for _, v := range d.EnumValues {
			need(name+"."+v.Name, v.Description)
		}
	}
	for name, d := range s.Directives {
		if builtIn(d.Position) {
			continue
		}
		need("@"+name, d.Description)
		for _, a := range d.Arguments {
			need(fmt.Sprintf("@%s(%s:)", name, a.Name), a.Description)
		}
	}
	slices.Sort(out)
	return out
}

// builtIn reports whether a definition comes from the parser's prelude.
func builtIn(p *ast.Position) bool { return p != nil && p.Src != nil && p.Src.BuiltIn }

// AccessPrefix starts the sentence that says who may read a guarded field.
const AccessPrefix = "Access: "

// The callers an access rule tells apart, and what each may do with a
// field: nothing, read it masked, or read it.
type level int

const (
	denied level = iota
	masked
	full
)

type callers struct{ admin, analyst, owningSeller, otherSeller, user level }

// AccessSentence returns the sentence a field's description must end with
// given its directives, or "" when none of them guards it. The rule, which
// follows internal/access:
//
//   - @hasRole(roles: R): ADMIN, and the roles of R (SELLER: every seller;
//     USER: a signed-in person of no seller);
//   - @owner: ADMIN, ANALYST and the seller owning the enclosing object;
//   - @pii: ADMIN and the owning seller read it, ANALYST reads it masked;
//   - several directives: what every one of them allows.
//
// The sentence lists who reads the value in the order ADMIN, ANALYST, then
// SELLER (every seller) or "the owning seller", then USER, then "; ANALYST masked"
// when an analyst reads it masked: "Access: ADMIN, ANALYST.",
// "Access: ADMIN, ANALYST, the owning seller.",
// "Access: ADMIN, the owning seller; ANALYST masked.". Anonymous callers
// never read a guarded field. On an input field the sentence says who may
// give it a value.
func AccessSentence(directives ast.DirectiveList) string {
	c := callers{full, full, full, full, full}
	guarded := false
	for _, d := range directives {
		var r callers
		switch d.Name {
		case "hasRole":
			roles := roleArg(d)
			r = callers{admin: full, analyst: grant(slices.Contains(roles, "ANALYST")),
				owningSeller: grant(slices.Contains(roles, "SELLER")), otherSeller: grant(slices.Contains(roles, "SELLER")),
				user: grant(slices.Contains(roles, "USER"))}
		case "owner":
			r = callers{admin: full, analyst: full, owningSeller: full}
		case "pii":
			r = callers{admin: full, analyst: masked, owningSeller: full}
		default:
			continue
		}
		guarded = true
		c = callers{min(c.admin, r.admin), min(c.analyst, r.analyst), min(c.owningSeller, r.owningSeller),
			min(c.otherSeller, r.otherSeller), min(c.user, r.user)}
	}
	if !guarded {
		return ""
	}
	var readers []string
	if c.admin == full {
		readers = append(readers, "ADMIN")
	}
	if c.analyst == full {
		readers = append(readers, "ANALYST")
	}
	switch {
	case c.owningSeller == full && c.otherSeller == full:
		readers = append(readers, "SELLER")
	case c.owningSeller == full:
		readers = append(readers, "the owning seller")
	}
	if c.user == full {
		readers = append(readers, "USER")
	}
	s := AccessPrefix + strings.Join(readers, ", ")
	if c.analyst == masked {
		s += "; ANALYST masked"
	}
	return s + "."
}

// grant is full when ok, else denied.
func grant(ok bool) level {
	if ok {
		return full
	}
	return denied
}

// roleArg returns the role names of a @hasRole directive's roles argument.
func roleArg(d *ast.Directive) []string {
	a := d.Arguments.ForName("roles")
	if a == nil || a.Value == nil {
		return nil
	}
	var out []string
	for _, c := range a.Value.Children {
		out = append(out, c.Value.Raw)
	}
	return out
}

// AccessMismatches returns, for every field and input field of the
// schema's own types, a line naming it when its description does not end
// with its AccessSentence, or mentions an access rule ("Access:") it does
// not have; sorted.
func AccessMismatches(s *ast.Schema) []string {
	var out []string
	for name, d := range s.Types {
		if d.BuiltIn {
			continue
		}
		for _, f := range d.Fields {
			want := AccessSentence(f.Directives)
			desc := strings.TrimSpace(f.Description)
			coord := name + "." + f.Name
			switch {
			case want == "" && strings.Contains(desc, AccessPrefix):
				out = append(out, fmt.Sprintf("%s: says %q but has no access directive", coord, AccessPrefix))
			case want != "" && !endsWithSentence(desc, want):
				out = append(out, fmt.Sprintf("%s: the description must end with %q", coord, want))
			}
		}
	}
	slices.Sort(out)
	return out
}

// endsWithSentence reports whether desc ends with sentence, which is the
// whole description or follows the end of another sentence.
func endsWithSentence(desc, sentence string) bool {
	if !strings.HasSuffix(desc, sentence) {
		return false
	}
	before := strings.TrimRight(strings.TrimSuffix(desc, sentence), " \n")
	return before == "" || strings.HasSuffix(before, ".")
}
