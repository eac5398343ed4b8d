package limits

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

const testSchema = `
type Item { id: ID, name: String, items(first: Int): ItemConnection }
type ItemConnection { nodes: [Item!]! }
type Query { item: Item, items(first: Int): ItemConnection }
`

func analyze(t *testing.T, query string) Analysis {
	t.Helper()
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: testSchema})
	doc, errs := gqlparser.LoadQuery(schema, query)
	if errs != nil {
		t.Fatalf("query does not validate: %v", errs)
	}
	return Analyze(doc.Operations[0], nil)
}

func TestAliasesCountedAsExecuted(t *testing.T) {
	cases := []struct {
		name, query string
		aliases     int
	}{
		{"plain", `{ a: item { id } b: item { x: id } }`, 3},
		{"an alias that is the field's name is none", `{ item: item { id: id } }`, 0},
		// 21 aliases in a fragment spread twice: 42 executed.
		{"fragment spread twice", `{ item { ...F } x: item { ...F } } fragment F on Item { ` + aliasList(21) + ` }`, 43},
		// G (2 aliases) spread 3 times in F, F spread twice: 12.
		{"nested spreads", `{ item { ...F } b: item { ...F } }
			fragment F on Item { ...G ... on Item { ...G } items { nodes { ...G } } }
			fragment G on Item { a: id b: name }`, 13},
		{"inline fragments", `{ item { ... on Item { a: id } ... { b: id } } }`, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if a := analyze(t, c.query); a.Aliases != c.aliases {
				t.Errorf("aliases %d, want %d", a.Aliases, c.aliases)
			}
		})
	}
}

// TestAliasCountBounded: spreads that double at each of 60 levels count
// 2^60 aliases if counted naively; the count is capped and computed once
// per fragment.
func TestAliasCountBounded(t *testing.T) {
	var q strings.Builder
	q.WriteString("{ item { ...F0 } }\n")
	const levels = 60
	for i := 0; i < levels; i++ {
		fmt.Fprintf(&q, "fragment F%d on Item { ...F%d items { nodes { ...F%d } } }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&q, "fragment F%d on Item { a: id }\n", levels)
	a := analyze(t, q.String())
	if a.Aliases != costCap {
		t.Errorf("aliases %d, want the cap %d", a.Aliases, costCap)
	}
	if err := Defaults().Check(a, 10000); err == nil {
		t.Error("no limit refused 2^60 aliases")
	}
}

func aliasList(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "a%d: id ", i)
	}
	return b.String()
}

// TestIntrospectionCosts: introspection is exempt from the depth and cost
// limits, not from the alias limit, and its cost (what the budget is
// charged) is not zero.
func TestIntrospectionCosts(t *testing.T) {
	var q strings.Builder
	q.WriteString("{")
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&q, " s%d: __schema { types { name fields { name } } }", i)
	}
	q.WriteString(" }")
	a := analyze(t, q.String())
	if !a.Introspection || a.Aliases != 30 {
		t.Fatalf("analysis %+v, want introspection with 30 aliases", a)
	}
	if a.Cost != 30*5 {
		t.Errorf("cost %d, want 150 (30 × __schema, types, name, fields, name)", a.Cost)
	}
	c := Config{Depth: 2, Aliases: 30}
	if err := c.Check(a, 10); err != nil {
		t.Errorf("introspection refused by depth 2 or cost 10: %v", err)
	}
	c.Aliases = 29
	if err := c.Check(a, 10); err == nil || !strings.Contains(err.Message, "30 aliases") {
		t.Errorf("31 aliases of introspection: %v, want the alias limit", err)
	}
	if b := analyze(t, `{ item { id } __schema { types { name } } }`); b.Introspection || b.Cost != 5 {
		t.Errorf("mixed operation %+v, want no introspection exemption and cost 5", b)
	}
}
