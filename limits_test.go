package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/partsmarket/gateway/internal/limits"
)

// postLimits posts a GraphQL request asking for
// application/graphql-response+json, with a chosen request id, optional
// variables and extensions.
func (a *testAPI) postLimits(requestID, token, query string, vars, ext map[string]any) gqlResponse {
	a.t.Helper()
	body := map[string]any{"variables": vars}
	if query != "" {
		body["query"] = query
	}
	if ext != nil {
		body["extensions"] = ext
	}
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	req.Header.Set("X-Request-Id", requestID)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.send(req)
}

// costOf returns the response's extensions.cost, failing the test when a
// field of Shopify's shape is missing.
func costOf(t *testing.T, r gqlResponse) limits.Cost {
	t.Helper()
	var raw struct {
		Extensions struct {
			Cost map[string]json.RawMessage `json:"cost"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal([]byte(r.Raw), &raw); err != nil || raw.Extensions.Cost == nil {
		t.Fatalf("no extensions.cost in %s", r.Raw)
	}
	for _, k := range []string{"requestedQueryCost", "actualQueryCost", "maxQueryCost", "throttleStatus"} {
		if _, ok := raw.Extensions.Cost[k]; !ok {
			t.Fatalf("extensions.cost has no %s: %s", k, r.Raw)
		}
	}
	var ts map[string]json.RawMessage
	if err := json.Unmarshal(raw.Extensions.Cost["throttleStatus"], &ts); err != nil {
		t.Fatalf("extensions.cost.throttleStatus: %v in %s", err, r.Raw)
	}
	for _, k := range []string{"maximumAvailable", "currentlyAvailable", "restoreRate"} {
		if _, ok := ts[k]; !ok {
			t.Fatalf("extensions.cost.throttleStatus has no %s: %s", k, r.Raw)
		}
	}
	var c struct {
		Extensions struct {
			Cost limits.Cost `json:"cost"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal([]byte(r.Raw), &c); err != nil {
		t.Fatalf("extensions.cost: %v in %s", err, r.Raw)
	}
	return c.Extensions.Cost
}

// deepQuery is a query of exactly depth levels (depth >= 2): listing(id),
// then seller / listings / nodes cycles, then id (totalCount under a
// connection).
func deepQuery(depth int, listingID string) string {
	chain := []string{fmt.Sprintf("listing(id: %q)", listingID)}
	cycle := []string{"seller", "listings(first: 1)", "nodes"}
	for i := 0; len(chain) < depth-1; i++ {
		chain = append(chain, cycle[i%3])
	}
	leaf := "id"
	if strings.HasPrefix(chain[len(chain)-1], "listings") {
		leaf = "totalCount"
	}
	return "{ " + strings.Join(chain, " { ") + " { " + leaf + strings.Repeat(" }", len(chain)) + " }"
}

// threeDeep asks first: 100 three connections deep: leads costs
// 1 + 100·(nodes 1 + id 1) = 201, listings 1 + 100·(1 + 201) = 20,201, sellers
// 1 + 100·(1 + 20,201) = 2,020,201.
const threeDeep = `{ sellers(first: 100) { nodes { listings(first: 100) { nodes { leads(first: 100) { nodes { id } } } } } } }`

// twoDeep costs 1 + 100·(1 + (1 + 100·(1 + 1))) = 20,201: over 10,000, under
// ANALYST's 50,000.
const twoDeep = `{ sellers(first: 100) { nodes { listings(first: 100) { nodes { id } } } } }`

// atLimit costs exactly 10,000: listings 1 + 33·(nodes{id} 2 + totalCount 1)
// = 100, sellers 1 + 99·(nodes 1 + 100) = 10,000.
const atLimit = `{ sellers(first: 99) { nodes { listings(first: 33) { nodes { id } totalCount } } } }`

func TestQueryLimitsRefuseBeforeAnySQL(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	aliases := make([]string, 31)
	for i := range aliases {
		aliases[i] = fmt.Sprintf("a%d: viewer { role }", i)
	}
	tokens := "{ viewer {" + strings.Repeat(" role", 5001) + " } }"
	overByOne := strings.Replace(atLimit, "first: 33", "first: 34", 1) // 1 + 99·(1 + 1 + 34·3) = 10,297
	cases := []struct {
		name, token, query, message string
		vars                        map[string]any
	}{
		{"depth 13", "", deepQuery(13, f.ListingA.ID), "depth 13 exceeds the limit of 12", nil},
		{"31 aliases", "", "{ " + strings.Join(aliases, " ") + " }", "31 aliases, over the limit of 30", nil},
		{"three connections deep", "", threeDeep, "cost 2020201 exceeds the limit of 10000", nil},
		{"three connections deep, ANALYST", f.Analyst, threeDeep, "cost 2020201 exceeds the limit of 50000", nil},
		{"cost 20,201 for ADMIN", f.Admin, twoDeep, "cost 20201 exceeds the limit of 10000", nil},
		{"one over the limit", "", overByOne, "cost 10297 exceeds the limit of 10000", nil},
		{"first as a variable", "", `query($n: Int) { sellers(first: $n) { nodes { listings(first: $n) { nodes { id } } } } }`,
			"cost 20201 exceeds the limit of 10000", map[string]any{"n": 100}},
		{"first clamped to 100", "", `{ sellers(first: 5000) { nodes { listings(first: 100) { nodes { id } } } } }`,
			"cost 20201 exceeds the limit of 10000", nil},
		{"over the token limit", "", tokens, "more than 5000 tokens", nil},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := fmt.Sprintf("limits-refused-%d", i)
			r := api.postLimits(id, c.token, c.query, c.vars, nil)
			if r.Status != http.StatusBadRequest || len(r.Errors) != 1 || r.Errors[0].Code() != "QUERY_TOO_COMPLEX" {
				t.Fatalf("status %d, body %s; want 400 with one QUERY_TOO_COMPLEX", r.Status, r.Raw)
			}
			if !strings.Contains(r.Errors[0].Message, c.message) {
				t.Errorf("message %q does not say %q", r.Errors[0].Message, c.message)
			}
			if strings.Contains(r.Errors[0].Message, "viewer") || strings.Contains(r.Errors[0].Message, "sellers") {
				t.Errorf("message %q quotes the query", r.Errors[0].Message)
			}
			if r.Data != nil {
				t.Errorf("data %v for a refused query", r.Data)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/graphql-response+json") {
				t.Errorf("content type %q", ct)
			}
			costOf(t, r)
			if n := api.statementsOf(id); n != 0 {
				t.Errorf("%d SQL statements for a refused query, want 0", n)
			}
		})
	}
}

