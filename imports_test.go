package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/partsmarket/gateway/store"
)

// postUpload sends a GraphQL multipart request (operations, map, one file
// part) whose file goes to variables.<fileVar>.
func (a *testAPI) postUpload(token, query string, vars map[string]any, fileVar, fileName string, content []byte) gqlResponse {
	a.t.Helper()
	if vars == nil {
		vars = map[string]any{}
	}
	vars[fileVar] = nil
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0": ["variables.`+fileVar+`"]}`)
	part, _ := mw.CreateFormFile("0", fileName)
	_, _ = part.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("GraphQL-Require-Preflight", "1") // a multipart POST without it is refused
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.send(req)
}

const importMutation = `mutation($seller: ID!, $file: Upload!, $mode: ImportMode) {
	importListings(sellerId: $seller, file: $file, mode: $mode) { batch { id sellerId status mode fileName } } }`

const batchQuery = `query($id: ID!) { importBatch(id: $id) { id status totalRows createdCount updatedCount
	unchangedCount failedCount startedAt finishedAt errors(first: 100) { totalCount nodes { row column message } } } }`

// importCSV uploads csv for sellerID and returns the new batch's id.
func (a *testAPI) importCSV(token, sellerID, mode, csv string) string {
	a.t.Helper()
	vars := map[string]any{"seller": sellerID}
	if mode != "" {
		vars["mode"] = mode
	}
	resp := a.postUpload(token, importMutation, vars, "file", "stock.csv", []byte(csv))
	if resp.Status != http.StatusOK || len(resp.Errors) > 0 {
		a.t.Fatalf("importListings: status %d: %s", resp.Status, resp.Raw)
	}
	if got := resp.Get("importListings.batch.status"); got != "QUEUED" {
		a.t.Fatalf("new batch status %v, want QUEUED", got)
	}
	return resp.Get("importListings.batch.id").(string)
}

// importBatchResult is a finished batch as the API shows it.
type importBatchResult struct {
	Status                                     string
	Total, Created, Updated, Unchanged, Failed int
	Errors                                     []string // "row/column: message"
	ErrorCount                                 int
	StartedAt, FinishedAt                      any
}

