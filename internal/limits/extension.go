package limits

import (
	"context"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/internal/access"
)

// BudgetFunc charges an operation's cost to the caller's budget (the
// per-principal budget of API.md; anonymous callers by client IP, which the
// function reads from ctx). It is called once per operation, after the
// operation passed every limit and before anything executes, with the
// request's context and the operation's cost (introspection included: it is
// exempt from the cost limit, not from the budget). It returns the budget
// left after the charge, reported as extensions.cost.remaining. A non-nil
// error refuses the operation: nothing executes and the error is the
// response's one error (a *gqlerror.Error is used as it is; any other error,
// a *store.Error with code RATE_LIMITED for instance, goes through the
// error presenter). To answer 429 with Retry-After, the function also calls
// httpapi.MarkRateLimited(ctx, retryAfter) before returning its error.
// Operations refused by a limit never reach it, so they cost no rate-limit
// accounting.
type BudgetFunc func(ctx context.Context, cost int) (remaining int, err error)

// Extension is the gqlgen extension that enforces Config before execution
// and adds extensions.cost to every response. Register it with
// handler.Server.Use, and set the server's parser token limit to
// Config.Tokens (SetParserTokenLimit): the extension turns gqlparser's token
// limit error into QUERY_TOO_COMPLEX.
type Extension struct {
	// Config holds the limits.
	Config Config
	// Budget, when set, charges each operation's cost and gives
	// extensions.cost.remaining; nil: remaining is limit − requestedQueryCost.
	Budget BudgetFunc
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
	graphql.ResponseInterceptor
} = Extension{}

// Cost is the value of a response's extensions.cost.
type Cost struct {
	// RequestedQueryCost is the operation's cost as computed before
	// execution (0 when the request never got that far).
	RequestedQueryCost int `json:"requestedQueryCost"`
	// Limit is the caller's cost limit per operation.
	Limit int `json:"limit"`
	// Remaining is what the caller's budget has left after this operation;
	// for an operation refused before the budget was charged, the limit.
	Remaining int `json:"remaining"`
	// RestoreRate is the budget points restored per second.
	RestoreRate int `json:"restoreRate"`
}

// statsKey names the operation's Cost in the operation's Stats.
const statsKey = "QueryCost"

// ExtensionName names the extension for gqlgen.
func (Extension) ExtensionName() string { return "QueryLimits" }

// Validate accepts any schema.
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

// CostLimit returns the cost limit of the principal ctx carries: ANALYST has
// its own.
func (e Extension) CostLimit(ctx context.Context) int {
	if access.FromContext(ctx).Role == access.RoleAnalyst && e.Config.CostAnalyst > 0 {
		return e.Config.CostAnalyst
	}
	return e.Config.Cost
}

// MutateOperationContext measures the operation, refuses it with
// QUERY_TOO_COMPLEX when it is over a limit, and otherwise charges the
// budget.
func (e Extension) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation == nil {
		return nil
	}
	a := Analyze(op.Operation, op.Variables)
	limit := e.CostLimit(ctx)
	c := &Cost{RequestedQueryCost: a.Cost, Limit: limit, Remaining: limit, RestoreRate: e.Config.RestoreRate}
	op.Stats.SetExtension(statsKey, c)
	if err := e.Config.Check(a, limit); err != nil {
		return err
	}
	if e.Budget == nil {
		c.Remaining = max(limit-a.Cost, 0)
		return nil
	}
	remaining, err := e.Budget(ctx, a.Cost)
	c.Remaining = max(remaining, 0)
	if err != nil {
		var ge *gqlerror.Error
		if errors.As(err, &ge) {
			return ge
		}
		return &gqlerror.Error{Err: err, Message: err.Error()}
	}
	return nil
}

// InterceptResponse adds extensions.cost to the response and turns a
// document over the token limit into QUERY_TOO_COMPLEX.
func (e Extension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	var c *Cost
	if graphql.HasOperationContext(ctx) {
		c, _ = graphql.GetOperationContext(ctx).Stats.GetExtension(statsKey).(*Cost)
	}
	if c == nil {
		limit := e.CostLimit(ctx)
		c = &Cost{Limit: limit, Remaining: limit, RestoreRate: e.Config.RestoreRate}
	}
	graphql.RegisterExtension(ctx, "cost", *c)
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
	if _, ok := resp.Extensions["cost"]; !ok {
		resp.Extensions["cost"] = *c
	}
	return resp
}

// String describes the limits for logs.
func (c Config) String() string {
	return fmt.Sprintf("depth %d, cost %d (ANALYST %d), aliases %d, tokens %d", c.Depth, c.Cost, c.CostAnalyst, c.Aliases, c.Tokens)
}

// RequestedCost returns the cost the Extension computed for op before
// execution, and false when it computed none (an operation refused before
// its cost was known, or a server without the Extension).
func RequestedCost(op *graphql.OperationContext) (int, bool) {
	c, ok := op.Stats.GetExtension(statsKey).(*Cost)
	if !ok {
		return 0, false
	}
	return c.RequestedQueryCost, true
}
