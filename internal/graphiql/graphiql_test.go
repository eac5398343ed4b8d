package graphiql

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// get serves one GET of path.
func get(t *testing.T, h http.Handler, path string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestPageLoadsOnlyItsOwnFiles checks the page: no inline script, every
// script and stylesheet served by the handler with a matching integrity
// value and the policy header, none of them pointing at a source map.
func TestPageLoadsOnlyItsOwnFiles(t *testing.T) {
	h := Handler("Test", "/graphql")
	page := get(t, h, "/", nil)
	if page.Code != 200 || page.Header().Get("Content-Security-Policy") != ContentSecurityPolicy {
		t.Fatalf("GET /: got %d with policy %q", page.Code, page.Header().Get("Content-Security-Policy"))
	}
	body := page.Body.String()
	if n := strings.Count(body, "<script"); n != strings.Count(body, "<script src=") || n != 4 {
		t.Errorf("page: %d script tags, want 4, each with src and none inline:\n%s", n, body)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)" integrity="([^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(refs) != 6 {
		t.Fatalf("page: %d files with integrity values, want 6:\n%s", len(refs), body)
	}
	total := 0
	for _, ref := range refs {
		path, integrity := ref[1], html.UnescapeString(ref[2])
		if !strings.HasPrefix(path, AssetPrefix) {
			t.Errorf("page loads %s, want a path under %s", path, AssetPrefix)
			continue
		}
		rec := get(t, h, path, nil)
		b, _ := io.ReadAll(rec.Body)
		sum := sha256.Sum256(b)
		if want := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); rec.Code != 200 || integrity != want {
			t.Errorf("%s: got %d with content of integrity %s, want 200 with the page's %s", path, rec.Code, want, integrity)
		}
		if rec.Header().Get("Content-Security-Policy") != ContentSecurityPolicy {
			t.Errorf("%s: no Content-Security-Policy", path)
		}
		if strings.Contains(string(b), "sourceMappingURL") {
			t.Errorf("%s points at a source map, which is not shipped", path)
		}
		total += len(b)
	}
	// GraphiQL, React and ReactDOM minified are about 1.6 MB; a source map
	// or a development build would double it.
	if total > 2<<20 {
		t.Errorf("the page's files are %d bytes, want at most 2 MiB", total)
	}
	for _, want := range []string{`data-endpoint="/graphql"`, "query FirstListings", "&#34;Authorization&#34;: &#34;&#34;"} {
		if !strings.Contains(body, want) {
			t.Errorf("page: want it to contain %s", want)
		}
	}
}

// TestFilesRevalidate checks the validators: an unchanged file is a 304,
// an unknown one a 404.
func TestFilesRevalidate(t *testing.T) {
	h := Handler("Test", "/graphql")
	first := get(t, h, AssetPrefix+"start.js", nil)
	etag := first.Header().Get("ETag")
	if first.Code != 200 || etag == "" || first.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("start.js: got %d, ETag %q, Cache-Control %q", first.Code, etag, first.Header().Get("Cache-Control"))
	}
	if got := get(t, h, AssetPrefix+"start.js", map[string]string{"If-None-Match": etag}).Code; got != http.StatusNotModified {
		t.Errorf("start.js again: got %d, want 304", got)
	}
	for _, p := range []string{AssetPrefix + "nope.js", AssetPrefix + "sub/start.js", "/start.js"} {
		if got := get(t, h, p, nil).Code; got != http.StatusNotFound {
			t.Errorf("%s: got %d, want 404", p, got)
		}
	}
}