// waitBatch polls the batch until the worker is done with it (bounded).
func (a *testAPI) waitBatch(token, id string) importBatchResult {
	a.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp := a.mustPost(token, batchQuery, map[string]any{"id": id})
		status, _ := resp.Get("importBatch.status").(string)
		if status != "QUEUED" && status != "RUNNING" {
			return decodeBatch(resp)
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("batch still %s after 30s", status)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func decodeBatch(resp gqlResponse) importBatchResult {
	n := func(k string) int { f, _ := resp.Get("importBatch." + k).(float64); return int(f) }
	r := importBatchResult{
		Status: resp.Get("importBatch.status").(string), Total: n("totalRows"), Created: n("createdCount"),
		Updated: n("updatedCount"), Unchanged: n("unchangedCount"), Failed: n("failedCount"),
		ErrorCount: n("errors.totalCount"),
		StartedAt:  resp.Get("importBatch.startedAt"), FinishedAt: resp.Get("importBatch.finishedAt"),
	}
	nodes, _ := resp.Get("importBatch.errors.nodes").([]any)
	for _, node := range nodes {
		m := node.(map[string]any)
		r.Errors = append(r.Errors, fmt.Sprintf("%v/%v: %v", m["row"], m["column"], m["message"]))
	}
	return r
}

func newImportAPI(t *testing.T) (*testAPI, *fixture) {
	api := newTestAPI(t, map[string]string{"MEDIA_DIR": t.TempDir()})
	return api, api.newFixture()
}

// listingBySKU reads one of a seller's listings straight from the database.
func (a *testAPI) listingBySKU(sellerID, sku string) store.Listing {
	a.t.Helper()
	var l store.Listing
	if err := a.DB.Get(&l, `SELECT `+strings.ReplaceAll(listingCols, "l.", "")+` FROM listings WHERE seller_id = $1 AND sku = $2`, sellerID, sku); err != nil {
		a.t.Fatalf("listing %s: %v", sku, err)
	}
	return l
}

const listingCols = `l.id, l.seller_id, l.location_id, l.title, l.description, l.part_number, l.sku, l.brand, l.category,
	l.condition, l.quantity, l.price_label, l.price_cents, l.currency, l.status, l.removal_reason, l.moderation_note,
	l.created_at, l.updated_at`

func TestImportGoodAndBadRows(t *testing.T) {
	api, f := newImportAPI(t)
	formula := `=HYPERLINK("http://evil.example/x","Click me")`
	csv := "SKU,Title,condition,quantity,price_cents,currency,status,colour\n" +
		"A-1,Hydraulic pump,NEW,3,125000,usd,ACTIVE,red\n" + // 1 created
		"A-2,,USED,1,,,,\n" + // 2 missing title
		"A-3,Alternator,USED,-4,,,,\n" + // 3 negative quantity
		"A-4,Starter,MINT,1,,,,\n" + // 4 unknown condition
		"A-1,Hydraulic pump again,NEW,9,,,,\n" + // 5 duplicate SKU
		`A-6,"` + strings.ReplaceAll(formula, `"`, `""`) + `",for_parts,,,,DRAFT,` + "\n" + // 6 formula stored as text
		deref(f.ListingA.SKU) + ",Hydraulic pump 1R-0750 rebuilt,USED,2,99000,USD,ACTIVE,\n" // 7 updates the fixture's listing
	id := api.importCSV(f.TokenA, f.SellerA.ID, "UPSERT", csv)
	got := api.waitBatch(f.TokenA, id)

	want := importBatchResult{Status: "PARTIAL", Total: 7, Created: 2, Updated: 1, Unchanged: 0, Failed: 4}
	if got.Status != want.Status || got.Total != want.Total || got.Created != want.Created ||
		got.Updated != want.Updated || got.Unchanged != want.Unchanged || got.Failed != want.Failed {
		t.Errorf("got %+v, want counts %+v", got, want)
	}
	wantErrors := []string{
		"0/colour: unknown column; ignored",
		"2/title: is required",
		"3/quantity: must be a whole number from 0 to 2147483647",
		"4/condition: must be one of NEW, USED, REMANUFACTURED, FOR_PARTS",
		`5/sku: SKU "A-1" already appears at row 1`,
	}
	if strings.Join(got.Errors, "\n") != strings.Join(wantErrors, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got.Errors, "\n"), strings.Join(wantErrors, "\n"))
	}
	if got.ErrorCount != len(wantErrors) || got.StartedAt == nil || got.FinishedAt == nil {
		t.Errorf("totalCount %d, startedAt %v, finishedAt %v", got.ErrorCount, got.StartedAt, got.FinishedAt)
	}
	first := api.listingBySKU(f.SellerA.ID, "A-1")
	if first.Title != "Hydraulic pump" || deref(first.Quantity) != 3 || deref(first.Currency) != "USD" || first.Status != store.ListingActive {
		t.Errorf("A-1 = %+v, want the first row's values (currency upper-cased)", first)
	}
	if l := api.listingBySKU(f.SellerA.ID, "A-6"); l.Title != formula || l.Condition != store.ConditionForParts {
		t.Errorf("A-6 title %q condition %s, want the formula verbatim and FOR_PARTS", l.Title, l.Condition)
	}
	if l := api.listingBySKU(f.SellerA.ID, deref(f.ListingA.SKU)); l.ID != f.ListingA.ID || l.Title != "Hydraulic pump 1R-0750 rebuilt" ||
		!l.UpdatedAt.After(f.ListingA.UpdatedAt) {
		t.Errorf("fixture listing = %+v, want updated in place", l)
	}
	var n int
	api.DB.Get(&n, `SELECT count(*) FROM listings WHERE seller_id = $1 AND sku IN ('A-2', 'A-3', 'A-4')`, f.SellerA.ID)
	if n != 0 {
		t.Errorf("%d refused rows were stored", n)
	}
}

