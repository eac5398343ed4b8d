package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/partsmarket/gateway/internal/access"
)

// liveWait bounds every wait for something that should happen. It says
// nothing of speed: it only keeps a broken test from hanging, so it is
// generous for a loaded machine.
const liveWait = 10 * time.Second

const subLeadReceived = `subscription($s: ID!) { leadReceived(sellerId: $s) {
	id status buyerName email message seller { id } listing { id title } } }`

// newTestAPIOn starts a second gateway on first's database, as another
// instance of a deployment would be.
func newTestAPIOn(t *testing.T, first *testAPI) *testAPI {
	t.Helper()
	cfg := first.Config
	logs := &syncBuffer{}
	a, err := newApp(context.Background(), cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	srv := httptest.NewServer(a.handler)
	t.Cleanup(func() {
		srv.Close()
		a.close(context.Background())
	})
	return &testAPI{t: t, URL: srv.URL, DB: first.DB, Store: first.Store, Config: cfg, app: a, logs: logs}
}

// wsClient is a graphql-transport-ws client for tests; it answers pings.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	// older are the ids of leads of the subscribed seller committed before
	// it subscribed (the fixture's): their announcement may still be on its
	// way when the subscription starts, so nextLead passes over them.
	older map[string]bool
}

// wsMessage is one graphql-transport-ws message.
type wsMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS opens a websocket to the gateway, with an Origin header unless
// origin is "".
func (a *testAPI) dialWS(origin string) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	return websocket.Dial(ctx, "ws"+strings.TrimPrefix(a.URL, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h,
	})
}

// connect dials and sends connection_init with payload; it does not wait
// for the ack.
func (a *testAPI) connect(t *testing.T, payload map[string]any) *wsClient {
	t.Helper()
	conn, _, err := a.dialWS("")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	c := &wsClient{t: t, conn: conn}
	c.send(wsMessage{Type: "connection_init", Payload: mustJSON(payload)})
	return c
}

// subscriber connects with token, waits for the ack, subscribes to
// sellerID's leads as operation "1" and waits until the gateway has
// registered the subscription (the protocol does not acknowledge it).
// older are leads of sellerID stored before (see wsClient.older).
func (a *testAPI) subscriber(token, sellerID string, older ...string) *wsClient {
	a.t.Helper()
	before := a.app.live.Subscribers()
	c := a.connect(a.t, map[string]any{"Authorization": "Bearer " + token})
	if m := c.read(); m.Type != "connection_ack" {
		a.t.Fatalf("got %+v, want connection_ack", m)
	}
	c.older = map[string]bool{}
	for _, id := range older {
		c.older[id] = true
	}
	c.subscribe("1", sellerID)
	deadline := time.Now().Add(liveWait)
	for a.app.live.Subscribers() <= before {
		if time.Now().After(deadline) {
			a.t.Fatal("the subscription was not registered")
		}
		time.Sleep(2 * time.Millisecond)
	}
	return c
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func (c *wsClient) send(m wsMessage) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, mustJSON(m)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *wsClient) subscribe(id, sellerID string) {
	c.t.Helper()
	c.send(wsMessage{Type: "subscribe", ID: id, Payload: mustJSON(map[string]any{
		"query": subLeadReceived, "variables": map[string]any{"s": sellerID}})})
}

// readWithin returns the next message other than ping (answered) within d,
// or the error that ended the read.
func (c *wsClient) readWithin(d time.Duration) (wsMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return wsMessage{}, err
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return wsMessage{}, err
		}
		if m.Type == "ping" {
			c.send(wsMessage{Type: "pong"})
			continue
		}
		return m, nil
	}
}

// read returns the next message within liveWait or fails.
func (c *wsClient) read() wsMessage {
	c.t.Helper()
	m, err := c.readWithin(liveWait)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// nextLead returns the lead of the next "next" message within d, passing
// over c.older.
func (c *wsClient) nextLead(d time.Duration) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		lead := c.nextEvent(time.Until(deadline))
		if id, _ := lead["id"].(string); !c.older[id] {
			return lead
		}
	}
}

