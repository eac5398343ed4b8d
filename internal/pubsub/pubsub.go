// Package pubsub carries new leads to live subscribers across gateway
// instances. store.CreateLead announces lead ids with pg_notify on
// store.LeadReceivedChannel when the leads' transaction commits (the ids of a
// batch of leads joined by commas); every gateway
// process runs one Hub, which LISTENs on that channel over a single lib/pq
// Listener connection (application_name=gateway-worker), looks each announced
// lead up once, and fans it out to the in-process subscribers of the lead's
// seller. A lead submitted through any instance therefore reaches the
// subscribers of every instance.
//
// # Slow subscribers
//
// Each subscription has a small buffer (Options.Buffer). Delivery never
// blocks: a subscriber whose buffer is full when a lead arrives is ended with
// ErrSlowConsumer (its channel is closed) rather than silently missing that
// lead. A client that is disconnected that way resubscribes and reads what it
// missed with the leads query; the other subscribers are never held up.
//
// # Suspended sellers
//
// A seller that becomes SUSPENDED is announced on SellerSuspendedChannel
// (a database trigger does it on commit, whatever wrote the row). The hub
// LISTENs there too and calls the functions WatchSeller registered for that
// seller: the gateway closes the seller's open websockets. After a lost
// connection it asks Options.SellerStatus about every watched seller.
//
// # Identities
//
// With Options.OnIdentityChanged set, the hub also LISTENs on
// store.IdentityChangedChannel (memberships and revocations) and hands each
// announcement to it (identity.Directory.Receive).
//
// # Lost connections
//
// lib/pq's Listener reconnects by itself. Notifications sent while the
// connection was down are lost, so after ListenerEventReconnected the hub
// catches up: it reads the leads created since shortly before the connection
// dropped (Options.CatchUp) and delivers those it has not seen yet.
package pubsub

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/store"
)

// ApplicationName tags the listener's connection in pg_stat_activity.
const ApplicationName = "gateway-worker"

// Store is what the hub reads leads with: a *store.Store on the worker pool.
type Store interface {
	Lead(ctx context.Context, scope store.Scope, id string) (*store.Lead, error)
	Leads(ctx context.Context, lq store.LeadQuery, p store.PageArgs) (store.Page[*store.Lead], error)
}

// Options configure a Hub. Zero durations and sizes take the defaults.
type Options struct {
	// DatabaseURL is the server to LISTEN on (postgres:// or key=value form).
	DatabaseURL string
	// Store looks announced leads up (every scope: the hub sees all leads).
	Store Store
	// Log receives connection events and failures; never personal data.
	Log *slog.Logger
	// Buffer is each subscription's buffer of undelivered leads (default 16).
	Buffer int
	// OnPublicChanged, when set, is called with the payload of every
	// announcement on store.PublicChangedChannel (the cache tags a write
	// changed: tagcache.Invalidator.Receive), and with "" after a
	// reconnection (announcements may have been lost: everything may have
	// changed).
	OnPublicChanged func(payload string)
	// OnIdentityChanged, when set, is called with the payload of every
	// announcement on store.IdentityChangedChannel (a membership or a
	// revocation changed: identity.Directory.Receive), and with "" after a
	// reconnection.
	OnIdentityChanged func(payload string)
	// SellerStatus, when set, reads a seller's status ("SUSPENDED", ...):
	// after a lost connection the hub asks it about every watched seller,
	// since announcements of suspensions may have been lost.
	SellerStatus func(ctx context.Context, sellerID string) (string, error)
	// Workers is how many lookups run at once (default 2).
	Workers int
	// MinReconnect and MaxReconnect bound the listener's reconnection
	// back-off (defaults 1 s and 30 s).
	MinReconnect, MaxReconnect time.Duration
	// PingInterval is how often an idle listener connection is checked
	// (default 30 s), so a dead connection is noticed and replaced.
	PingInterval time.Duration
	// CatchUp is how far before a lost connection the catch-up read starts
	// (default 1 min): a lead's created_at is taken when its transaction
	// begins, a little before it commits and is announced.
	CatchUp time.Duration
}

// Errors that end a subscription (Subscription.Err).
var (
	// ErrSlowConsumer ends a subscription whose buffer was full when a lead
	// arrived for it.
	ErrSlowConsumer = store.Errorf(store.EINTERNAL, "live updates: the subscriber fell behind")
	// ErrClosed ends subscriptions when the hub shuts down; Subscribe returns
	// it afterwards.
	ErrClosed = store.Errorf(store.EINTERNAL, "live updates: shutting down")
)

