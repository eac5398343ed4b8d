package resolvers

import (
	"context"

	"github.com/partsmarket/gateway/graph"
	"github.com/partsmarket/gateway/graph/model"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/store"
)

// AuditEvent returns the resolvers of the AuditEvent type.
func (r *Resolver) AuditEvent() graph.AuditEventResolver { return &auditEventResolver{r} }

// AuditEventConnection returns the resolvers of the AuditEventConnection type.
func (r *Resolver) AuditEventConnection() graph.AuditEventConnectionResolver {
	return &auditEventConnectionResolver{r}
}

type (
	auditEventResolver           struct{ *Resolver }
	auditEventConnectionResolver struct{ *Resolver }
)

// AuditEvents pages through the audit log, newest first: ADMIN only (the
// schema says so, and the resolver checks again, since the store does not
// scope the log).
func (r *queryResolver) AuditEvents(ctx context.Context, filter *store.AuditEventFilter, first *int, after *string, last *int, before *string) (*model.AuditEventConnection, error) {
	if access.FromContext(ctx).Role != access.RoleAdmin {
		return nil, store.Errorf(store.EFORBIDDEN, "not allowed to access this field")
	}
	args, err := pageArgs(first, after, last, before)
	if err != nil {
		return nil, err
	}
	q := store.AuditQuery{Filter: deref(filter)}
	page, err := r.Store.AuditEvents(ctx, q, args)
	if err != nil {
		return nil, err
	}
	return &model.AuditEventConnection{
		Edges: edges(page, func(c string, n *store.AuditEvent) *model.AuditEventEdge {
			return &model.AuditEventEdge{Cursor: c, Node: n}
		}),
		Nodes:    page.Items,
		PageInfo: pageInfo(page),
		Query:    q,
	}, nil
}

// ActorRole is the role the actor had; null for the system and for a role
// this gateway no longer knows.
func (r *auditEventResolver) ActorRole(_ context.Context, obj *store.AuditEvent) (*access.Role, error) {
	if obj.ActorRole == nil || !access.Role(*obj.ActorRole).Valid() {
		return nil, nil
	}
	role := access.Role(*obj.ActorRole)
	return &role, nil
}

func (r *auditEventConnectionResolver) TotalCount(ctx context.Context, obj *model.AuditEventConnection) (int, error) {
	return r.Store.CountAuditEvents(ctx, obj.Query)
}
