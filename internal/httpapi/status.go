package httpapi

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// statusHolder is the per-request mark that turns a GraphQL response into
// 429 Too Many Requests with a Retry-After header. Resolvers and operation
// interceptors cannot set headers (the response is written after they
// return), so they mark the request and withStatusOverride writes the status
// before the body.
type statusHolder struct {
	mu         sync.Mutex
	limited    bool
	retryAfter time.Duration
}

type statusHolderKey struct{}

// MarkRateLimited marks the request ctx belongs to as rate limited: its
// response is sent with HTTP 429 and Retry-After (whole seconds, at least 1;
// the longest of several marks wins). The caller still returns its
// RATE_LIMITED error as usual. Outside a request wrapped by
// withStatusOverride it does nothing. This is the one 429 mechanism of the
// gateway: the abuse limits (internal/abuse) and the per-principal budget
// both use it.
func MarkRateLimited(ctx context.Context, retryAfter time.Duration) {
	h, _ := ctx.Value(statusHolderKey{}).(*statusHolder)
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.limited = true
	if retryAfter > h.retryAfter {
		h.retryAfter = retryAfter
	}
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
// marked it with MarkRateLimited, writes 429 and Retry-After in place of a
// 200 before the first byte of the body.
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

// WriteHeader writes code, or 429 and Retry-After in place of a 200 when
// the request was marked.
func (o *overrideWriter) WriteHeader(code int) {
	if !o.written {
		o.written = true
		o.holder.mu.Lock()
		limited, retry := o.holder.limited, o.holder.retryAfter
		o.holder.mu.Unlock()
		if limited && code == http.StatusOK {
			code = http.StatusTooManyRequests
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
