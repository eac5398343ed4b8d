package httpapi

import (
	"context"
	"fmt"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/internal/abuse"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/ratelimit"
	"github.com/partsmarket/gateway/store"
)

// Budget charges operations to their principal's per-minute cost budget
// (internal/ratelimit). Its Charge method is the limits extension's
// limits.BudgetFunc: called once per operation that passed every limit,
// before anything executes.
type Budget struct {
	l *ratelimit.Limiter
}

// NewBudget returns the Budget of l; a nil l gives a Budget that charges
// nothing.
func NewBudget(l *ratelimit.Limiter) *Budget { return &Budget{l: l} }

// Charge takes cost points from the budget of the principal of ctx (see
// budgetKey) and returns what is left. When the budget cannot pay, nothing is
// charged, the request is marked for HTTP 429 with Retry-After
// (MarkRateLimited) and the error has code RATE_LIMITED: the caller must then
// run nothing. A cost of 0 (only __typename) charges and refuses nothing. Call
// it only for valid operations within the limits.
func (b *Budget) Charge(ctx context.Context, cost int) (remaining int, err error) {
	if b == nil || b.l == nil {
		return 0, nil
	}
	if cost <= 0 {
		return b.l.Peek(budgetKey(ctx)).Remaining, nil
	}
	d := b.l.Charge(budgetKey(ctx), cost)
	if !d.Allowed {
		MarkRateLimited(ctx, d.RetryAfter)
		return d.Remaining, rateLimitedError(d)
	}
	return d.Remaining, nil
}

// Peek returns the budget of the principal of ctx without charging it (for
// extensions.cost on free operations).
func (b *Budget) Peek(ctx context.Context) ratelimit.Decision {
	if b == nil || b.l == nil {
		return ratelimit.Decision{Allowed: true}
	}
	return b.l.Peek(budgetKey(ctx))
}

// Limit returns the budget in points per minute (0 without a limiter).
func (b *Budget) Limit() int {
	if b == nil || b.l == nil {
		return 0
	}
	return b.l.Limit()
}

// RestoreRate returns the points restored per second (0 without a limiter).
func (b *Budget) RestoreRate() float64 {
	if b == nil || b.l == nil {
		return 0
	}
	return b.l.RestoreRate()
}

// rateLimitedError is the RATE_LIMITED error of a refused charge.
func rateLimitedError(d ratelimit.Decision) *gqlerror.Error {
	return &gqlerror.Error{
		Message: fmt.Sprintf("query cost budget exhausted (%d points per minute); retry in %s seconds",
			d.Limit, RetryAfterSeconds(d.RetryAfter)),
		Extensions: map[string]any{"code": store.ERATELIMITED},
	}
}

// budgetKey is the budget a request is charged to: a signed-in principal's
// role, issuer and subject (a seller's staff share their seller's budget), an
// anonymous caller's client IP (an IPv6 caller's /64). The limiter stores
// only an HMAC of it.
func budgetKey(ctx context.Context) string {
	p := access.FromContext(ctx)
	switch p.Role {
	case access.RoleSeller:
		return "seller:" + p.SellerID
	case access.RoleAdmin, access.RoleAnalyst, access.RoleUser:
		return string(p.Role) + ":" + p.Issuer + ":" + p.Subject
	}
	return "ip:" + abuse.IPUnit(ClientIP(ctx))
}
