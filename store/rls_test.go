package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/partsmarket/gateway/store"
)

// privateTables are the tables under row-level security, each with the
// query that names the seller of each of its rows.
var privateTables = []struct{ table, sellers string }{
	{"leads", `SELECT seller_id::text FROM leads`},
	{"lead_notifications", `SELECT d.seller_id::text FROM lead_notifications n JOIN leads d ON d.id = n.lead_id`},
	{"lead_status_changes", `SELECT d.seller_id::text FROM lead_status_changes c JOIN leads d ON d.id = c.lead_id`},
	{"listing_reports", `SELECT l.seller_id::text FROM listing_reports r JOIN listings l ON l.id = r.listing_id`},
	{"import_batches", `SELECT seller_id::text FROM import_batches`},
	{"import_row_errors", `SELECT b.seller_id::text FROM import_row_errors e JOIN import_batches b ON b.id = e.batch_id`},
}

// privateRows gives two sellers a row in every private table, through the
// store (as the serving role), and returns their ids.
func privateRows(t *testing.T, st *store.Store, fixtures *sqlx.DB) (one, two string) {
	t.Helper()
	ids := make([]string, 2)
	for i, name := range []string{"One", "Two"} {
		s := MustCreateActiveSeller(t, st, name)
		ids[i] = s.ID
		ctx := store.WithScope(t.Context(), store.Scope{SellerID: s.ID})
		l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
		lead := MustCreateLead(t, st, store.NewLead{SellerID: s.ID, ListingID: &l.ID})
		if _, err := st.SetLeadStatus(ctx, lead.ID, store.LeadContacted, store.Actor{ID: "u", Role: "SELLER"}, nil); err != nil {
			t.Fatalf("SetLeadStatus: %v", err)
		}
		MustCreateReport(t, st, store.NewReport{ListingID: l.ID})
		b, err := st.CreateImportBatch(ctx, store.NewImportBatch{ID: newUUID(t, fixtures), SellerID: s.ID,
			Mode: store.ImportUpsert, FileKey: "imports/" + name})
		if err != nil {
			t.Fatalf("CreateImportBatch: %v", err)
		}
		fixtures.MustExec(`INSERT INTO import_row_errors (batch_id, row_number, message) VALUES ($1, 2, 'bad')`, b.ID)
	}
	return ids[0], ids[1]
}

// newUUID returns a fresh UUID from the server.
func newUUID(t *testing.T, db *sqlx.DB) string {
	t.Helper()
	var id string
	if err := db.Get(&id, `SELECT gen_random_uuid()::text`); err != nil {
		t.Fatal(err)
	}
	return id
}

// sellersSeen runs each table's query, with no condition of its own, in one
// transaction of the serving role that first runs state (when not empty),
// and returns the seller ids seen per table.
func sellersSeen(t *testing.T, serving *sqlx.DB, state string, args ...any) map[string][]string {
	t.Helper()
	tx, err := serving.BeginTxx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if state != "" {
		tx.MustExec(state, args...)
	}
	seen := map[string][]string{}
	for _, p := range privateTables {
		var ids []string
		if err := tx.Select(&ids, p.sellers); err != nil {
			t.Fatalf("%s: %v", p.table, err)
		}
		slices.Sort(ids)
		seen[p.table] = slices.Compact(ids)
	}
	return seen
}

// TestRowLevelSecurityFailsClosed: raw SQL through the serving role, with no
// condition on the seller at all, sees only the seller its transaction
// states, everything under scope 'all', and nothing when it states none.
func TestRowLevelSecurityFailsClosed(t *testing.T) {
	t.Parallel()
	st, fixtures := newStore(t)
	one, two := privateRows(t, st, fixtures)
	serving := st.DB()
	both := []string{one, two}
	slices.Sort(both)
	const setScope = `SELECT set_config('gateway.scope', $1, true), set_config('gateway.seller_id', $2, true)`
	cases := []struct {
		name  string
		state string
		args  []any
		want  []string
	}{
		{"a seller's scope", setScope, []any{"seller", one}, []string{one}},
		{"the other seller's scope", setScope, []any{"seller", two}, []string{two}},
		{"no scope stated", "", nil, nil},
		{"scope none", setScope, []any{"none", ""}, nil},
		{"a seller scope without a seller", setScope, []any{"seller", ""}, nil},
		{"an unknown scope", setScope, []any{"everything", one}, nil},
		{"a worker's scope all", setScope, []any{"all", ""}, both},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for table, got := range sellersSeen(t, serving, tc.state, tc.args...) {
				if !slices.Equal(got, tc.want) {
					t.Errorf("%s: saw the rows of sellers %v, want %v", table, got, tc.want)
				}
			}
		})
	}
	t.Run("the scope ends with its transaction", func(t *testing.T) {
		conn, err := serving.Connx(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, q := range []struct {
			sql  string
			args []any
		}{{`BEGIN`, nil}, {setScope, []any{"all", ""}}, {`COMMIT`, nil}} {
			if _, err := conn.ExecContext(t.Context(), q.sql, q.args...); err != nil {
				t.Fatalf("%s: %v", q.sql, err)
			}
		}
		var n int
		if err := conn.GetContext(t.Context(), &n, `SELECT count(*) FROM leads`); err != nil || n != 0 {
			t.Errorf("after the scoped transaction, the same connection counts %d leads (%v), want 0", n, err)
		}
	})
}

