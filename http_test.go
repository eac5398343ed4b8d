package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/partsmarket/gateway/internal/config"
	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/internal/testdb"
)

// graphqlResponseJSON is the media type of the GraphQL over HTTP spec whose
// statuses docs/api/errors.md lists.
const graphqlResponseJSON = "application/graphql-response+json"

// httpNewRequest builds a request to the gateway, failing the test on error.
func httpNewRequest(t *testing.T, method, u string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	return req
}

// httpGQLBody marshals a GraphQL request body.
func httpGQLBody(query string, vars map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

// httpLogLines decodes the gateway's JSON log lines.
func httpLogLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(logs, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// httpRequestLog returns the "request" log line of request id, waiting a
// little for it: the line is written when the handler returns, which may be
// just after the client has read the response.
func httpRequestLog(t *testing.T, api *testAPI, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		for _, m := range httpLogLines(t, api.logs.String()) {
			if m["msg"] == "request" && m["request_id"] == id {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no request log line with request_id %q in:\n%s", id, api.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// httpRequestID returns a fresh sane request id for a test request.
func httpRequestID() string { return "http-test-" + uuid.NewString() }

func TestHTTPErrorStatuses(t *testing.T) {
	api := newTestAPI(t, nil)
	gql := api.URL + "/graphql"
	big := `{"query":"{ viewer { role } }","variables":{"pad":"` + strings.Repeat("x", 2<<20) + `"}}`
	getURL := func(query string) string { return gql + "?" + url.Values{"query": {query}}.Encode() }

	tests := []struct {
		name        string
		method      string
		url         string
		contentType string
		body        string
		wantStatus  []int
		wantCode    string // "" when the request succeeds
		wantAllow   string
	}{
		{name: "body not JSON", method: "POST", url: gql, contentType: "application/json",
			body: `query { viewer { role } }`, wantStatus: []int{400}, wantCode: "BAD_REQUEST"},
		{name: "body truncated JSON", method: "POST", url: gql, contentType: "application/json",
			body: `{"query": "{ viewer { role } }"`, wantStatus: []int{400}, wantCode: "BAD_REQUEST"},
		{name: "content type text/plain", method: "POST", url: gql, contentType: "text/plain",
			body: `{"query":"{ viewer { role } }"}`, wantStatus: []int{415}, wantCode: "BAD_REQUEST"},
		{name: "content type form", method: "POST", url: gql, contentType: "application/x-www-form-urlencoded",
			body: `query=%7B+viewer+%7B+role+%7D+%7D`, wantStatus: []int{415}, wantCode: "BAD_REQUEST"},
		{name: "content type missing", method: "POST", url: gql, contentType: "",
			body: `{"query":"{ viewer { role } }"}`, wantStatus: []int{415}, wantCode: "BAD_REQUEST"},
		{name: "batched array", method: "POST", url: gql, contentType: "application/json",
			body: `[{"query":"{ viewer { role } }"},{"query":"{ viewer { role } }"}]`, wantStatus: []int{400}, wantCode: "BAD_REQUEST"},
		{name: "batched array after whitespace", method: "POST", url: gql, contentType: "application/json",
			body: " \n\t[{\"query\":\"{ viewer { role } }\"}]", wantStatus: []int{400}, wantCode: "BAD_REQUEST"},
		{name: "2 MiB body", method: "POST", url: gql, contentType: "application/json",
			body: big, wantStatus: []int{413}, wantCode: "PAYLOAD_TOO_LARGE"},
		{name: "document does not parse", method: "POST", url: gql, contentType: "application/json",
			body: string(httpGQLBody(`{ viewer { role }`, nil)), wantStatus: []int{400}, wantCode: "GRAPHQL_PARSE_FAILED"},
		{name: "unknown field", method: "POST", url: gql, contentType: "application/json",
			body: string(httpGQLBody(`{ viewer { nope } }`, nil)), wantStatus: []int{400, 422}, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "bad enum in variables", method: "POST", url: gql, contentType: "application/json",
			body: string(httpGQLBody(`query($s: SellerStatus) { sellers(filter: {status: $s}) { nodes { id } } }`,
				map[string]any{"s": "NOT_A_STATUS"})),
			wantStatus: []int{400, 422}, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "bad Time in variables", method: "POST", url: gql, contentType: "application/json",
			body: string(httpGQLBody(`query($from: Time) { leads(filter: {from: $from}) { nodes { id } } }`,
				map[string]any{"from": "yesterday-ish"})),
			wantStatus: []int{400, 422}, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "mutation over GET", method: "GET",
			url:        getURL(`mutation { submitLead(input: {buyerName: "x", email: "x@example.com", message: "m", captchaToken: "ok"}) { leadId } }`),
			wantStatus: []int{405}, wantCode: "BAD_REQUEST", wantAllow: "POST"},
		{name: "GET variables not JSON", method: "GET",
			url:        gql + "?" + url.Values{"query": {`query($s: String) { viewer { role } }`}, "variables": {`{"s": `}}.Encode(),
			wantStatus: []int{400}, wantCode: "BAD_REQUEST"},
		{name: "query over GET", method: "GET", url: getURL(`{ viewer { role } }`), wantStatus: []int{200}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req := httpNewRequest(t, tc.method, tc.url, body)
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			req.Header.Set("Accept", graphqlResponseJSON)
			id := httpRequestID()
			req.Header.Set("X-Request-Id", id)
			r := api.send(req)

			okStatus := false
			for _, s := range tc.wantStatus {
				okStatus = okStatus || r.Status == s
			}
			if !okStatus {
				t.Errorf("status: got %d, want one of %v (body %s)", r.Status, tc.wantStatus, r.Raw)
			}
			if got := r.Header.Get("Content-Type"); !strings.Contains(got, "json") {
				t.Errorf("Content-Type: got %q, want JSON", got)
			}
			if !json.Valid([]byte(r.Raw)) {
				t.Errorf("body: got %q, want JSON", r.Raw)
			}
			if tc.wantAllow != "" {
				if got := r.Header.Get("Allow"); !strings.Contains(got, tc.wantAllow) {
					t.Errorf("Allow: got %q, want it to contain %q", got, tc.wantAllow)
				}
			}
			if tc.wantCode == "" {
				if len(r.Errors) > 0 {
					t.Errorf("errors: got %s, want none", r.Raw)
				}
				if _, ok := r.Data["viewer"]; !ok {
					t.Errorf("data.viewer: got %s, want present", r.Raw)
				}
				return
			}
			if len(r.Errors) == 0 {
				t.Fatalf("errors: got none, want %s (body %s)", tc.wantCode, r.Raw)
			}
			if got := r.Errors[0].Code(); got != tc.wantCode {
				t.Errorf("errors[0].extensions.code: got %q, want %q (body %s)", got, tc.wantCode, r.Raw)
			}
			if r.Data != nil {
				t.Errorf("data: got %v, want none for a refused request", r.Data)
			}
			line := httpRequestLog(t, api, id)
			if got, _ := line["sql_statements"].(float64); got != 0 {
				t.Errorf("sql_statements: got %v, want 0", line["sql_statements"])
			}
			if got, _ := line["status"].(float64); int(got) != r.Status {
				t.Errorf("logged status: got %v, want %d", line["status"], r.Status)
			}
		})
	}
}

func TestHTTPErrorsNeverEchoTheBody(t *testing.T) {
	api := newTestAPI(t, nil)
	const secret = "hunter2@example.com"
	gql := api.URL + "/graphql"

	tests := []struct {
		name        string
		method      string
		url         string
		contentType string
		body        string
	}{
		{name: "JSON gqlgen cannot decode", method: "POST", url: gql, contentType: "application/json",
			body: `{"query": 5, "variables": {"secret":"` + secret + `"}}`},
		{name: "variables not an object", method: "POST", url: gql, contentType: "application/json",
			body: `{"query": "{ viewer { role } }", "variables": ["` + secret + `"]}`},
		{name: "body not JSON", method: "POST", url: gql, contentType: "application/json",
			body: `query { viewer { role } } # ` + secret},
		{name: "text/plain body", method: "POST", url: gql, contentType: "text/plain",
			body: secret},
		{name: "bad enum value in variables", method: "POST", url: gql, contentType: "application/json",
			body: string(httpGQLBody(`query($s: SellerStatus) { sellers(filter: {status: $s}) { nodes { id } } }`,
				map[string]any{"s": secret}))},
		{name: "bad Time value in variables", method: "POST", url: gql, contentType: "application/json",
			body: string(httpGQLBody(`query($from: Time) { leads(filter: {from: $from}) { nodes { id } } }`,
				map[string]any{"from": secret}))},
		{name: "bad Time literal", method: "POST", url: gql, contentType: "application/json",
			body: string(httpGQLBody(`{ leads(filter: {from: "`+secret+`"}) { nodes { id } } }`, nil))},
		{name: "GET variables not JSON", method: "GET",
			url: gql + "?" + url.Values{"query": {`query($s: String) { viewer { role } }`}, "variables": {`{"s": "` + secret}}.Encode()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req := httpNewRequest(t, tc.method, tc.url, body)
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			req.Header.Set("Accept", graphqlResponseJSON)
			r := api.send(req)
			if r.Status < 400 && len(r.Errors) == 0 {
				t.Errorf("status: got %d with no errors, want a refusal (body %s)", r.Status, r.Raw)
			}
			if strings.Contains(r.Raw, "hunter2") {
				t.Errorf("response: got %s, want it not to echo %q", r.Raw, secret)
			}
		})
	}
	if strings.Contains(api.logs.String(), "hunter2") {
		t.Errorf("logs: got %s, want them not to contain %q", api.logs.String(), secret)
	}
}

// httpSign signs claims with HS256 and secret.
func httpSign(t *testing.T, secret string, c jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret))
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return tok
}

// httpUnsigned crafts an `alg: none` token by hand.
func httpUnsigned(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]any{"alg": "none", "typ": "JWT"}) + "." + enc(c) + "."
}

