package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/partsmarket/gateway/graph"
	"github.com/partsmarket/gateway/store"
)

// pagedConnection is one connection of the schema, read by a query that
// takes $first, $after, $last and $before and selects, at path,
// `nodes { <key> } pageInfo { … }`.
type pagedConnection struct {
	name, token, query, path, key string
}

// pageThrough reads every row of c with pages of size 2, forwards (first,
// after) or backwards (last, before), and returns the keys in the list's
// order. It checks pageInfo on the way.
func pageThrough(t *testing.T, api *testAPI, c pagedConnection, backwards bool) []string {
	t.Helper()
	var keys []string
	var cursor any
	for page := 0; ; page++ {
		vars := map[string]any{"first": 2, "after": cursor}
		if backwards {
			vars = map[string]any{"last": 2, "before": cursor}
		}
		r := api.post(c.token, c.query, vars)
		if len(r.Errors) > 0 || r.Get(c.path) == nil {
			t.Fatalf("%s page %d: %s", c.name, page, r.Raw)
		}
		var got []string
		for _, n := range r.Get(c.path + ".nodes").([]any) {
			got = append(got, fmt.Sprint(n.(map[string]any)[c.key]))
		}
		more, before := c.path+".pageInfo.hasNextPage", c.path+".pageInfo.hasPreviousPage"
		cursorAt := c.path + ".pageInfo.endCursor"
		if backwards {
			more, before, cursorAt = before, more, c.path+".pageInfo.startCursor"
			keys = append(got, keys...)
		} else {
			keys = append(keys, got...)
		}
		if want := page > 0; r.Get(before) != want {
			t.Errorf("%s page %d (backwards %v): %s = %v, want %v", c.name, page, backwards, before, r.Get(before), want)
		}
		if r.Get(more) != true {
			return keys
		}
		if len(got) != 2 {
			t.Fatalf("%s page %d: %d rows and more to come: %s", c.name, page, len(got), r.Raw)
		}
		cursor = r.Get(cursorAt)
	}
}