func TestQueryLimitsAllow(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	cases := []struct {
		name, token, query string
		vars               map[string]any
		cost, limit        int
	}{
		// viewer 1 + role 1
		{"small", "", "{ viewer { role } }", nil, 2, 10000},
		// __typename is free
		{"typename", "", "{ __typename viewer { __typename role } }", nil, 2, 10000},
		// listings 1 + 20 (default first)·(nodes 1 + id 1 + title 1) = 61
		{"default first", "", "{ listings { nodes { id title } } }", nil, 61, 10000},
		// listings 1 + 5·(nodes 1 + id 1 + pageInfo 1 + hasNextPage 1 + totalCount 1) = 26
		{"first 5", "", "{ listings(first: 5) { nodes { id } pageInfo { hasNextPage } totalCount } }", nil, 26, 10000},
		// fragments counted where spread: listings 1 + 10·(nodes 1 + id 1 + seller 1 + media 1 + url 1) = 51
		{"fragment and variable", "", `query($n: Int) { listings(first: $n) { ...page } }
			fragment page on ListingConnection { nodes { id ... on Listing { seller { __typename } media { url } } } }`,
			map[string]any{"n": 10}, 51, 10000},
		{"exactly the limit", "", atLimit, nil, 10000, 10000},
		// listing, then seller / listings(first: 1) / nodes thrice, then seller { id }: 12 fields, each connection ×1
		{"depth 12", "", deepQuery(12, f.ListingA.ID), nil, 12, 10000},
		{"20,201 for ANALYST", f.Analyst, twoDeep, nil, 20201, 50000},
		// exempt from the depth and cost limits, not from the budget: each field costs 1
		{"introspection", "", introspectionQuery, nil, 181, 10000},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := fmt.Sprintf("limits-allowed-%d", i)
			r := api.postLimits(id, c.token, c.query, c.vars, nil)
			if r.Status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("status %d: %s", r.Status, r.Raw)
			}
			cost := costOf(t, r)
			if cost.RequestedQueryCost != c.cost || cost.MaxQueryCost != c.limit {
				t.Errorf("cost %+v, want requestedQueryCost %d, maxQueryCost %d", cost, c.cost, c.limit)
			}
			if cost.ActualQueryCost == nil || *cost.ActualQueryCost > c.cost || *cost.ActualQueryCost < 1 {
				t.Errorf("actualQueryCost %v, want 1..%d", deref(cost.ActualQueryCost), c.cost)
			}
			// Each role's budget: ANALYST's 100,000 a minute, everyone
			// else's 20,000, never below the role's cost limit.
			wantMax, wantRate := 20000.0, 20000.0/60
			if c.token == f.Analyst {
				wantMax, wantRate = 100000, 100000.0/60
			}
			ts := cost.ThrottleStatus
			if ts.MaximumAvailable != wantMax || ts.RestoreRate != wantRate || ts.MaximumAvailable < float64(cost.MaxQueryCost) {
				t.Errorf("throttleStatus %+v, want maximumAvailable %v restoreRate %v", ts, wantMax, wantRate)
			}
			if ts.CurrentlyAvailable < 0 || float64(ts.CurrentlyAvailable) > wantMax {
				t.Errorf("currentlyAvailable %d, want 0..%v", ts.CurrentlyAvailable, wantMax)
			}
		})
	}
}