func TestHTTPBadTokens(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	secret := api.Config.JWTSecret
	exp := time.Now().Add(time.Hour).Unix()
	claims := func(role, sellerID string) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "http-test", "role": role, "iat": time.Now().Unix(), "exp": exp}
		if sellerID != "" {
			c["seller_id"] = sellerID
		}
		return c
	}
	noExp := claims("admin", "")
	delete(noExp, "exp")
	expired := claims("admin", "")
	expired["exp"] = time.Now().Add(-time.Minute).Unix()
	expiredSeller := claims("seller", f.SellerA.ID)
	expiredSeller["exp"] = time.Now().Add(-time.Hour).Unix()
	valid := httpSign(t, secret, claims("seller", f.SellerA.ID))

	tests := []struct {
		name   string
		header string
	}{
		{"alg none admin", "Bearer " + httpUnsigned(t, claims("admin", ""))},
		{"alg none seller", "Bearer " + httpUnsigned(t, claims("seller", f.SellerA.ID))},
		{"alg none with valid signature kept", "Bearer " + func() string {
			parts := strings.Split(valid, ".")
			return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2]
		}()},
		{"wrong signature", "Bearer " + httpSign(t, "another-secret-entirely-for-this-test", claims("admin", ""))},
		{"tampered claims", "Bearer " + func() string {
			parts := strings.Split(valid, ".")
			body, _ := json.Marshal(claims("admin", ""))
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(body) + "." + parts[2]
		}()},
		{"expired", "Bearer " + httpSign(t, secret, expired)},
		{"expired seller", "Bearer " + httpSign(t, secret, expiredSeller)},
		{"no exp", "Bearer " + httpSign(t, secret, noExp)},
		{"seller without seller_id", "Bearer " + httpSign(t, secret, claims("seller", ""))},
		{"seller_id not a UUID", "Bearer " + httpSign(t, secret, claims("seller", "alpha-parts"))},
		{"seller_id of suspended seller", "Bearer " + httpSign(t, secret, claims("seller", f.Suspended.ID))},
		{"seller_id of unknown seller", "Bearer " + httpSign(t, secret, claims("seller", uuid.NewString()))},
		{"unknown role", "Bearer " + httpSign(t, secret, claims("superuser", ""))},
		{"empty role", "Bearer " + httpSign(t, secret, claims("", ""))},
		{"malformed: scheme only", "Bearer"},
		{"malformed: empty token", "Bearer "},
		{"malformed: basic scheme", "Basic dXNlcjpwYXNz"},
		{"malformed: token without scheme", valid},
		{"malformed: not a JWT", "Bearer not-a-jwt"},
		{"malformed: two tokens", "Bearer " + valid + " " + valid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := httpGQLBody(`{ viewer { role subject } }`, nil)
			req := httpNewRequest(t, "POST", api.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", graphqlResponseJSON)
			req.Header.Set("Authorization", tc.header)
			r := api.send(req)
			if r.Status != http.StatusUnauthorized {
				t.Errorf("status: got %d, want 401 (body %s)", r.Status, r.Raw)
			}
			if got := r.Codes(); len(got) != 1 || got[0] != "UNAUTHENTICATED" {
				t.Errorf("codes: got %v, want [UNAUTHENTICATED] (body %s)", got, r.Raw)
			}
			if r.Data != nil {
				t.Errorf("data: got %v, want none (a bad token is never anonymous)", r.Data)
			}
		})
	}

	t.Run("valid seller token", func(t *testing.T) {
		r := api.mustPost(valid, `{ viewer { role seller { id } } }`, nil)
		if got := r.Get("viewer.role"); got != "SELLER" {
			t.Errorf("viewer.role: got %v, want SELLER", got)
		}
		if got := r.Get("viewer.seller.id"); got != f.SellerA.ID {
			t.Errorf("viewer.seller.id: got %v, want %s", got, f.SellerA.ID)
		}
	})
	t.Run("valid token, scheme in lower case", func(t *testing.T) {
		req := httpNewRequest(t, "POST", api.URL+"/graphql", bytes.NewReader(httpGQLBody(`{ viewer { role } }`, nil)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "bearer "+f.Admin)
		r := api.send(req)
		if got := r.Get("viewer.role"); r.Status != 200 || got != "ADMIN" {
			t.Errorf("viewer.role: got %v (status %d), want ADMIN (200)", got, r.Status)
		}
	})
	t.Run("no header is anonymous", func(t *testing.T) {
		r := api.mustPost("", `{ viewer { role } }`, nil)
		if got := r.Get("viewer.role"); got != nil {
			t.Errorf("viewer.role: got %v, want null", got)
		}
	})
}

