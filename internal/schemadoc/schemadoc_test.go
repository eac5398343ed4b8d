package schemadoc

import (
	"os"
	"slices"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// load parses SDL as the gateway does, with the parser's built-ins.
func load(t *testing.T, name, sdl string) *ast.Schema {
	t.Helper()
	s, err := gqlparser.LoadSchema(&ast.Source{Name: name, Input: sdl})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

// loadRepoSchema loads the repository's schema.graphql.
func loadRepoSchema(t *testing.T) *ast.Schema {
	t.Helper()
	sdl, err := os.ReadFile("../../schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	return load(t, "schema.graphql", string(sdl))
}

// TestSchemaDescribesEverything counts the elements of schema.graphql
// without a description: zero.
func TestSchemaDescribesEverything(t *testing.T) {
	missing := Missing(loadRepoSchema(t))
	for _, m := range missing {
		t.Errorf("no description: %s", m)
	}
	if len(missing) > 0 {
		t.Errorf("%d elements of schema.graphql lack a description", len(missing))
	}
}

// TestSchemaAccessSentencesMatchDirectives checks every guarded field's
// "Access:" sentence against its directives.
func TestSchemaAccessSentencesMatchDirectives(t *testing.T) {
	for _, m := range AccessMismatches(loadRepoSchema(t)) {
		t.Error(m)
	}
}

const directives = `
"d" directive @hasRole("r" roles: [Role!]!) on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
"d" directive @owner on FIELD_DEFINITION
"d" directive @pii("m" mask: PiiMask!) on FIELD_DEFINITION
"r" enum Role { "a" ADMIN "s" SELLER "n" ANALYST "u" USER }
"m" enum PiiMask { "e" EMAIL }
`

func TestAccessSentence(t *testing.T) {
	s := load(t, "t", directives+`
"q" type Query {
  "a" a: Int @hasRole(roles: [ADMIN])
  "b" b: Int @hasRole(roles: [ANALYST])
  "c" c: Int @hasRole(roles: [SELLER])
  "d" d: Int @owner
  "e" e: String @pii(mask: EMAIL)
  "f" f: String @hasRole(roles: [ADMIN]) @pii(mask: EMAIL)
  "g" g: String @hasRole(roles: [SELLER]) @owner
  "h" h: Int
  "i" i: Int @hasRole(roles: [USER])
}`)
	want := map[string]string{
		"a": "Access: ADMIN.",
		"b": "Access: ADMIN, ANALYST.",
		"c": "Access: ADMIN, SELLER.",
		"d": "Access: ADMIN, ANALYST, the owning seller.",
		"e": "Access: ADMIN, the owning seller; ANALYST masked.",
		"f": "Access: ADMIN.",
		"g": "Access: ADMIN, the owning seller.",
		"h": "",
		"i": "Access: ADMIN, USER.",
	}
	for name, w := range want {
		if got := AccessSentence(s.Query.Fields.ForName(name).Directives); got != w {
			t.Errorf("%s: got %q, want %q", name, got, w)
		}
	}
}

// TestChecksFindWhatIsWrong feeds a schema with one undescribed element of
// each kind and wrong or stale access sentences.
func TestChecksFindWhatIsWrong(t *testing.T) {
	s := load(t, "t", directives+`
type Query {
  "x" x(arg: Int): Int
  "Admins only. Access: ADMIN, ANALYST." y: Int @hasRole(roles: [ADMIN])
  "Nothing guards this. Access: ADMIN." z: Int
  "Access: ADMIN." ok: Int @hasRole(roles: [ADMIN])
  "No sentence." none: Int @owner
}
"i" input I { f: Int @hasRole(roles: [SELLER]) }
"e" enum E { V }
`)
	wantMissing := []string{"E.V", "I.f", "Query", "Query.x(arg:)"}
	if got := Missing(s); !slices.Equal(got, wantMissing) {
		t.Errorf("Missing: got %v, want %v", got, wantMissing)
	}
	got := AccessMismatches(s)
	if len(got) != 4 { // I.f, Query.none, Query.y, Query.z
		t.Errorf("AccessMismatches: got %d %v, want I.f, Query.none, Query.y and Query.z", len(got), got)
	}
}