// SellerSuspendedChannel is the PostgreSQL NOTIFY channel on which a
// seller's id is announced when it becomes SUSPENDED (migration 00019's
// trigger).
const SellerSuspendedChannel = "seller_suspended"

const (
	lookupTimeout  = 5 * time.Second
	catchUpTimeout = 10 * time.Second
	catchUpPages   = 20 // of 100 leads
	seenIDs        = 4096
)

// Hub is one process's listener and its subscribers. Start it once; Close
// ends it. Its methods are safe for concurrent use.
type Hub struct {
	o        Options
	listener *pq.Listener
	ids      chan string
	wg       sync.WaitGroup

	mu      sync.Mutex
	subs    map[string]map[*Subscription]struct{} // by seller id
	nsubs   int
	watches map[string]map[*watch]struct{} // by seller id
	closed  bool

	connected      atomic.Bool
	disconnectedAt atomic.Int64 // unix nanoseconds of the last lost connection

	startOnce, closeOnce sync.Once

	// seen remembers recently announced ids, for the catch-up; only the
	// receive loop touches it.
	seen     map[string]struct{}
	seenRing []string
	seenNext int
}

// New returns a Hub that has not started listening yet.
func New(o Options) *Hub {
	if o.Buffer <= 0 {
		o.Buffer = 16
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.MinReconnect <= 0 {
		o.MinReconnect = time.Second
	}
	if o.MaxReconnect < o.MinReconnect {
		o.MaxReconnect = max(30*time.Second, o.MinReconnect)
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.CatchUp <= 0 {
		o.CatchUp = time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Hub{
		o:        o,
		ids:      make(chan string, 256),
		subs:     map[string]map[*Subscription]struct{}{},
		watches:  map[string]map[*watch]struct{}{},
		seen:     make(map[string]struct{}, seenIDs),
		seenRing: make([]string, seenIDs),
	}
}

// Start connects the listener and returns once LISTEN is acknowledged, so a
// lead committed after Start returns is delivered; it fails when ctx ends
// first. It returns an EINTERNAL *store.Error for a bad database URL.
func (h *Hub) Start(ctx context.Context) error {
	var err error = ErrClosed
	h.startOnce.Do(func() { err = h.start(ctx) })
	return err
}

func (h *Hub) start(ctx context.Context) error {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return ErrClosed
	}
	dsn, err := database.WithApplicationName(h.o.DatabaseURL, ApplicationName)
	if err != nil {
		return err
	}
	l := pq.NewListener(dsn, h.o.MinReconnect, h.o.MaxReconnect, h.event)
	listened := make(chan error, 1)
	go func() {
		err := l.Listen(store.LeadReceivedChannel)
		if err == nil {
			err = l.Listen(SellerSuspendedChannel)
		}
		if err == nil && h.o.OnPublicChanged != nil {
			err = l.Listen(store.PublicChangedChannel)
		}
		if err == nil && h.o.OnIdentityChanged != nil {
			err = l.Listen(store.IdentityChangedChannel)
		}
		listened <- err
	}()
	select {
	case err = <-listened:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		_ = l.Close()
		go func() {
			for range l.Notify { // let the listener's goroutine finish
			}
		}()
		return store.Errorf(store.EINTERNAL, "live updates: listen: %v", err)
	}
	h.connected.Store(true)
	h.mu.Lock()
	h.listener = l
	h.mu.Unlock()
	h.wg.Add(1 + h.o.Workers)
	go h.receive(l)
	for range h.o.Workers {
		go h.lookup()
	}
	return nil
}

// Close stops listening, waits for the lookups under way and ends every
// subscription with ErrClosed. It is safe to call more than once, and
// without Start.
func (h *Hub) Close() {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.closed = true
		l := h.listener
		h.mu.Unlock()
		if l != nil {
			_ = l.Close()
			h.wg.Wait()
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, set := range h.subs {
			for s := range set {
				h.endLocked(s, ErrClosed)
			}
		}
	})
}

// Subscribe returns a subscription to the new leads of sellerID. The caller
// has checked that its principal may watch that seller, and must Close the
// subscription when done. After Close of the hub it returns ErrClosed.
func (h *Hub) Subscribe(sellerID string) (*Subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	s := &Subscription{hub: h, sellerID: sellerID, ch: make(chan *store.Lead, h.o.Buffer)}
	set := h.subs[sellerID]
	if set == nil {
		set = map[*Subscription]struct{}{}
		h.subs[sellerID] = set
	}
	set[s] = struct{}{}
	h.nsubs++
	return s, nil
}

// Subscribers returns how many subscriptions are open; it returns no error.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nsubs
}