func TestQueryLimitsConfigurable(t *testing.T) {
	api := newTestAPI(t, map[string]string{"LIMIT_DEPTH": "2", "LIMIT_COST": "61", "LIMIT_ALIASES": "1",
		"LIMIT_TOKENS": "20", "RATE_LIMIT_POINTS_PER_MINUTE": "600"})
	r := api.postLimits("cfg-1", "", "{ viewer { role } }", nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("depth 2: %s", r.Raw)
	}
	if c := costOf(t, r); c.MaxQueryCost != 61 || c.ThrottleStatus.RestoreRate != 10 || c.ThrottleStatus.MaximumAvailable != 600 {
		t.Errorf("cost %+v, want maxQueryCost 61, restoreRate 10, maximumAvailable 600", c)
	}
	for _, q := range []string{
		"{ viewer { seller { id } } }",                            // depth 3
		"{ a: viewer { role } b: viewer { role } }",               // 2 aliases
		"{ __typename" + strings.Repeat(" __typename", 20) + " }", // 23 tokens
	} {
		if r := api.postLimits("cfg-2", "", q, nil, nil); r.Status != http.StatusBadRequest || len(r.Errors) != 1 || r.Errors[0].Code() != "QUERY_TOO_COMPLEX" {
			t.Errorf("%s: status %d %s; want QUERY_TOO_COMPLEX", q, r.Status, r.Raw)
		}
	}
	// flat queries (depth 2): listings(first: 30) costs 1 + 30·1 = 31, first: 70 costs 71
	if r := api.postLimits("cfg-3", "", "{ a: listings(first: 30) { totalCount } }", nil, nil); r.Status != http.StatusOK {
		t.Errorf("cost 31: %s", r.Raw)
	}
	if r := api.postLimits("cfg-4", "", "{ listings(first: 70) { totalCount } }", nil, nil); r.Status != http.StatusBadRequest ||
		!strings.Contains(r.Raw, "cost 71 exceeds the limit of 61") {
		t.Errorf("cost 71: %s", r.Raw)
	}
}

func TestPersistedQueries(t *testing.T) {
	api := newTestAPI(t, nil)
	query := "{ viewer { role } }"
	sum := sha256.Sum256([]byte(query))
	hash := hex.EncodeToString(sum[:])
	pq := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}

	r := api.postLimits("apq-1", "", "", nil, pq)
	if r.Status != http.StatusOK || len(r.Errors) != 1 || r.Errors[0].Code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash: status %d %s; want 200 PERSISTED_QUERY_NOT_FOUND", r.Status, r.Raw)
	}
	costOf(t, r)
	if n := api.statementsOf("apq-1"); n != 0 {
		t.Errorf("%d statements for an unknown hash", n)
	}
	r = api.postLimits("apq-2", "", query, nil, pq)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("register: status %d %s", r.Status, r.Raw)
	}
	r = api.postLimits("apq-3", "", "", nil, pq)
	if r.Status != http.StatusOK || len(r.Errors) > 0 || r.Data["viewer"] == nil {
		t.Fatalf("hash only after registering: status %d %s", r.Status, r.Raw)
	}
	if c := costOf(t, r); c.RequestedQueryCost != 2 {
		t.Errorf("cost %v, want requestedQueryCost 2", c)
	}
	wrong := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": strings.Repeat("0", 64)}}
	r = api.postLimits("apq-4", "", query, nil, wrong)
	if r.Status != http.StatusBadRequest || len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_REQUEST" {
		t.Fatalf("wrong hash: status %d %s; want 400 BAD_REQUEST", r.Status, r.Raw)
	}
	if r.Data != nil {
		t.Errorf("wrong hash ran: %s", r.Raw)
	}
	// the wrong hash was not registered
	r = api.postLimits("apq-5", "", "", nil, wrong)
	if len(r.Errors) != 1 || r.Errors[0].Code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Errorf("wrong hash registered: %s", r.Raw)
	}
	// over GET too, as Apollo clients send hash-only queries
	ext, _ := json.Marshal(pq)
	req, _ := http.NewRequest(http.MethodGet, api.URL+"/graphql?extensions="+string(ext), nil)
	req.Header.Set("Accept", "application/graphql-response+json")
	q := req.URL.Query()
	q.Set("extensions", string(ext))
	req.URL.RawQuery = q.Encode()
	if r := api.send(req); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Errorf("GET hash only: status %d %s", r.Status, r.Raw)
	}
}

// introspectionQuery is GraphiQL's schema query (abridged of descriptions
// only where GraphiQL makes them optional).
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`
