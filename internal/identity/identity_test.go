package identity

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/partsmarket/gateway/store"
)

// fakeStore answers memberships from a map and counts the lookups; the
// first lookup waits for hold to close when hold is set.
type fakeStore struct {
	mu      sync.Mutex
	members map[store.Identity]string // seller id; role OWNER
	lookups int
	hold    chan struct{}
	revs    []store.Revocation
}

func (f *fakeStore) Membership(_ context.Context, id store.Identity) (string, store.MemberRole, error) {
	f.mu.Lock()
	f.lookups++
	seller, hold := f.members[id], f.hold
	f.hold = nil
	f.mu.Unlock()
	if hold != nil {
		<-hold
	}
	if seller == "" {
		return "", "", nil
	}
	return seller, store.MemberOwner, nil
}

func (f *fakeStore) Revocations(context.Context) ([]store.Revocation, error) { return f.revs, nil }

func (f *fakeStore) lookupCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lookups
}

var ann = store.Identity{Issuer: "https://id.test", Subject: "ann"}

func TestMembershipIsCachedUntilAnnounced(t *testing.T) {
	st := &fakeStore{members: map[store.Identity]string{ann: "s1"}}
	d := New(st, nil)
	for range 3 {
		seller, role, err := d.Membership(context.Background(), ann.Issuer, ann.Subject)
		if err != nil || seller != "s1" || role != "OWNER" {
			t.Fatalf("Membership = %q, %q, %v; want s1, OWNER", seller, role, err)
		}
	}
	if got := st.lookupCount(); got != 1 {
		t.Errorf("%d lookups for 3 requests, want 1", got)
	}
	// No membership is cached too: a user's requests cost nothing either.
	for range 2 {
		if seller, _, _ := d.Membership(context.Background(), ann.Issuer, "bob"); seller != "" {
			t.Errorf("bob's seller = %q, want none", seller)
		}
	}
	if got := st.lookupCount(); got != 2 {
		t.Errorf("%d lookups, want 2", got)
	}
	st.mu.Lock()
	delete(st.members, ann)
	st.mu.Unlock()
	d.Receive(`["member", "https://id.test", "ann", null]`)
	if seller, _, _ := d.Membership(context.Background(), ann.Issuer, ann.Subject); seller != "" {
		t.Errorf("after the announcement: seller %q, want none", seller)
	}
}

// TestLookupRacingAChangeIsNotCached: a lookup that read before a change
// was announced must not leave its stale answer in the cache.
func TestLookupRacingAChangeIsNotCached(t *testing.T) {
	hold := make(chan struct{})
	st := &fakeStore{members: map[store.Identity]string{ann: "s1"}, hold: hold}
	d := New(st, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _, _ = d.Membership(context.Background(), ann.Issuer, ann.Subject)
	}()
	for st.lookupCount() == 0 {
		time.Sleep(time.Millisecond)
	}
	st.mu.Lock()
	delete(st.members, ann) // removed while the lookup ran
	st.mu.Unlock()
	d.Forget(ann)
	close(hold)
	<-done
	if seller, _, _ := d.Membership(context.Background(), ann.Issuer, ann.Subject); seller != "" {
		t.Errorf("seller %q after the removal, want none: a stale lookup was cached", seller)
	}
}

func TestRevoked(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 500_000_000, time.UTC)
	d := New(&fakeStore{revs: []store.Revocation{{Issuer: "https://id.test", Subject: "ann", RevokedBefore: at}}}, nil)
	if err := d.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.Receive(`["revoked", "", "bob", "2026-12-03T12:00:00.5+00:00"]`)
	for _, tt := range []struct {
		name            string
		issuer, subject string
		iat             time.Time
		want            bool
	}{
		{"older token", "https://id.test", "ann", at.Add(-time.Second), true},
		{"same second, before", "https://id.test", "ann", at.Truncate(time.Second), true},
		{"no iat", "https://id.test", "ann", time.Time{}, true},
		{"newer token", "https://id.test", "ann", at.Add(time.Second), false},
		{"another issuer's ann", "https://other.test", "ann", at.Add(-time.Second), false},
		{"every issuer's bob", "https://other.test", "bob", at.Add(-time.Second), true},
		{"someone else", "https://id.test", "carol", time.Time{}, false},
	} {
		if got := d.Revoked(tt.issuer, tt.subject, tt.iat); got != tt.want {
			t.Errorf("%s: Revoked = %v, want %v", tt.name, got, tt.want)
		}
	}
	// A revocation never moves back in time.
	d.Revoke(store.Revocation{Issuer: "https://id.test", Subject: "ann", RevokedBefore: at.Add(-time.Hour)})
	if !d.Revoked("https://id.test", "ann", at.Add(-time.Second)) {
		t.Error("an older revocation undid a newer one")
	}
}

func TestWatchesFire(t *testing.T) {
	d := New(&fakeStore{}, nil)
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	fired := make(chan string, 4)
	watch := func(name, subject string, iat time.Time) func() {
		return d.WatchSession("https://id.test", subject, iat, func() { fired <- name })
	}
	watch("old ann", "ann", at.Add(-time.Minute))
	watch("new ann", "ann", at.Add(time.Minute))
	watch("bob", "bob", at)
	stop := watch("stopped carol", "carol", at)
	stop()
	stop() // twice is fine
	d.Receive(`["revoked", "https://id.test", "ann", "2026-12-03T12:00:00Z"]`)
	if got := <-fired; got != "old ann" {
		t.Errorf("revocation fired %q, want old ann", got)
	}
	d.Receive(`["member", "https://id.test", "bob", null]`)
	if got := <-fired; got != "bob" {
		t.Errorf("membership change fired %q, want bob", got)
	}
	d.Receive(`["member", "https://id.test", "carol", null]`)
	d.Receive(`["member", "https://id.test", "ann", null]`) // ends the new ann's watch: the last to fire
	if got := <-fired; got != "new ann" {
		t.Errorf("%q fired, want new ann (a stopped watch fired?)", got)
	}
}

func TestReceiveGarbageForgetsEverything(t *testing.T) {
	st := &fakeStore{members: map[store.Identity]string{ann: "s1"}}
	d := New(st, nil)
	_, _, _ = d.Membership(context.Background(), ann.Issuer, ann.Subject)
	d.Receive(`not json`)
	_, _, _ = d.Membership(context.Background(), ann.Issuer, ann.Subject)
	if got := st.lookupCount(); got != 2 {
		t.Errorf("%d lookups, want 2: an unreadable announcement must drop the cache", got)
	}
}