// Subscription is one subscriber's stream of new leads of one seller.
type Subscription struct {
	hub      *Hub
	sellerID string
	ch       chan *store.Lead
	ended    bool  // under hub.mu
	err      error // under hub.mu; set when ended
}

// Leads returns the stream; it is closed when the subscription ends. Each
// lead is the subscriber's own copy.
func (s *Subscription) Leads() <-chan *store.Lead { return s.ch }

// Err returns why the subscription ended: nil after Close (or while it is
// open), ErrSlowConsumer or ErrClosed.
func (s *Subscription) Err() error {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.err
}

// Close ends the subscription; it is safe to call more than once and
// returns no error.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.endLocked(s, nil)
}

// endLocked removes s and closes its stream; h.mu is held.
func (h *Hub) endLocked(s *Subscription, err error) {
	if s.ended {
		return
	}
	s.ended, s.err = true, err
	close(s.ch)
	if set := h.subs[s.sellerID]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(h.subs, s.sellerID)
		}
	}
	h.nsubs--
}

// deliver hands lead to the subscribers of its seller without blocking.
func (h *Hub) deliver(lead *store.Lead) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[lead.SellerID] {
		own := *lead
		select {
		case s.ch <- &own:
		default:
			h.endLocked(s, ErrSlowConsumer)
			h.o.Log.Warn("live updates: subscriber fell behind; disconnected")
		}
	}
}

// event is the listener's connection callback; it must not block.
func (h *Hub) event(ev pq.ListenerEventType, err error) {
	switch ev {
	case pq.ListenerEventConnected:
		h.connected.Store(true)
	case pq.ListenerEventDisconnected:
		h.connected.Store(false)
		h.disconnectedAt.Store(time.Now().UnixNano())
		h.o.Log.Warn("live updates: listener connection lost; reconnecting", "error", errText(err))
	case pq.ListenerEventReconnected:
		h.connected.Store(true)
		h.o.Log.Info("live updates: listener reconnected")
	case pq.ListenerEventConnectionAttemptFailed:
		h.o.Log.Warn("live updates: listener connection attempt failed", "error", errText(err))
	}
}

// receive reads notifications until the listener is closed and queues their
// lead ids for lookup; after a reconnection it catches up.
func (h *Hub) receive(l *pq.Listener) {
	defer h.wg.Done()
	defer close(h.ids)
	ping := time.NewTicker(h.o.PingInterval)
	defer ping.Stop()
	for {
		select {
		case n, ok := <-l.Notify:
			switch {
			case !ok:
				return
			case n == nil: // ListenerEventReconnected: notifications may be lost
				h.publicChanged("")
				h.identityChanged("")
				go h.recheckSellers()
				h.catchUp()
			case n.Channel == store.PublicChangedChannel:
				h.publicChanged(n.Extra)
			case n.Channel == store.IdentityChangedChannel:
				h.identityChanged(n.Extra)
			case n.Channel == SellerSuspendedChannel:
				h.sellerSuspended(n.Extra)
			case n.Channel == store.LeadReceivedChannel:
				for id := range strings.SplitSeq(n.Extra, ",") { // a batch's leads
					if h.remember(id) && h.Subscribers() > 0 {
						h.ids <- id
					}
				}
			}
		case <-ping.C:
			// Ping from its own goroutine: it waits for a reply that the
			// listener may only read once this loop takes notifications.
			go func() { _ = l.Ping() }()
		}
	}
}

// watch is one WatchSeller registration.
type watch struct {
	sellerID string
	f        func()
}

// WatchSeller calls f, once and on a goroutine of its own, when sellerID
// becomes SUSPENDED, whichever instance suspended it; stop ends the watch
// (it is safe to call more than once). It returns no error.
func (h *Hub) WatchSeller(sellerID string, f func()) (stop func()) {
	w := &watch{sellerID: sellerID, f: f}
	h.mu.Lock()
	set := h.watches[sellerID]
	if set == nil {
		set = map[*watch]struct{}{}
		h.watches[sellerID] = set
	}
	set[w] = struct{}{}
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.unwatchLocked(w)
	}
}

