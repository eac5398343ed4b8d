package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/internal/abuse"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/loaders"
	"github.com/partsmarket/gateway/store"
)

// Websocket close codes the gateway uses: RFC 6455's and graphql-transport-ws's.
const (
	// CloseGoingAway (1001): the gateway is shutting down; reconnect.
	CloseGoingAway = 1001
	// CloseInternalError (1011): the connection could not be set up.
	CloseInternalError = 1011
	// CloseTryAgainLater (1013): the client fell behind the events sent to it;
	// reconnect, resubscribe and read what was missed with a query.
	CloseTryAgainLater = 1013
	// CloseUnauthorized (4401): the token in connection_init is bad, its
	// session was revoked or its identity's membership changed while the
	// connection was open, or the seller it is a member of was suspended.
	CloseUnauthorized = 4401
	// CloseForbidden (4403): the principal may not subscribe to that, or its
	// seller was suspended while the connection was open.
	CloseForbidden = 4403
	// CloseIdle (4408): no connection_init in time (graphql-transport-ws's
	// code for it), or an anonymous connection with nothing running for too
	// long.
	CloseIdle = 4408
)

// wsLimits bound what one client holds open.
type wsLimits struct {
	// maxOperations bounds the operations (subscriptions, and queries or
	// mutations sent over the socket) running at once on one connection;
	// one more is answered with a RATE_LIMITED error, and the connection
	// and its other operations go on.
	maxOperations int
	// maxPerIP bounds the open websockets of one client IP (an IPv6
	// client's /64); one more upgrade is refused with 429.
	maxPerIP int
	// initTimeout is how long a client has to send connection_init.
	initTimeout time.Duration
	// anonymousIdle is how long an anonymous connection may run nothing.
	anonymousIdle time.Duration
}

// defaultWSLimits are the gateway's websocket limits.
var defaultWSLimits = wsLimits{maxOperations: 10, maxPerIP: 32, initTimeout: 5 * time.Second, anonymousIdle: 30 * time.Second}

// wsPingInterval is how often the server pings a graphql-transport-ws
// client (and sends "ka" to a legacy graphql-ws client); a client that does
// not answer within twice the interval is disconnected.
const wsPingInterval = 15 * time.Second

// SellerWatcher tells when a seller is suspended (pubsub.Hub).
type SellerWatcher interface {
	// WatchSeller calls f once sellerID is suspended, in any gateway
	// instance; stop ends the watch.
	WatchSeller(sellerID string, f func()) (stop func())
}

// SessionWatcher tells when a signed-in session ends early
// (identity.Directory).
type SessionWatcher interface {
	// WatchSession calls f once the session of (issuer, subject) issued
	// at issuedAt is revoked or the identity's membership changes, in any
	// gateway instance; stop ends the watch.
	WatchSession(issuer, subject string, issuedAt time.Time, f func()) (stop func())
}

// websockets serves graphql-transport-ws (and graphql-ws for older
// clients) within wsLimits: see transport and handler.
type websockets struct {
	auth       *access.Authenticator
	st         *store.Store
	loaderWait time.Duration
	log        *slog.Logger
	watch      SellerWatcher  // nil: suspensions close nothing
	sessions   SessionWatcher // nil: revocations close nothing
	limits     wsLimits

	mu    sync.Mutex
	perIP map[string]int // open connections by abuse.IPUnit
}

// newWebsockets returns the websocket side of the gateway; watch and
// sessions may be nil.
func newWebsockets(auth *access.Authenticator, st *store.Store, loaderWait time.Duration, log *slog.Logger, watch SellerWatcher, sessions SessionWatcher) *websockets {
	return &websockets{auth: auth, st: st, loaderWait: loaderWait, log: log, watch: watch, sessions: sessions,
		limits: defaultWSLimits, perIP: map[string]int{}}
}

// transport returns gqlgen's websocket transport. connection_init's
// Authorization value is authenticated like the HTTP header: a bad token
// closes the socket with 4401; the principal goes into the connection's
// context, which every operation on it inherits, and each operation gets
// loaders of its own (in the principal's scope), so that one operation's
// end never cancels another's reads. A seller token's connection closes
// with 4403 when the seller is suspended, a member's with 4401; a signed-in
// connection closes with 4401 when its session is revoked or its
// identity's membership changes, and every connection when its token
// expires.
func (ws *websockets) transport() graphql.Transport {
	return wsTransport{ws: ws, Websocket: transport.Websocket{
		Implementation:        wsImplementation{},
		KeepAlivePingInterval: wsPingInterval,
		PingPongInterval:      wsPingInterval,
		InitFunc:              ws.init,
		ErrorFunc: func(ctx context.Context, err error) {
			ws.log.DebugContext(ctx, "websocket error", "request_id", RequestID(ctx), "error", err.Error())
		},
	}}
}