// TestEveryConnectionPagesBackwards: every connection pages backwards with
// last and before, through the same rows as forwards in the same order, and
// refuses bad paging arguments as BAD_USER_INPUT naming the argument.
func TestEveryConnectionPagesBackwards(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	for _, title := range []string{"Track roller", "Idler wheel", "Final drive"} {
		api.mustListing(f.SellerA.ID, title, store.ListingActive)
	}
	api.mustSeller("Charlie Cranes", store.SellerActive)
	api.mustSeller("Delta Diesel", store.SellerActive)
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		email := fmt.Sprintf("buyer%d@example.com", i)
		if _, err := api.Store.CreateLead(ctx, store.NewLead{SellerID: f.SellerA.ID, ListingID: &f.ListingA.ID,
			BuyerName: "Buyer", Email: email, Message: "Still there?", Status: store.LeadNew}); err != nil {
			t.Fatal(err)
		}
		if _, err := api.Store.CreateReport(ctx, store.NewReport{ListingID: f.ListingA.ID, Reason: store.ReasonDuplicate,
			ReporterEmail: &email}); err != nil {
			t.Fatal(err)
		}
	}
	api.DB.MustExec(`
		INSERT INTO events (type, listing_id, seller_id, created_at)
			SELECT 'LISTING_VIEW', l.id, l.seller_id, now() - i * interval '1 second' FROM listings l, generate_series(1, 2) i;`,
	)
	// Finished batches: the import worker leaves them alone.
	var batch string
	api.DB.Get(&batch, `INSERT INTO import_batches (seller_id, mode, status, file_key) VALUES ($1, 'UPSERT', 'PARTIAL', 'k') RETURNING id`, f.SellerA.ID)
	api.DB.MustExec(`INSERT INTO import_batches (seller_id, mode, status, file_key, created_at)
		SELECT $1, 'UPSERT', 'SUCCEEDED', 'k', now() - i * interval '1 second' FROM generate_series(1, 4) i`, f.SellerA.ID)
	api.DB.MustExec(`INSERT INTO import_row_errors (batch_id, row_number, message)
		SELECT $1, i / 2, 'bad' FROM generate_series(1, 7) i`, batch)

	const args = `(first: $first, after: $after, last: $last, before: $before)`
	const vars = `($first: Int, $after: String, $last: Int, $before: String)`
	page := `nodes { %s } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`
	conn := func(name, token, field, path, key string) pagedConnection {
		q := "query" + vars + " { " + strings.Replace(field, "ARGS", args, 1) + " }"
		q = strings.Replace(q, "PAGE", fmt.Sprintf(page, key), 1)
		return pagedConnection{name: name, token: token, query: q, path: path, key: key}
	}
	conns := []pagedConnection{
		conn("listings", f.Admin, "listings ARGS { PAGE }", "listings", "id"),
		conn("sellers", f.Admin, "sellers ARGS { PAGE }", "sellers", "id"),
		conn("leads", f.Admin, "leads ARGS { PAGE }", "leads", "id"),
		conn("Seller.leads", f.TokenA, fmt.Sprintf("seller(id: %q) { leads ARGS { PAGE } }", f.SellerA.ID), "seller.leads", "id"),
		conn("Listing.leads", f.TokenA, fmt.Sprintf("listing(id: %q) { leads ARGS { PAGE } }", f.ListingA.ID), "listing.leads", "id"),
		conn("Seller.listings", f.Admin, fmt.Sprintf("seller(id: %q) { listings ARGS { PAGE } }", f.SellerA.ID), "seller.listings", "id"),
		conn("reports", f.Admin, "reports ARGS { PAGE }", "reports", "id"),
		conn("importBatches", f.TokenA, "importBatches ARGS { PAGE }", "importBatches", "id"),
		conn("ImportBatch.errors", f.TokenA, fmt.Sprintf("importBatch(id: %q) { errors ARGS { PAGE } }", batch), "importBatch.errors", "row"),
		conn("auditEvents", f.Admin, "auditEvents ARGS { PAGE }", "auditEvents", "id"),
		conn("events", f.Analyst, "events ARGS { PAGE }", "events", "id"),
		conn("notifications", f.Admin, "notifications ARGS { PAGE }", "notifications", "createdAt"),
	}
	// Every connection of the schema takes last and before, and this test
	// pages through each of them.
	covered := map[string]bool{}
	for _, c := range conns {
		covered[c.name] = true
	}
	for _, def := range graph.NewExecutableSchema(graph.Config{}).Schema().Types {
		for _, fd := range def.Fields {
			if fd.Type.Elem != nil || !strings.HasSuffix(fd.Type.NamedType, "Connection") || strings.HasPrefix(def.Name, "__") {
				continue
			}
			name := def.Name + "." + fd.Name
			if def.Name == "Query" {
				name = fd.Name
			}
			if !covered[name] {
				t.Errorf("connection %s is not paged through by this test", name)
			}
			for _, arg := range []string{"first", "after", "last", "before"} {
				if fd.Arguments.ForName(arg) == nil {
					t.Errorf("connection %s has no %s argument", name, arg)
				}
			}
		}
	}
	for _, c := range conns {
		t.Run(c.name, func(t *testing.T) {
			forwards := pageThrough(t, api, c, false)
			backwards := pageThrough(t, api, c, true)
			if len(forwards) < 4 {
				t.Fatalf("only %d rows: the test needs several pages", len(forwards))
			}
			if !slices.Equal(forwards, backwards) {
				t.Errorf("forwards %v, backwards %v: want the same rows in the same order", forwards, backwards)
			}

			// first and before: the rows before a cursor, from the start.
			mid := api.post(c.token, c.query, map[string]any{"first": 2})
			cursor := mid.Get(c.path + ".pageInfo.endCursor")
			r := api.post(c.token, c.query, map[string]any{"first": 5, "before": cursor})
			if n := len(r.Get(c.path + ".nodes").([]any)); n != 1 {
				t.Errorf("first 5 before the second row: %d rows, want 1: %s", n, r.Raw)
			}

			for _, bad := range []struct {
				vars  map[string]any
				field string
			}{
				{map[string]any{"first": 2, "last": 2}, "last"},
				{map[string]any{"last": 0}, "last"},
				{map[string]any{"last": 101}, "last"},
				{map[string]any{"last": 2, "before": "not a cursor"}, "before"},
				{map[string]any{"last": 2, "before": "eyJzIjoiJyIsImsiOiIxIiwiaSI6IjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJ9"}, "before"},
			} {
				r := api.post(c.token, c.query, bad.vars)
				if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Errors[0].Field() != bad.field {
					t.Errorf("%v: got %s, want BAD_USER_INPUT on %s", bad.vars, r.Raw, bad.field)
				}
			}
		})
	}
}