func TestImportTwiceChangesNothing(t *testing.T) {
	api, f := newImportAPI(t)
	var b strings.Builder
	b.WriteString("sku,title,description,part_number,brand,category,condition,quantity,price_label,price_cents,currency,status\n")
	for i := range 50 {
		fmt.Fprintf(&b, "S-%03d,Part %d,\"Line one, \"\"quoted\"\"\",PN-%d,Brand,Cat,USED,%d,Call,%d,EUR,ACTIVE\n", i, i, i, i, i*100)
	}
	b.WriteString("S-999,No price,,,,,NEW,,,,,\n")
	first := api.waitBatch(f.TokenA, api.importCSV(f.TokenA, f.SellerA.ID, "UPSERT", b.String()))
	if first.Status != "SUCCEEDED" || first.Created != 51 {
		t.Fatalf("first import: %+v", first)
	}
	before := updatedAts(t, api, f.SellerA.ID)
	second := api.waitBatch(f.TokenA, api.importCSV(f.TokenA, f.SellerA.ID, "UPSERT", b.String()))
	if second.Status != "SUCCEEDED" || second.Created != 0 || second.Updated != 0 || second.Unchanged != 51 || second.Failed != 0 {
		t.Errorf("second import: %+v, want all 51 unchanged", second)
	}
	after := updatedAts(t, api, f.SellerA.ID)
	for id, ts := range before {
		if !after[id].Equal(ts) {
			t.Errorf("listing %s updated_at moved from %v to %v", id, ts, after[id])
		}
	}
	if l := api.listingBySKU(f.SellerA.ID, "S-999"); l.Status != store.ListingDraft || l.Quantity != nil {
		t.Errorf("S-999 status %s quantity %v, want DRAFT and no quantity", l.Status, l.Quantity)
	}
}

func updatedAts(t *testing.T, api *testAPI, sellerID string) map[string]time.Time {
	t.Helper()
	rows := []struct {
		ID string    `db:"id"`
		At time.Time `db:"updated_at"`
	}{}
	if err := api.DB.Select(&rows, `SELECT id, updated_at FROM listings WHERE seller_id = $1`, sellerID); err != nil {
		t.Fatal(err)
	}
	out := map[string]time.Time{}
	for _, r := range rows {
		out[r.ID] = r.At
	}
	return out
}

func TestImportReplacePausesMissing(t *testing.T) {
	api, f := newImportAPI(t)
	ctx := context.Background()
	removed := api.mustListing(f.SellerA.ID, "Removed injector", store.ListingActive)
	reason := "counterfeit"
	if _, err := api.Store.RemoveListing(ctx, removed.ID, reason); err != nil {
		t.Fatal(err)
	}
	var before int
	api.DB.Get(&before, `SELECT count(*) FROM listings`)
	csv := "sku,title,condition,status\n" +
		deref(f.ListingA.SKU) + ",Hydraulic pump 1R-0750,USED,ACTIVE\n" +
		"NEW-1,Brand new valve,NEW,ACTIVE\n"
	got := api.waitBatch(f.TokenA, api.importCSV(f.TokenA, f.SellerA.ID, "REPLACE", csv))
	// DraftA is missing from the file: paused (counted as updated).
	if got.Status != "SUCCEEDED" || got.Created != 1 || got.Unchanged != 1 || got.Updated != 1 {
		t.Errorf("got %+v, want 1 created, 1 unchanged, 1 paused", got)
	}
	for id, want := range map[string]store.ListingStatus{
		f.ListingA.ID: store.ListingActive, f.DraftA.ID: store.ListingPaused, removed.ID: store.ListingRemoved,
		f.ListingB.ID: store.ListingActive, f.DraftB.ID: store.ListingDraft,
	} {
		l, err := api.Store.Listing(ctx, store.Scope{All: true}, id)
		if err != nil {
			t.Fatal(err)
		}
		if l.Status != want {
			t.Errorf("listing %q is %s, want %s", l.Title, l.Status, want)
		}
	}
	var after int
	api.DB.Get(&after, `SELECT count(*) FROM listings`)
	if after != before+1 {
		t.Errorf("listings %d -> %d, want one more and none deleted", before, after)
	}
}