func TestHTTPInternalErrorsDoNotLeak(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	api.DB.MustExec("ALTER TABLE sellers RENAME COLUMN website TO website_x")

	tests := []struct {
		name  string
		query string
		vars  map[string]any
	}{
		{"seller by id", `query($id: ID!) { seller(id: $id) { id website } }`, map[string]any{"id": f.SellerA.ID}},
		{"sellers", `{ sellers { nodes { id companyName } } }`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := httpRequestID()
			req := httpNewRequest(t, "POST", api.URL+"/graphql", bytes.NewReader(httpGQLBody(tc.query, tc.vars)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", graphqlResponseJSON)
			req.Header.Set("X-Request-Id", id)
			r := api.send(req)
			if r.Status != http.StatusOK && r.Status != http.StatusInternalServerError {
				t.Errorf("status: got %d, want 200 (or 500)", r.Status)
			}
			if len(r.Errors) == 0 {
				t.Fatalf("errors: got none, want INTERNAL_SERVER_ERROR (body %s)", r.Raw)
			}
			for i, e := range r.Errors {
				if got := e.Code(); got != "INTERNAL_SERVER_ERROR" {
					t.Errorf("errors[%d].extensions.code: got %q, want INTERNAL_SERVER_ERROR", i, got)
				}
			}
			// What an error says: its message and extensions (its path and
			// locations name the query's own fields and positions).
			for i, e := range r.Errors {
				ext, _ := json.Marshal(e.Extensions)
				said := strings.ToLower(e.Message + " " + string(ext))
				for _, leak := range []string{"column", "website_x", "sql", "pq:", "select", "does not exist", "relation"} {
					if strings.Contains(said, leak) {
						t.Errorf("errors[%d]: got message %q extensions %s, want no %q", i, e.Message, ext, leak)
					}
				}
			}
			var logged bool
			for _, m := range httpLogLines(t, api.logs.String()) {
				if m["msg"] != "request" && m["level"] == "ERROR" && m["request_id"] == id {
					logged = true
				}
			}
			if !logged {
				t.Errorf("logs: got no ERROR line with request_id %q, want one:\n%s", id, api.logs.String())
			}
		})
	}
}

func TestHTTPCORS(t *testing.T) {
	const allowed = "https://shop.example.com"
	api := newTestAPI(t, map[string]string{"CORS_ALLOWED_ORIGINS": allowed + ",https://admin.example.com"})
	wantHeaders := []string{"Authorization", "Content-Type", "X-Request-Id", "GraphQL-Require-Preflight"}

	preflight := func(t *testing.T, origin, headers string) *http.Response {
		t.Helper()
		req := httpNewRequest(t, http.MethodOptions, api.URL+"/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", headers)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("preflight: %v", err)
		}
		resp.Body.Close()
		return resp
	}
	post := func(t *testing.T, origin string) *http.Response {
		t.Helper()
		req := httpNewRequest(t, http.MethodPost, api.URL+"/graphql", bytes.NewReader(httpGQLBody(`{ viewer { role } }`, nil)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("post: %v", err)
		}
		resp.Body.Close()
		return resp
	}
	headerList := func(h string) map[string]bool {
		out := map[string]bool{}
		for _, p := range strings.Split(h, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out[strings.ToLower(p)] = true
			}
		}
		return out
	}

	t.Run("preflight from allowed origin", func(t *testing.T) {
		// As browsers send it: lower case, sorted, no spaces.
		resp := preflight(t, allowed, "authorization,content-type,graphql-require-preflight,x-request-id")
		if resp.StatusCode >= 300 {
			t.Errorf("status: got %d, want 2xx", resp.StatusCode)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != allowed {
			t.Errorf("Access-Control-Allow-Origin: got %q, want %q", got, allowed)
		}
		got := headerList(resp.Header.Get("Access-Control-Allow-Headers"))
		for _, h := range wantHeaders {
			if !got[strings.ToLower(h)] {
				t.Errorf("Access-Control-Allow-Headers: got %q, want it to allow %s", resp.Header.Get("Access-Control-Allow-Headers"), h)
			}
		}
		if got := headerList(resp.Header.Get("Access-Control-Allow-Methods")); !got["post"] {
			t.Errorf("Access-Control-Allow-Methods: got %q, want POST", resp.Header.Get("Access-Control-Allow-Methods"))
		}
	})
	t.Run("preflight asking for an unlisted header", func(t *testing.T) {
		resp := preflight(t, allowed, "content-type,x-internal-secret")
		if got := headerList(resp.Header.Get("Access-Control-Allow-Headers")); got["x-internal-secret"] {
			t.Errorf("Access-Control-Allow-Headers: got %q, want X-Internal-Secret not allowed", resp.Header.Get("Access-Control-Allow-Headers"))
		}
	})
	t.Run("preflight from another origin", func(t *testing.T) {
		resp := preflight(t, "https://evil.example.net", "authorization,content-type")
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("Access-Control-Allow-Origin: got %q, want none", got)
		}
	})
	t.Run("request from allowed origin", func(t *testing.T) {
		resp := post(t, allowed)
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != allowed {
			t.Errorf("Access-Control-Allow-Origin: got %q, want %q", got, allowed)
		}
		got := headerList(resp.Header.Get("Access-Control-Expose-Headers"))
		for _, h := range []string{"Retry-After", "X-Request-Id"} {
			if !got[strings.ToLower(h)] {
				t.Errorf("Access-Control-Expose-Headers: got %q, want it to expose %s", resp.Header.Get("Access-Control-Expose-Headers"), h)
			}
		}
	})
	for _, origin := range []string{"https://evil.example.net", "https://shop.example.com.evil.net", "null"} {
		t.Run("request from "+origin, func(t *testing.T) {
			resp := post(t, origin)
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("Access-Control-Allow-Origin: got %q, want none", got)
			}
			if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "" {
				t.Errorf("Access-Control-Allow-Credentials: got %q, want none", got)
			}
		})
	}
}

