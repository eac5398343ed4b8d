package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/partsmarket/gateway/internal/abuse"
)

func TestClientIP(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"127.0.0.1/32", " 10.0.0.0/8", "2001:db8::/32", "192.0.2.5"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseTrustedProxies([]string{"not-a-cidr"}); err == nil {
		t.Error("a bad CIDR was accepted")
	}
	for _, c := range []struct {
		peer string
		xff  []string
		want string
	}{
		{"203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},                   // untrusted peer: header ignored
		{"127.0.0.1:5000", nil, "127.0.0.1"},                                            // trusted peer, no header
		{"127.0.0.1:5000", []string{"198.51.100.1"}, "198.51.100.1"},                    // one proxy
		{"127.0.0.1:5000", []string{"6.6.6.6, 198.51.100.1, 10.0.0.2"}, "198.51.100.1"}, // right-most untrusted
		{"127.0.0.1:5000", []string{"6.6.6.6", "198.51.100.1"}, "198.51.100.1"},         // several headers
		{"127.0.0.1:5000", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},                  // all trusted: left-most
		{"127.0.0.1:5000", []string{"6.6.6.6, junk, 10.0.0.2"}, "10.0.0.2"},             // garbage stops the walk
		{"[2001:db8::1]:443", []string{"2001:db9::7"}, "2001:db9::7"},
		{"[::ffff:127.0.0.1]:80", []string{"[2001:db9::8]:1234"}, "2001:db9::8"},
		{"192.0.2.5:1", []string{"198.51.100.4:8080"}, "198.51.100.4"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		var got string
		withClientIP(trusted, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			got = abuse.ClientIP(r.Context())
			if ClientIP(r.Context()) != got {
				t.Error("httpapi.ClientIP and abuse.ClientIP disagree")
			}
		})).ServeHTTP(httptest.NewRecorder(), r)
		if got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: got %q, want %q", c.peer, c.xff, got, c.want)
		}
	}
}

func TestMarkRateLimited(t *testing.T) {
	h := withStatusOverride(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		MarkRateLimited(r.Context(), 1500*time.Millisecond)
		MarkRateLimited(r.Context(), 300*time.Millisecond)
		_, _ = w.Write([]byte("{}"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" {
		t.Errorf("got %d Retry-After %q, want 429 and 2", rec.Code, rec.Header().Get("Retry-After"))
	}
	rec = httptest.NewRecorder()
	withStatusOverride(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("{}"))
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Retry-After") != "" {
		t.Errorf("unmarked request: %d %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	MarkRateLimited(context.Background(), time.Second) // outside a request: no effect, no panic
}