// init is the transport's InitFunc.
func (ws *websockets) init(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	header, ok := initAuthorization(payload)
	if !ok {
		ctx = transport.WithWebsocketCloseCode(ctx, CloseUnauthorized)
		return transport.AppendCloseReason(ctx, "Unauthorized"), nil, store.Errorf(store.EUNAUTHENTICATED, "invalid token")
	}
	p, err := ws.auth.Authenticate(ctx, header)
	if err != nil {
		if store.ErrorCode(err) == store.EUNAUTHENTICATED {
			ctx = transport.WithWebsocketCloseCode(ctx, CloseUnauthorized)
			return transport.AppendCloseReason(ctx, "Unauthorized"), nil, err
		}
		ws.log.ErrorContext(ctx, "websocket authentication failed", "request_id", RequestID(ctx), "error", err.Error())
		ctx = transport.WithWebsocketCloseCode(ctx, CloseInternalError)
		return transport.AppendCloseReason(ctx, "Internal error"), nil,
			store.Errorf(store.EINTERNAL, "internal server error")
	}
	if info := infoFrom(ctx); info != nil {
		info.role.Store(p.Role)
	}
	if c, ok := ctx.Value(wsControlKey{}).(*wsControl); ok {
		c.initialised(p.Anonymous())
		if p.SellerID != "" && ws.watch != nil {
			code := CloseForbidden
			if p.MemberRole != "" {
				code = CloseUnauthorized // the member's sign-in no longer grants the seller
			}
			c.onEnd(ws.watch.WatchSeller(p.SellerID, func() { _ = c.close(code, "Seller suspended") }))
		}
		if !p.Anonymous() && ws.sessions != nil {
			c.onEnd(ws.sessions.WatchSession(p.Issuer, p.Subject, p.IssuedAt, func() { _ = c.close(CloseUnauthorized, "Session ended") }))
		}
	}
	ctx = withActor(access.WithPrincipal(ctx, p), p)
	ctx = store.WithScope(ctx, p.Scope())
	if !p.ExpiresAt.IsZero() {
		// The connection closes when its token expires: a live
		// inbox lives no longer than the right to read it. Its
		// timer ends with the connection's context too.
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, p.ExpiresAt)
		_ = cancel
	}
	return ctx, nil, nil
}

// wsTransport is gqlgen's websocket transport with the gateway's executor
// around the operations of each connection (see wsExecutor).
type wsTransport struct {
	transport.Websocket
	ws *websockets
}

// Do serves one websocket connection.
func (t wsTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.Websocket.Do(w, r, wsExecutor{GraphExecutor: exec, ws: t.ws})
}

// wsExecutor counts a connection's operations against maxOperations and
// gives each its own loaders.
type wsExecutor struct {
	graphql.GraphExecutor
	ws *websockets
}

// CreateOperationContext refuses an operation over the connection's
// maxOperations with RATE_LIMITED before parsing it; an operation it lets
// through counts until its context ends (see DispatchOperation).
func (e wsExecutor) CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	c, _ := ctx.Value(wsControlKey{}).(*wsControl)
	if !c.startOperation(e.ws.limits.maxOperations) {
		return nil, gqlerror.List{{
			Message:    fmt.Sprintf("at most %d operations may run at once on one connection", e.ws.limits.maxOperations),
			Extensions: map[string]any{"code": store.ERATELIMITED},
		}}
	}
	rc, errs := e.GraphExecutor.CreateOperationContext(ctx, params)
	if errs != nil {
		c.endOperation()
	}
	return rc, errs
}

// DispatchOperation runs an operation with loaders of its own; it stops
// counting when the operation's context ends (gqlgen cancels it when the
// operation completes, is stopped or the connection closes).
func (e wsExecutor) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	if c, ok := ctx.Value(wsControlKey{}).(*wsControl); ok {
		context.AfterFunc(ctx, c.endOperation)
	}
	ctx = loaders.With(ctx, loaders.New(e.ws.st, access.FromContext(ctx).Scope(), access.FromContext(ctx).Role == access.RoleAdmin, e.ws.loaderWait))
	return e.GraphExecutor.DispatchOperation(ctx, rc)
}

// initAuthorization returns the Authorization value of a connection_init
// payload, whatever the key's case; "" when there is none. ok is false when
// the value is present but not a string.
func initAuthorization(payload transport.InitPayload) (string, bool) {
	for k, v := range payload {
		if strings.EqualFold(k, "Authorization") {
			s, isString := v.(string)
			return s, isString
		}
	}
	return "", true
}

// isWebsocketUpgrade reports whether r asks to switch to websocket.
func isWebsocketUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") != ""
}

// handler sends websocket upgrades straight to gql, past the
// query-over-GET checks and the HTTP Authorization header (a websocket
// authenticates in connection_init), after checking the Origin: requests
// without one (non-browser clients), same-origin requests and the allowed
// origins pass; others are refused with 403 before the upgrade. A client IP
// with maxPerIP connections open is refused with 429. Every other request
// goes to next.
func (ws *websockets) handler(origins []string, gql, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWebsocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !originAllowed(r, origins) {
			writeError(w, r, http.StatusForbidden, store.EFORBIDDEN, "origin not allowed")
			return
		}
		ip := abuse.IPUnit(ClientIP(r.Context()))
		if !ws.open(ip) {
			w.Header().Set("Retry-After", "5")
			writeError(w, r, http.StatusTooManyRequests, store.ERATELIMITED, "too many open websockets from this address")
			return
		}
		c := &wsControl{limits: ws.limits}
		defer ws.closed(ip, c)
		gql.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), wsControlKey{}, c)))
	})
}

