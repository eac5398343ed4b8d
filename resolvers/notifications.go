package resolvers

import (
	"context"

	"github.com/partsmarket/gateway/graph/model"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/loaders"
	"github.com/partsmarket/gateway/store"
)

// Notification is the delivery record of the lead's email to its seller;
// null for a lead without one (a SPAM lead). lastError is admin-only in the
// schema.
func (r *leadResolver) Notification(ctx context.Context, obj *store.Lead) (*store.LeadNotification, error) {
	return load(ctx, notificationLoader, obj.ID)
}

// ResendNotification queues the lead's notification again (admin only, by
// the schema): PENDING, due now, attempts reset to 0; a lead without one
// gets one. NOT_FOUND for an unknown lead.
func (r *mutationResolver) ResendNotification(ctx context.Context, leadID string) (*model.ResendNotificationPayload, error) {
	n, err := r.Store.ResendNotification(ctx, leadID)
	if err != nil {
		return nil, err
	}
	l, err := r.Store.Lead(ctx, access.FromContext(ctx).Scope(), leadID)
	if err != nil {
		return nil, err
	}
	if ld, err := loaders.For(ctx); err == nil {
		ld.Notification.Clear(ctx, leadID).Prime(ctx, leadID, n)
	}
	return &model.ResendNotificationPayload{Lead: l}, nil
}

func notificationLoader(l *loaders.Loaders) *loaders.Loader[*store.LeadNotification] {
	return l.Notification
}

// Notifications is the lead-mail outbox for admins (ADMIN by the schema),
// newest first. BAD_USER_INPUT for bad page arguments or cursors.
func (r *queryResolver) Notifications(ctx context.Context, filter *store.NotificationFilter, first *int, after *string, last *int, before *string) (*model.LeadNotificationConnection, error) {
	args, err := pageArgs(first, after, last, before)
	if err != nil {
		return nil, err
	}
	f := deref(filter)
	page, err := r.Store.Notifications(ctx, f, args)
	if err != nil {
		return nil, err
	}
	return &model.LeadNotificationConnection{
		Edges: edges(page, func(c string, n *store.LeadNotification) *model.LeadNotificationEdge {
			return &model.LeadNotificationEdge{Cursor: c, Node: n}
		}),
		Nodes:    page.Items,
		PageInfo: pageInfo(page),
		Filter:   f,
	}, nil
}

func (r *leadNotificationConnectionResolver) TotalCount(ctx context.Context, obj *model.LeadNotificationConnection) (int, error) {
	return r.Store.CountNotifications(ctx, obj.Filter)
}

// Lead is the lead a notification is about, batched per request; NOT_FOUND
// when the caller may not see it.
func (r *leadNotificationResolver) Lead(ctx context.Context, obj *store.LeadNotification) (*store.Lead, error) {
	return load(ctx, leadLoader, obj.LeadID)
}

func leadLoader(l *loaders.Loaders) *loaders.Loader[*store.Lead] { return l.Lead }
