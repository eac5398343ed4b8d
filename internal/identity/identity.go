// Package identity keeps, in each gateway process, what signed-in requests
// need to know about an identity (a token's issuer and subject) without a
// statement of their own: the seller it is a member of (a cache filled on
// first use) and the revocations of its sessions (all of them, loaded at
// start). Every change is announced by the database on
// store.IdentityChangedChannel when it commits, whatever instance made it;
// each instance's pubsub.Hub hands the announcements to Receive, which
// forgets the identity's cached membership or records the revocation, and
// calls the watches of that identity (the gateway closes its websockets).
// After a lost listener connection Receive("") forgets every membership
// and reloads the revocations, since announcements may have been lost.
package identity

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/partsmarket/gateway/store"
)

// Store is what the directory reads: a *store.Store.
type Store interface {
	Membership(ctx context.Context, id store.Identity) (sellerID string, role store.MemberRole, err error)
	Revocations(ctx context.Context) ([]store.Revocation, error)
}

// maxMembers bounds the cached memberships; a full cache starts afresh.
const maxMembers = 100_000

// reloadTimeout bounds the reload of the revocations after a reconnection.
const reloadTimeout = 10 * time.Second

// membership is a cached answer of Store.Membership ("" for none).
type membership struct {
	sellerID string
	role     store.MemberRole
}

// Directory is one process's view of memberships and revocations; its
// methods are safe for concurrent use.
type Directory struct {
	st  Store
	log *slog.Logger

	mu      sync.Mutex
	members map[store.Identity]membership
	// epoch counts forgotten memberships: a lookup that began before one
	// does not cache what it read, which may be older than the change.
	epoch   uint64
	revoked map[store.Identity]time.Time // Issuer "" stands for every issuer
	watches map[store.Identity]map[*watch]struct{}
}

// watch is one WatchSession registration.
type watch struct {
	id       store.Identity
	issuedAt time.Time
	f        func()
}

// New returns a Directory reading st; log receives reload failures (never
// personal data). Call Load before serving.
func New(st Store, log *slog.Logger) *Directory {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Directory{st: st, log: log, members: map[store.Identity]membership{},
		revoked: map[store.Identity]time.Time{}, watches: map[store.Identity]map[*watch]struct{}{}}
}

// Load reads every revocation; it returns the store's error.
func (d *Directory) Load(ctx context.Context) error {
	rs, err := d.st.Revocations(ctx)
	if err != nil {
		return err
	}
	for _, r := range rs {
		d.Revoke(r)
	}
	return nil
}

// Membership returns the seller (issuer, subject) is a member of and its
// role, both empty for none: from the cache, or from the store (one
// statement) the first time. It returns the store's errors.
func (d *Directory) Membership(ctx context.Context, issuer, subject string) (sellerID, role string, err error) {
	id := store.Identity{Issuer: issuer, Subject: subject}
	d.mu.Lock()
	m, ok := d.members[id]
	epoch := d.epoch
	d.mu.Unlock()
	if ok {
		return m.sellerID, string(m.role), nil
	}
	m.sellerID, m.role, err = d.st.Membership(ctx, id)
	if err != nil {
		return "", "", err
	}
	d.mu.Lock()
	if d.epoch == epoch {
		if len(d.members) >= maxMembers {
			clear(d.members)
		}
		d.members[id] = m
	}
	d.mu.Unlock()
	return m.sellerID, string(m.role), nil
}

// Revoked reports whether a token of (issuer, subject) issued at issuedAt
// (zero: unknown, counted as before) is revoked; it reads memory only.
func (d *Directory) Revoked(issuer, subject string, issuedAt time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.revokedLocked(store.Identity{Issuer: issuer, Subject: subject}, issuedAt)
}

// revokedLocked is Revoked with d.mu held.
func (d *Directory) revokedLocked(id store.Identity, issuedAt time.Time) bool {
	for _, key := range []store.Identity{id, {Subject: id.Subject}} {
		if before, ok := d.revoked[key]; ok && (issuedAt.IsZero() || issuedAt.Before(before)) {
			return true
		}
	}
	return false
}

