package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// postRaw posts body as it is (bytes that may not be UTF-8) with a chosen
// request id, so the test can count the request's SQL statements.
func (a *testAPI) postRaw(requestID, token string, body []byte) gqlResponse {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", requestID)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.send(req)
}

// wantBadInput checks that r is the one BAD_USER_INPUT error naming field,
// with no data, and that its request ran no SQL statement beyond what
// signing in with token costs (a { __typename } query with it).
func (a *testAPI) wantBadInput(r gqlResponse, requestID, token, field string) {
	a.t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Errors[0].Field() != field {
		a.t.Errorf("status %d %s; want 200 with one BAD_USER_INPUT on %s", r.Status, r.Raw, field)
		return
	}
	for _, v := range r.Data {
		if v != nil {
			a.t.Errorf("data %v for refused input", r.Data)
		}
	}
	a.postWithID(requestID+"-base", token, "{ __typename }", nil)
	if n, base := a.statementsOf(requestID), a.statementsOf(requestID+"-base"); n != base {
		a.t.Errorf("%d SQL statements for refused input, want %d (signing in)", n, base)
	}
}

func repeatItems(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestHardeningListArgumentsBounded: every list argument and list input
// field holds at most 100 items, refused before anything runs (issue 13,
// class 1: an anonymous listings filter of 100,000 statuses).
func TestHardeningListArgumentsBounded(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	statuses := func(n int) string {
		return "[" + strings.TrimSuffix(strings.Repeat("ACTIVE,", n), ",") + "]"
	}
	// At the bound, it runs.
	r := api.postWithID("list-100", "", `{ listings(filter: {status: `+statuses(100)+`, brand: "br1"}) { totalCount } }`, nil)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("100 statuses: %d %s", r.Status, r.Raw)
	}
	if api.statementsOf("list-100") == 0 {
		t.Fatal("the search ran no SQL: the probe cannot show that a refused one runs none")
	}
	body, _ := json.Marshal(map[string]any{
		"query":     `query($s: [ListingStatus!]) { listings(filter: {status: $s, brand: "br2"}) { totalCount } }`,
		"variables": map[string]any{"s": repeatItems("ACTIVE", 100_000)},
	})
	api.wantBadInput(api.postRaw("list-var", "", body), "list-var", "", "filter.status")
	api.wantBadInput(api.postWithID("list-literal", "", `{ listings(filter: {status: `+statuses(101)+`}) { totalCount } }`, nil),
		"list-literal", "", "filter.status")
	// A whole input object as a variable, on a nested connection.
	api.wantBadInput(api.postWithID("list-nested", "", `query($f: ListingFilter) { seller(id: "x") { listings(filter: $f) { totalCount } } }`,
		map[string]any{"f": map[string]any{"status": repeatItems("ACTIVE", 101)}}), "list-nested", "", "filter.status")
	// A list argument (analysts' metrics) and a list in a mutation's input.
	dims := repeatItems("DAY", 101)
	api.wantBadInput(api.postWithID("list-arg", f.Analyst, `query($g: [MetricDimension!]!) {
		marketplaceMetrics(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", groupBy: $g) { views } }`,
		map[string]any{"g": dims}), "list-arg", f.Analyst, "groupBy")
	contacts := repeatItems(map[string]any{"kind": "EMAIL", "value": "a@example.com"}, 101)
	api.wantBadInput(api.postWithID("list-input", f.TokenA, `mutation($c: [SellerContactInput!]) {
		updateSellerProfile(id: "`+f.SellerA.ID+`", input: {contacts: $c}) { seller { id } } }`, map[string]any{"c": contacts}),
		"list-input", f.TokenA, "input.contacts")
}

