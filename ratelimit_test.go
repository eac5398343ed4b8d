package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rlQuery is a query that reads the database, so a run of it shows in the
// request's statement count.
const rlQuery = `query($id: ID!) { listing(id: $id) { id title } }`

// rlPost posts rlQuery with an optional token, X-Forwarded-For and request
// id.
func (a *testAPI) rlPost(token, xff, requestID, listingID string) gqlResponse {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": rlQuery, "variables": map[string]any{"id": listingID}})
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	if requestID != "" {
		req.Header.Set("X-Request-Id", requestID)
	}
	return a.send(req)
}

// rlExhaust sends requests until one is refused, and returns it; it fails
// the test when max requests all pass.
func rlExhaust(t *testing.T, max int, send func() gqlResponse) gqlResponse {
	t.Helper()
	for i := 0; i < max; i++ {
		r := send()
		if r.Status == http.StatusTooManyRequests {
			return r
		}
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("request %d before the budget ran out: status %d: %s", i, r.Status, r.Raw)
		}
	}
	t.Fatalf("budget never ran out after %d requests", max)
	return gqlResponse{}
}

// rlWantLimited checks a RATE_LIMITED answer: 429, nothing run (data null),
// a Retry-After of 1..max seconds, which it returns.
func rlWantLimited(t *testing.T, r gqlResponse, max time.Duration) time.Duration {
	t.Helper()
	if r.Status != http.StatusTooManyRequests {
		t.Errorf("status %d, want 429: %s", r.Status, r.Raw)
	}
	if len(r.Errors) != 1 || r.Errors[0].Code() != "RATE_LIMITED" || r.Data != nil {
		t.Errorf("want one RATE_LIMITED error and data null, got %s", r.Raw)
	}
	s, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || s < 1 || time.Duration(s)*time.Second > max {
		t.Fatalf("Retry-After %q, want 1..%v seconds", r.Header.Get("Retry-After"), max)
	}
	return time.Duration(s) * time.Second
}

// TestRateLimitBudget: exhausting a principal's budget answers 429
// RATE_LIMITED with Retry-After and runs nothing; other principals are
// unaffected; the budget refills.
func TestRateLimitBudget(t *testing.T) {
	// 60 points a minute: one point restored per second.
	api := newTestAPI(t, map[string]string{"RATE_LIMIT_POINTS_PER_MINUTE": "60", "LIMIT_COST": "60"})
	f := api.newFixture()

	// extensions.cost.throttleStatus.currentlyAvailable counts down the
	// budget.
	var remaining []int
	for i := 0; i < 2; i++ {
		remaining = append(remaining, costOf(t, api.rlPost(f.TokenA, "", "", f.ListingA.ID)).ThrottleStatus.CurrentlyAvailable)
	}
	if !(remaining[0] < 60 && remaining[1] < remaining[0]) {
		t.Errorf("extensions.cost.throttleStatus.currentlyAvailable %v, want counting down from under 60", remaining)
	}
	limited := rlExhaust(t, 200, func() gqlResponse { return api.rlPost(f.TokenA, "", "", f.ListingA.ID) })
	retry := rlWantLimited(t, limited, time.Minute)

	// Other principals have their own budgets: another seller, an admin,
	// an anonymous caller.
	for name, tok := range map[string]string{"seller B": f.TokenB, "admin": f.Admin, "anonymous": ""} {
		if r := api.rlPost(tok, "", "", f.ListingA.ID); r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Errorf("%s affected by seller A's budget: status %d: %s", name, r.Status, r.Raw)
		}
	}
	// Seller A stays refused until the points are back.
	rlWantLimited(t, api.rlPost(f.TokenA, "", "", f.ListingA.ID), time.Minute)

	// The budget refills: after Retry-After the same request passes.
	time.Sleep(retry)
	deadline := time.Now().Add(3 * time.Second)
	for {
		r := api.rlPost(f.TokenA, "", "", f.ListingA.ID)
		if r.Status == http.StatusOK && len(r.Errors) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("budget did not refill %v after Retry-After: status %d: %s", 3*time.Second, r.Status, r.Raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRateLimitAnonymousPerIPNoSQL: anonymous callers have a budget per
// client IP, and a RATE_LIMITED answer runs no SQL.
func TestRateLimitAnonymousPerIPNoSQL(t *testing.T) {
	api := newTestAPI(t, map[string]string{"RATE_LIMIT_POINTS_PER_MINUTE": "60", "LIMIT_COST": "60", "TRUSTED_PROXIES": "127.0.0.1/32, ::1/128"})
	f := api.newFixture()

	// A request that runs costs SQL statements (the probe is sound).
	if r := api.rlPost("", "203.0.113.1", "rl-ok", f.ListingA.ID); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("first request: %d %s", r.Status, r.Raw)
	}
	if n := api.statementsOf("rl-ok"); n == 0 {
		t.Fatal("the probe query ran no SQL; it cannot show that a refused one runs none")
	}
	i := 0
	limited := rlExhaust(t, 200, func() gqlResponse {
		i++
		return api.rlPost("", "203.0.113.1", fmt.Sprintf("rl-%d", i), f.ListingA.ID)
	})
	rlWantLimited(t, limited, time.Minute)
	if n := api.statementsOf(fmt.Sprintf("rl-%d", i)); n != 0 {
		t.Errorf("a RATE_LIMITED request ran %d SQL statements, want 0", n)
	}
	// Another client IP is unaffected.
	if r := api.rlPost("", "203.0.113.2", "", f.ListingA.ID); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Errorf("another IP affected: status %d: %s", r.Status, r.Raw)
	}
	// Introspection is charged like any query: the spent budget refuses it.
	body, _ := json.Marshal(map[string]any{"query": `{ __schema { queryType { name } } }`})
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", "203.0.113.1")
	if r := api.send(req); r.Status != http.StatusTooManyRequests || len(r.Errors) != 1 || r.Errors[0].Code() != "RATE_LIMITED" {
		t.Errorf("introspection with the budget spent: status %d: %s, want 429 RATE_LIMITED", r.Status, r.Raw)
	}
}