// nextEvent returns the lead of the next "next" message within d.
func (c *wsClient) nextEvent(d time.Duration) map[string]any {
	c.t.Helper()
	m, err := c.readWithin(d)
	if err != nil {
		c.t.Fatalf("no lead within %v: %v", d, err)
	}
	if m.Type != "next" {
		c.t.Fatalf("got %s %s, want next", m.Type, m.Payload)
	}
	var p struct {
		Data   struct{ LeadReceived map[string]any } `json:"data"`
		Errors []gqlError                            `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		c.t.Fatal(err)
	}
	if len(p.Errors) > 0 || p.Data.LeadReceived == nil {
		c.t.Fatalf("lead event: %s", m.Payload)
	}
	return p.Data.LeadReceived
}

// quiet checks that no message arrives within d. coder/websocket closes the
// connection when a read's context ends, so it is the client's last call.
func (c *wsClient) quiet(d time.Duration) {
	c.t.Helper()
	m, err := c.readWithin(d)
	if err == nil {
		c.t.Fatalf("unexpected message %s %s", m.Type, m.Payload)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		c.t.Fatalf("connection ended: %v", err)
	}
}

// closedWith waits for the server to close the connection and checks the code.
func (c *wsClient) closedWith(code websocket.StatusCode) {
	c.t.Helper()
	deadline := time.Now().Add(liveWait)
	for {
		_, err := c.readWithin(time.Until(deadline))
		if err == nil {
			continue // e.g. the operation's error message before the close
		}
		if got := websocket.CloseStatus(err); got != code {
			c.t.Fatalf("connection ended with %v (status %d), want close %d", err, got, code)
		}
		return
	}
}

var leadSeq atomic.Int64

// submitLiveLead submits a lead for listingID anonymously and returns its id.
func (a *testAPI) submitLiveLead(listingID string) string {
	a.t.Helper()
	n := leadSeq.Add(1)
	r := a.mustPost("", mutSubmitLead, map[string]any{"input": map[string]any{
		"listingId": listingID, "buyerName": "Live Buyer", "email": fmt.Sprintf("live%d@example.com", n),
		"message": "Still available?", "captchaToken": "ok"}})
	id, _ := r.Get("submitLead.leadId").(string)
	if id == "" {
		a.t.Fatalf("submitLead: %s", r.Raw)
	}
	return id
}

func TestLeadReceivedOwnLeadsOnly(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	a := api.subscriber(f.TokenA, f.SellerA.ID, f.LeadA)
	b := api.subscriber(f.TokenB, f.SellerB.ID, f.LeadB)

	leadA := api.submitLiveLead(f.ListingA.ID)
	got := a.nextLead(liveWait)
	if got["id"] != leadA || got["email"] != fmt.Sprintf("live%d@example.com", leadSeq.Load()) ||
		got["buyerName"] != "Live Buyer" || got["status"] != "NEW" {
		t.Fatalf("seller A got %v, want lead %s with its personal data", got, leadA)
	}
	if seller, _ := got["seller"].(map[string]any); seller["id"] != f.SellerA.ID {
		t.Fatalf("lead seller = %v", got["seller"])
	}
	if listing, _ := got["listing"].(map[string]any); listing["id"] != f.ListingA.ID {
		t.Fatalf("lead listing = %v", got["listing"])
	}

	leadB := api.submitLiveLead(f.ListingB.ID)
	if got := b.nextLead(liveWait); got["id"] != leadB {
		t.Fatalf("seller B got %v, want %s", got["id"], leadB)
	}
	// A's lead never reached B: B's first event was its own. B's lead and
	// a lead caught by the honeypot never reach A: A's next event is the
	// lead submitted after them.
	api.post("", mutSubmitLead, map[string]any{"input": map[string]any{"listingId": f.ListingA.ID,
		"buyerName": "Bot", "email": "bot@example.com", "message": "spam", "captchaToken": "ok", "website": "http://spam"}})
	leadA = api.submitLiveLead(f.ListingA.ID)
	if got := a.nextLead(liveWait); got["id"] != leadA {
		t.Fatalf("seller A got %v, want %s", got["id"], leadA)
	}
	a.quiet(100 * time.Millisecond) // and nothing else (this ends the client)
}

func TestLeadReceivedBadTokenCloses4401(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	for name, payload := range map[string]map[string]any{
		"bad signature": {"Authorization": "Bearer " + f.TokenA + "x"},
		"not bearer":    {"authorization": "Basic abc"},
		"not a string":  {"Authorization": 42},
	} {
		t.Run(name, func(t *testing.T) {
			api.connect(t, payload).closedWith(4401)
		})
	}
	// The key is matched ignoring case.
	c := api.connect(t, map[string]any{"AUTHORIZATION": "Bearer " + f.TokenA})
	if m := c.read(); m.Type != "connection_ack" {
		t.Fatalf("got %+v, want connection_ack", m)
	}
	// A bad HTTP Authorization header is no concern of a websocket upgrade.
	h := http.Header{"Authorization": {"Bearer nonsense"}}
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(api.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h})
	if err != nil {
		t.Fatalf("upgrade with a bad HTTP Authorization header: %v", err)
	}
	_ = conn.CloseNow()
}

func TestLeadReceivedForbiddenCloses4403(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	cases := map[string]struct{ token, seller string }{
		"other seller": {f.TokenA, f.SellerB.ID},
		"analyst":      {f.Analyst, f.SellerA.ID},
		"anonymous":    {"", f.SellerA.ID},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			payload := map[string]any{}
			if tc.token != "" {
				payload["Authorization"] = "Bearer " + tc.token
			}
			c := api.connect(t, payload)
			if m := c.read(); m.Type != "connection_ack" {
				t.Fatalf("got %+v, want connection_ack", m)
			}
			c.subscribe("1", tc.seller)
			c.closedWith(4403)
		})
	}
}

func TestLeadReceivedAdminAnySeller(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	admin := api.subscriber(f.Admin, f.SellerB.ID, f.LeadB)
	lead := api.submitLiveLead(f.ListingB.ID)
	if got := admin.nextLead(liveWait); got["id"] != lead || got["email"] == nil {
		t.Fatalf("admin got %v, want lead %s with its personal data", got, lead)
	}
}

func TestLeadReceivedAcrossInstances(t *testing.T) {
	first := newTestAPI(t, nil)
	f := first.newFixture()
	second := newTestAPIOn(t, first)
	onFirst := first.subscriber(f.TokenA, f.SellerA.ID, f.LeadA)
	onSecond := second.subscriber(f.TokenA, f.SellerA.ID, f.LeadA)

	lead := second.submitLiveLead(f.ListingA.ID)
	if got := onFirst.nextLead(liveWait); got["id"] != lead {
		t.Fatalf("first instance's client got %v, want %s", got["id"], lead)
	}
	if got := onSecond.nextLead(liveWait); got["id"] != lead {
		t.Fatalf("second instance's client got %v, want %s", got["id"], lead)
	}
	lead = first.submitLiveLead(f.ListingA.ID)
	if got := onSecond.nextLead(liveWait); got["id"] != lead {
		t.Fatalf("second instance's client got %v, want %s", got["id"], lead)
	}
}

func TestWebsocketOrigins(t *testing.T) {
	api := newTestAPI(t, map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com"})
	for origin, ok := range map[string]bool{
		"https://app.example.com":  true,
		"https://evil.example.com": false,
		"http://app.example.com":   false,
		api.URL:                    true, // same origin
		"":                         true, // no browser
	} {
		conn, resp, err := api.dialWS(origin)
		if ok && err != nil {
			t.Errorf("origin %q refused: %v", origin, err)
		}
		if !ok {
			if err == nil {
				t.Errorf("origin %q accepted", origin)
			} else if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("origin %q: %v, want 403", origin, err)
			}
		}
		if conn != nil {
			_ = conn.CloseNow()
		}
	}
}

func TestShutdownClosesSubscriptions(t *testing.T) {
	first := newTestAPI(t, nil)
	f := first.newFixture()
	second := newTestAPIOn(t, first)
	c := second.subscriber(f.TokenA, f.SellerA.ID)
	second.app.live.Close()
	c.closedWith(websocket.StatusGoingAway)
}

// TestLeadReceivedClosesWhenTheTokenExpires: a live inbox lives no longer
// than its token.
func TestLeadReceivedClosesWhenTheTokenExpires(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	tok, err := access.Mint(access.TokenConfig{Secret: []byte(api.Config.JWTSecret)}, access.RoleSeller, "short-lived",
		f.SellerA.ID, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := api.subscriber(tok, f.SellerA.ID)
	c.closedWith(websocket.StatusNormalClosure)
}