// TestHardeningInputHygiene: NUL characters and invalid UTF-8 in any string
// input (arguments, input fields, variables, literals) are BAD_USER_INPUT
// naming the field, before any SQL (issue 13, class 13).
func TestHardeningInputHygiene(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	const search = `query($s: String) { listings(search: $s) { totalCount } }`
	api.wantBadInput(api.postWithID("nul-search", "", search, map[string]any{"s": "pump\x00"}), "nul-search", "", "search")
	api.wantBadInput(api.postWithID("nul-literal", "", `{ listings(search: "pu\u0000mp") { totalCount } }`, nil), "nul-literal", "", "search")
	api.wantBadInput(api.postWithID("nul-filter", "", `{ listings(filter: {brand: "a\u0000"}) { totalCount } }`, nil), "nul-filter", "", "filter.brand")
	lead := mutLead(f.ListingA.ID, map[string]any{"buyerName": "Ann\x00"})
	api.wantBadInput(api.postWithID("nul-lead", "", `mutation($in: SubmitLeadInput!) { submitLead(input: $in) { leadId } }`,
		map[string]any{"in": lead}), "nul-lead", "", "input.buyerName")

	// Raw bytes that are not UTF-8: encoding/json would make them U+FFFD.
	raw := map[string]string{
		"utf8-variable":  `{"query":"query($s: String) { listings(search: $s) { totalCount } }","variables":{"s":"pu` + "\xff" + `mp"}}`,
		"utf8-literal":   `{"query":"{ listings(search: \"pu` + "\xc3\x28" + `mp\") { totalCount } }"}`,
		"utf8-surrogate": `{"query":"query($s: String) { listings(search: $s) { totalCount } }","variables":{"s":"pu\ud800mp"}}`,
		"utf8-field":     `{"query":"{ listings(filter: {region: \"` + "\xed\xa0\x80" + `\"}) { totalCount } }"}`,
	}
	for id, body := range raw {
		field := "search"
		if id == "utf8-field" {
			field = "filter.region"
		}
		api.wantBadInput(api.postRaw(id, "", []byte(body)), id, "", field)
	}
	// Over GET, the query string is not decoded by encoding/json: the bytes
	// reach the parser as they are.
	req, _ := http.NewRequest(http.MethodGet, api.URL+"/graphql?query="+url.QueryEscape(`{ listings(search: "pu`+"\xff"+`mp") { totalCount } }`), nil)
	req.Header.Set("X-Request-Id", "utf8-get")
	api.wantBadInput(api.send(req), "utf8-get", "", "search")
	// Text that is valid, non-ASCII included, still runs.
	if r := api.postWithID("utf8-ok", "", search, map[string]any{"s": "Kühler 12€ 東京"}); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Errorf("valid UTF-8: %d %s", r.Status, r.Raw)
	}
}

// TestHardeningNoSuggestions: in production no validation error suggests a
// name of the schema ("Did you mean"), even with INTROSPECTION on; in
// development it does (the probe can fail) (issue 13, class 8).
func TestHardeningNoSuggestions(t *testing.T) {
	typos := map[string]struct {
		query string
		vars  map[string]any
	}{
		"field":                   {`{ listingz { totalCount } }`, nil},
		"enum value":              {`{ listings(filter: {status: [ACTIVF]}) { totalCount } }`, nil},
		"enum value in variable":  {`query($s: [ListingStatus!]) { listings(filter: {status: $s}) { totalCount } }`, map[string]any{"s": []string{"ACTIVF"}}},
		"argument":                {`{ listings(frist: 1) { totalCount } }`, nil},
		"input field":             {`{ listings(filter: {brnad: "x"}) { totalCount } }`, nil},
		"input field in variable": {`query($f: ListingFilter) { listings(filter: $f) { totalCount } }`, map[string]any{"f": map[string]any{"brnad": "x"}}},
		"type":                    {`query($f: ListingFiltr) { listings(filter: $f) { totalCount } }`, nil},
		"selection on a leaf":     {`{ listings }`, nil},
		"inline fragment type":    {`{ viewer { ... on Listng { id } } }`, nil},
	}
	production := productionEnv()
	delete(production, "DATABASE_URL") // newTestAPI gives a test database
	production["INTROSPECTION"] = "on"
	prod := newTestAPI(t, production)
	dev := newTestAPI(t, nil)
	suggested := 0
	for name, c := range typos {
		r := prod.post("", c.query, c.vars)
		if len(r.Errors) == 0 {
			t.Errorf("%s: no error: %s", name, r.Raw)
		}
		if strings.Contains(strings.ToLower(r.Raw), "did you mean") {
			t.Errorf("%s: production suggests: %s", name, r.Raw)
		}
		if strings.Contains(strings.ToLower(dev.post("", c.query, c.vars).Raw), "did you mean") {
			suggested++
		}
	}
	if suggested < 5 {
		t.Errorf("development suggested names for %d typos; the probe is not sound", suggested)
	}
}

