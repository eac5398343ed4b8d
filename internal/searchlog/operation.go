package searchlog

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/store"
)

// Operations returns the gqlgen extension that records the public
// searches of each operation: every anonymous query's root listings field
// with a search term and no cursor (after or before), once per request,
// from the operation's arguments and its response, whether the response was made or came from
// the response cache. The result count is of all matches: the total the
// search found when it ran for this request (Found), else the response's
// totalCount; a cached response that did not ask for totalCount counts
// the listings it shows. Register it after the limits (a refused
// operation is not recorded) and before the response cache (which answers
// without running what follows it).
func (r *Recorder) Operations() graphql.HandlerExtension { return operations{r} }

type operations struct{ r *Recorder }

var _ graphql.ResponseInterceptor = operations{}

// ExtensionName names the extension for gqlgen.
func (operations) ExtensionName() string { return "SearchLog" }

// Validate accepts any schema.
func (operations) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse records the operation's searches after its response.
func (o operations) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) || !access.FromContext(ctx).Anonymous() {
		return next(ctx)
	}
	op := graphql.GetOperationContext(ctx)
	if op.Operation == nil || op.Operation.Operation != ast.Query {
		return next(ctx)
	}
	type search struct {
		alias, term string
		filter      map[string]any
	}
	var searches []search
	for _, f := range graphql.CollectFields(op, op.Operation.SelectionSet, []string{"Query"}) {
		if f.Name != "listings" {
			continue
		}
		args := f.ArgumentMap(op.Variables)
		term, _ := args["search"].(string)
		if strings.TrimSpace(term) == "" || args["after"] != nil || args["before"] != nil {
			continue
		}
		filter, _ := args["filter"].(map[string]any)
		searches = append(searches, search{f.Alias, term, filter})
	}
	if len(searches) == 0 {
		return next(ctx)
	}
	found := &totals{byAlias: map[string]int{}}
	resp := next(context.WithValue(ctx, totalsKey{}, found))
	var data map[string]json.RawMessage
	if resp == nil || json.Unmarshal(resp.Data, &data) != nil {
		return resp
	}
	for _, s := range searches {
		count, ok := resultCount(data[s.alias])
		if !ok {
			continue
		}
		if total, ran := found.get(s.alias); ran {
			count = total
		}
		o.r.Record(ctx, store.SearchRecord{Term: s.term, Filters: filterLog(s.filter), ResultCount: count, At: time.Now()})
	}
	return resp
}

// resultCount returns the count of a listings field's answer: its
// totalCount when the operation asked for it, else the listings on the
// page; false when the field has no answer (it failed).
func resultCount(field json.RawMessage) (int, bool) {
	var conn struct {
		TotalCount *int              `json:"totalCount"`
		Nodes      []json.RawMessage `json:"nodes"`
		Edges      []json.RawMessage `json:"edges"`
	}
	if len(field) == 0 || json.Unmarshal(field, &conn) != nil || string(field) == "null" {
		return 0, false
	}
	if conn.TotalCount != nil {
		return *conn.TotalCount, true
	}
	return max(len(conn.Nodes), len(conn.Edges)), true
}

// filterLog is the part of a listing filter worth keeping with a search
// record.
func filterLog(f map[string]any) map[string]string {
	m := map[string]string{}
	for _, k := range []string{"sellerId", "category", "brand", "region", "condition"} {
		if v, ok := f[k].(string); ok && v != "" {
			m[k] = v
		}
	}
	return m
}

// totals holds the totals of the searches that ran for one operation, by
// the alias of their field.
type totals struct {
	mu      sync.Mutex
	byAlias map[string]int
}

func (t *totals) get(alias string) (int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, ok := t.byAlias[alias]
	return n, ok
}

type totalsKey struct{}

// Found tells the search log how many listings matched the root listings
// field ctx resolves, when its search ran for this request (total nil: not
// counted).
func Found(ctx context.Context, total *int) {
	t, _ := ctx.Value(totalsKey{}).(*totals)
	fc := graphql.GetFieldContext(ctx)
	if t == nil || total == nil || fc == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byAlias[fc.Field.Alias] = *total
}
