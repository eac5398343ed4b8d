package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/internal/loaders"
	"github.com/partsmarket/gateway/internal/metrics"
	"github.com/partsmarket/gateway/store"
)

// requestInfo is what the request log line says about one request; parts of
// the stack fill it in as the request goes.
type requestInfo struct {
	id        string
	operation atomic.Value // string
	role      atomic.Value // access.Role
	code      atomic.Value // string: the first error's extensions.code, for metrics
	metricOp  atomic.Value // string: the operation's name in the document, for metrics
	costSeen  atomic.Bool  // the operation's cost went to the metrics
}

// setCode remembers the first error code of the request ctx belongs to.
func setCode(ctx context.Context, code string) {
	if info := infoFrom(ctx); info != nil && code != "" {
		info.code.CompareAndSwap(nil, code)
	}
}

type infoKey struct{}

// RequestID returns the id of the request ctx belongs to ("" outside one).
func RequestID(ctx context.Context) string {
	if info, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return info.id
	}
	return ""
}

func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(infoKey{}).(*requestInfo)
	return info
}

var goodRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// withRequestLog gives each request an id (the caller's X-Request-Id when it
// is sane), counts its SQL statements, and logs one line when it ends: never
// a body, a variable, a header value or a token.
func withRequestLog(log *slog.Logger, m *metrics.Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{id: r.Header.Get("X-Request-Id")}
		if !goodRequestID.MatchString(info.id) {
			info.id = newRequestID()
		}
		w.Header().Set("X-Request-Id", info.id)
		ctx := database.WithStatementCounter(context.WithValue(r.Context(), infoKey{}, info))
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(ctx))
		op, _ := info.operation.Load().(string)
		role, _ := info.role.Load().(access.Role)
		code, _ := info.code.Load().(string)
		metricOp, hasOp := info.metricOp.Load().(string)
		m.ObserveRequest(metrics.Request{Operation: metricOp, NoOperation: !hasOp, Code: code, Status: rec.status,
			Duration: time.Since(start), Statements: database.StatementCount(ctx)})
		log.InfoContext(ctx, "request",
			"request_id", info.id,
			"method", r.Method,
			"path", r.URL.Path,
			"status", rec.status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000,
			"operation", op,
			"sql_statements", database.StatementCount(ctx),
			"role", string(role),
		)
	})
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// withPrincipal authenticates the bearer token, if any, and gives the request
// its principal and its loaders. A present but bad token is a 401; a
// database that cannot be reached to check a seller's status is a 503, and
// so is an analyst's request while replicaBehind (nil: never) reports the
// analysts' read replica too far behind.
func withPrincipal(auth *access.Authenticator, st *store.Store, loaderWait time.Duration, replicaBehind func() bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := auth.Authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			var se *store.Error
			if errors.As(err, &se) && se.Code == store.EUNAUTHENTICATED {
				writeError(w, r, http.StatusUnauthorized, se.Code, se.Message)
				return
			}
			if unavailable(err) {
				w.Header().Set("Retry-After", RetryAfterSeconds(unavailableRetryAfter))
				writeError(w, r, http.StatusServiceUnavailable, codeUnavailable, unavailableMessage)
				return
			}
			writeError(w, r, http.StatusInternalServerError, store.EINTERNAL, "internal server error")
			return
		}
		if info := infoFrom(r.Context()); info != nil {
			info.role.Store(p.Role)
		}
		ctx := withActor(access.WithPrincipal(r.Context(), p), p)
		if p.Role == access.RoleAnalyst {
			if replicaBehind != nil && replicaBehind() {
				w.Header().Set("Retry-After", RetryAfterSeconds(unavailableRetryAfter))
				writeError(w, r, http.StatusServiceUnavailable, codeUnavailable,
					"the analysts' read replica is behind the primary; retry after the Retry-After delay")
				return
			}
			ctx = store.ForAnalyst(ctx)
		}
		ctx = store.WithScope(ctx, p.Scope())
		ctx = loaders.With(ctx, loaders.New(st, p.Scope(), p.Role == access.RoleAdmin, loaderWait))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withRequestShape refuses what gqlgen would mishandle, before it sees the