// TestHardeningAliasesCountedAsExecuted: the aliases of a fragment count
// once per spread, nested spreads included (issue 13, class 10: 42
// executed against a limit of 30).
func TestHardeningAliasesCountedAsExecuted(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	var aliases strings.Builder
	for i := 0; i < 21; i++ {
		fmt.Fprintf(&aliases, "a%d: id ", i)
	}
	twice := fmt.Sprintf(`{ listing(id: %q) { ...F } again: listing(id: %q) { ...F } } fragment F on Listing { %s }`,
		f.ListingA.ID, f.ListingA.ID, aliases.String())
	nested := fmt.Sprintf(`{ listing(id: %q) { ...Outer } }
		fragment Outer on Listing { ...Inner seller { id } ... on Listing { ...Inner } }
		fragment Inner on Listing { %s }`, f.ListingA.ID, aliases.String())
	for id, c := range map[string]struct {
		query string
		want  int
	}{"alias-twice": {twice, 43}, "alias-nested": {nested, 42}} {
		r := api.postLimits(id, "", c.query, nil, nil)
		if want := fmt.Sprintf("%d aliases", c.want); r.Status != http.StatusBadRequest || len(r.Errors) != 1 ||
			r.Errors[0].Code() != "QUERY_TOO_COMPLEX" || !strings.Contains(r.Errors[0].Message, want) {
			t.Errorf("%s: status %d %s; want QUERY_TOO_COMPLEX for %s", id, r.Status, r.Raw, want)
		}
		if n := api.statementsOf(id); n != 0 {
			t.Errorf("%s: %d SQL statements, want 0", id, n)
		}
	}
	// 14 aliases spread twice under two aliased fields are 30: at the
	// limit, it runs.
	var fourteen strings.Builder
	for i := 0; i < 14; i++ {
		fmt.Fprintf(&fourteen, "a%d: id ", i)
	}
	atLimit := fmt.Sprintf(`{ one: listing(id: %q) { ...F } two: listing(id: %q) { ...F } } fragment F on Listing { %s }`,
		f.ListingA.ID, f.ListingA.ID, fourteen.String())
	if r := api.postLimits("alias-30", "", atLimit, nil, nil); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Errorf("30 aliases: %d %s", r.Status, r.Raw)
	}
}

// TestHardeningIntrospectionCharged: introspection is exempt from the
// depth and cost limits but charged to the budget: 30 aliased __schema
// fields cost points, and a spent budget refuses them (issue 13, class 10).
func TestHardeningIntrospectionCharged(t *testing.T) {
	api := newTestAPI(t, map[string]string{"RATE_LIMIT_POINTS_PER_MINUTE": "600", "LIMIT_COST": "100", "LIMIT_DEPTH": "3"})
	var q strings.Builder
	q.WriteString("{")
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&q, " s%d: __schema { types { name fields { name type { name } } } }", i)
	}
	q.WriteString(" }")
	r := api.postLimits("introspect-1", "", q.String(), nil, nil)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("introspection over the depth (3) and cost (100) limits: %d %s", r.Status, r.Raw)
	}
	// 30 × (__schema, types, name, fields, name, type, name)
	if c := costOf(t, r); c.RequestedQueryCost != 210 || c.ThrottleStatus.CurrentlyAvailable > 600-210 {
		t.Errorf("cost %v, want requestedQueryCost 210 taken from the budget of 600", c)
	}
	limited := false
	for i := 0; i < 5 && !limited; i++ {
		r = api.postLimits("", "", q.String(), nil, nil)
		limited = r.Status == http.StatusTooManyRequests
	}
	if !limited || len(r.Errors) != 1 || r.Errors[0].Code() != "RATE_LIMITED" || r.Header.Get("Retry-After") == "" {
		t.Errorf("introspection never spent the budget: %d %s", r.Status, r.Raw)
	}
}

// multipartBody builds a GraphQL multipart request: operations, map, then
// one file part per map key ("0", "1", …).
func multipartBody(operations, fileMap string, files int) (*bytes.Buffer, string) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("operations", operations)
	_ = mw.WriteField("map", fileMap)
	for i := 0; i < files; i++ {
		part, _ := mw.CreateFormFile(fmt.Sprint(i), "f.csv")
		_, _ = part.Write([]byte("sku,title\n"))
	}
	_ = mw.Close()
	return &body, mw.FormDataContentType()
}