func TestHTTPHealthAndReadiness(t *testing.T) {
	api := newTestAPI(t, nil)
	get := func(t *testing.T, path string) (int, string) {
		t.Helper()
		resp, err := http.Get(api.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name       string
		path       string
		migrateOne bool // roll back the newest migration first
		want       int
	}{
		{"healthz", "/healthz", false, 200},
		{"readyz on a migrated database", "/readyz", false, 200},
		{"readyz after rolling back the newest migration", "/readyz", true, 503},
		{"healthz while not ready", "/healthz", false, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.migrateOne {
				if err := database.MigrateDown(context.Background(), api.DB.DB); err != nil {
					t.Fatalf("MigrateDown: %v", err)
				}
			}
			if got, body := get(t, tc.path); got != tc.want {
				t.Errorf("GET %s: got %d (%q), want %d", tc.path, got, body, tc.want)
			}
		})
	}
}

func TestHTTPRequestID(t *testing.T) {
	api := newTestAPI(t, nil)
	generated := func(id string) bool {
		if len(id) != 16 {
			return false
		}
		for _, c := range id {
			if !strings.ContainsRune("0123456789abcdef", c) {
				return false
			}
		}
		return true
	}
	tests := []struct {
		name string
		sent string
		echo bool
	}{
		{"sane uuid", uuid.NewString(), true},
		{"sane with dots and underscores", "req_1.2-abc", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"65 characters", strings.Repeat("a", 65), false},
		{"very long", strings.Repeat("b", 4000), false},
		{"spaces", "abc def", false},
		{"markup", "<script>alert(1)</script>", false},
		{"quotes", `a"b`, false},
		{"non ASCII", "héllo", false},
		{"json injection", `x","role":"ADMIN`, false},
		{"absent", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httpNewRequest(t, "POST", api.URL+"/graphql", bytes.NewReader(httpGQLBody(`{ viewer { role } }`, nil)))
			req.Header.Set("Content-Type", "application/json")
			if tc.sent != "" {
				req.Header.Set("X-Request-Id", tc.sent)
			}
			r := api.send(req)
			got := r.Header.Get("X-Request-Id")
			if tc.echo {
				if got != tc.sent {
					t.Errorf("X-Request-Id: got %q, want %q echoed", got, tc.sent)
				}
			} else {
				if got == tc.sent || !generated(got) {
					t.Errorf("X-Request-Id: got %q, want a generated id (not %q)", got, tc.sent)
				}
			}
			httpRequestLog(t, api, got) // the log line carries the id the response says
			if !tc.echo && tc.sent != "" && strings.Contains(api.logs.String(), tc.sent) {
				t.Errorf("logs: got the insane id %q logged, want it replaced", tc.sent)
			}
		})
	}
}

