package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/store"
)

// TestPresentUnavailable: a database that went away, wrapped or not, and
// a request past its deadline are SERVICE_UNAVAILABLE and turn the
// response into 503 with Retry-After; a bad statement stays an internal
// error with a 200.
func TestPresentUnavailable(t *testing.T) {
	present := presentError(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	cases := []struct {
		name       string
		err        error
		code       string
		status     int
		retryAfter string
	}{
		{"admin shutdown", fmt.Errorf("store: %w", &pq.Error{Code: "57P01"}), codeUnavailable, http.StatusServiceUnavailable, "2"},
		{"deadline", context.DeadlineExceeded, codeUnavailable, http.StatusServiceUnavailable, "2"},
		{"resolver error", &gqlerror.Error{Message: "x", Err: &pq.Error{Code: "57P03"}}, codeUnavailable, http.StatusServiceUnavailable, "2"},
		{"syntax error", &pq.Error{Code: "42601"}, store.EINTERNAL, http.StatusOK, ""},
		{"store error", store.NotFound("lead"), store.ENOTFOUND, http.StatusOK, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := withStatusOverride(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				out := present(r.Context(), c.err)
				if got := out.Extensions["code"]; got != c.code {
					t.Errorf("code %v, want %s", got, c.code)
				}
				_, _ = w.Write([]byte("{}"))
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil))
			if rec.Code != c.status || rec.Header().Get("Retry-After") != c.retryAfter {
				t.Errorf("HTTP %d Retry-After %q, want %d %q", rec.Code, rec.Header().Get("Retry-After"), c.status, c.retryAfter)
			}
		})
	}
}

// TestUnavailableOutranksRateLimited: a request marked both rate limited
// and unavailable is answered 503.
func TestUnavailableOutranksRateLimited(t *testing.T) {
	h := withStatusOverride(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		MarkRateLimited(r.Context(), 30*time.Second)
		markUnavailable(r.Context())
		_, _ = w.Write([]byte("{}"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "30" {
		t.Errorf("HTTP %d Retry-After %q, want 503 and the longest delay, 30", rec.Code, rec.Header().Get("Retry-After"))
	}
}

// TestInFlightLimit: with max requests running, the next is answered 503
// SERVICE_UNAVAILABLE with Retry-After at once, health checks and
// websocket upgrades pass, and a freed slot serves again.
func TestInFlightLimit(t *testing.T) {
	const max = 2
	entered, release := make(chan struct{}), make(chan struct{})
	h := withInFlightLimit(max, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			<-release
		}
		w.WriteHeader(http.StatusOK)
	}))
	done := make(chan int, max)
	for range max {
		go func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/slow", nil))
			done <- rec.Code
		}()
		<-entered
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("over the limit: HTTP %d Retry-After %q, want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	ws := httptest.NewRequest(http.MethodGet, "/graphql", nil)
	ws.Header.Set("Upgrade", "websocket")
	for _, r := range []*http.Request{httptest.NewRequest(http.MethodGet, "/healthz", nil), httptest.NewRequest(http.MethodGet, "/readyz", nil), ws} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Errorf("%s %s over the limit: HTTP %d, want it served", r.Method, r.URL.Path, rec.Code)
		}
	}
	close(release)
	for range max {
		if code := <-done; code != http.StatusOK {
			t.Errorf("a request within the limit: HTTP %d", code)
		}
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("after the slots were freed: HTTP %d, want 200", rec.Code)
	}
}

// TestDeadline: a request's context ends at REQUEST_TIMEOUT (a multipart
// upload's at UPLOAD_TIMEOUT); a websocket upgrade's has no deadline.
func TestDeadline(t *testing.T) {
	const timeout, upload = time.Minute, time.Hour
	cases := []struct {
		name        string
		contentType string
		upgrade     bool
		want        time.Duration // 0: no deadline
	}{
		{"json", "application/json", false, timeout},
		{"upload", "multipart/form-data; boundary=x", false, upload},
		{"websocket", "", true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got time.Duration
			var has bool
			h := withDeadline(timeout, upload, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var dl time.Time
				dl, has = r.Context().Deadline()
				got = time.Until(dl)
			}))
			method := http.MethodPost
			if c.upgrade {
				method = http.MethodGet
			}
			r := httptest.NewRequest(method, "/graphql", nil)
			r.Header.Set("Content-Type", c.contentType)
			if c.upgrade {
				r.Header.Set("Upgrade", "websocket")
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			switch {
			case c.want == 0 && has:
				t.Errorf("deadline in %v, want none", got)
			case c.want != 0 && (!has || got > c.want || got < c.want/2):
				t.Errorf("deadline in %v (set %v), want about %v", got, has, c.want)
			}
		})
	}
}
