package access

import (
	"context"
	"sync"

	"github.com/partsmarket/gateway/store"
)

// LeadReads collects the ids of the leads whose personal data (a @pii field)
// an ADMIN read during one operation, each once, so that the operation can
// audit them together ("lead.read_pii") before its response leaves. It is
// safe for the concurrent resolvers of one operation; its methods return no
// errors.
type LeadReads struct {
	mu    sync.Mutex
	seen  map[string]bool
	fresh []string
}

// leadReadsKey is the context key of the operation's LeadReads.
type leadReadsKey struct{}

// WithLeadReads returns a copy of ctx in which the @pii directive records an
// ADMIN's reads of leads, and the LeadReads that collects them; it returns
// no error.
func WithLeadReads(ctx context.Context) (context.Context, *LeadReads) {
	r := &LeadReads{seen: map[string]bool{}}
	return context.WithValue(ctx, leadReadsKey{}, r), r
}

// LeadReadsFrom returns the LeadReads of ctx, or nil when reads are not
// collected there; it returns no error.
func LeadReadsFrom(ctx context.Context) *LeadReads {
	r, _ := ctx.Value(leadReadsKey{}).(*LeadReads)
	return r
}

// Take returns the lead ids recorded since the last Take, in the order they
// were first read; an id is returned once in the life of r (once per
// operation, even when a subscription sends the lead again).
func (r *LeadReads) Take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.fresh
	r.fresh = nil
	return out
}

// noteLeadRead records that the principal of ctx read a personal field of
// obj, when obj is a lead and ctx collects reads.
func noteLeadRead(ctx context.Context, obj any) {
	l, ok := obj.(*store.Lead)
	r := LeadReadsFrom(ctx)
	if !ok || l == nil || r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.seen[l.ID] {
		r.seen[l.ID] = true
		r.fresh = append(r.fresh, l.ID)
	}
}
