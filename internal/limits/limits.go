// Package limits bounds what one GraphQL operation may ask for before it
// runs (docs/api/limits.md): its depth, its aliases, its parser tokens and its
// cost, computed GitHub's and Shopify's way from the `first`/`last`
// arguments of connections. It also reports the cost of every response in
// extensions.cost and serves Automatic Persisted Queries (apq.go).
//
// # Cost
//
// Every field costs 1 (__typename costs nothing). The children of a
// connection field (a field whose type is named …Connection) are multiplied
// by its `first` (or `last`, the larger when both are given) argument, a
// literal or a variable, clamped to 1..100 and 20 when absent or null. Lists
// that are not connections cost their children once. Fragments and inline
// fragments count wherever they are spread. An operation that selects only
// __schema, __type and __typename at its root (introspection, such as
// GraphiQL's schema query) has no depth or cost limit, but its cost is
// charged to the budget like any other.
//
// # Aliases
//
// Aliases are counted as executed: a fragment spread twice counts its
// aliases twice, at any depth of nested spreads.
//
// # Depth
//
// The root field counts as 1: `{ a { b } }` has depth 2.
package limits

import (
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/internal/access"
)

// CodeQueryTooComplex is the extensions.code of an operation over a limit:
// HTTP 400 with application/graphql-response+json (200 with plain JSON,
// whose clients read request errors from the body, as GraphQL over HTTP
// asks).
const CodeQueryTooComplex = "QUERY_TOO_COMPLEX"

// CodeBadRequest is the extensions.code of a malformed request; the APQ
// extension uses it for a hash that does not match its query (HTTP 400).
const CodeBadRequest = "BAD_REQUEST"

func init() {
	errcode.RegisterErrorType(CodeQueryTooComplex, errcode.KindProtocol)
	errcode.RegisterErrorType(CodeBadRequest, errcode.KindProtocol)
}

// Config holds the limits of one operation. A zero field disables its limit.
type Config struct {
	// Depth bounds the nesting of fields (LIMIT_DEPTH, default 12).
	Depth int
	// Cost bounds an operation's cost (LIMIT_COST, default 10,000).
	Cost int
	// CostAnalyst is ANALYST's cost limit (LIMIT_COST_ANALYST, default
	// 50,000).
	CostAnalyst int
	// Aliases bounds the aliased fields of a document (LIMIT_ALIASES,
	// default 30).
	Aliases int
	// Tokens bounds the parser tokens of a document (LIMIT_TOKENS, default
	// 5,000); gqlgen's SetParserTokenLimit enforces it.
	Tokens int
}

// CostLimit returns the cost limit of one operation of a principal of
// role: ANALYST has its own when set.
func (c Config) CostLimit(role access.Role) int {
	if role == access.RoleAnalyst && c.CostAnalyst > 0 {
		return c.CostAnalyst
	}
	return c.Cost
}

// Defaults returns the documented default limits (docs/api/limits.md).
func Defaults() Config {
	return Config{Depth: 12, Cost: 10000, CostAnalyst: 50000, Aliases: 30, Tokens: 5000}
}

// Connection multipliers of the cost model.
const (
	// DefaultFirst is the multiplier of a connection without first/last.
	DefaultFirst = 20
	// MaxFirst is the largest multiplier a connection counts for.
	MaxFirst = 100
)

// costCap keeps the cost arithmetic far from overflowing.
const costCap = 1 << 40

// Analysis is what Analyze measured of one operation.
type Analysis struct {
	// Depth is the deepest field's depth (root fields are 1).
	Depth int
	// Aliases counts the aliased fields as executed: those of a fragment
	// once per spread (at most 2^40).
	Aliases int
	// Cost is the operation's cost (at most 2^40), what the budget is
	// charged.
	Cost int
	// Introspection is true when every root field is __schema, __type or
	// __typename: such an operation is exempt from the depth and cost
	// limits, not from the alias limit or the budget.
	Introspection bool
}

// Analyze measures op with the operation's (coerced) variables. The
// document must have been validated (fragment cycles refused, definitions
// resolved).
func Analyze(op *ast.OperationDefinition, vars map[string]any) Analysis {
	if op == nil {
		return Analysis{}
	}
	return newAnalyzer(vars).analyze(op)
}

// newAnalyzer returns an analyzer of the operation with variables vars.
func newAnalyzer(vars map[string]any) *analyzer {
	return &analyzer{vars: vars, fragCost: map[string]int{}, fragDepth: map[string]int{}, fragAliases: map[string]int{}}
}

// analyze measures op.
func (a *analyzer) analyze(op *ast.OperationDefinition) Analysis {
	return Analysis{
		Depth:         a.depth(op.SelectionSet),
		Aliases:       a.aliases(op.SelectionSet),
		Cost:          a.cost(op.SelectionSet),
		Introspection: introspectionOnly(op.SelectionSet, map[string]bool{}),
	}
}

// Check returns the QUERY_TOO_COMPLEX error for the first limit a breaks
// (depth, aliases, then cost against costLimit; introspection is exempt
// from depth and cost), or nil. Its message names the limit and the numbers,
// never the query.
func (c Config) Check(a Analysis, costLimit int) *gqlerror.Error {
	switch {
	case !a.Introspection && c.Depth > 0 && a.Depth > c.Depth:
		return TooComplex("query depth %d exceeds the limit of %d", a.Depth, c.Depth)
	case c.Aliases > 0 && a.Aliases > c.Aliases:
		return TooComplex("query has %d aliases, over the limit of %d", a.Aliases, c.Aliases)
	case !a.Introspection && costLimit > 0 && a.Cost > costLimit:
		return TooComplex("query cost %d exceeds the limit of %d", a.Cost, costLimit)
	}
	return nil
}

