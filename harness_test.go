package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/config"
	"github.com/partsmarket/gateway/internal/testdb"
	"github.com/partsmarket/gateway/store"
)

// testAPI is a whole gateway on a fresh database, served by httptest.
type testAPI struct {
	t      *testing.T
	URL    string
	DB     *sqlx.DB
	Store  *store.Store
	Config config.Config
	app    *app
	logs   *syncBuffer
}

// syncBuffer collects the gateway's log lines from concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	if b != &suiteLog {
		_, _ = suiteLog.Write(p) // for TestMain's scan of the whole suite's logs
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestAPI starts a gateway on a fresh database; env overrides settings
// and opts change the wiring. The gateway connects as the serving role, as
// in production; DB (for the test's own fixtures and checks) as the
// server's superuser.
func newTestAPI(t *testing.T, env map[string]string, opts ...appOption) *testAPI {
	t.Helper()
	dbURL := testdb.New(t)
	servingURL := testdb.ServingURL(t, dbURL)
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if k == "DATABASE_URL" {
			return servingURL
		}
		return ""
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &syncBuffer{}
	a, err := newApp(context.Background(), cfg, slog.New(slog.NewJSONHandler(logs, nil)), opts...)
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	srv := httptest.NewServer(a.handler)
	db := sqlx.MustConnect("postgres", dbURL)
	t.Cleanup(func() {
		srv.Close()
		a.close(context.Background())
		db.Close()
	})
	return &testAPI{t: t, URL: srv.URL, DB: db, Store: store.New(db, store.WithSearchCache(a.searchCache), store.WithInvalidator(a.invalidator)), Config: cfg, app: a, logs: logs}
}

// gqlError is one error of a GraphQL response.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns the error's extensions.code.
func (e gqlError) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Field returns the error's extensions.field.
func (e gqlError) Field() string { s, _ := e.Extensions["field"].(string); return s }

// PathString joins the error's path with dots.
func (e gqlError) PathString() string {
	parts := make([]string, len(e.Path))
	for i, p := range e.Path {
		b, _ := json.Marshal(p)
		parts[i] = strings.Trim(string(b), `"`)
	}
	return strings.Join(parts, ".")
}

// gqlResponse is a decoded GraphQL response with its HTTP status.
type gqlResponse struct {
	Status int
	Header http.Header
	Data   map[string]any `json:"data"`
	Errors []gqlError     `json:"errors"`
	Raw    string
}

// Codes lists the error codes of the response.
func (r gqlResponse) Codes() []string {
	out := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		out[i] = e.Code()
	}
	return out
}

