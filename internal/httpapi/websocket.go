package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"

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
	// CloseUnauthorized (4401): the token in connection_init is bad.
	CloseUnauthorized = 4401
	// CloseForbidden (4403): the principal may not subscribe to that.
	CloseForbidden = 4403
)

// Websocket timings.
const (
	// wsPingInterval is how often the server pings a graphql-transport-ws
	// client (and sends "ka" to a legacy graphql-ws client); a client that
	// does not answer within twice the interval is disconnected.
	wsPingInterval = 15 * time.Second
	// wsInitTimeout is how long a client has to send connection_init.
	wsInitTimeout = 10 * time.Second
)

// newWebsocketTransport returns gqlgen's websocket transport (graphql-transport-ws,
// and graphql-ws for older clients). connection_init's Authorization value
// is authenticated like the HTTP header: a bad token closes the socket with
// 4401; the principal and the connection's own loaders (in its scope) go
// into the connection's context, which every operation on it inherits.
func newWebsocketTransport(auth *access.Authenticator, st *store.Store, loaderWait time.Duration, log *slog.Logger) transport.Websocket {
	return transport.Websocket{
		Implementation:        wsImplementation{},
		KeepAlivePingInterval: wsPingInterval,
		PingPongInterval:      wsPingInterval,
		InitTimeout:           wsInitTimeout,
		InitFunc: func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			header, ok := initAuthorization(payload)
			if !ok {
				ctx = transport.WithWebsocketCloseCode(ctx, CloseUnauthorized)
				return transport.AppendCloseReason(ctx, "Unauthorized"), nil, store.Errorf(store.EUNAUTHENTICATED, "invalid token")
			}
			p, err := auth.Authenticate(ctx, header)
			if err != nil {
				if store.ErrorCode(err) == store.EUNAUTHENTICATED {
					ctx = transport.WithWebsocketCloseCode(ctx, CloseUnauthorized)
					return transport.AppendCloseReason(ctx, "Unauthorized"), nil, err
				}
				log.ErrorContext(ctx, "websocket authentication failed", "request_id", RequestID(ctx), "error", err.Error())
				ctx = transport.WithWebsocketCloseCode(ctx, CloseInternalError)
				return transport.AppendCloseReason(ctx, "Internal error"), nil,
					store.Errorf(store.EINTERNAL, "internal server error")
			}
			if info := infoFrom(ctx); info != nil {
				info.role.Store(p.Role)
			}
			ctx = withActor(access.WithPrincipal(ctx, p), p)
			ctx = store.WithScope(ctx, p.Scope())
			ctx = loaders.With(ctx, loaders.New(st, p.Scope(), loaderWait))
			if !p.ExpiresAt.IsZero() {
				// The connection closes when its token expires: a live
				// inbox lives no longer than the right to read it. Its
				// timer ends with the connection's context too.
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, p.ExpiresAt)
				_ = cancel
			}
			return ctx, nil, nil
		},
		ErrorFunc: func(ctx context.Context, err error) {
			log.DebugContext(ctx, "websocket error", "request_id", RequestID(ctx), "error", err.Error())
		},
	}
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

// withWebsocket sends websocket upgrades straight to gql, past the
// query-over-GET checks and the HTTP Authorization header (a websocket
// authenticates in connection_init), after checking the Origin: requests
// without one (non-browser clients), same-origin requests and the allowed
// origins pass; others are refused with 403 before the upgrade. Every other
// request goes to next.
func withWebsocket(origins []string, gql, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWebsocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !originAllowed(r, origins) {
			writeError(w, r, http.StatusForbidden, store.EFORBIDDEN, "origin not allowed")
			return
		}
		gql.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), wsControlKey{}, &wsControl{})))
	})
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

// wsControl lets the code serving a websocket connection close it with a
// code of its choice (gqlgen only closes with 1000 once it runs).
type wsControl struct {
	mu   sync.Mutex
	conn transport.WebsocketConn
}

type wsControlKey struct{}

// wsImplementation accepts connections with coder/websocket and hands each
// to the wsControl that withWebsocket put in the request context. The origin
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
		c.mu.Lock()
		c.conn = conn
		c.mu.Unlock()
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
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn == nil {
		return errNoWebsocket
	}
	return conn.WriteClose(code, reason)
}