// sendForm posts body with contentType and headers to /graphql.
func (a *testAPI) sendForm(requestID string, body *bytes.Buffer, contentType string, headers map[string]string) gqlResponse {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Request-Id", requestID)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return a.send(req)
}

// TestHardeningCrossSitePosts: a POST that is not application/json needs a
// preflight header, or nothing runs; the multipart operations part is held
// to the JSON limit; a map that does not fit the variables is a 400, never
// a panic (issue 13, class 11).
func TestHardeningCrossSitePosts(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	lead := func() string {
		ops, _ := json.Marshal(map[string]any{
			"query":     `mutation($in: SubmitLeadInput!) { submitLead(input: $in) { leadId } }`,
			"variables": map[string]any{"in": mutLead(f.ListingA.ID, nil)},
		})
		return string(ops)
	}
	leads := func() int {
		var n int
		if err := api.DB.Get(&n, `SELECT count(*) FROM leads`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := leads()
	for id, h := range map[string]map[string]string{
		"xsite-none":  nil,
		"xsite-empty": {"GraphQL-Require-Preflight": ""},
	} {
		body, ct := multipartBody(lead(), `{}`, 0)
		r := api.sendForm(id, body, ct, h)
		if r.Status != http.StatusBadRequest || len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_REQUEST" {
			t.Errorf("%s: multipart without preflight: %d %s, want 400 BAD_REQUEST", id, r.Status, r.Raw)
		}
		if n := api.statementsOf(id); n != 0 {
			t.Errorf("%s: %d SQL statements", id, n)
		}
	}
	if n := leads(); n != before {
		t.Fatalf("a multipart POST without preflight stored %d leads", n-before)
	}
	for _, h := range []string{"GraphQL-Require-Preflight", "Apollo-Require-Preflight"} {
		body, ct := multipartBody(lead(), `{}`, 0)
		if r := api.sendForm("", body, ct, map[string]string{h: "1"}); r.Status != http.StatusOK || len(r.Errors) > 0 || r.Get("submitLead.leadId") == nil {
			t.Errorf("multipart with %s: %d %s", h, r.Status, r.Raw)
		}
	}
	// Content types the endpoint never accepts: 415, preflight or not.
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded"} {
		for _, h := range []map[string]string{nil, {"GraphQL-Require-Preflight": "1"}} {
			if r := api.sendForm("", bytes.NewBufferString(lead()), ct, h); r.Status != http.StatusUnsupportedMediaType || len(r.Errors) != 1 ||
				r.Errors[0].Code() != "BAD_REQUEST" {
				t.Errorf("%s %v: %d %s, want 415 BAD_REQUEST", ct, h, r.Status, r.Raw)
			}
		}
	}
	if n := leads(); n != before+2 {
		t.Errorf("%d leads stored, want the 2 preflighted ones", n-before)
	}
	// POST /events, which only records events, needs no preflight.
	if status, raw := api.postEvents("text/plain", `{"type":"LISTING_VIEW","listingId":"`+f.ListingA.ID+`","sessionId":"s1"}`); status != http.StatusNoContent {
		t.Errorf("POST /events text/plain: %d %s", status, raw)
	}
	// The operations part is held to the 1 MiB JSON limit.
	big, _ := json.Marshal(map[string]any{"query": "{ viewer { role } }", "variables": map[string]any{"pad": strings.Repeat("x", 1<<20)}})
	body, ct := multipartBody(string(big), `{}`, 0)
	if r := api.sendForm("xsite-big", body, ct, map[string]string{"GraphQL-Require-Preflight": "1"}); r.Status != http.StatusRequestEntityTooLarge ||
		len(r.Errors) != 1 || r.Errors[0].Code() != "PAYLOAD_TOO_LARGE" {
		t.Errorf("operations part over 1 MiB: %d %.300s, want 413 PAYLOAD_TOO_LARGE", r.Status, r.Raw)
	}
}