// Get walks the data by a dotted path ("listing.seller.id"); numbers index lists.
func (r gqlResponse) Get(path string) any {
	var cur any = r.Data
	for _, p := range strings.Split(path, ".") {
		if p == "" {
			continue // the root: "" or ".field"
		}
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			i := 0
			for _, ch := range p {
				i = i*10 + int(ch-'0')
			}
			if i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// post sends a GraphQL request with an optional bearer token.
func (a *testAPI) post(token, query string, vars map[string]any) gqlResponse {
	a.t.Helper()
	return a.send(a.request(token, query, vars))
}

// request builds the POST of a GraphQL request with an optional bearer
// token; it is safe from any goroutine.
func (a *testAPI) request(token, query string, vars map[string]any) *http.Request {
	notePersonalData(vars)
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// send sends a raw request and decodes the GraphQL response.
func (a *testAPI) send(req *http.Request) gqlResponse {
	a.t.Helper()
	out, err := roundTrip(req)
	if err != nil {
		a.t.Fatal(err)
	}
	return out
}

// roundTrip sends a raw request and decodes the GraphQL response; unlike
// send it returns its failure, so goroutines other than the test's may call
// it.
func roundTrip(req *http.Request) (gqlResponse, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return gqlResponse{}, fmt.Errorf("request: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return gqlResponse{}, fmt.Errorf("read response: %w", err)
	}
	out := gqlResponse{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			return out, fmt.Errorf("decode %s: %w", raw, err)
		}
	}
	return out, nil
}

// mustPost posts and fails the test on any error in the response.
func (a *testAPI) mustPost(token, query string, vars map[string]any) gqlResponse {
	a.t.Helper()
	r := a.post(token, query, vars)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		a.t.Fatalf("unexpected errors (status %d): %s", r.Status, r.Raw)
	}
	return r
}

// token mints a token for role (and seller id for sellers).
func (a *testAPI) token(role access.Role, sellerID string) string {
	a.t.Helper()
	tok, err := access.Mint(hs256Config(a.Config), role, "test-"+strings.ToLower(string(role)), sellerID, time.Hour)
	if err != nil {
		a.t.Fatalf("mint: %v", err)
	}
	return tok
}

// fixture is a small marketplace: two active sellers A and B with a public
// listing, a draft listing, a lead and a report each, and a suspended seller.
type fixture struct {
	SellerA, SellerB, Suspended    *store.Seller
	ListingA, DraftA, ListingB     *store.Listing
	DraftB                         *store.Listing
	LeadA, LeadB                   string
	ReportA, ReportB               string
	Admin, Analyst, TokenA, TokenB string
	// User is a signed-in person of no seller; OwnerA and StaffA are USER
	// tokens of seller A's OWNER and STAFF members.
	User, OwnerA, StaffA string
}

// newFixture loads the fixture through the store.
func (a *testAPI) newFixture() *fixture {
	a.t.Helper()
	ctx := context.Background()
	f := &fixture{}
	f.SellerA = a.mustSeller("Alpha Parts", store.SellerActive)
	f.SellerB = a.mustSeller("Bravo Hydraulics", store.SellerActive)
	f.Suspended = a.mustSeller("Shady Salvage", store.SellerSuspended)
	f.ListingA = a.mustListing(f.SellerA.ID, "Hydraulic pump 1R-0750", store.ListingActive)
	f.DraftA = a.mustListing(f.SellerA.ID, "Draft alternator", store.ListingDraft)
	f.ListingB = a.mustListing(f.SellerB.ID, "Injector RE504836", store.ListingActive)
	f.DraftB = a.mustListing(f.SellerB.ID, "Draft starter", store.ListingDraft)
	var err error
	for _, l := range []struct {
		listing *store.Listing
		id      *string
		rep     *string
	}{{f.ListingA, &f.LeadA, &f.ReportA}, {f.ListingB, &f.LeadB, &f.ReportB}} {
		phone, company := "+1 555 010 1234", "Acme Mining"
		*l.id, err = a.Store.CreateLead(ctx, store.NewLead{SellerID: l.listing.SellerID, ListingID: &l.listing.ID,
			BuyerName: "Jane Buyer", Email: "jane.buyer@example.com", Phone: &phone, Company: &company,
			Message: "Is this still available?", Status: store.LeadNew})
		if err != nil {
			a.t.Fatal(err)
		}
		reporter, details := "reporter@example.org", "Looks like a duplicate"
		*l.rep, err = a.Store.CreateReport(ctx, store.NewReport{ListingID: l.listing.ID, Reason: store.ReasonDuplicate,
			Details: &details, ReporterEmail: &reporter})
		if err != nil {
			a.t.Fatal(err)
		}
	}
	f.Admin = a.token(access.RoleAdmin, "")
	f.Analyst = a.token(access.RoleAnalyst, "")
	f.TokenA = a.token(access.RoleSeller, f.SellerA.ID)
	f.TokenB = a.token(access.RoleSeller, f.SellerB.ID)
	f.User = a.userToken("fixture-user")
	f.OwnerA = a.mustMember(f.SellerA.ID, "owner-a", store.MemberOwner)
	f.StaffA = a.mustMember(f.SellerA.ID, "staff-a", store.MemberStaff)
	return f
}

// mustSeller stores a seller with one contact and one location.
func (a *testAPI) mustSeller(name string, status store.SellerStatus) *store.Seller {
	a.t.Helper()
	ctx := context.Background()
	region := "TX"
	s, err := a.Store.CreateSeller(ctx, store.NewSeller{
		Slug: strings.ReplaceAll(strings.ToLower(name), " ", "-"), CompanyName: name,
		Contacts:  []store.NewContact{{Kind: store.ContactPhone, Value: "+1 555 010 9999"}},
		Locations: []store.NewLocation{{City: "Houston", Region: &region, Country: "US"}},
	})
	if err != nil {
		a.t.Fatal(err)
	}
	notes := "checked the registry"
	if _, err := a.Store.VerifySeller(ctx, s.ID, &notes); err != nil {
		a.t.Fatal(err)
	}
	s, err = a.Store.SetSellerStatus(ctx, s.ID, status)
	if err != nil {
		a.t.Fatal(err)
	}
	return s
}

// mustListing stores a listing with one image.
func (a *testAPI) mustListing(sellerID, title string, status store.ListingStatus) *store.Listing {
	a.t.Helper()
	ctx := context.Background()
	sku, pn, brand, cat := strings.ReplaceAll(title, " ", "-"), "1R-0750", "Caterpillar", "Hydraulics"
	price, currency := 125000, "USD"
	l, err := a.Store.CreateListing(ctx, store.NewListing{
		ListingText: store.ListingText{SKU: &sku, PartNumber: &pn, Brand: &brand, Category: &cat, Currency: &currency},
		SellerID:    sellerID, Title: title, Condition: store.ConditionUsed, PriceCents: &price, Status: status,
	})
	if err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.Store.AddMedia(ctx, store.NewMedia{ListingID: l.ID, URL: "https://images.example.com/" + l.ID + ".jpg"}); err != nil {
		a.t.Fatal(err)
	}
	return l
}
