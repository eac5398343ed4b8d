package resolvers

import (
	"context"
	"slices"

	"github.com/partsmarket/gateway/graph"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/store"
)

// LeadStatusChange returns the resolvers of the LeadStatusChange type.
func (r *Resolver) LeadStatusChange() graph.LeadStatusChangeResolver {
	return &leadStatusChangeResolver{r}
}

type leadStatusChangeResolver struct{ *Resolver }

func (r *leadResolver) StatusHistory(ctx context.Context, obj *store.Lead) ([]*store.LeadStatusChange, error) {
	return load(ctx, statusChangesLoader, obj.ID)
}

func (r *leadStatusChangeResolver) ActorRole(_ context.Context, obj *store.LeadStatusChange) (*access.Role, error) {
	if obj.ActorRole == nil {
		return nil, nil
	}
	role := access.Role(*obj.ActorRole)
	return &role, nil
}

// leadMoves are the moves of the inbox workflow a seller may make; an admin
// may make any move, and only an admin takes a lead out of SPAM.
var leadMoves = map[store.LeadStatus][]store.LeadStatus{
	store.LeadNew:       {store.LeadContacted, store.LeadQualified, store.LeadWon, store.LeadLost, store.LeadSpam},
	store.LeadContacted: {store.LeadQualified, store.LeadWon, store.LeadLost, store.LeadSpam},
	store.LeadQualified: {store.LeadContacted, store.LeadWon, store.LeadLost, store.LeadSpam},
	store.LeadWon:       {store.LeadQualified, store.LeadLost},
	store.LeadLost:      {store.LeadContacted, store.LeadQualified, store.LeadWon},
}

// leadMove is the rule of the inbox workflow for principal p.
func leadMove(p access.Principal) store.StatusRule[store.LeadStatus] {
	return func(from, to store.LeadStatus) error {
		switch {
		case from == to || p.Role == access.RoleAdmin:
			return nil
		case from == store.LeadSpam:
			return store.Errorf(store.EFORBIDDEN, "only an admin takes a lead out of SPAM")
		}
		if slices.Contains(leadMoves[from], to) {
			return nil
		}
		return store.Invalid("status", "a lead cannot move from "+string(from)+" to "+string(to))
	}
}
