package store

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Actor is who a request acts for, as the audit log records it.
type Actor struct {
	// ID is the token's subject (`sub`); empty when unknown.
	ID string
	// Role is the principal's role name (ADMIN, SELLER, ANALYST); empty for
	// anonymous callers and background work.
	Role string
	// RequestID is the request's id (X-Request-Id or a generated one).
	RequestID string
	// IP is the client's network: an IPv4 /24 or IPv6 /48 in CIDR notation,
	// as WithActor leaves it; empty when unknown.
	IP string
}

// actorKey is the context key of the request's Actor.
type actorKey struct{}

// WithActor returns a copy of ctx carrying a as the actor that audit events
// written on ctx name. a.IP may be a full client address: WithActor keeps
// only its network (IPv4 /24, IPv6 /48), and drops a value that is not an
// address. It returns no error.
func WithActor(ctx context.Context, a Actor) context.Context {
	a.IP = TruncateIP(a.IP)
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the Actor carried by ctx, or the zero Actor (no actor:
// background work) when there is none. It returns no error.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

// TruncateIP returns the network of address ip that the audit log keeps, in
// CIDR notation: its /24 for IPv4 (IPv4-mapped IPv6 included), its /48 for
// IPv6, ip itself when it is already such a network, and "" when ip is empty
// or not an address. It returns no error.
func TruncateIP(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		p, perr := netip.ParsePrefix(ip)
		if perr != nil {
			return ""
		}
		addr = p.Addr()
	}
	addr = addr.Unmap().WithZone("")
	bits := 48
	if addr.Is4() {
		bits = 24
	}
	return netip.PrefixFrom(addr, bits).Masked().String()
}

// AuditEntry is what happened, for the audit log: the actor, request and
// time come from the context and the database.
type AuditEntry struct {
	// Action names what was done: "seller.create", "listing.update",
	// "lead.status", "report.resolve", "lead.read_pii", ...
	Action string
	// TargetType is the kind of row acted on: "seller", "listing", "lead",
	// "report", "media", "import_batch", ...
	TargetType string
	// TargetID is the id of that row, if any.
	TargetID string
	// Changes maps a changed field to its change, usually Change(before,
	// after). Never personal data: values of buyers' and reporters' fields
	// (names, emails, phones, messages) must not appear here, not even as a
	// before value. Nil or empty stores NULL.
	Changes map[string]any
}

// FieldChange is the before and after value of one changed field, as an
// AuditEntry's Changes records it.
type FieldChange struct {
	// From is the value before the change; nil for a new row.
	From any `json:"from"`
	// To is the value after the change; nil for a deleted row.
	To any `json:"to"`
}

// Change returns the change of a field from before to after; it returns no
// error.
func Change(before, after any) FieldChange {
	return FieldChange{From: before, To: after}
}

// diff returns the changes from before to after, two snapshots of a row's
// audited fields: Change(before[k], after[k]) for each field whose value
// differs. A nil before (a new row) or after (a deleted one) gives every
// field that has a value.
func diff(before, after map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range []map[string]any{before, after} {
		for k := range m {
			if b, a := before[k], after[k]; b != a {
				out[k] = Change(b, a)
			}
		}
	}
	return out
}

// val returns *p, or nil for a nil p, so that snapshots compare values.
func val[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// sellerAudit is the snapshot of a seller's audited fields.
func sellerAudit(s *Seller) map[string]any {
	return map[string]any{"slug": s.Slug, "companyName": s.CompanyName, "description": val(s.Description),
		"website": val(s.Website), "status": s.Status, "verified": s.Verified, "verificationNotes": val(s.VerificationNotes),
		"internalNotes": val(s.InternalNotes)}
}

// listingAudit is the snapshot of a listing's audited fields.
func listingAudit(l *Listing) map[string]any {
	return map[string]any{"sellerId": l.SellerID, "locationId": val(l.LocationID), "title": l.Title,
		"description": val(l.Description), "partNumber": val(l.PartNumber), "sku": val(l.SKU), "brand": val(l.Brand),
		"category": val(l.Category), "condition": l.Condition, "quantity": val(l.Quantity),
		"priceLabel": val(l.PriceLabel), "priceCents": val(l.PriceCents), "currency": val(l.Currency),
		"status": l.Status, "removalReason": val(l.RemovalReason)}
}

// Audit writes one audit event e, named after the actor on ctx (WithActor),
// through tx: pass the transaction of the change being audited, so that the
// event commits or rolls back with it. A write outside any change (an
// admin's read) may pass the store's pool (s.DB()). An error here must fail
// the change; Audit returns EINTERNAL-class errors only.
func (s *Store) Audit(ctx context.Context, tx sqlx.ExecerContext, e AuditEntry) error {
	return s.audit(ctx, tx, []AuditEntry{e})
}

// PIIRead is one row whose personal data (a @pii field) an admin read.
type PIIRead struct {
	// TargetType is "lead", "report" or "seller", as in the audit log.
	TargetType string
	// ID is the row's id.
	ID string
}

// AuditPIIReads writes one "<type>.read_pii" event per row in reads (the
// caller removes duplicates), in one statement on the primary pool and
// outside any transaction: an admin read that row's personal data. The
// actor comes from ctx. It returns EINTERNAL-class errors only.
func (s *Store) AuditPIIReads(ctx context.Context, reads []PIIRead) error {
	es := make([]AuditEntry, len(reads))
	for i, r := range reads {
		es[i] = AuditEntry{Action: r.TargetType + ".read_pii", TargetType: r.TargetType, TargetID: r.ID}
	}
	return s.audit(ctx, s.db.primary, es)
}

// audit writes the events es with ctx's actor in one statement.
func (s *Store) audit(ctx context.Context, tx sqlx.ExecerContext, es []AuditEntry) error {
	if len(es) == 0 {
		return nil
	}
	a := ActorFrom(ctx)
	actions, types := make([]string, len(es)), make([]string, len(es))
	targets, changes := make([]*string, len(es)), make([]*string, len(es))
	for i, e := range es {
		if e.Action == "" || e.TargetType == "" {
			return fmt.Errorf("audit: an event needs an action and a target type")
		}
		actions[i], types[i] = e.Action, e.TargetType
		if e.TargetID != "" {
			targets[i] = &es[i].TargetID
		}
		if len(e.Changes) > 0 {
			b, err := json.Marshal(e.Changes)
			if err != nil {
				return fmt.Errorf("audit %s: encode changes: %w", e.Action, err)
			}
			c := string(b)
			changes[i] = &c
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_events
			(actor_id, actor_role, request_id, ip, action, target_type, target_id, changes)
		SELECT nullif($1, ''), nullif($2, ''), nullif($3, ''), nullif($4, ''), a, t, id, c::jsonb
		FROM unnest($5::text[], $6::text[], $7::text[], $8::text[]) AS e(a, t, id, c)`,
		a.ID, a.Role, a.RequestID, TruncateIP(a.IP),
		pq.Array(actions), pq.Array(types), pq.Array(targets), pq.Array(changes))
	if err != nil {
		return fmt.Errorf("audit %s: %w", es[0].Action, err)
	}
	return nil
}

// auditNewest orders the audit log newest first.
var auditNewest = keyset{name: "audit", key: "e.created_at", cast: "timestamptz", id: "e.id", desc: true}

// auditColumns are the columns of AuditEvent, read from "audit_events e".
const auditColumns = `e.id, e.actor_id, e.actor_role, e.action, e.target_type, e.target_id, e.changes,
	e.request_id, e.ip, e.created_at`

// AuditEvents returns one page of the audit events that match aq, newest
// first. EINVALID on "after" for a cursor of another list.
func (s *Store) AuditEvents(ctx context.Context, aq AuditQuery, p PageArgs) (Page[*AuditEvent], error) {
	var q query
	aq.where(&q)
	order, err := auditNewest.window(&q, p)
	if err != nil {
		return Page[*AuditEvent]{}, err
	}
	var rows []*AuditEvent
	err = s.db.SelectContext(ctx, &rows, `SELECT `+auditColumns+` FROM audit_events e`+q.sql()+
		order+` LIMIT `+q.arg(p.Limit+1), q.args...)
	if err != nil {
		return Page[*AuditEvent]{}, err
	}
	return pageOf(auditNewest, rows, p, func(r *AuditEvent) (string, string) {
		return r.CreatedAt.UTC().Format(time.RFC3339Nano), r.ID
	}), nil
}

// CountAuditEvents returns how many audit events match aq.
func (s *Store) CountAuditEvents(ctx context.Context, aq AuditQuery) (int, error) {
	var q query
	aq.where(&q)
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM audit_events e`+q.sql(), q.args...)
	return n, err
}

// where adds aq's filter; empty strings count as unset. From is inclusive,
// To exclusive.
func (aq AuditQuery) where(q *query) {
	f := aq.Filter
	if v, ok := text(f.ActorID); ok {
		q.and("e.actor_id = " + q.arg(v))
	}
	if v, ok := text(f.Action); ok {
		q.and("e.action = " + q.arg(v))
	}
	if v, ok := text(f.TargetType); ok {
		q.and("e.target_type = " + q.arg(v))
	}
	if v, ok := text(f.TargetID); ok {
		q.and("e.target_id = " + q.arg(v))
	}
	if f.From != nil {
		q.and("e.created_at >= " + q.arg(*f.From))
	}
	if f.To != nil {
		q.and("e.created_at < " + q.arg(*f.To))
	}
}