// Forget drops the cached membership of id and calls id's watches: its
// membership changed (the writing instance calls it at once, the others on
// the announcement).
func (d *Directory) Forget(id store.Identity) {
	d.mu.Lock()
	delete(d.members, id)
	d.epoch++
	fire := d.takeWatchesLocked(func(w *watch) bool { return w.id == id })
	d.mu.Unlock()
	run(fire)
}

// Revoke records r (a revocation never moves back in time) and calls the
// watches of the sessions it revokes.
func (d *Directory) Revoke(r store.Revocation) {
	id := store.Identity{Issuer: r.Issuer, Subject: r.Subject}
	d.mu.Lock()
	if r.RevokedBefore.After(d.revoked[id]) {
		d.revoked[id] = r.RevokedBefore
	}
	fire := d.takeWatchesLocked(func(w *watch) bool { return d.revokedLocked(w.id, w.issuedAt) })
	d.mu.Unlock()
	run(fire)
}

// takeWatchesLocked removes and returns the watches for which match holds;
// d.mu is held.
func (d *Directory) takeWatchesLocked(match func(*watch) bool) []*watch {
	var out []*watch
	for id, set := range d.watches {
		for w := range set {
			if match(w) {
				out = append(out, w)
				delete(set, w)
			}
		}
		if len(set) == 0 {
			delete(d.watches, id)
		}
	}
	return out
}

// run calls each watch's function on a goroutine of its own.
func run(ws []*watch) {
	for _, w := range ws {
		go w.f()
	}
}

// WatchSession calls f, once and on a goroutine of its own, when the
// session of (issuer, subject) issued at issuedAt is revoked or the
// identity's membership changes, in any instance; stop ends the watch (it
// is safe to call more than once). It returns no error.
func (d *Directory) WatchSession(issuer, subject string, issuedAt time.Time, f func()) (stop func()) {
	w := &watch{id: store.Identity{Issuer: issuer, Subject: subject}, issuedAt: issuedAt, f: f}
	d.mu.Lock()
	set := d.watches[w.id]
	if set == nil {
		set = map[*watch]struct{}{}
		d.watches[w.id] = set
	}
	set[w] = struct{}{}
	d.mu.Unlock()
	return func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if set := d.watches[w.id]; set != nil {
			delete(set, w)
			if len(set) == 0 {
				delete(d.watches, w.id)
			}
		}
	}
}

// Receive takes one announcement of store.IdentityChangedChannel (its
// payload: ["member", issuer, subject] or ["revoked", issuer, subject,
// revoked_before]); "" (after a reconnection) forgets every membership and
// reloads the revocations in the background. A payload it cannot read
// forgets every membership too. It must not block: the listener calls it.
func (d *Directory) Receive(payload string) {
	var msg []any
	if payload == "" || json.Unmarshal([]byte(payload), &msg) != nil || len(msg) < 3 {
		d.forgetAll()
		if payload == "" {
			go d.reload()
		}
		return
	}
	kind, _ := msg[0].(string)
	issuer, _ := msg[1].(string)
	subject, _ := msg[2].(string)
	id := store.Identity{Issuer: issuer, Subject: subject}
	switch kind {
	case "member":
		d.Forget(id)
	case "revoked":
		var raw string
		if len(msg) > 3 {
			raw, _ = msg[3].(string)
		}
		before, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			go d.reload()
			return
		}
		d.Revoke(store.Revocation{Issuer: issuer, Subject: subject, RevokedBefore: before})
	}
}

// forgetAll drops every cached membership.
func (d *Directory) forgetAll() {
	d.mu.Lock()
	clear(d.members)
	d.epoch++
	d.mu.Unlock()
}

// reload reads the revocations again.
func (d *Directory) reload() {
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	if err := d.Load(ctx); err != nil {
		d.log.Error("identity: reloading revocations failed", "error", err.Error())
	}
}