// TestHardeningMultipartMapPaths: a map naming a path that does not fit the
// variables (a list index into a non-list, out of range, through a scalar,
// outside the variables) is a 400 BAD_REQUEST, never a panic or a 500.
func TestHardeningMultipartMapPaths(t *testing.T) {
	api := newTestAPI(t, nil)
	ops := `{"query":"query($files: [Upload!], $file: Upload, $n: Int, $in: ListingFilter) { viewer { role } }",
		"variables":{"files":[null], "file": null, "n": 3, "in": {"brand": null}}}`
	cases := map[string]struct {
		fileMap string
		files   int
	}{
		"index into null":        {`{"0": ["variables.file.0"]}`, 1},
		"index into a scalar":    {`{"0": ["variables.n.0"]}`, 1},
		"index out of range":     {`{"0": ["variables.files.1"]}`, 1},
		"negative index":         {`{"0": ["variables.files.-1"]}`, 1},
		"name on a list":         {`{"0": ["variables.files.x"]}`, 1},
		"deep through null":      {`{"0": ["variables.files.0.a.b"]}`, 1},
		"huge index":             {`{"0": ["variables.files.99999999999999999999"]}`, 1},
		"not under variables":    {`{"0": ["query"]}`, 1},
		"the variables":          {`{"0": ["variables"]}`, 1},
		"a value that is set":    {`{"0": ["variables.n"]}`, 1},
		"an unknown variable":    {`{"0": ["variables.nope.0"]}`, 1},
		"a file not in the map":  {`{}`, 1},
		"a key without its file": {`{"0": ["variables.file"]}`, 0},
		"map not an object":      {`["variables.file"]`, 1},
		"map not JSON":           {`{"0": `, 1},
		"map of wrong shape":     {`{"0": "variables.file"}`, 1},
	}
	for name, c := range cases {
		body, ct := multipartBody(ops, c.fileMap, c.files)
		r := api.sendForm("", body, ct, map[string]string{"GraphQL-Require-Preflight": "1"})
		if r.Status != http.StatusBadRequest || len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_REQUEST" {
			t.Errorf("%s: %d %s, want 400 BAD_REQUEST", name, r.Status, r.Raw)
		}
	}
	// Batched operations and a first part that is not operations.
	for name, ops := range map[string]string{"batched": `[{"query":"{ viewer { role } }"}]`, "not JSON": `{"query":`} {
		body, ct := multipartBody(ops, `{}`, 0)
		if r := api.sendForm("", body, ct, map[string]string{"GraphQL-Require-Preflight": "1"}); r.Status != http.StatusBadRequest {
			t.Errorf("%s operations: %d %s, want 400", name, r.Status, r.Raw)
		}
	}
	// Paths that fit: a variable and an input field (the form is read and
	// the operation runs: an anonymous caller is refused by the fields).
	valid := `{"query":"mutation($file: Upload!, $in: AddListingMediaInput!) { importListings(sellerId: \"x\", file: $file) { batch { id } } addListingMedia(input: $in) { media { id } } }",
		"variables": {"file": null, "in": {"listingId": "x", "file": null}}}`
	body, ct := multipartBody(valid, `{"0": ["variables.file", "variables.in.file"]}`, 1)
	if r := api.sendForm("", body, ct, map[string]string{"GraphQL-Require-Preflight": "1"}); r.Status != http.StatusOK ||
		len(r.Errors) == 0 || slices.ContainsFunc(r.Codes(), func(c string) bool { return c != "FORBIDDEN" && c != "UNAUTHENTICATED" }) {
		t.Errorf("valid map: %d %s, want 200 with the fields' FORBIDDEN", r.Status, r.Raw)
	}
}

// TestHardeningCORSPreflightHeaders: a browser's preflight may ask for the
// preflight headers.
func TestHardeningCORSPreflightHeaders(t *testing.T) {
	api := newTestAPI(t, nil)
	for _, h := range []string{"graphql-require-preflight", "apollo-require-preflight"} {
		req, _ := http.NewRequest(http.MethodOptions, api.URL+"/graphql", nil)
		req.Header.Set("Origin", "http://localhost:3000")
		req.Header.Set("Access-Control-Request-Method", "POST")
		headers := []string{"content-type", h}
		slices.Sort(headers) // as browsers send them
		req.Header.Set("Access-Control-Request-Headers", strings.Join(headers, ","))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(got, h) {
			t.Errorf("preflight asking for %s: Access-Control-Allow-Headers %q", h, got)
		}
	}
}
