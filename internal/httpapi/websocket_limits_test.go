package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/testserver"
	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/partsmarket/gateway/internal/access"
)

// wsWait bounds every wait for something that should happen.
const wsWait = 3 * time.Second

// wsTestSecret signs the tests' tokens.
const wsTestSecret = "websocket limits test secret"

// fakeWatcher records WatchSeller calls and suspends on demand.
type fakeWatcher struct {
	mu      sync.Mutex
	watches map[string]func()
	stopped int
}

func (w *fakeWatcher) WatchSeller(sellerID string, f func()) func() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.watches[sellerID] = f
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.stopped++
	}
}

// suspend calls the watch of sellerID; false when there is none.
func (w *fakeWatcher) suspend(sellerID string) bool {
	w.mu.Lock()
	f := w.watches[sellerID]
	w.mu.Unlock()
	if f != nil {
		go f()
	}
	return f != nil
}

// wsServer serves gqlgen's test schema (its subscription runs until it is
// stopped) behind the gateway's websocket handler with limits.
func wsServer(t *testing.T, limits wsLimits, watch SellerWatcher) *httptest.Server {
	t.Helper()
	gql := testserver.New()
	auth := access.NewAuthenticator(access.TokenConfig{Secret: []byte(wsTestSecret)},
		func(context.Context, string) (string, error) { return "ACTIVE", nil })
	ws := newWebsockets(auth, nil, 0, slog.New(slog.DiscardHandler), watch, nil)
	ws.limits = limits
	gql.AddTransport(ws.transport())
	srv := httptest.NewServer(withClientIP(nil, ws.handler(nil, gql, http.NotFoundHandler())))
	t.Cleanup(srv.Close)
	return srv
}

// wsTestClient is a graphql-transport-ws client.
type wsTestClient struct {
	t    *testing.T
	conn *coderws.Conn
}

// dialWSTest opens a websocket to srv; the error is the dial's.
func dialWSTest(t *testing.T, srv *httptest.Server) (*wsTestClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	conn, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
		&coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &wsTestClient{t: t, conn: conn}, nil
}

// initWS dials and sends connection_init with token (none if ""), and
// waits for the ack.
func initWS(t *testing.T, srv *httptest.Server, token string) *wsTestClient {
	t.Helper()
	c, err := dialWSTest(t, srv)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	payload := map[string]any{}
	if token != "" {
		payload["Authorization"] = "Bearer " + token
	}
	c.send(map[string]any{"type": "connection_init", "payload": payload})
	if m := c.read(); m["type"] != "connection_ack" {
		t.Fatalf("got %v, want connection_ack", m)
	}
	return c
}

func (c *wsTestClient) send(m map[string]any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	if err := wsjson.Write(ctx, c.conn, m); err != nil {
		c.t.Fatalf("send %v: %v", m, err)
	}
}

// readErr reads the next message other than ping and pong.
func (c *wsTestClient) readErr() (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	for {
		var m map[string]any
		if err := wsjson.Read(ctx, c.conn, &m); err != nil {
			return nil, err
		}
		if m["type"] != "ping" && m["type"] != "pong" {
			return m, nil
		}
	}
}

