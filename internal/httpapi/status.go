package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/internal/database"
)

// statusHolder is the per-request mark that turns a GraphQL response into
// 429 Too Many Requests or 503 Service Unavailable with a Retry-After
// header. Resolvers, operation interceptors and the error presenter cannot
// set headers (the response is written after they return), so they mark the
// request and withStatusOverride writes the status before the body.
type statusHolder struct {
	mu         sync.Mutex
	status     int // 0, 429 or 503: the highest mark wins
	retryAfter time.Duration
}

type statusHolderKey struct{}

// codeUnavailable is the error code of a request the gateway cannot serve
// for now: the database is unreachable, the request ran out of time, or
// too many requests are in flight.
const codeUnavailable = "SERVICE_UNAVAILABLE"

// unavailableRetryAfter is the Retry-After of a 503: long enough for a
// restarting database or a burst to pass, short enough not to lose the
// caller.
const unavailableRetryAfter = 2 * time.Second

// unavailableMessage is the message of every SERVICE_UNAVAILABLE error.
const unavailableMessage = "the service is unavailable for a moment; retry after the Retry-After delay"

// MarkRateLimited marks the request ctx belongs to as rate limited: its
// response is sent with HTTP 429 and Retry-After (whole seconds, at least 1;
// the longest of several marks wins). The caller still returns its
// RATE_LIMITED error as usual. Outside a request wrapped by
// withStatusOverride it does nothing. This is the one 429 mechanism of the
// gateway: the abuse limits (internal/abuse) and the per-principal budget
// both use it.
func MarkRateLimited(ctx context.Context, retryAfter time.Duration) {
	mark(ctx, http.StatusTooManyRequests, retryAfter)
}

// markUnavailable marks the request ctx belongs to for HTTP 503 with
// Retry-After (it outranks a 429 mark): the error presenter calls it for
// SERVICE_UNAVAILABLE errors.
func markUnavailable(ctx context.Context) {
	mark(ctx, http.StatusServiceUnavailable, unavailableRetryAfter)
}

// unavailable reports whether err means the request could not be served for
// now and may be retried: the database is unreachable (database.Unavailable)
// or the request's deadline passed (REQUEST_TIMEOUT), waiting for a
// connection of an exhausted pool included.
func unavailable(err error) bool {
	return database.Unavailable(err) || errors.Is(err, context.DeadlineExceeded)
}

// presentUnavailable makes out the SERVICE_UNAVAILABLE error of err and
// marks the request for 503. The cause is logged, without personal data:
// connection errors carry none.
func presentUnavailable(ctx context.Context, log *slog.Logger, err error, out *gqlerror.Error) {
	log.WarnContext(ctx, "service unavailable", "request_id", RequestID(ctx), "error", err.Error())
	markUnavailable(ctx)
	out.Message = unavailableMessage
	out.Extensions = map[string]any{"code": codeUnavailable}
}

// mark raises the status of the request ctx belongs to.
func mark(ctx context.Context, status int, retryAfter time.Duration) {
	h, _ := ctx.Value(statusHolderKey{}).(*statusHolder)
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status = max(h.status, status)
	h.retryAfter = max(h.retryAfter, retryAfter)
}

// RetryAfterSeconds renders d as a Retry-After value: whole seconds,
// rounded up, at least 1.
func RetryAfterSeconds(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

// withStatusOverride gives each request a statusHolder and, when something
// marked it (MarkRateLimited, markUnavailable), writes 429 or 503 and
// Retry-After in place of a 200 before the first byte of the body.
func withStatusOverride(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := &statusHolder{}
		ctx := context.WithValue(r.Context(), statusHolderKey{}, h)
		next.ServeHTTP(&overrideWriter{ResponseWriter: w, holder: h}, r.WithContext(ctx))
	})
}

// overrideWriter applies its request's statusHolder when the status is
// written.
type overrideWriter struct {
	http.ResponseWriter
	holder  *statusHolder
	written bool
}

// WriteHeader writes code, or the marked status and Retry-After in place
// of a 200 when the request was marked.
func (o *overrideWriter) WriteHeader(code int) {
	if !o.written {
		o.written = true
		o.holder.mu.Lock()
		status, retry := o.holder.status, o.holder.retryAfter
		o.holder.mu.Unlock()
		if status != 0 && code == http.StatusOK {
			code = status
			o.Header().Set("Retry-After", RetryAfterSeconds(retry))
		}
	}
	o.ResponseWriter.WriteHeader(code)
}

// Write writes the status first (see WriteHeader), then b.
func (o *overrideWriter) Write(b []byte) (int, error) {
	if !o.written {
		o.WriteHeader(http.StatusOK)
	}
	return o.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (flushes,
// websocket hijacking).
func (o *overrideWriter) Unwrap() http.ResponseWriter { return o.ResponseWriter }