// request: bodies over maxBytes (413), content types other than JSON and
// multipart uploads (415), bodies that are not one JSON object (400: batched
// arrays included), and mutations over GET (405 with Allow: POST). A
// multipart upload (multipart/form-data), which a browser may send
// cross-site without a CORS preflight, must carry a preflight header (400
// otherwise: see preflighted) and has its own limit, uploadMax: see
// uploadShape and uploadTransport.
func withRequestShape(maxBytes, uploadMax int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			q := r.URL.Query()
			for _, param := range []string{"variables", "extensions"} {
				if v := q.Get(param); v != "" && !jsonObject([]byte(v)) {
					writeError(w, r, http.StatusBadRequest, codeBadRequest, param+" must be a JSON object")
					return
				}
			}
			if isMutation(q.Get("query"), q.Get("operationName")) {
				w.Header().Set("Allow", http.MethodPost)
				writeError(w, r, http.StatusMethodNotAllowed, codeBadRequest, "mutations are sent with POST")
				return
			}
		case http.MethodPost:
			mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if mediaType == "multipart/form-data" {
				if !preflighted(r) {
					writeError(w, r, http.StatusBadRequest, codeBadRequest,
						"an upload needs a GraphQL-Require-Preflight or Apollo-Require-Preflight header")
					return
				}
				if !uploadShape(w, r, uploadMax) {
					return
				}
				break
			}
			if mediaType != "application/json" {
				writeError(w, r, http.StatusUnsupportedMediaType, codeBadRequest, "content type must be application/json")
				return
			}
			body, err := io.ReadAll(io.LimitReader(r.Body, maxBytes+1))
			switch {
			case err != nil:
				writeError(w, r, http.StatusBadRequest, codeBadRequest, "could not read the request body")
				return
			case int64(len(body)) > maxBytes:
				writeError(w, r, http.StatusRequestEntityTooLarge, codePayloadTooLarge, "request body is too large")
				return
			}
			switch {
			case bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("[")):
				writeError(w, r, http.StatusBadRequest, codeBadRequest, "batched requests are not supported")
				return
			case !jsonObject(body):
				writeError(w, r, http.StatusBadRequest, codeBadRequest, "request body is not a JSON object")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		case http.MethodOptions:
		default:
			w.Header().Set("Allow", "GET, POST")
			writeError(w, r, http.StatusMethodNotAllowed, codeBadRequest, "use GET or POST")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// jsonObject reports whether b is one valid JSON object.
func jsonObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// isMutation reports whether the operation a GET request would run is a
// mutation or subscription. A query that does not parse is left to gqlgen,
// which reports it properly.
func isMutation(query, operationName string) bool {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return false
	}
	for _, op := range doc.Operations {
		if operationName == "" || op.Name == operationName {
			return op.Operation != ast.Query
		}
	}
	return false
}

// writeError writes a GraphQL-shaped error response with an HTTP status.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	setCode(r.Context(), code)
	w.Header().Set("Content-Type", responseMediaType(r))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": message, "extensions": map[string]any{"code": code}}},
	})
}

// deadlineGrace is how much longer than its request's deadline a
// connection may take to read the body and write the response: the
// handler answers SERVICE_UNAVAILABLE at the deadline, and the
// connection's deadlines only cut off what is stuck past it.
const deadlineGrace = 5 * time.Second

// withDeadline gives every request a deadline: its context ends after
// timeout (uploadTimeout for a multipart upload), and its connection's read
// and write deadlines deadlineGrace later, so a client that trickles its
// body or reads the response slowly holds the connection no longer. A
// websocket upgrade of /graphql gets none, and the connection's deadlines
// are cleared before it is hijacked: it lives as long as its
// subscriptions, watched by pings.
func withDeadline(timeout, uploadTimeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if isWebsocketRequest(r) {
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
			next.ServeHTTP(w, r)
			return
		}
		d := timeout
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
			d = uploadTimeout
		}
		end := time.Now().Add(d)
		// Errors mean the writer has no connection (a test recorder):
		// nothing to bound then.
		_ = rc.SetReadDeadline(end.Add(deadlineGrace))
		_ = rc.SetWriteDeadline(end.Add(deadlineGrace))
		ctx, cancel := context.WithDeadline(r.Context(), end)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withInFlightLimit serves at most max requests at once: beyond, it
// answers at once with 503 SERVICE_UNAVAILABLE and Retry-After, instead of
// letting requests queue for connections and memory without bound. Not
// counted: /healthz and /readyz (a load balancer must still see a busy
// instance alive and ready) and websocket connections (long-lived, they
// have limits of their own).
func withInFlightLimit(max int, next http.Handler) http.Handler {
	slots := make(chan struct{}, max)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || isWebsocketRequest(r) {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		default:
			if r.ContentLength != 0 {
				// Close rather than read what is left of the body to
				// keep the connection: a client trickling it would hold
				// the connection past its answer.
				w.Header().Set("Connection", "close")
			}
			w.Header().Set("Retry-After", RetryAfterSeconds(unavailableRetryAfter))
			writeError(w, r, http.StatusServiceUnavailable, codeUnavailable, unavailableMessage)
		}
	})
}

// isWebsocketRequest reports whether r asks to upgrade /graphql to a
// websocket.
func isWebsocketRequest(r *http.Request) bool {
	return r.URL.Path == "/graphql" && isWebsocketUpgrade(r)
}