// Watched returns how many WatchSeller registrations are open; it returns
// no error.
func (h *Hub) Watched() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.watches {
		n += len(set)
	}
	return n
}

// unwatchLocked removes w; h.mu is held.
func (h *Hub) unwatchLocked(w *watch) {
	if set := h.watches[w.sellerID]; set != nil {
		delete(set, w)
		if len(set) == 0 {
			delete(h.watches, w.sellerID)
		}
	}
}

// sellerSuspended ends the watches of sellerID, calling each one's function.
func (h *Hub) sellerSuspended(sellerID string) {
	h.mu.Lock()
	set := h.watches[sellerID]
	delete(h.watches, sellerID)
	h.mu.Unlock()
	for w := range set {
		go w.f()
	}
}

// recheckSellers asks Options.SellerStatus about every watched seller and
// ends the watches of those found SUSPENDED.
func (h *Hub) recheckSellers() {
	if h.o.SellerStatus == nil {
		return
	}
	h.mu.Lock()
	ids := make([]string, 0, len(h.watches))
	for id := range h.watches {
		ids = append(ids, id)
	}
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), catchUpTimeout)
	defer cancel()
	for _, id := range ids {
		status, err := h.o.SellerStatus(ctx, id)
		switch {
		case err != nil:
			h.o.Log.Error("live updates: seller status check after reconnection failed", "seller_id", id, "error", err.Error())
		case status == string(store.SellerSuspended):
			h.sellerSuspended(id)
		}
	}
}

// publicChanged calls Options.OnPublicChanged, if set, with payload.
func (h *Hub) publicChanged(payload string) {
	if h.o.OnPublicChanged != nil {
		h.o.OnPublicChanged(payload)
	}
}

// identityChanged calls Options.OnIdentityChanged, if set, with payload.
func (h *Hub) identityChanged(payload string) {
	if h.o.OnIdentityChanged != nil {
		h.o.OnIdentityChanged(payload)
	}
}

// lookup reads queued leads and delivers them.
func (h *Hub) lookup() {
	defer h.wg.Done()
	for id := range h.ids {
		if !store.ValidID(id) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
		lead, err := h.o.Store.Lead(ctx, store.Scope{All: true}, id)
		cancel()
		switch {
		case store.ErrorCode(err) == store.ENOTFOUND:
			continue // erased since
		case err != nil:
			h.o.Log.Error("live updates: lead lookup failed", "lead_id", id, "error", err.Error())
			continue
		case lead.Status == store.LeadSpam:
			continue
		}
		h.deliver(lead)
	}
}

// catchUp delivers the leads created since shortly before the connection
// was lost that were not announced to this hub, oldest first.
func (h *Hub) catchUp() {
	lost := h.disconnectedAt.Load()
	if lost == 0 || h.Subscribers() == 0 {
		return
	}
	from := time.Unix(0, lost).Add(-h.o.CatchUp)
	ctx, cancel := context.WithTimeout(context.Background(), catchUpTimeout)
	defer cancel()
	var missed []*store.Lead
	p := store.PageArgs{Limit: 100}
	for range catchUpPages {
		page, err := h.o.Store.Leads(ctx, store.LeadQuery{Scope: store.Scope{All: true},
			Filter: store.LeadFilter{From: &from}}, p)
		if err != nil {
			h.o.Log.Error("live updates: catch-up after reconnection failed", "error", err.Error())
			break
		}
		for _, lead := range page.Items {
			if h.remember(lead.ID) {
				missed = append(missed, lead)
			}
		}
		if !page.HasNextPage || len(page.Cursors) == 0 {
			break
		}
		c, err := store.DecodeCursor(page.Cursors[len(page.Cursors)-1])
		if err != nil {
			break
		}
		p.After = c
	}
	for i := len(missed) - 1; i >= 0; i-- { // newest first → oldest first
		h.deliver(missed[i])
	}
	if len(missed) > 0 {
		h.o.Log.Info("live updates: delivered leads missed while reconnecting", "count", len(missed))
	}
}

// remember records id as seen and reports whether it was new.
func (h *Hub) remember(id string) bool {
	if _, ok := h.seen[id]; ok {
		return false
	}
	if old := h.seenRing[h.seenNext]; old != "" {
		delete(h.seen, old)
	}
	h.seenRing[h.seenNext] = id
	h.seenNext = (h.seenNext + 1) % len(h.seenRing)
	h.seen[id] = struct{}{}
	return true
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return string(pqErr.Code) + " " + pqErr.Message
	}
	return err.Error()
}
