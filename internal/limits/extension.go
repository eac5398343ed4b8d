package limits

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/internal/access"
)

// Budget is the callers' query-cost budgets (one per principal; anonymous
// callers one per client IP, which the implementation reads from ctx). Charge is called once per operation, after the operation passed
// every limit and before anything executes, with the operation's requested
// cost (introspection included: it is exempt from the cost limit, not from
// the budget). A non-nil error refuses the operation: nothing executes and
// the error is the response's one error (a *gqlerror.Error is used as it
// is; any other error, a *store.Error with code RATE_LIMITED for instance,
// goes through the error presenter); to answer 429 with Retry-After, the
// implementation also calls httpapi.MarkRateLimited(ctx, retryAfter).
// Operations refused by a limit never reach it, so they cost no rate-limit
// accounting. Refund gives back, after execution, the part of the requested
// cost the operation did not use; Status reports the budget without
// charging it. Each returns the budget as it stands afterwards.
type Budget interface {
	Charge(ctx context.Context, cost int) (ThrottleStatus, error)
	Refund(ctx context.Context, points int) ThrottleStatus
	Status(ctx context.Context) ThrottleStatus
}

// Extension is the gqlgen extension that enforces Config before execution,
// charges the budget, measures what the operation actually cost, and adds
// extensions.cost to every response. Register it with handler.Server.Use,
// and set the server's parser token limit to Config.Tokens
// (SetParserTokenLimit): the extension turns gqlparser's token limit error
// into QUERY_TOO_COMPLEX.
type Extension struct {
	// Config holds the limits.
	Config Config
	// Budget, when set, is charged each operation's cost and gives
	// extensions.cost.throttleStatus; nil: nothing is charged and the
	// status is a bucket of the cost limit that never restores.
	Budget Budget
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
	graphql.FieldInterceptor
	graphql.ResponseInterceptor
} = Extension{}

