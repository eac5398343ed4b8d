package resolvers

import (
	"context"

	"github.com/partsmarket/gateway/graph/model"
	"github.com/partsmarket/gateway/internal/limits"
)

// RateLimit answers rateLimit with the figures of extensions.cost: the
// caller's cost limit and its budget once this operation's requested cost
// was taken. INTERNAL when the limits extension did not measure the
// operation (a wiring mistake).
func (r *queryResolver) RateLimit(ctx context.Context) (*model.RateLimit, error) {
	maxCost, b, ok := limits.Status(ctx)
	if !ok {
		return nil, errNotConfigured
	}
	return &model.RateLimit{MaxQueryCost: maxCost, MaximumAvailable: b.MaximumAvailable,
		CurrentlyAvailable: b.CurrentlyAvailable, RestoreRate: b.RestoreRate}, nil
}