// httpCheckSDL checks GET /schema.graphql: with introspection on, SDL that
// parses into the schema of schema.graphql (same types, same fields and
// descriptions of Query); off, 404.
func httpCheckSDL(t *testing.T, baseURL string, on bool) {
	t.Helper()
	resp, err := http.Get(baseURL + "/schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	sdl, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !on {
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET /schema.graphql with introspection off: got %d, want 404", resp.StatusCode)
		}
		return
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET /schema.graphql: got %d, want 200", resp.StatusCode)
	}
	served, gqlErr := gqlparser.LoadSchema(&ast.Source{Name: "served", Input: string(sdl)})
	if gqlErr != nil {
		t.Fatalf("GET /schema.graphql: the SDL does not parse: %v", gqlErr)
	}
	file, err := os.ReadFile("schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	want := gqlparser.MustLoadSchema(&ast.Source{Name: "schema.graphql", Input: string(file)})
	if len(served.Types) != len(want.Types) {
		t.Errorf("GET /schema.graphql: %d types, schema.graphql has %d", len(served.Types), len(want.Types))
	}
	for _, f := range want.Query.Fields {
		got := served.Query.Fields.ForName(f.Name)
		if got == nil || got.Description != f.Description {
			t.Errorf("GET /schema.graphql: Query.%s missing or described differently", f.Name)
		}
	}
}

