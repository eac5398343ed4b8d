package schemadiff

import (
	"os"
	"slices"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

func load(t *testing.T, sdl string) *ast.Schema {
	t.Helper()
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "t", Input: sdl})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const before = `
type Query { a(x: Int): String, b: Int, c: [String!], gone: Int, u: U, q(i: I): Int }
input I { f: Int, g: String! }
enum E { ONE TWO }
union U = Query | T
type T { t: Int }
`

// TestBreakingFindsEachKindOfBreak changes one thing of each kind.
func TestBreakingFindsEachKindOfBreak(t *testing.T) {
	after := `
type Query { a(x: String, y: Int!): String, b: String, c: [String], u: U, q(i: I): Int }
input I { f: Int!, g: String, h: Int! }
enum E { ONE }
union U = Query
`
	want := []string{
		"E.TWO: enum value removed",
		"I.f: type changed from Int to Int!",
		"I.h: new required input field",
		"Query.a(x:): type changed from Int to String",
		"Query.a(y:): new required argument",
		"Query.b: type changed from Int to String",
		"Query.c: type changed from [String!] to [String]",
		"Query.gone: field removed",
		"T: type removed",
		"U: union member T removed",
	}
	if got := Breaking(load(t, before), load(t, after)); !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// TestSafeChangesAreNotBreaking adds, tightens outputs and loosens inputs.
func TestSafeChangesAreNotBreaking(t *testing.T) {
	after := `
"described" type Query { a(x: Int, y: Int, z: Int! = 1): String!, b: Int @deprecated(reason: "use c"), c: [String!]!, gone: Int, u: U, q(i: I): Int, new: Int }
input I { f: Int, g: String, h: Int }
enum E { ONE TWO THREE }
union U = Query | T
type T { t: Int, more: Int }
`
	if got := Breaking(load(t, before), load(t, after)); len(got) > 0 {
		t.Errorf("safe changes reported as breaking: %q", got)
	}
}

// TestSchemaKeepsTheBaseline fails when schema.graphql breaks clients of
// the last release's schema (schema/baseline.graphql).
func TestSchemaKeepsTheBaseline(t *testing.T) {
	read := func(path string) *ast.Schema {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return load(t, string(b))
	}
	for _, c := range Breaking(read("../../schema/baseline.graphql"), read("../../schema.graphql")) {
		t.Errorf("breaking change: %s (deprecate instead; see CONTRIBUTING.md)", c)
	}
}