// TooComplex returns a QUERY_TOO_COMPLEX error with a formatted message.
func TooComplex(format string, args ...any) *gqlerror.Error {
	err := &gqlerror.Error{Message: fmt.Sprintf(format, args...)}
	errcode.Set(err, CodeQueryTooComplex)
	return err
}

// tokenLimitPrefix starts gqlparser's message for a document over the token
// limit.
const tokenLimitPrefix = "exceeded token limit"

// IsTokenLimit reports whether err is gqlparser's "exceeded token limit"
// parse error (code GRAPHQL_PARSE_FAILED).
func IsTokenLimit(err *gqlerror.Error) bool {
	return err != nil && err.Extensions["code"] == errcode.ParseFailed && strings.HasPrefix(err.Message, tokenLimitPrefix)
}

type analyzer struct {
	vars        map[string]any
	fragCost    map[string]int
	fragDepth   map[string]int
	fragAliases map[string]int
}

// aliases counts the aliased fields of set as executed: a fragment's
// aliases count once per spread (memoised per fragment, so the walk stays
// linear however the spreads nest, and capped like the cost).
func (a *analyzer) aliases(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name {
				n = capAdd(n, 1)
			}
			n = capAdd(n, a.aliases(s.SelectionSet))
		case *ast.InlineFragment:
			n = capAdd(n, a.aliases(s.SelectionSet))
		case *ast.FragmentSpread:
			if s.Definition == nil {
				continue
			}
			c, ok := a.fragAliases[s.Name]
			if !ok {
				a.fragAliases[s.Name] = 0 // cycles are refused by validation
				c = a.aliases(s.Definition.SelectionSet)
				a.fragAliases[s.Name] = c
			}
			n = capAdd(n, c)
		}
	}
	return n
}

func (a *analyzer) depth(set ast.SelectionSet) int {
	deepest := 0
	for _, sel := range set {
		d := 0
		switch s := sel.(type) {
		case *ast.Field:
			d = 1 + a.depth(s.SelectionSet)
		case *ast.InlineFragment:
			d = a.depth(s.SelectionSet)
		case *ast.FragmentSpread:
			if s.Definition == nil {
				continue
			}
			var ok bool
			if d, ok = a.fragDepth[s.Name]; !ok {
				a.fragDepth[s.Name] = 0 // cycles are refused by validation
				d = a.depth(s.Definition.SelectionSet)
				a.fragDepth[s.Name] = d
			}
		}
		if d > deepest {
			deepest = d
		}
	}
	return deepest
}

func (a *analyzer) cost(set ast.SelectionSet) int {
	total := 0
	for _, sel := range set {
		c := 0
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name != "__typename" {
				c = 1
			}
			children := a.cost(s.SelectionSet)
			if isConnection(s) {
				children = capMul(children, a.multiplier(s))
			}
			c = capAdd(c, children)
		case *ast.InlineFragment:
			c = a.cost(s.SelectionSet)
		case *ast.FragmentSpread:
			if s.Definition == nil {
				continue
			}
			var ok bool
			if c, ok = a.fragCost[s.Name]; !ok {
				a.fragCost[s.Name] = 0
				c = a.cost(s.Definition.SelectionSet)
				a.fragCost[s.Name] = c
			}
		}
		total = capAdd(total, c)
	}
	return total
}

// multiplier is a connection's page size: the larger of first and last,
// clamped to 1..MaxFirst; DefaultFirst when neither is given.
func (a *analyzer) multiplier(f *ast.Field) int {
	m, given := 0, false
	for _, name := range []string{"first", "last"} {
		arg := f.Arguments.ForName(name)
		if arg == nil || arg.Value == nil {
			continue
		}
		v, err := arg.Value.Value(a.vars)
		if err != nil {
			continue
		}
		n, ok := toInt(v)
		if !ok {
			continue
		}
		given = true
		if n > m {
			m = n
		}
	}
	if !given {
		return DefaultFirst
	}
	return min(max(m, 1), MaxFirst)
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int32:
		return int(n), true
	case int64:
		return int(max(min(n, costCap), -costCap)), true
	case float64:
		return int(max(min(n, costCap), -costCap)), true
	case interface{ Int64() (int64, error) }: // json.Number
		i, err := n.Int64()
		return int(max(min(i, costCap), -costCap)), err == nil
	}
	return 0, false
}

// isConnection reports whether f returns a connection (a type named
// …Connection, not a list of them).
func isConnection(f *ast.Field) bool {
	if f.Definition == nil || f.Definition.Type == nil || f.Definition.Type.Elem != nil {
		return false
	}
	return strings.HasSuffix(f.Definition.Type.NamedType, "Connection")
}

// introspectionOnly reports whether every root field of set is __schema,
// __type or __typename (and there is at least one).
func introspectionOnly(set ast.SelectionSet, seen map[string]bool) bool {
	any := false
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name != "__schema" && s.Name != "__type" && s.Name != "__typename" {
				return false
			}
			any = true
		case *ast.InlineFragment:
			if !introspectionOnly(s.SelectionSet, seen) {
				return false
			}
			any = true
		case *ast.FragmentSpread:
			if s.Definition == nil || seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			if !introspectionOnly(s.Definition.SelectionSet, seen) {
				return false
			}
			any = true
		}
	}
	return any
}

func capAdd(a, b int) int { return min(a+b, costCap) }

func capMul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > costCap/b {
		return costCap
	}
	return min(a*b, costCap)
}
