package inputcheck

import (
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
)

const testSchema = `
scalar Upload
enum Status { A B }
input Item { name: String, tags: [String!] }
input Filter { status: [Status!], brand: String, items: [Item!], grid: [[Int!]!] }
type Query {
  search(q: String, filter: Filter, ids: [ID!]): [String!]
  nested: Query
}
type Mutation { upload(file: Upload, files: [Upload!]): Boolean }
`

// check parses, validates and coerces query with vars, as gqlgen does
// before the extension runs, and returns Check's error field and message.
func check(t *testing.T, query string, vars map[string]any) (field, message string) {
	t.Helper()
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: testSchema})
	doc, errs := gqlparser.LoadQueryWithRules(schema, query, nil) // nil: the default rules
	if errs != nil {
		t.Fatalf("query does not validate: %v", errs)
	}
	op := doc.Operations[0]
	coerced, err := validator.VariableValues(schema, op, vars)
	if err != nil {
		t.Fatalf("variables: %v", err)
	}
	if e := Check(schema, op, coerced); e != nil {
		if e.Code != "BAD_USER_INPUT" {
			t.Errorf("code %s, want BAD_USER_INPUT", e.Code)
		}
		return e.Field, e.Message
	}
	return "", ""
}

func repeat(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func literalList(item string, n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
}

func TestListBound(t *testing.T) {
	cases := []struct {
		name, query string
		vars        map[string]any
		field       string
	}{
		{"enum list literal at the bound", `{ search(filter: {status: ` + literalList("A", 100) + `}) }`, nil, ""},
		{"enum list literal over", `{ search(filter: {status: ` + literalList("A", 101) + `}) }`, nil, "filter.status"},
		{"enum list variable over", `query($s: [Status!]) { search(filter: {status: $s}) }`,
			map[string]any{"s": repeat("A", 101)}, "filter.status"},
		{"whole input object as a variable", `query($f: Filter) { search(filter: $f) }`,
			map[string]any{"f": map[string]any{"status": repeat("B", 100_000)}}, "filter.status"},
		{"argument list", `query($ids: [ID!]) { search(ids: $ids) }`, map[string]any{"ids": repeat("x", 101)}, "ids"},
		{"list inside a list of input objects", `query($f: Filter) { search(filter: $f) }`,
			map[string]any{"f": map[string]any{"items": []any{map[string]any{"tags": []any{}}, map[string]any{"tags": repeat("t", 101)}}}},
			"filter.items.1.tags"},
		{"inner list of a list of lists", `{ search(filter: {grid: [[1], ` + literalList("1", 101) + `]}) }`, nil, "filter.grid.1"},
		{"in a nested field and through a fragment", `query($ids: [ID!]) { nested { ...f } } fragment f on Query { search(ids: $ids) }`,
			map[string]any{"ids": repeat("x", 101)}, "ids"},
		{"upload list", `mutation($fs: [Upload!]) { upload(files: $fs) }`,
			map[string]any{"fs": repeat(graphql.Upload{Filename: "a"}, 101)}, "files"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			field, msg := check(t, c.query, c.vars)
			if field != c.field {
				t.Errorf("field %q (%s), want %q", field, msg, c.field)
			}
			if c.field != "" && !strings.Contains(msg, "at most 100 items") {
				t.Errorf("message %q", msg)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	cases := []struct {
		name, query string
		vars        map[string]any
		field, want string
	}{
		{"plain text", `query($q: String) { search(q: $q) }`, map[string]any{"q": "pump ü €"}, "", ""},
		{"NUL in a variable", `query($q: String) { search(q: $q) }`, map[string]any{"q": "pu\x00mp"}, "q", "NUL"},
		{"NUL in a literal (escaped)", `{ search(q: "pu\u0000mp") }`, nil, "q", "NUL"},
		{"NUL in an input field", `query($f: Filter) { search(filter: $f) }`,
			map[string]any{"f": map[string]any{"brand": "\x00"}}, "filter.brand", "NUL"},
		{"NUL in a list item of an input object", `{ search(filter: {items: [{name: "a"}, {tags: ["b", "c\u0000"]}]}) }`, nil,
			"filter.items.1.tags.1", "NUL"},
		{"invalid UTF-8", `query($q: String) { search(q: $q) }`, map[string]any{"q": "a\xffb"}, "q", "UTF-8"},
		{"replacement character (what encoding/json makes of invalid UTF-8)", `query($q: String) { search(q: $q) }`,
			map[string]any{"q": "a\uFFFDb"}, "q", "UTF-8"},
		{"ID", `query($ids: [ID!]) { search(ids: $ids) }`, map[string]any{"ids": []any{"ok", "b\x00"}}, "ids.1", "NUL"},
		{"upload file name", `mutation($f: Upload) { upload(file: $f) }`,
			map[string]any{"f": graphql.Upload{Filename: "a\x00.csv"}}, "file", "NUL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			field, msg := check(t, c.query, c.vars)
			if field != c.field || !strings.Contains(msg, c.want) {
				t.Errorf("field %q message %q, want field %q with %q", field, msg, c.field, c.want)
			}
		})
	}
}
