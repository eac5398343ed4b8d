package httpapi

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCompression checks which responses withCompression gzips: JSON of at
// least compressMinBytes to a client that accepts gzip, and nothing else.
func TestCompression(t *testing.T) {
	big := `{"data":{"listings":"` + strings.Repeat("alternator ", 200) + `"}}`
	tests := []struct {
		name, contentType, body, acceptEncoding, upgrade string
		wantGzip                                         bool
	}{
		{name: "big JSON", contentType: mediaJSON, body: big, acceptEncoding: "gzip, deflate, br", wantGzip: true},
		{name: "big graphql-response+json", contentType: mediaGraphQLResponse, body: big, acceptEncoding: "gzip", wantGzip: true},
		{name: "GraphiQL's script", contentType: "text/javascript; charset=utf-8", body: big, acceptEncoding: "gzip", wantGzip: true},
		{name: "client without gzip", contentType: mediaJSON, body: big},
		{name: "client refusing gzip", contentType: mediaJSON, body: big, acceptEncoding: "gzip;q=0"},
		{name: "small JSON", contentType: mediaJSON, body: big[:compressMinBytes-1], acceptEncoding: "gzip"},
		{name: "image", contentType: "image/png", body: big, acceptEncoding: "gzip"},
		{name: "event stream", contentType: "text/event-stream", body: big, acceptEncoding: "gzip"},
		{name: "websocket upgrade", contentType: mediaJSON, body: big, acceptEncoding: "gzip", upgrade: "websocket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := withCompression(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				_, _ = io.WriteString(w, tc.body)
			}))
			req := httptest.NewRequest(http.MethodGet, "/graphql", nil)
			if tc.acceptEncoding != "" {
				req.Header.Set("Accept-Encoding", tc.acceptEncoding)
			}
			if tc.upgrade != "" {
				req.Header.Set("Connection", "Upgrade")
				req.Header.Set("Upgrade", tc.upgrade)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			gzipped := rec.Header().Get("Content-Encoding") == "gzip"
			if gzipped != tc.wantGzip {
				t.Fatalf("Content-Encoding: got %q, want gzip %v", rec.Header().Get("Content-Encoding"), tc.wantGzip)
			}
			body := rec.Body.Bytes()
			if gzipped {
				zr, err := gzip.NewReader(rec.Body)
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
				if rec.Body.Len() >= len(tc.body) {
					t.Errorf("gzipped body: %d bytes for %d", rec.Body.Len(), len(tc.body))
				}
			}
			if string(body) != tc.body {
				t.Errorf("body: got %d bytes, want the %d written", len(body), len(tc.body))
			}
			if tc.upgrade == "" && !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary: got %q, want Accept-Encoding", rec.Header().Get("Vary"))
			}
		})
	}
}