// open counts a new connection of ip; false when ip has maxPerIP open.
func (ws *websockets) open(ip string) bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.perIP[ip] >= ws.limits.maxPerIP {
		return false
	}
	ws.perIP[ip]++
	return true
}

// closed forgets a connection of ip once it is served, and ends what
// watched it.
func (ws *websockets) closed(ip string, c *wsControl) {
	c.end()
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.perIP[ip]--; ws.perIP[ip] <= 0 {
		delete(ws.perIP, ip)
	}
}

// originAllowed applies the Origin rule of withWebsocket. An allowed origin
// is compared as scheme://host[:port], ignoring case; "*" allows any.
func originAllowed(r *http.Request, origins []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range origins {
		if o == "*" || strings.EqualFold(strings.TrimRight(o, "/"), u.Scheme+"://"+u.Host) {
			return true
		}
	}
	return false
}

// wsControl is one connection's state: it lets the code serving it close
// it with a code of its choice (gqlgen only closes with 1000 once it runs),
// counts its operations and closes it when it idles (CloseIdle): before
// connection_init within initTimeout, and when anonymous with nothing
// running for anonymousIdle.
type wsControl struct {
	limits wsLimits

	mu        sync.Mutex
	conn      transport.WebsocketConn
	active    int  // operations running
	anonymous bool // the principal of connection_init
	idle      *time.Timer
	ends      []func() // called once the connection is served
}

// accepted arms the init timer once the connection is upgraded.
func (c *wsControl) accepted(conn transport.WebsocketConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn = conn
	c.idle = time.AfterFunc(c.limits.initTimeout, func() { c.closeIdle("Connection initialisation timeout") })
}

// initialised stops the init timer; an anonymous connection's idle timer
// starts.
func (c *wsControl) initialised(anonymous bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.anonymous = anonymous
	if c.idle == nil {
		return
	}
	c.idle.Stop()
	if anonymous && c.active == 0 {
		c.idle.Reset(c.limits.anonymousIdle)
	}
}

// startOperation counts an operation; false when max are running. An
// anonymous connection's idle timer stops while something runs. Outside a
// connection (c nil) it counts nothing.
func (c *wsControl) startOperation(max int) bool {
	if c == nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active >= max {
		return false
	}
	c.active++
	if c.anonymous && c.idle != nil {
		c.idle.Stop()
	}
	return true
}

// endOperation counts an operation's end; an anonymous connection with
// nothing left running starts idling.
func (c *wsControl) endOperation() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.active--
	if c.active == 0 && c.anonymous && c.idle != nil {
		c.idle.Reset(c.limits.anonymousIdle)
	}
}

// closeIdle closes the connection with CloseIdle unless an operation runs.
func (c *wsControl) closeIdle(reason string) {
	c.mu.Lock()
	running := c.active > 0
	c.mu.Unlock()
	if !running {
		c.close(CloseIdle, reason)
	}
}

// close closes the connection with code and reason (at most 123 bytes).
func (c *wsControl) close(code int, reason string) error {
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn == nil {
		return errNoWebsocket
	}
	return conn.WriteClose(code, reason)
}

// onEnd registers f to run once the connection is served.
func (c *wsControl) onEnd(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ends = append(c.ends, f)
}

// end stops the timer and runs the onEnd functions.
func (c *wsControl) end() {
	c.mu.Lock()
	if c.idle != nil {
		c.idle.Stop()
	}
	ends := c.ends
	c.ends = nil
	c.mu.Unlock()
	for _, f := range ends {
		f()
	}
}

type wsControlKey struct{}

// wsImplementation accepts connections with coder/websocket and hands each
// to the wsControl that websockets.handler put in the request context. The origin
// was checked by withWebsocket, so coder/websocket's own check is off.
type wsImplementation struct{}

// Accept upgrades the connection.
func (wsImplementation) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	impl := transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{InsecureSkipVerify: true}}
	conn, err := impl.Accept(w, r, o)
	if err != nil {
		return nil, err
	}
	if c, ok := r.Context().Value(wsControlKey{}).(*wsControl); ok {
		c.accepted(conn)
	}
	return conn, nil
}

// errNoWebsocket is returned by CloseWebsocket outside a websocket connection.
var errNoWebsocket = store.Errorf(store.EINTERNAL, "not a websocket connection")

// CloseWebsocket closes the websocket connection ctx belongs to with code
// and reason (at most 123 bytes): the close frame is sent, and the
// connection's operations end as the peer acknowledges it. It returns an
// an EINTERNAL *store.Error outside a websocket connection.
func CloseWebsocket(ctx context.Context, code int, reason string) error {
	c, ok := ctx.Value(wsControlKey{}).(*wsControl)
	if !ok {
		return errNoWebsocket
	}
	return c.close(code, reason)
}
