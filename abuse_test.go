package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partsmarket/gateway/internal/config"
	"github.com/partsmarket/gateway/internal/testdb"
)

// abuseSiteverify is a local fake of the providers' siteverify endpoint:
// tokens "bad…" fail, "otherhost", "otheraction" and "lowscore" answer a
// wrong hostname, action or score, "slow" outlasts any timeout; anything
// else succeeds for hostname parts.example and action "lead". It records
// the remoteip of each call. Tests never contact the real providers.
type abuseSiteverify struct {
	*httptest.Server
	mu        sync.Mutex
	remoteIPs []string
	calls     int
}

func newAbuseSiteverify(t *testing.T) *abuseSiteverify {
	t.Helper()
	f := &abuseSiteverify{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		f.calls++
		f.remoteIPs = append(f.remoteIPs, r.PostForm.Get("remoteip"))
		f.mu.Unlock()
		answer := map[string]any{"success": true, "hostname": "parts.example", "action": "lead", "score": 0.9}
		switch tok := r.PostForm.Get("response"); {
		case r.PostForm.Get("secret") != "siteverify-secret" || strings.HasPrefix(tok, "bad"):
			answer = map[string]any{"success": false, "error-codes": []string{"invalid-input-response"}}
		case tok == "otherhost":
			answer["hostname"] = "evil.example"
		case tok == "otheraction":
			answer["action"] = "signup"
		case tok == "lowscore":
			answer["score"] = 0.2
		case tok == "slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *abuseSiteverify) stats() (int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	last := ""
	if len(f.remoteIPs) > 0 {
		last = f.remoteIPs[len(f.remoteIPs)-1]
	}
	return f.calls, last
}

// abuseEnv merges settings over generous rate limits.
func abuseEnv(over map[string]string) map[string]string {
	env := map[string]string{}
	for k, v := range mutGenerousLimits {
		env[k] = v
	}
	for k, v := range over {
		env[k] = v
	}
	return env
}

// postFrom posts a GraphQL request with an X-Forwarded-For header (none if
// xff is "").
func (a *testAPI) postFrom(xff, query string, vars map[string]any) gqlResponse {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	return a.send(req)
}

func TestAbuseCaptchaProviders(t *testing.T) {
	fake := newAbuseSiteverify(t)
	for _, provider := range []string{"turnstile", "hcaptcha", "recaptcha"} {
		t.Run(provider, func(t *testing.T) {
			api := newTestAPI(t, abuseEnv(map[string]string{
				"CAPTCHA_PROVIDER": provider, "CAPTCHA_SECRET": "siteverify-secret", "CAPTCHA_VERIFY_URL": fake.URL,
				"CAPTCHA_HOSTNAME": "parts.example", "CAPTCHA_ACTION": "lead", "CAPTCHA_MIN_SCORE": "0.5",
				"CAPTCHA_TIMEOUT": "300ms",
			}))
			f := api.newFixture()
			lead := func(token string) gqlResponse {
				return api.post("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, map[string]any{"captchaToken": token})})
			}
			good := provider + "-good-token"
			r := api.mustPost("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, map[string]any{"captchaToken": good})})
			if r.Get("submitLead.leadId") == nil {
				t.Fatalf("no leadId: %s", r.Raw)
			}
			if _, ip := fake.stats(); ip != "127.0.0.1" {
				t.Errorf("remoteip sent to the provider: %q, want 127.0.0.1", ip)
			}
			mutWantCode(t, lead(good), "CAPTCHA_FAILED") // single use
			mutWantCode(t, lead("bad-token"), "CAPTCHA_FAILED")
			mutWantCode(t, lead("otherhost"), "CAPTCHA_FAILED")
			if provider != "hcaptcha" {
				mutWantCode(t, lead("otheraction"), "CAPTCHA_FAILED")
			}
			if provider == "recaptcha" {
				mutWantCode(t, lead("lowscore"), "CAPTCHA_FAILED")
			}
			start := time.Now()
			r = lead("slow")
			mutWantCode(t, r, "CAPTCHA_FAILED")
			if r.Status != http.StatusOK {
				t.Errorf("a provider timeout answered HTTP %d, want 200", r.Status)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("a slow provider held the request %v; CAPTCHA_TIMEOUT is 300ms", d)
			}
			report := api.post("", mutReportListing, map[string]any{"input": map[string]any{
				"listingId": f.ListingB.ID, "reason": "SCAM", "captchaToken": "bad-report"}})
			mutWantCode(t, report, "CAPTCHA_FAILED")
			api.mustPost("", mutReportListing, map[string]any{"input": map[string]any{
				"listingId": f.ListingB.ID, "reason": "SCAM", "captchaToken": provider + "-report-token"}})
		})
	}
}

// wantRateLimited checks a RATE_LIMITED answer: 429 with a Retry-After of
// at most max.
func wantRateLimited(t *testing.T, r gqlResponse, max time.Duration) {
	t.Helper()
	mutWantCode(t, r, "RATE_LIMITED")
	if r.Status != http.StatusTooManyRequests {
		t.Errorf("status %d, want 429", r.Status)
	}
	s, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || s < 1 || time.Duration(s)*time.Second > max {
		t.Errorf("Retry-After %q, want 1..%v seconds", r.Header.Get("Retry-After"), max)
	}
}

func TestAbuseRateLimitsPerIP(t *testing.T) {
	fake := newAbuseSiteverify(t)
	api := newTestAPI(t, map[string]string{
		"CAPTCHA_PROVIDER": "turnstile", "CAPTCHA_SECRET": "siteverify-secret", "CAPTCHA_VERIFY_URL": fake.URL,
		"RATE_LIMIT_POINTS_PER_MINUTE": "10000000",
		// production's default limits (development's are generous)
		"RATE_LIMIT_LEADS_PER_IP_PER_HOUR": "20", "RATE_LIMIT_REPORTS_PER_IP_PER_HOUR": "10",
	})
	f := api.newFixture()
	token := 0
	next := func() string { token++; return "tok-" + strconv.Itoa(token) }
	for i := 0; i < 20; i++ {
		api.mustPost("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, map[string]any{"captchaToken": next()})})
	}
	before, _ := fake.stats()
	r := api.post("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, map[string]any{"captchaToken": next()})})
	wantRateLimited(t, r, time.Hour)
	if after, _ := fake.stats(); after != before {
		t.Errorf("a limited lead still asked the CAPTCHA provider")
	}
	// Bad input is refused as such and not counted against anybody.
	r = api.post("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, map[string]any{"email": "nope"})})
	if r.Status != http.StatusOK || len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" {
		t.Errorf("bad input when limited: %d %s", r.Status, r.Raw)
	}

	// Reports have their own counter.
	report := func() gqlResponse {
		return api.post("", mutReportListing, map[string]any{"input": map[string]any{
			"listingId": f.ListingB.ID, "reason": "SCAM", "captchaToken": next()}})
	}
	for i := 0; i < 10; i++ {
		if r := report(); r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("report %d: %d %s", i+1, r.Status, r.Raw)
		}
	}
	wantRateLimited(t, report(), time.Hour)

	// Queries are not limited by the abuse counters.
	api.mustPost("", mutPublicListings, nil)
	var raw int
	if err := api.DB.Get(&raw, `SELECT count(*) FROM abuse_counters WHERE key LIKE '%127.0.0.1%' OR key LIKE '%example.com%'`); err != nil || raw != 0 {
		t.Errorf("raw addresses or emails in abuse_counters: %d (%v)", raw, err)
	}
}

func TestAbuseRateLimitPerEmail(t *testing.T) {
	api := newTestAPI(t, abuseEnv(map[string]string{"RATE_LIMIT_LEADS_PER_EMAIL_PER_DAY": "3"}))
	f := api.newFixture()
	for i := 0; i < 3; i++ {
		api.mustPost("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, map[string]any{"email": "Repeat.Buyer@example.com"})})
	}
	r := api.post("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingB.ID, map[string]any{"email": "repeat.buyer@EXAMPLE.com"})})
	wantRateLimited(t, r, 24*time.Hour)
	// The same with the GraphQL-over-HTTP media type.
	body, _ := json.Marshal(map[string]any{"query": mutSubmitLead, "variables": map[string]any{
		"input": mutLead(f.ListingA.ID, map[string]any{"email": "repeat.buyer@example.com"})}})
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	wantRateLimited(t, api.send(req), 24*time.Hour)
	api.mustPost("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, nil)}) // other emails go on
}

func TestAbuseRateLimitsAcrossInstances(t *testing.T) {
	api := newTestAPI(t, abuseEnv(map[string]string{"RATE_LIMIT_LEADS_PER_IP_PER_HOUR": "4", "RATE_LIMIT_REPORTS_PER_IP_PER_HOUR": "2"}))
	second := newTestAPIOn(t, api)
	f := api.newFixture()
	for i, gw := range []*testAPI{api, second, api, second} {
		if r := gw.post("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, nil)}); len(r.Errors) > 0 {
			t.Fatalf("lead %d: %s", i+1, r.Raw)
		}
	}
	wantRateLimited(t, second.post("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, nil)}), time.Hour)
	wantRateLimited(t, api.post("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, nil)}), time.Hour)
	report := map[string]any{"input": map[string]any{"listingId": f.ListingB.ID, "reason": "SCAM", "captchaToken": "ok"}}
	api.mustPost("", mutReportListing, report)
	second.mustPost("", mutReportListing, report)
	wantRateLimited(t, api.post("", mutReportListing, report), time.Hour)
}

func TestAbuseTrustedProxies(t *testing.T) {
	lead := func(api *testAPI, f *fixture, xff string) gqlResponse {
		return api.postFrom(xff, mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, nil)})
	}
	limits := map[string]string{"RATE_LIMIT_LEADS_PER_IP_PER_HOUR": "1"}

	t.Run("untrusted peer: X-Forwarded-For ignored", func(t *testing.T) {
		api := newTestAPI(t, abuseEnv(limits))
		f := api.newFixture()
		api.mustPostFrom(lead(api, f, "203.0.113.1"))
		wantRateLimited(t, lead(api, f, "203.0.113.2"), time.Hour)
	})
	t.Run("trusted peer: right-most untrusted address", func(t *testing.T) {
		env := abuseEnv(limits)
		env["TRUSTED_PROXIES"] = "127.0.0.1/32, 10.0.0.0/8"
		api := newTestAPI(t, env)
		f := api.newFixture()
		api.mustPostFrom(lead(api, f, "203.0.113.1"))
		wantRateLimited(t, lead(api, f, "203.0.113.1"), time.Hour)
		api.mustPostFrom(lead(api, f, "203.0.113.2"))
		// A client cannot pick its address by prepending to the header:
		// the right-most untrusted hop (203.0.113.2, behind proxy 10.1.2.3)
		// is the client.
		wantRateLimited(t, lead(api, f, "198.51.100.77, 203.0.113.2, 10.1.2.3"), time.Hour)
		api.mustPostFrom(lead(api, f, "203.0.113.3, 10.1.2.3"))
		// Without the header, the peer itself.
		api.mustPostFrom(lead(api, f, ""))
	})
}

// mustPostFrom fails the test unless r is a clean success.
func (a *testAPI) mustPostFrom(r gqlResponse) {
	a.t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		a.t.Fatalf("unexpected errors (status %d): %s", r.Status, r.Raw)
	}
}

func TestAbuseConfig(t *testing.T) {
	load := func(env map[string]string) error {
		_, err := config.Load(func(k string) string { return env[k] })
		return err
	}
	if err := load(map[string]string{"CAPTCHA_PROVIDER": "turnstile"}); err == nil || !strings.Contains(err.Error(), "CAPTCHA_SECRET") {
		t.Errorf("a provider without a secret: %v", err)
	}
	if err := load(map[string]string{"ENV": "production", "DATABASE_URL": "postgres://db/x", "JWT_SECRET": strings.Repeat("k", 40)}); err == nil ||
		!strings.Contains(err.Error(), "CAPTCHA_PROVIDER test") {
		t.Errorf("the test provider in production: %v", err)
	}
	if err := load(map[string]string{"CAPTCHA_MIN_SCORE": "2"}); err == nil {
		t.Error("CAPTCHA_MIN_SCORE 2 was accepted")
	}
	if err := load(map[string]string{"RATE_LIMIT_LEADS_PER_IP_PER_HOUR": "many"}); err == nil {
		t.Error("a non-numeric rate limit was accepted")
	}
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"CAPTCHA_PROVIDER": "recaptcha", "CAPTCHA_SECRET": "x"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CaptchaTimeout != 5*time.Second || cfg.CaptchaMinScore != 0.5 || cfg.RateLimitLeadsPerIPPerHour != config.DevAbuseLimit ||
		cfg.RateLimitReportsPerIPPerHour != config.DevAbuseLimit || cfg.RateLimitLeadsPerEmailPerDay != config.DevAbuseLimit {
		t.Errorf("defaults: %+v", cfg)
	}
	cfg.DatabaseURL = testdb.New(t)
	cfg.TrustedProxies = []string{"not-a-cidr"}
	if _, err := newApp(t.Context(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "TRUSTED_PROXIES") {
		t.Errorf("a bad TRUSTED_PROXIES: %v", err)
	}
}
