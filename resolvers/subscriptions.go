package resolvers

import (
	"context"
	"errors"
	"strings"

	"github.com/partsmarket/gateway/graph"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/httpapi"
	"github.com/partsmarket/gateway/internal/loaders"
	"github.com/partsmarket/gateway/internal/pubsub"
	"github.com/partsmarket/gateway/store"
)

// Subscription returns the resolvers of the Subscription type.
func (r *Resolver) Subscription() graph.SubscriptionResolver { return &subscriptionResolver{r} }

type subscriptionResolver struct{ *Resolver }

// LeadReceived streams the new leads of sellerID to its seller or an admin.
// Anyone else gets FORBIDDEN and, over a websocket, the connection is closed
// with 4403. Each lead is resolved with the subscriber's principal and the
// operation's own loaders, so @pii and @owner apply as in a query. When the
// subscriber falls behind, the connection is closed with 1013 (reconnect and
// catch up with the leads query); when the gateway shuts down, with 1001.
func (r *subscriptionResolver) LeadReceived(ctx context.Context, sellerID string) (<-chan *store.Lead, error) {
	p := access.FromContext(ctx)
	id := strings.ToLower(strings.TrimSpace(sellerID))
	if !p.Manages(id) {
		_ = httpapi.CloseWebsocket(ctx, httpapi.CloseForbidden, "Forbidden")
		return nil, store.Errorf(store.EFORBIDDEN, "you may not watch this seller's leads")
	}
	if !store.ValidID(id) {
		return nil, store.Invalid("sellerId", "no such seller")
	}
	if r.LiveLeads == nil {
		return nil, errNotConfigured
	}
	sub, err := r.LiveLeads.Subscribe(id)
	if err != nil {
		return nil, err
	}
	out := make(chan *store.Lead)
	go func() {
		defer close(out)
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case lead, ok := <-sub.Leads():
				if !ok {
					switch err := sub.Err(); {
					case errors.Is(err, pubsub.ErrSlowConsumer):
						_ = httpapi.CloseWebsocket(ctx, httpapi.CloseTryAgainLater, "Subscriber fell behind")
					case errors.Is(err, pubsub.ErrClosed):
						_ = httpapi.CloseWebsocket(ctx, httpapi.CloseGoingAway, "Server shutting down")
					}
					return
				}
				// The operation's loaders live as long as the
				// subscription: start each event from fresh rows. gqlgen has marshalled the
				// previous event before it takes this one.
				freshLoaders(ctx)
				select {
				case out <- lead:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// freshLoaders empties the caches of the loaders in ctx, if any.
func freshLoaders(ctx context.Context) {
	l, err := loaders.For(ctx)
	if err != nil {
		return
	}
	l.Seller.ClearAll()
	l.Listing.ClearAll()
	l.Contacts.ClearAll()
	l.Locations.ClearAll()
	l.Media.ClearAll()
	l.StatusChanges.ClearAll()
}
