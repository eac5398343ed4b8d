package httpapi

import (
	"context"
	"fmt"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/internal/abuse"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/limits"
	"github.com/partsmarket/gateway/internal/ratelimit"
	"github.com/partsmarket/gateway/store"
)

// Budget charges operations to their principal's per-minute cost budget
// (internal/ratelimit): analysts to a limiter of their own, everyone else
// to the common one. It is the limits extension's limits.Budget: charged
// once per operation that passed every limit, before anything executes, and
// refunded what the operation did not use after it ran.
type Budget struct {
	common, analyst *ratelimit.Limiter
	// refused, when set, is told of every refused charge (metrics).
	refused func()
}

// NewBudget returns the Budget of the common limiter and the analysts' (nil:
// analysts are charged to the common one); a nil common gives a Budget that
// charges nothing.
func NewBudget(common, analyst *ratelimit.Limiter) *Budget {
	if analyst == nil {
		analyst = common
	}
	return &Budget{common: common, analyst: analyst}
}

// limiter returns the limiter of the principal of ctx; nil for none.
func (b *Budget) limiter(ctx context.Context) *ratelimit.Limiter {
	if b == nil {
		return nil
	}
	if access.FromContext(ctx).Role == access.RoleAnalyst {
		return b.analyst
	}
	return b.common
}

// throttleStatus reports a decision in extensions.cost's terms.
func throttleStatus(l *ratelimit.Limiter, d ratelimit.Decision) limits.ThrottleStatus {
	return limits.ThrottleStatus{MaximumAvailable: float64(l.Limit()), CurrentlyAvailable: d.Remaining, RestoreRate: l.RestoreRate()}
}

// Charge takes cost points from the budget of the principal of ctx (see
// budgetKey) and returns what is left. When the budget cannot pay, nothing is
// charged, the request is marked for HTTP 429 with Retry-After
// (MarkRateLimited) and the error has code RATE_LIMITED: the caller must then
// run nothing. A cost of 0 (only __typename) charges and refuses nothing. Call
// it only for valid operations within the limits.
func (b *Budget) Charge(ctx context.Context, cost int) (limits.ThrottleStatus, error) {
	l := b.limiter(ctx)
	if l == nil {
		return limits.ThrottleStatus{}, nil
	}
	if cost <= 0 {
		return throttleStatus(l, l.Peek(budgetKey(ctx))), nil
	}
	d := l.Charge(budgetKey(ctx), cost)
	if !d.Allowed {
		if b.refused != nil {
			b.refused()
		}
		MarkRateLimited(ctx, d.RetryAfter)
		return throttleStatus(l, d), rateLimitedError(d)
	}
	return throttleStatus(l, d), nil
}

// Refund gives back points of the last charge of the principal of ctx that
// its operation did not use.
func (b *Budget) Refund(ctx context.Context, points int) limits.ThrottleStatus {
	l := b.limiter(ctx)
	if l == nil {
		return limits.ThrottleStatus{}
	}
	return throttleStatus(l, l.Refund(budgetKey(ctx), points))
}

// Status returns the budget of the principal of ctx without charging it.
func (b *Budget) Status(ctx context.Context) limits.ThrottleStatus {
	l := b.limiter(ctx)
	if l == nil {
		return limits.ThrottleStatus{}
	}
	return throttleStatus(l, l.Peek(budgetKey(ctx)))
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
