package pubsub

import (
	"context"
	"testing"
	"time"

	"github.com/partsmarket/gateway/store"
)

// watched registers a watch of sellerID whose call closes the returned
// channel.
func watched(h *Hub, sellerID string) (<-chan struct{}, func()) {
	called := make(chan struct{})
	stop := h.WatchSeller(sellerID, func() { close(called) })
	return called, stop
}

// calledWithin reports whether ch closes within d.
func calledWithin(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// TestSuspensionReachesTheSellersWatches: suspending a seller, through the
// store as an admin does, calls the watches of that seller only, once; a
// stopped watch is not called; other status changes call nothing.
func TestSuspensionReachesTheSellersWatches(t *testing.T) {
	e := newEnv(t)
	a, b := e.seller("Alpha"), e.seller("Bravo")
	h := e.hub(Options{})
	onA, _ := watched(h, a)
	onA2, _ := watched(h, a)
	stoppedA, stop := watched(h, a)
	stop()
	onB, _ := watched(h, b)

	ctx := context.Background()
	if _, err := e.st.SetSellerStatus(ctx, b, store.SellerActive); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.SetSellerStatus(ctx, a, store.SellerSuspended); err != nil {
		t.Fatal(err)
	}
	if !calledWithin(onA, wait) || !calledWithin(onA2, wait) {
		t.Fatal("the suspended seller's watches were not called")
	}
	if calledWithin(stoppedA, 100*time.Millisecond) {
		t.Error("a stopped watch was called")
	}
	if calledWithin(onB, 100*time.Millisecond) {
		t.Error("another seller's watch was called")
	}
	if n := h.Watched(); n != 1 {
		t.Errorf("%d watches left, want Bravo's", n)
	}
}

// TestSuspensionWhileDisconnected: a seller suspended while the hub's
// connection is down is found by the status check after it reconnects.
func TestSuspensionWhileDisconnected(t *testing.T) {
	e := newEnv(t)
	a := e.seller("Alpha")
	h := e.hub(Options{MinReconnect: 1500 * time.Millisecond, MaxReconnect: 2 * time.Second, SellerStatus: e.st.SellerStatus})
	onA, _ := watched(h, a)

	if _, err := e.db.Exec(`SELECT pg_terminate_backend($1)`, e.listenerPID()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for h.connected.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the hub did not notice the lost connection")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := e.st.SetSellerStatus(context.Background(), a, store.SellerSuspended); err != nil {
		t.Fatal(err)
	}
	if !calledWithin(onA, 5*time.Second) {
		t.Fatal("a suspension announced while disconnected was not caught up")
	}
}
