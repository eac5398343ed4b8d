package resolvers

import (
	"context"
	"errors"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/partsmarket/gateway/graph"
	"github.com/partsmarket/gateway/graph/model"
	"github.com/partsmarket/gateway/internal/abuse"
	"github.com/partsmarket/gateway/internal/events"
	"github.com/partsmarket/gateway/internal/httpapi"
	"github.com/partsmarket/gateway/store"
)

// EventRecorder checks buyer events and queues them for storage (see
// events.Ingestor).
type EventRecorder interface {
	Record(ctx context.Context, prefix string, evs []events.Input, req events.Request) error
}

// RecordEvent queues a listing view or contact click. BAD_USER_INPUT on
// input.listingId / input.sellerId for an id the public does not see;
// RATE_LIMITED (HTTP 429, Retry-After) when the client IP's event budget,
// shared with POST /events, cannot pay, or while the event buffer is full.
func (r *mutationResolver) RecordEvent(ctx context.Context, input model.RecordEventInput) (*model.RecordEventPayload, error) {
	req := events.Request{ClientIP: abuse.ClientIP(ctx), At: time.Now()}
	if graphql.HasOperationContext(ctx) {
		h := graphql.GetOperationContext(ctx).Headers
		req.UserAgent, req.OptedOut = h.Get("User-Agent"), events.OptedOut(h)
	}
	err := r.Events.Record(ctx, "input.", []events.Input{{Type: input.Type, ListingID: input.ListingID,
		SellerID: input.SellerID, SessionID: input.SessionID, SourcePage: input.SourcePage, Consent: input.Consent}}, req)
	var limited *events.LimitedError
	if errors.As(err, &limited) {
		httpapi.MarkRateLimited(ctx, limited.RetryAfter)
		return nil, store.Errorf(store.ERATELIMITED, "too many events from this address; retry in %s seconds",
			httpapi.RetryAfterSeconds(limited.RetryAfter))
	}
	if errors.Is(err, events.ErrFull) {
		httpapi.MarkRateLimited(ctx, time.Second)
		return nil, store.Errorf(store.ERATELIMITED, "too many events right now; retry in a second")
	}
	if err != nil {
		return nil, fail(ctx, err)
	}
	return &model.RecordEventPayload{Accepted: true}, nil
}

// Events returns raw events newest first (ADMIN and ANALYST, by the schema).
func (r *queryResolver) Events(ctx context.Context, filter *store.EventFilter, first *int, after *string, last *int, before *string) (*model.EventConnection, error) {
	args, err := pageArgs(first, after, last, before)
	if err != nil {
		return nil, err
	}
	q := store.EventQuery{Filter: deref(filter)}
	p, err := r.Store.Events(ctx, q, args)
	if err != nil {
		return nil, err
	}
	return &model.EventConnection{
		Edges:    edges(p, func(c string, n *store.Event) *model.EventEdge { return &model.EventEdge{Cursor: c, Node: n} }),
		Nodes:    p.Items,
		PageInfo: pageInfo(p),
		Query:    q,
	}, nil
}

// EventConnection returns the resolvers of the EventConnection type.
func (r *Resolver) EventConnection() graph.EventConnectionResolver {
	return &eventConnectionResolver{r}
}

type eventConnectionResolver struct{ *Resolver }

// TotalCount counts the events of the connection's filter.
func (r *eventConnectionResolver) TotalCount(ctx context.Context, obj *model.EventConnection) (int, error) {
	return r.Store.CountEvents(ctx, obj.Query)
}