func (c *wsTestClient) read() map[string]any {
	c.t.Helper()
	m, err := c.readErr()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// subscribe starts operation id with query.
func (c *wsTestClient) subscribe(id, query string) {
	c.send(map[string]any{"type": "subscribe", "id": id, "payload": map[string]any{"query": query}})
}

// closedWith reads until the connection closes and checks its code.
func (c *wsTestClient) closedWith(code coderws.StatusCode) {
	c.t.Helper()
	for {
		_, err := c.readErr()
		if err == nil {
			continue
		}
		if got := coderws.CloseStatus(err); got != code {
			c.t.Fatalf("connection ended with %v (status %d), want close %d", err, got, code)
		}
		return
	}
}

// refused reads operation id's answer and checks it is RATE_LIMITED.
func (c *wsTestClient) refused(id string) {
	c.t.Helper()
	m := c.read()
	raw, _ := json.Marshal(m)
	if m["id"] != id || m["type"] != "next" || !strings.Contains(string(raw), `"code":"RATE_LIMITED"`) {
		c.t.Fatalf("operation %s got %s, want a RATE_LIMITED error", id, raw)
	}
	if m := c.read(); m["id"] != id || m["type"] != "complete" {
		c.t.Fatalf("operation %s got %v after its error, want complete", id, m)
	}
}

// long is a wait no test reaches.
const long = time.Hour

// TestWebsocketOperationCap: a connection runs at most maxOperations at
// once; one more (a subscription or a query) is refused with RATE_LIMITED
// while the others go on, and a stopped one makes room.
func TestWebsocketOperationCap(t *testing.T) {
	srv := wsServer(t, wsLimits{maxOperations: 3, maxPerIP: 10, initTimeout: long, anonymousIdle: long}, nil)
	c := initWS(t, srv, "")
	for i := 1; i <= 3; i++ {
		c.subscribe(fmt.Sprint(i), "subscription { name }")
	}
	c.subscribe("4", "subscription { name }")
	c.refused("4")
	c.subscribe("q", "{ name }")
	c.refused("q")

	c.send(map[string]any{"type": "complete", "id": "1"})
	if m := c.read(); m["id"] != "1" || m["type"] != "complete" {
		t.Fatalf("stopping subscription 1: got %v, want its complete", m)
	}
	deadline := time.Now().Add(wsWait)
	for n := 0; ; n++ { // the stop is counted once its operation has ended
		id := fmt.Sprint("q", n)
		c.subscribe(id, "{ name }")
		answer, end := c.read(), c.read()
		if answer["id"] != id || end["id"] != id || end["type"] != "complete" {
			t.Fatalf("query %s: got %v then %v", id, answer, end)
		}
		if !strings.Contains(fmt.Sprint(answer["payload"]), "RATE_LIMITED") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a stopped subscription never made room")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWebsocketInitTimeout: a connection that sends no connection_init is
// closed with 4408.
func TestWebsocketInitTimeout(t *testing.T) {
	srv := wsServer(t, wsLimits{maxOperations: 3, maxPerIP: 10, initTimeout: 50 * time.Millisecond, anonymousIdle: long}, nil)
	c, err := dialWSTest(t, srv)
	if err != nil {
		t.Fatal(err)
	}
	c.closedWith(CloseIdle)
}

// TestWebsocketAnonymousIdle: an anonymous connection running nothing is
// closed with 4408, not while a subscription runs; a signed-in one is not.
func TestWebsocketAnonymousIdle(t *testing.T) {
	const idle = 100 * time.Millisecond
	srv := wsServer(t, wsLimits{maxOperations: 3, maxPerIP: 10, initTimeout: long, anonymousIdle: idle}, nil)

	initWS(t, srv, "").closedWith(CloseIdle)

	busy := initWS(t, srv, "")
	busy.subscribe("1", "subscription { name }")
	time.Sleep(3 * idle)
	busy.subscribe("q", "{ name }") // still open: it answers
	if m := busy.read(); m["id"] != "q" || m["type"] != "next" {
		t.Fatalf("a busy anonymous connection: got %v, want its query's answer", m)
	}
	busy.send(map[string]any{"type": "complete", "id": "1"})
	busy.closedWith(CloseIdle)

	token, err := access.Mint(access.TokenConfig{Secret: []byte(wsTestSecret)}, access.RoleAdmin, "admin-1", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	admin := initWS(t, srv, token)
	time.Sleep(3 * idle)
	admin.subscribe("q", "{ name }")
	if m := admin.read(); m["id"] != "q" || m["type"] != "next" {
		t.Fatalf("an idle signed-in connection: got %v, want its query's answer", m)
	}
}

// TestWebsocketsPerIP: a client IP holds at most maxPerIP connections; one
// more upgrade is refused with 429 and Retry-After, and a closed one makes
// room.
func TestWebsocketsPerIP(t *testing.T) {
	srv := wsServer(t, wsLimits{maxOperations: 3, maxPerIP: 2, initTimeout: long, anonymousIdle: long}, nil)
	first := initWS(t, srv, "")
	initWS(t, srv, "")
	_, err := dialWSTest(t, srv)
	if err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("a third websocket from one IP: %v, want 429", err)
	}
	_ = first.conn.Close(coderws.StatusNormalClosure, "")
	deadline := time.Now().Add(wsWait)
	for {
		c, err := dialWSTest(t, srv)
		if err == nil {
			_ = c.conn.CloseNow()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after one closed: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWebsocketSellerSuspended: a seller's connection is watched from its
// connection_init; the suspension closes it with 4403, and the watch ends
// with the connection.
func TestWebsocketSellerSuspended(t *testing.T) {
	watch := &fakeWatcher{watches: map[string]func(){}}
	srv := wsServer(t, wsLimits{maxOperations: 3, maxPerIP: 10, initTimeout: long, anonymousIdle: long}, watch)
	const seller = "00000000-0000-4000-8000-000000000001"
	token, err := access.Mint(access.TokenConfig{Secret: []byte(wsTestSecret)}, access.RoleSeller, "staff-1", seller, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c := initWS(t, srv, token)
	c.subscribe("1", "subscription { name }")
	if !watch.suspend(seller) {
		t.Fatal("the seller's connection is not watched")
	}
	c.closedWith(CloseForbidden)
	deadline := time.Now().Add(wsWait)
	for {
		watch.mu.Lock()
		stopped := watch.stopped
		watch.mu.Unlock()
		if stopped == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watch outlived its connection")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
