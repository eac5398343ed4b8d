package access

import (
	"context"
	"sync"

	"github.com/partsmarket/gateway/store"
)

// PIIReads collects the rows whose personal data an ADMIN read during one
// operation, each once, so that the operation can audit them together
// ("<type>.read_pii") before its response leaves. It is safe for the
// concurrent resolvers of one operation; its methods return no errors.
type PIIReads struct {
	mu    sync.Mutex
	seen  map[store.PIIRead]bool
	fresh []store.PIIRead
}

// piiReadsKey is the context key of the operation's PIIReads.
type piiReadsKey struct{}

// WithPIIReads returns a copy of ctx in which the @pii directive records an
// ADMIN's reads of personal data, and the PIIReads that collects them; it
// returns no error.
func WithPIIReads(ctx context.Context) (context.Context, *PIIReads) {
	r := &PIIReads{seen: map[store.PIIRead]bool{}}
	return context.WithValue(ctx, piiReadsKey{}, r), r
}

// PIIReadsFrom returns the PIIReads of ctx, or nil when reads are not
// collected there; it returns no error.
func PIIReadsFrom(ctx context.Context) *PIIReads {
	r, _ := ctx.Value(piiReadsKey{}).(*PIIReads)
	return r
}

// Take returns the rows recorded since the last Take, in the order they were
// first read; a row is returned once in the life of r (once per operation,
// even when a subscription sends the lead again).
func (r *PIIReads) Take() []store.PIIRead {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.fresh
	r.fresh = nil
	return out
}

// piiTarget returns the audit target of a row with @pii fields, and false
// for anything else.
func piiTarget(obj any) (store.PIIRead, bool) {
	switch o := obj.(type) {
	case *store.Lead:
		return store.PIIRead{TargetType: "lead", ID: o.ID}, o != nil
	case *store.ListingReport:
		return store.PIIRead{TargetType: "report", ID: o.ID}, o != nil
	case *store.Seller:
		return store.PIIRead{TargetType: "seller", ID: o.ID}, o != nil
	}
	return store.PIIRead{}, false
}

// notePIIRead records that the principal of ctx read a personal field of
// obj, when ctx collects reads.
func notePIIRead(ctx context.Context, obj any) {
	r := PIIReadsFrom(ctx)
	if r == nil {
		return
	}
	t, ok := piiTarget(obj)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.seen[t] {
		r.seen[t] = true
		r.fresh = append(r.fresh, t)
	}
}