// ThrottleStatus is a caller's budget as extensions.cost reports it
// (Shopify's names): a bucket of MaximumAvailable points holding
// CurrentlyAvailable, refilled at RestoreRate points a second.
type ThrottleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable int     `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

// Cost is the value of a response's extensions.cost, in the shape of
// Shopify's GraphQL Admin API.
type Cost struct {
	// RequestedQueryCost is the operation's cost as computed before
	// execution (0 when the request never got that far): what the budget
	// was charged first.
	RequestedQueryCost int `json:"requestedQueryCost"`
	// ActualQueryCost is what the operation cost as executed: connections
	// count their children by the rows they returned instead of their
	// page size, and a null object none of its children. Null when nothing
	// executed (refused by a limit or the budget).
	ActualQueryCost *int `json:"actualQueryCost"`
	// MaxQueryCost is the caller's cost limit per operation.
	MaxQueryCost int `json:"maxQueryCost"`
	// ThrottleStatus is the caller's budget after this operation.
	ThrottleStatus ThrottleStatus `json:"throttleStatus"`
}

// operation is the cost accounting of one operation, kept in its Stats.
type operation struct {
	mu   sync.Mutex
	cost Cost
	// charged is set once the budget was charged: the operation executes.
	charged bool
	// unused counts the points of the requested cost that execution did
	// not use; children caches the static cost of a field's children.
	unused   atomic.Int64
	analyzer *analyzer
	children sync.Map // *ast.Field → int
}

// statsKey names the operation's accounting in the operation's Stats.
const statsKey = "QueryCost"

// ExtensionName names the extension for gqlgen.
func (Extension) ExtensionName() string { return "QueryLimits" }

// Validate accepts any schema.
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

// CostLimit returns the cost limit of the principal ctx carries: ANALYST has
// its own.
func (e Extension) CostLimit(ctx context.Context) int {
	return e.Config.CostLimit(access.FromContext(ctx).Role)
}

// status returns the budget of the caller of ctx without charging it.
func (e Extension) status(ctx context.Context, limit int) ThrottleStatus {
	if e.Budget == nil {
		return ThrottleStatus{MaximumAvailable: float64(limit), CurrentlyAvailable: limit}
	}
	return e.Budget.Status(ctx)
}

// MutateOperationContext measures the operation, refuses it with
// QUERY_TOO_COMPLEX when it is over a limit, and otherwise charges the
// budget its requested cost.
func (e Extension) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation == nil {
		return nil
	}
	az := newAnalyzer(op.Variables)
	a := az.analyze(op.Operation)
	limit := e.CostLimit(ctx)
	o := &operation{analyzer: az, cost: Cost{RequestedQueryCost: a.Cost, MaxQueryCost: limit}}
	op.Stats.SetExtension(statsKey, o)
	if err := e.Config.Check(a, limit); err != nil {
		o.cost.ThrottleStatus = e.status(ctx, limit)
		return err
	}
	if e.Budget == nil {
		o.cost.ThrottleStatus = ThrottleStatus{MaximumAvailable: float64(limit), CurrentlyAvailable: max(limit-a.Cost, 0)}
		o.charged = true
		return nil
	}
	status, err := e.Budget.Charge(ctx, a.Cost)
	o.cost.ThrottleStatus = status
	if err != nil {
		var ge *gqlerror.Error
		if errors.As(err, &ge) {
			return ge
		}
		return &gqlerror.Error{Err: err, Message: err.Error()}
	}
	o.charged = true
	return nil
}

// operationOf returns the accounting of the operation of ctx, nil outside
// one.
func operationOf(ctx context.Context) *operation {
	if !graphql.HasOperationContext(ctx) {
		return nil
	}
	o, _ := graphql.GetOperationContext(ctx).Stats.GetExtension(statsKey).(*operation)
	return o
}

// InterceptField counts, for each field with children, the points of the
// requested cost its result leaves unused: a connection's children beyond
// the rows it returned, a null object's children.
func (e Extension) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || len(fc.Field.Selections) == 0 || underPlainList(fc) {
		return res, err
	}
	if o := operationOf(ctx); o != nil {
		o.unused.Add(int64(o.unusedBy(fc.Field.Field, res)))
	}
	return res, err
}

// underPlainList reports whether fc is inside an element of a list that is
// not a connection's nodes or edges. The requested cost counts such a list's
// children once, not once per element, so its elements give nothing back.
func underPlainList(fc *graphql.FieldContext) bool {
	for c := fc; c != nil; c = c.Parent {
		if c.Index == nil {
			continue
		}
		list := c.Parent
		if list == nil || list.Field.Field == nil || list.Parent == nil || list.Parent.Field.Field == nil ||
			!isConnection(list.Parent.Field.Field) || (list.Field.Name != "nodes" && list.Field.Name != "edges") {
			return true
		}
	}
	return false
}

// unusedBy returns the points of field f's requested cost that its result
// res leaves unused.
func (o *operation) unusedBy(f *ast.Field, res any) int {
	planned, got := 1, 1
	switch {
	case isConnection(f):
		planned, got = o.analyzer.multiplier(f), rows(res)
	case isNil(res):
		got = 0
	}
	if got >= planned {
		return 0
	}
	c, ok := o.children.Load(f)
	if !ok {
		c, _ = o.children.LoadOrStore(f, o.childCost(f))
	}
	return capMul(c.(int), planned-got)
}

// childCost is the static cost of f's children; the analyzer's memo is not
// safe for concurrent use.
func (o *operation) childCost(f *ast.Field) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.analyzer.cost(f.SelectionSet)
}

// rows returns how many rows a connection result holds: the length of its
// Nodes (or Edges) list; 0 for a null connection.
func rows(res any) int {
	v := reflect.ValueOf(res)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return 0
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return 0
	}
	for _, name := range []string{"Nodes", "Edges"} {
		if l := v.FieldByName(name); l.IsValid() && l.Kind() == reflect.Slice {
			return l.Len()
		}
	}
	return 0
}

// isNil reports whether a resolver's result is null.
func isNil(res any) bool {
	if res == nil {
		return true
	}
	switch v := reflect.ValueOf(res); v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
		return v.IsNil()
	}
	return false
}

// Status returns the requested cost accounting of the operation of ctx: its
// cost limit and the caller's budget after the requested cost was charged
// (the rateLimit query's figures). ok is false outside an operation the
// extension measured.
func Status(ctx context.Context) (maxQueryCost int, budget ThrottleStatus, ok bool) {
	o := operationOf(ctx)
	if o == nil {
		return 0, ThrottleStatus{}, false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cost.MaxQueryCost, o.cost.ThrottleStatus, true
}

// InterceptResponse adds extensions.cost to the response, gives back to the
// budget the part of the requested cost the operation did not use, and turns
// a document over the token limit into QUERY_TOO_COMPLEX.
func (e Extension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	for i, err := range resp.Errors {
		if IsTokenLimit(err) {
			tooComplex := TooComplex("query has more than %d tokens, over the limit of %d", e.Config.Tokens, e.Config.Tokens)
			tooComplex.Locations = err.Locations
			resp.Errors[i] = tooComplex
		}
	}
	if resp.Extensions == nil {
		resp.Extensions = map[string]any{}
	}
	resp.Extensions["cost"] = e.settle(ctx)
	return resp
}

// settle returns the extensions.cost of the operation of ctx once it has
// executed, refunding its unused points the first time (a subscription's
// later events report the same figures).
func (e Extension) settle(ctx context.Context) Cost {
	o := operationOf(ctx)
	if o == nil {
		limit := e.CostLimit(ctx)
		return Cost{MaxQueryCost: limit, ThrottleStatus: e.status(ctx, limit)}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.charged || o.cost.ActualQueryCost != nil {
		return o.cost
	}
	unused := min(int(o.unused.Load()), o.cost.RequestedQueryCost)
	actual := o.cost.RequestedQueryCost - unused
	o.cost.ActualQueryCost = &actual
	switch {
	case unused == 0:
	case e.Budget != nil:
		o.cost.ThrottleStatus = e.Budget.Refund(ctx, unused)
	default:
		o.cost.ThrottleStatus.CurrentlyAvailable += unused
	}
	return o.cost
}

// String describes the limits for logs.
func (c Config) String() string {
	return fmt.Sprintf("depth %d, cost %d (ANALYST %d), aliases %d, tokens %d", c.Depth, c.Cost, c.CostAnalyst, c.Aliases, c.Tokens)
}

// RequestedCost returns the cost the Extension computed for op before
// execution, and false when it computed none (an operation refused before
// its cost was known, or a server without the Extension).
func RequestedCost(op *graphql.OperationContext) (int, bool) {
	o, ok := op.Stats.GetExtension(statsKey).(*operation)
	if !ok {
		return 0, false
	}
	return o.cost.RequestedQueryCost, true
}