func TestImportBatchAccess(t *testing.T) {
	api, f := newImportAPI(t)
	id := api.importCSV(f.TokenA, f.SellerA.ID, "", "sku,title,condition\nX-1,Pump,NEW\n")
	api.waitBatch(f.TokenA, id)
	const list = `query($seller: ID) { importBatches(sellerId: $seller) { totalCount nodes { id } } }`

	t.Run("other seller by id is NOT_FOUND", func(t *testing.T) {
		resp := api.post(f.TokenB, batchQuery, map[string]any{"id": id})
		if resp.Get("importBatch") != nil || len(resp.Codes()) != 1 || resp.Codes()[0] != "NOT_FOUND" {
			t.Errorf("got %s", resp.Raw)
		}
		unknown := api.post(f.TokenB, batchQuery, map[string]any{"id": "6f1c7f1e-4a8e-4c59-9d53-1d7f0c0e0a11"})
		if unknown.Errors[0].Message != resp.Errors[0].Message {
			t.Errorf("hidden and missing batches answer differently: %q vs %q", resp.Errors[0].Message, unknown.Errors[0].Message)
		}
	})
	t.Run("other seller's list lacks it", func(t *testing.T) {
		for _, seller := range []any{nil, f.SellerA.ID} {
			resp := api.mustPost(f.TokenB, list, map[string]any{"seller": seller})
			if n := resp.Get("importBatches.totalCount"); n != float64(0) || strings.Contains(resp.Raw, id) {
				t.Errorf("seller B (filter %v) sees %s", seller, resp.Raw)
			}
		}
	})
	t.Run("owner, admin and analyst see it", func(t *testing.T) {
		for name, token := range map[string]string{"owner": f.TokenA, "admin": f.Admin, "analyst": f.Analyst} {
			if resp := api.mustPost(token, list, nil); resp.Get("importBatches.nodes.0.id") != id {
				t.Errorf("%s: %s", name, resp.Raw)
			}
			if resp := api.mustPost(token, batchQuery, map[string]any{"id": id}); resp.Get("importBatch.id") != id {
				t.Errorf("%s: %s", name, resp.Raw)
			}
		}
	})
	t.Run("anonymous is UNAUTHENTICATED", func(t *testing.T) {
		for _, q := range []string{list, batchQuery} {
			resp := api.post("", q, map[string]any{"id": id})
			if len(resp.Codes()) != 1 || resp.Codes()[0] != "UNAUTHENTICATED" {
				t.Errorf("got %s", resp.Raw)
			}
		}
	})
	t.Run("importing for another seller is NOT_FOUND", func(t *testing.T) {
		resp := api.postUpload(f.TokenB, importMutation, map[string]any{"seller": f.SellerA.ID}, "file", "x.csv", []byte("sku,title,condition\n"))
		if len(resp.Codes()) != 1 || resp.Codes()[0] != "NOT_FOUND" {
			t.Errorf("got %s", resp.Raw)
		}
		var n int
		api.DB.Get(&n, `SELECT count(*) FROM import_batches`)
		if n != 1 {
			t.Errorf("%d batches, want 1", n)
		}
	})
	t.Run("admin imports for any seller", func(t *testing.T) {
		got := api.waitBatch(f.Admin, api.importCSV(f.Admin, f.SellerB.ID, "UPSERT", "sku,title,condition\nB-9,Gasket,NEW\n"))
		if got.Status != "SUCCEEDED" || got.Created != 1 {
			t.Errorf("got %+v", got)
		}
	})
}