// TestRowLevelSecurityGuardsWrites: under a seller's scope a write without a
// condition changes only that seller's rows, and no row of another seller
// can be written; without a scope nothing can.
func TestRowLevelSecurityGuardsWrites(t *testing.T) {
	t.Parallel()
	st, fixtures := newStore(t)
	one, two := privateRows(t, st, fixtures)
	serving := st.DB()
	tx, err := serving.BeginTxx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	tx.MustExec(`SELECT set_config('gateway.scope', 'seller', true), set_config('gateway.seller_id', $1, true)`, one)
	res := tx.MustExec(`UPDATE leads SET status = 'WON'`)
	if n, _ := res.RowsAffected(); n != 1 {
		t.Errorf("an UPDATE of every lead under seller one's scope changed %d rows, want 1", n)
	}
	tx.MustExec(`SAVEPOINT s`)
	_, err = tx.Exec(`INSERT INTO import_batches (seller_id, mode, file_key) VALUES ($1, 'UPSERT', 'x')`, two)
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "42501" {
		t.Errorf("inserting seller two's import under seller one's scope: %v, want a row-level security violation", err)
	}
	tx.MustExec(`ROLLBACK TO SAVEPOINT s`)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var won []string
	if err := fixtures.Select(&won, `SELECT seller_id::text FROM leads WHERE status = 'WON'`); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(won, []string{one}) {
		t.Errorf("leads set WON belong to %v, want only %s", won, one)
	}
	if res := serving.MustExec(`DELETE FROM lead_notifications`); mustAffected(t, res) != 0 {
		t.Error("a DELETE without a scope removed notifications")
	}
}

// mustAffected returns how many rows a statement changed.
func mustAffected(t *testing.T, res interface{ RowsAffected() (int64, error) }) int64 {
	t.Helper()
	n, err := res.RowsAffected()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStoreStatesTheScope: the store's reads of private rows see what the
// scope they are given (or the context's) covers, and nothing with the
// public's zero scope, even for methods that take only ids.
func TestStoreStatesTheScope(t *testing.T) {
	t.Parallel()
	st, fixtures := newStore(t)
	one, two := privateRows(t, st, fixtures)
	var leads []struct {
		ID     string `db:"id"`
		Seller string `db:"seller_id"`
	}
	if err := fixtures.Select(&leads, `SELECT id::text, seller_id::text FROM leads ORDER BY seller_id = $1 DESC`, one); err != nil {
		t.Fatal(err)
	}
	ids := []string{leads[0].ID, leads[1].ID}
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		seen  int
		owner string
	}{
		{"seller one", store.WithScope(t.Context(), store.Scope{SellerID: one}), 1, one},
		{"seller two", store.WithScope(t.Context(), store.Scope{SellerID: two}), 1, two},
		{"an admin", store.WithScope(t.Context(), store.Scope{All: true}), 2, ""},
		{"no scope", t.Context(), 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns, err := st.NotificationsByLeadID(tc.ctx, ids)
			mustOK(t, err, "NotificationsByLeadID")
			cs, err := st.StatusChangesByLeadID(tc.ctx, ids)
			mustOK(t, err, "StatusChangesByLeadID")
			if len(ns) != tc.seen || len(cs) != tc.seen {
				t.Errorf("%d notifications and %d status changes, want %d of each", len(ns), len(cs), tc.seen)
			}
			if tc.owner != "" && len(ns) == 1 && ns[0].LeadID != map[string]string{one: ids[0], two: ids[1]}[tc.owner] {
				t.Errorf("saw the notification of lead %s, not its own", ns[0].LeadID)
			}
		})
	}
}