// TestRateLimitSharedBetweenInstances: two gateways on one database share a
// principal's budget. The second instance may let through what it charges
// before its first sync with the first's spend (one sync interval, 1 s by
// default; it syncs at once on a key it has not seen): it must refuse within
// a few such intervals.
func TestRateLimitSharedBetweenInstances(t *testing.T) {
	first := newTestAPI(t, map[string]string{"RATE_LIMIT_POINTS_PER_MINUTE": "60", "LIMIT_COST": "60"})
	second := newTestAPIOn(t, first)
	f := first.newFixture()

	rlWantLimited(t, rlExhaust(t, 200, func() gqlResponse { return first.rlPost(f.TokenA, "", "", f.ListingA.ID) }), time.Minute)

	// The second instance learns the spend: allow it the documented
	// overspend (what it charges before its first sync, plus the points
	// restored meanwhile) but it must refuse within 3 sync intervals.
	deadline := time.Now().Add(3 * time.Second)
	passed := 0
	for {
		r := second.rlPost(f.TokenA, "", "", f.ListingA.ID)
		if r.Status == http.StatusTooManyRequests {
			rlWantLimited(t, r, time.Minute)
			break
		}
		if r.Status != http.StatusOK {
			t.Fatalf("second instance: status %d: %s", r.Status, r.Raw)
		}
		passed++
		if time.Now().After(deadline) {
			t.Fatalf("second instance still charging seller A after 3s (%d requests passed)", passed)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("second instance passed %d requests before refusing", passed)
	if passed > 3 {
		t.Errorf("second instance let %d requests through before refusing; want at most a sync interval's worth", passed)
	}
	// Another principal is unaffected on the second instance too.
	if r := second.rlPost(f.TokenB, "", "", f.ListingB.ID); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Errorf("seller B on the second instance: status %d: %s", r.Status, r.Raw)
	}
}

// TestRateLimitRefusedOperationsAreFree: operations refused before they run
// (validation errors, QUERY_TOO_COMPLEX) charge nothing.
func TestRateLimitRefusedOperationsAreFree(t *testing.T) {
	api := newTestAPI(t, map[string]string{"RATE_LIMIT_POINTS_PER_MINUTE": "60", "LIMIT_COST": "60"})
	f := api.newFixture()
	var aliases strings.Builder
	aliases.WriteString("{")
	for i := 0; i < 31; i++ {
		fmt.Fprintf(&aliases, " a%d: listing(id: %q) { id }", i, f.ListingA.ID)
	}
	aliases.WriteString(" }")
	for i := 0; i < 30; i++ {
		for _, q := range []string{`{ noSuchField }`, aliases.String()} {
			r := api.post(f.TokenA, q, nil)
			if r.Status == http.StatusTooManyRequests || slices.Contains(r.Codes(), "RATE_LIMITED") {
				t.Fatalf("request %d (%.20s…) was charged: %s", i, q, r.Raw)
			}
		}
	}
	if r := api.rlPost(f.TokenA, "", "", f.ListingA.ID); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("budget spent by refused operations: status %d: %s", r.Status, r.Raw)
	}
}