func TestImportRowErrorPaging(t *testing.T) {
	api, f := newImportAPI(t)
	var b strings.Builder
	b.WriteString("sku,title,condition\n")
	for i := range 45 {
		fmt.Fprintf(&b, "E-%d,,NEW\n", i) // title missing: one error per row
	}
	id := api.importCSV(f.TokenA, f.SellerA.ID, "UPSERT", b.String())
	if got := api.waitBatch(f.TokenA, id); got.Status != "PARTIAL" || got.Failed != 45 {
		t.Fatalf("got %+v", got)
	}
	const q = `query($id: ID!, $after: String) { importBatch(id: $id) { errors(first: 20, after: $after) {
		totalCount pageInfo { hasNextPage endCursor } edges { cursor node { row } } } } }`
	var rows []int
	var after any
	for page := 0; ; page++ {
		resp := api.mustPost(f.TokenA, q, map[string]any{"id": id, "after": after})
		if n := resp.Get("importBatch.errors.totalCount"); n != float64(45) {
			t.Fatalf("totalCount %v", n)
		}
		for _, e := range resp.Get("importBatch.errors.edges").([]any) {
			rows = append(rows, int(e.(map[string]any)["node"].(map[string]any)["row"].(float64)))
		}
		if resp.Get("importBatch.errors.pageInfo.hasNextPage") != true {
			break
		}
		after = resp.Get("importBatch.errors.pageInfo.endCursor")
		if page > 5 {
			t.Fatal("too many pages")
		}
	}
	if len(rows) != 45 {
		t.Fatalf("paged %d errors, want 45", len(rows))
	}
	for i, r := range rows {
		if r != i+1 {
			t.Fatalf("error %d is row %d, want %d (file order, no repeats)", i, r, i+1)
		}
	}
	other := api.waitBatch(f.TokenA, api.importCSV(f.TokenA, f.SellerA.ID, "UPSERT", "sku,title,condition\nZ,,NEW\n"))
	_ = other
	resp := api.mustPost(f.TokenA, `query($id: ID!) { importBatch(id: $id) { errors(first: 1) { pageInfo { endCursor } } } }`, map[string]any{"id": id})
	cursor := resp.Get("importBatch.errors.pageInfo.endCursor")
	ids := api.mustPost(f.TokenA, `{ importBatches(first: 1) { nodes { id } } }`, nil)
	bad := api.post(f.TokenA, q, map[string]any{"id": ids.Get("importBatches.nodes.0.id"), "after": cursor})
	if len(bad.Codes()) != 1 || bad.Codes()[0] != "BAD_USER_INPUT" {
		t.Errorf("a cursor of another batch's errors: %s", bad.Raw)
	}
}

func TestImportFailedFiles(t *testing.T) {
	api, f := newImportAPI(t)
	for name, tc := range map[string]struct{ file, message string }{
		"empty":        {"", "the file is empty; expected a header row"},
		"no header":    {"A-1,Pump,NEW\n", "the header row lacks the column(s) sku, title, condition; expected sku,title,description,part_number,brand,category,condition,quantity,price_label,price_cents,currency,status"},
		"binary":       {"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "the file is not a CSV text file"},
		"column twice": {"sku,title,condition,SKU\n", "the header row names column sku twice"},
		"bad quoting":  {"sku,\"title\n", "the file is not a CSV text file"},
	} {
		t.Run(name, func(t *testing.T) {
			got := api.waitBatch(f.TokenA, api.importCSV(f.TokenA, f.SellerA.ID, "UPSERT", tc.file))
			if got.Status != "FAILED" || len(got.Errors) != 1 || got.Errors[0] != "0/<nil>: "+tc.message {
				t.Errorf("got %+v, want FAILED with %q", got, tc.message)
			}
		})
	}
	t.Run("every row good", func(t *testing.T) {
		got := api.waitBatch(f.TokenA, api.importCSV(f.TokenA, f.SellerA.ID, "UPSERT", "\ufeffsku,title,condition\r\nG-1,Pump,NEW\r\n,,\r\n"))
		if got.Status != "SUCCEEDED" || got.Created != 1 || got.Failed != 0 {
			t.Errorf("got %+v", got)
		}
	})
}

func TestImportUploadLimits(t *testing.T) {
	api := newTestAPI(t, map[string]string{"MEDIA_DIR": t.TempDir(), "UPLOAD_MAX_BYTES": "2048"})
	f := api.newFixture()
	resp := api.postUpload(f.TokenA, importMutation, map[string]any{"seller": f.SellerA.ID}, "file", "big.csv",
		bytes.Repeat([]byte("x"), 4096))
	if resp.Status != http.StatusRequestEntityTooLarge || len(resp.Codes()) != 1 || resp.Codes()[0] != "PAYLOAD_TOO_LARGE" {
		t.Errorf("over-size upload: status %d %s", resp.Status, resp.Raw)
	}
	if got := api.waitBatch(f.TokenA, api.importCSV(f.TokenA, f.SellerA.ID, "UPSERT", "sku,title,condition\nS,Pump,NEW\n")); got.Status != "SUCCEEDED" {
		t.Errorf("small upload: %+v", got)
	}
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