func TestHTTPGraphiQLAndIntrospection(t *testing.T) {
	const introspect = `{ __schema { queryType { name } } }`
	tests := []struct {
		name              string
		env               map[string]string
		wantGraphiQL      bool
		wantIntrospection bool
	}{
		{"development defaults", nil, true, true},
		{"GRAPHIQL off", map[string]string{"GRAPHIQL": "off"}, false, true},
		{"INTROSPECTION off", map[string]string{"INTROSPECTION": "off"}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newTestAPI(t, tc.env)
			resp, err := http.Get(api.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tc.wantGraphiQL {
				if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
					t.Errorf("GET /: got %d %q, want 200 text/html", resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				if !strings.Contains(strings.ToLower(string(page)), "graphiql") {
					t.Errorf("GET /: got a page without GraphiQL")
				}
			} else if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET /: got %d, want 404", resp.StatusCode)
			}

			httpCheckSDL(t, api.URL, tc.wantIntrospection)

			req := httpNewRequest(t, "POST", api.URL+"/graphql", bytes.NewReader(httpGQLBody(introspect, nil)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", graphqlResponseJSON)
			r := api.send(req)
			if tc.wantIntrospection {
				if r.Status != 200 || len(r.Errors) > 0 || r.Get("__schema.queryType.name") != "Query" {
					t.Errorf("introspection: got %d %s, want 200 with __schema.queryType.name Query", r.Status, r.Raw)
				}
				return
			}
			if r.Get("__schema.queryType.name") != nil {
				t.Errorf("introspection: got %s, want no schema", r.Raw)
			}
			if got := r.Codes(); len(got) == 0 || got[0] != "GRAPHQL_VALIDATION_FAILED" {
				t.Errorf("introspection codes: got %v, want [GRAPHQL_VALIDATION_FAILED] (body %s)", got, r.Raw)
			}
			if r.Status != 400 && r.Status != 422 {
				t.Errorf("introspection status: got %d, want 400 (or 422)", r.Status)
			}
			// __typename is not introspection of the schema and keeps working.
			if r := api.post("", `{ __typename viewer { __typename } }`, nil); len(r.Errors) > 0 || r.Get("__typename") != "Query" {
				t.Errorf("__typename: got %s, want Query", r.Raw)
			}
		})
	}
}

func TestHTTPNoPersonalDataInLogs(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	const (
		name    = "Quentin Zyxwvutsrq"
		email   = "quentin.zyxwvu@buyers-http-test.example"
		phone   = "+1 555 987 6543"
		company = "Zyxwvu Earthmovers"
		message = "Need a pump by Friday, call Quentin"
	)
	r := api.mustPost("", `mutation($in: SubmitLeadInput!) { submitLead(input: $in) { leadId } }`, map[string]any{
		"in": map[string]any{
			"listingId": f.ListingA.ID, "buyerName": name, "email": email, "phone": phone,
			"company": company, "message": message, "captchaToken": "ok",
		},
	})
	leadID, _ := r.Get("submitLead.leadId").(string)
	if leadID == "" {
		t.Fatalf("submitLead: got %s, want a lead id", r.Raw)
	}
	for _, id := range []string{leadID, f.LeadA} {
		r := api.mustPost(f.Admin, `query($id: ID!) { lead(id: $id) { id buyerName email phone company message } }`, map[string]any{"id": id})
		if r.Get("lead.id") != id {
			t.Fatalf("lead: got %s, want lead %s", r.Raw, id)
		}
	}
	api.mustPost(f.TokenA, `{ leads { nodes { id buyerName email phone } } }`, nil)
	// A refused request with personal data in its variables.
	api.post("", `mutation($in: SubmitLeadInput!) { submitLead(input: $in) { leadId } }`, map[string]any{
		"in": map[string]any{"listingId": f.ListingA.ID, "buyerName": name, "email": email, "phone": phone, "message": message, "captchaToken": "fail"},
	})

	logs := api.logs.String()
	for _, v := range []string{name, email, phone, company, message, "Jane Buyer", "jane.buyer@example.com",
		"+1 555 010 1234", "Acme Mining", "Is this still available?", f.Admin, f.TokenA} {
		if strings.Contains(logs, v) {
			t.Errorf("logs: got %q in them, want no personal data or token", v)
		}
	}
	// Each token's signature alone must not appear either.
	for _, tok := range []string{f.Admin, f.TokenA} {
		if sig := tok[strings.LastIndex(tok, ".")+1:]; strings.Contains(logs, sig) {
			t.Errorf("logs: got a token signature %q in them", sig)
		}
	}
}

// httpFreePort returns a port that was free a moment ago.
func httpFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestHTTPGracefulShutdown(t *testing.T) {
	dbURL := testdb.New(t)
	{
		db, err := sql.Open("postgres", dbURL)
		if err != nil {
			t.Fatal(err)
		}
		if err := database.MigrateUp(context.Background(), db); err != nil {
			t.Fatalf("MigrateUp: %v", err)
		}
		db.Close()
	}
	port := httpFreePort(t)
	env := map[string]string{"DATABASE_URL": dbURL, "PORT": strconv.Itoa(port)}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- serve(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil))) }()

	base := "http://127.0.0.1:" + strconv.Itoa(port)
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 10 * time.Second}, Timeout: 15 * time.Second}
	defer client.CloseIdleConnections()

	// Wait for the server to listen.
	for deadline := time.Now().Add(10 * time.Second); ; {
		select {
		case err := <-served:
			t.Fatalf("serve returned early: %v\n%s", err, logs.String())
		default:
		}
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %v\n%s", err, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	client.CloseIdleConnections()

	body := httpGQLBody(`{ viewer { role } }`, nil)
	half := len(body) / 2
	pr, pw := io.Pipe()
	defer pw.Close()
	req := httpNewRequest(t, "POST", base+"/graphql", pr)
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Expect", "100-continue")
	// The server answers 100 Continue when the handler starts reading the
	// body: from then on the request is in flight.
	inFlight := make(chan struct{})
	req = req.WithContext(httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got100Continue: func() { close(inFlight) },
	}))
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- result{status: resp.StatusCode, body: string(b)}
	}()
	select {
	case <-inFlight:
	case r := <-done:
		t.Fatalf("request ended before it was in flight: %+v", r)
	case <-time.After(10 * time.Second):
		t.Fatal("no 100 Continue: the handler never started reading the body")
	}
	if _, err := pw.Write(body[:half]); err != nil {
		t.Fatalf("write first half: %v", err)
	}

	cancel()
	// Shutdown has begun once the listener refuses new connections.
	for deadline := time.Now().Add(2 * time.Second); ; {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts connections 2 s after the context ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("serve returned (%v) while a request was in flight", err)
	default:
	}

	if _, err := pw.Write(body[half:]); err != nil {
		t.Fatalf("write second half: %v", err)
	}
	pw.Close()

	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("in-flight request: got error %v, want 200", r.err)
		}
		if r.status != http.StatusOK {
			t.Errorf("in-flight request status: got %d, want 200 (body %s)", r.status, r.body)
		}
		var out gqlResponse
		if err := json.Unmarshal([]byte(r.body), &out); err != nil || len(out.Errors) > 0 || out.Data["viewer"] == nil {
			t.Errorf("in-flight request body: got %s, want data.viewer and no errors", r.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("in-flight request did not complete")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serve: got %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after the in-flight request completed")
	}
	if errors.Is(ctx.Err(), context.Canceled) && !strings.Contains(logs.String(), `"msg":"shutting down`) {
		t.Errorf("logs: got no shutdown line:\n%s", logs.String())
	}
}
