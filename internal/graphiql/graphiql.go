// Package graphiql serves the GraphiQL IDE from files built into the binary:
// a pinned GraphiQL, React and ReactDOM (see update.sh) and a page that
// loads nothing from another host and runs no inline script, so it works
// offline and under the strict Content-Security-Policy it is served with.
// It opens with ExampleQuery and a template of the Authorization header.
package graphiql

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"time"
)

// ExampleQuery is the query the page opens with: one any caller may run,
// with a word on how to sign in.
const ExampleQuery = `# Welcome to the marketplace gateway.
#
# This query needs no sign-in: press the run button (or Ctrl-Enter).
# To act as a seller, an admin or an analyst, fill the Authorization
# header below with "Bearer " and a token; in development
# "bin/gateway token --role admin" prints one.
query FirstListings {
  listings(first: 5) {
    totalCount
    nodes {
      title
      priceLabel
      seller {
        companyName
      }
    }
  }
}
`

// HeadersTemplate is the headers editor's first content. An empty
// Authorization header is anonymous; a signed-in caller puts
// "Bearer <token>" there.
const HeadersTemplate = `{
  "Authorization": ""
}`

// ContentSecurityPolicy is the policy of the page and its files: scripts,
// styles and requests only from the gateway itself (websockets included),
// fonts and images also inline (GraphiQL's stylesheet carries its fonts and
// icons as data: URLs), no frames, forms or plugins.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"connect-src 'self'; img-src 'self' data:; font-src 'self' data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// AssetPrefix is the path under which the page's files are served.
const AssetPrefix = "/graphiql/"

//go:embed assets/*.js assets/*.css
var assetFS embed.FS

//go:embed page.html
var pageHTML string

// asset is one embedded file with its validators.
type asset struct {
	body        []byte
	contentType string
	etag        string
	integrity   string // the Subresource Integrity value of the page's tag
}

// Handler serves GraphiQL: the page at / and its files under AssetPrefix,
// both with ContentSecurityPolicy. endpoint is the GraphQL endpoint's path
// (or URL), queries and subscriptions alike. It panics when the embedded
// files are broken, which a build of this package cannot be.
func Handler(title, endpoint string) http.Handler {
	assets := loadAssets()
	var page bytes.Buffer
	tmpl := template.Must(template.New("page").Parse(pageHTML))
	err := tmpl.Execute(&page, pageData{Title: title, Endpoint: endpoint, Query: ExampleQuery, Headers: HeadersTemplate, assets: assets})
	if err != nil {
		panic("graphiql: page template: " + err.Error())
	}
	index := newAsset(page.Bytes(), "text/html; charset=utf-8")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := index
		if r.URL.Path != "/" {
			a = assets[path.Base(r.URL.Path)]
			if a == nil || r.URL.Path != AssetPrefix+path.Base(r.URL.Path) {
				http.NotFound(w, r)
				return
			}
		}
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Type", a.contentType)
		h.Set("ETag", a.etag)
		// Revalidated on every load (a 304 when unchanged), so that a
		// new binary's files are never mixed with a cached page.
		h.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}

// pageData fills page.html.
type pageData struct {
	Title, Endpoint, Query, Headers string
	assets                          map[string]*asset
}

// Asset returns the path of the embedded file name.
func (p pageData) Asset(name string) string { return AssetPrefix + name }

// Integrity returns the Subresource Integrity value of the embedded file
// name; an unknown name is a template error.
func (p pageData) Integrity(name string) (string, error) {
	a := p.assets[name]
	if a == nil {
		return "", fs.ErrNotExist
	}
	return a.integrity, nil
}

// loadAssets reads the embedded files.
func loadAssets() map[string]*asset {
	entries, err := assetFS.ReadDir("assets")
	if err != nil {
		panic("graphiql: embedded assets: " + err.Error())
	}
	out := make(map[string]*asset, len(entries))
	for _, e := range entries {
		body, err := assetFS.ReadFile("assets/" + e.Name())
		if err != nil {
			panic("graphiql: embedded assets: " + err.Error())
		}
		ct := "text/javascript; charset=utf-8"
		if path.Ext(e.Name()) == ".css" {
			ct = "text/css; charset=utf-8"
		}
		out[e.Name()] = newAsset(body, ct)
	}
	return out
}

// newAsset returns body as an asset of contentType, with its validator
// and integrity value.
func newAsset(body []byte, contentType string) *asset {
	sum := sha256.Sum256(body)
	return &asset{body: body, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:12]) + `"`,
		integrity: "sha256-" + base64.StdEncoding.EncodeToString(sum[:])}
}
