package store_test

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/store"
)

// searchFixtures is testdata/search_fixtures.json: a small catalogue and
// searches with the listings they must rank first (first: in order), the
// set their first results must be (top: in any order) and everything they
// must find (found).
type searchFixtures struct {
	Listings []struct {
		Name, Title, PartNumber, Brand, Description string
	}
	Queries []struct {
		Search            string
		First, Top, Found []string
	}
}

// loadSearchFixtures creates the fixture listings of one active seller and
// returns the fixtures with the ids of their listings by name.
func loadSearchFixtures(t *testing.T, st *store.Store) (searchFixtures, map[string]string) {
	t.Helper()
	b, err := os.ReadFile("testdata/search_fixtures.json")
	mustOK(t, err, "read fixtures")
	var f searchFixtures
	mustOK(t, json.Unmarshal(b, &f), "parse fixtures")
	s := MustCreateActiveSeller(t, st, "Fixture Parts")
	ids := map[string]string{}
	for _, l := range f.Listings {
		created := MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: l.Title, ListingText: store.ListingText{
			PartNumber: &l.PartNumber, Brand: &l.Brand, Description: &l.Description}})
		ids[l.Name] = created.ID
	}
	return f, ids
}

// TestSearchRelevanceFixtures runs the fixture searches twice: over the
// fixtures alone, where a search ranks every match, and again after many
// newer listings that mention the fixtures' part numbers, so that the
// searches rank only their newest matches (and the listings with the part
// number): the exact part number must still come first.
func TestSearchRelevanceFixtures(t *testing.T) {
	t.Parallel()
	onBothSearchIndexes(t, testSearchRelevanceFixtures)
}

func testSearchRelevanceFixtures(t *testing.T, st *store.Store, db *sqlx.DB) {
	f, ids := loadSearchFixtures(t, st)
	names := map[string]string{}
	for n, id := range ids {
		names[id] = n
	}
	idsNamed := func(ns []string) []string {
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i] = ids[n]
		}
		return out
	}
	check := func(t *testing.T, bounded bool) {
		for _, q := range f.Queries {
			t.Run(q.Search, func(t *testing.T) {
				p, err := st.Listings(t.Context(), store.ListingQuery{Search: q.Search}, store.PageArgs{Limit: 20})
				mustOK(t, err, "Listings")
				got := idsOf(p.Items)
				if len(got) < len(q.First) || !slices.Equal(got[:len(q.First)], idsNamed(q.First)) {
					t.Errorf("got %v first, want %v", names2(got, names), q.First)
				}
				if bounded {
					return
				}
				if len(got) < len(q.Top) {
					t.Fatalf("got %d rows, want at least %d", len(got), len(q.Top))
				}
				sameSet(t, "top", got[:len(q.Top)], idsNamed(q.Top), names)
				sameSet(t, "found", got, idsNamed(q.Found), names)
				if p.Total == nil || *p.Total != len(q.Found) || !p.TotalExact {
					t.Errorf("got Total %v (exact %v), want exactly %d", shown(p.Total), p.TotalExact, len(q.Found))
				}
			})
		}
	}
	t.Run("every match ranked", func(t *testing.T) { check(t, false) })

	// More newer listings mentioning each part number than a search ranks.
	_, err := db.Exec(`UPDATE listings SET created_at = now() - interval '30 days' WHERE id = ANY($1::uuid[])`,
		pq.Array(slices.Collect(maps.Values(ids))))
	mustOK(t, err, "backdate fixtures")
	_, err = db.Exec(`INSERT INTO listings (seller_id, title, description, condition, status)
		SELECT seller_id, 'Filter housing ' || i, 'Cross reference 1R-0750, 1R0750K, P551712, 708-2L-00300 and more.', 'USED', 'ACTIVE'
		FROM listings, generate_series(1, 150) i WHERE id = $1`, ids["cat-1r0750"])
	mustOK(t, err, "insert newer listings")
	t.Run("newest matches ranked", func(t *testing.T) { check(t, true) })
}

// names2 labels ids for a message, "?" for ids outside the fixtures.
func names2(ids []string, labels map[string]string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		if out[i] = labels[id]; out[i] == "" {
			out[i] = "?"
		}
	}
	return out
}

// TestSearchTotalBeyondExactLimit: a search with more matches than it
// counts exactly reports a count above the limit, marked as not exact; one
// with fewer reports them exactly, whether it ranks them all (gasket) or
// only its newest (washer).
func TestSearchTotalBeyondExactLimit(t *testing.T) {
	t.Parallel()
	onBothSearchIndexes(t, testSearchTotalBeyondExactLimit)
}

// testSearchTotalBeyondExactLimit: 25 gaskets, 150 washers and the
// limit's worth of bolts and more.
var testSearchTotalBeyondExactLimit = totalsTest(`INSERT INTO listings (seller_id, title, condition, status)
	SELECT $1, CASE WHEN i <= 25 THEN 'Rare gasket ' WHEN i <= 175 THEN 'Flat washer ' ELSE 'Common bolt ' END || i, 'NEW', 'ACTIVE'
	FROM generate_series(1, `+strconv.Itoa(store.SearchCountLimit+200)+`) i`, []totalCase{
	{"bolt", false, store.SearchCountLimit + 1, 1 << 30},
	{"gasket", true, 25, 25},
	{"washer", true, 150, 150},
})

// totalsTest returns the test that inserts listings of a new active seller
// with insert ($1: the seller's id), analyzes them and checks the counts of
// cases.
func totalsTest(insert string, cases []totalCase) func(*testing.T, *store.Store, *sqlx.DB) {
	return func(t *testing.T, st *store.Store, db *sqlx.DB) {
		s := MustCreateActiveSeller(t, st, "Bulk Parts")
		_, err := db.Exec(insert, s.ID)
		mustOK(t, err, "insert listings")
		_, err = db.Exec(`ANALYZE listings`)
		mustOK(t, err, "analyze")
		checkTotals(t, st, cases)
	}
}

// totalCase is a search and the count it must report: between min and
// max, exact or not.
type totalCase struct {
	search   string
	exact    bool
	min, max int
}

// checkTotals runs each case's search (sorted by relevance, 20 listings,
// each search matching at least 20) and checks its page and count.
func checkTotals(t *testing.T, st *store.Store, cases []totalCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.search, func(t *testing.T) {
			p, err := st.Listings(t.Context(), store.ListingQuery{Search: tt.search}, store.PageArgs{Limit: 20})
			mustOK(t, err, "Listings")
			if len(p.Items) != 20 {
				t.Errorf("got %d rows, want 20", len(p.Items))
			}
			if p.Total == nil || *p.Total < tt.min || *p.Total > tt.max || p.TotalExact != tt.exact {
				t.Errorf("got Total %v (exact %v), want %d..%d (exact %v)", shown(p.Total), p.TotalExact, tt.min, tt.max, tt.exact)
			}
		})
	}
}

// TestSearchLastNeedsBefore: a search pages backwards only from a cursor;
// the error names the argument. A cursor of another order is refused as
// before.
func TestSearchLastNeedsBefore(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	loadSearchFixtures(t, st)
	_, err := st.Listings(t.Context(), store.ListingQuery{Search: "pump"}, store.PageArgs{Limit: 2, Last: true})
	var e *store.Error
	if !errors.As(err, &e) || e.Code != store.EINVALID || e.Field != "last" {
		t.Fatalf("got %v, want EINVALID on last", err)
	}
	// Without a search, last alone is the end of the list.
	p, err := st.Listings(t.Context(), store.ListingQuery{}, store.PageArgs{Limit: 2, Last: true})
	mustOK(t, err, "Listings last")
	if len(p.Items) != 2 || !p.HasPreviousPage || p.HasNextPage {
		t.Errorf("got %d rows, HasPreviousPage %v, HasNextPage %v; want 2, true, false", len(p.Items), p.HasPreviousPage, p.HasNextPage)
	}
	newest := mustCursor(t, p.Cursors[0])
	_, err = st.Listings(t.Context(), store.ListingQuery{Search: "pump"}, store.PageArgs{Limit: 2, Last: true, Before: newest})
	if !errors.As(err, &e) || e.Code != store.EINVALID || e.Field != "before" {
		t.Fatalf("got %v for a cursor of another order, want EINVALID on before", err)
	}
}

// shown is *p for a message, or "nil".
func shown(p *int) any {
	if p == nil {
		return "nil"
	}
	return *p
}

// onBothSearchIndexes runs test on a store whose database has the ordered
// search index (the rum extension, which the test databases get when the
// server has it: scripts/db.sh installs it) and on one whose database has
// never had the extension, migrated without it, as on a managed server.
func onBothSearchIndexes(t *testing.T, test func(t *testing.T, st *store.Store, db *sqlx.DB)) {
	t.Run("ordered index", func(t *testing.T) {
		t.Parallel()
		st, db := newStore(t)
		if !hasOrderedSearchIndex(t, db) {
			t.Fatal("the test database has no ordered search index: install the rum extension on the server " +
				"(Debian package postgresql-15-rum; scripts/db.sh does so for its own cluster)")
		}
		if !store.SearchesOrdered(t.Context(), st) {
			t.Fatal("the store does not use the ordered search index")
		}
		test(t, st, db)
	})
	t.Run("without the extension", func(t *testing.T) {
		t.Parallel()
		st, db := newStoreWithoutRUM(t)
		if store.SearchesOrdered(t.Context(), st) {
			t.Fatal("the store uses an ordered search index that is not there")
		}
		test(t, st, db)
	})
}

// newStoreWithoutRUM is newStore on a database without the rum extension,
// whose search migration (00023) ran without it.
func newStoreWithoutRUM(t *testing.T) (*store.Store, *sqlx.DB) {
	t.Helper()
	st, db := newStore(t)
	ctx := t.Context()
	_, err := db.ExecContext(ctx, `DROP EXTENSION IF EXISTS rum CASCADE`)
	mustOK(t, err, "drop extension rum")
	// Down to before migration 00023 and up again, now without rum.
	for {
		var v int64
		mustOK(t, db.GetContext(ctx, &v, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`), "version")
		if v < 23 {
			break
		}
		mustOK(t, database.MigrateDown(ctx, db.DB), "migrate down")
	}
	mustOK(t, database.MigrateUp(ctx, db.DB), "migrate up without rum")
	if hasOrderedSearchIndex(t, db) {
		t.Fatal("migrating without the rum extension created the ordered search index")
	}
	return st, db
}

// hasOrderedSearchIndex reports whether db has the ordered search index.
func hasOrderedSearchIndex(t *testing.T, db *sqlx.DB) bool {
	t.Helper()
	var ok bool
	mustOK(t, db.Get(&ok, `SELECT to_regclass('listings_search_rum_idx') IS NOT NULL`), "look for the index")
	return ok
}

// TestSearchTotalFromDensity: a search sorted by relevance with far more
// matches than the exact limit reports an estimate instead of counting
// them (not the limit plus one of a count), also for words that always
// occur together, which the planner's estimate of the text match puts far
// too low; one with fewer matches than the limit, spread the same way, is
// counted exactly.
func TestSearchTotalFromDensity(t *testing.T) {
	t.Parallel()
	onBothSearchIndexes(t, testSearchTotalFromDensity)
}

// testSearchTotalFromDensity: 60,000 listings a minute apart, every
// second one a hexagon flange bolt, every tenth of the others a brass
// gasket.
var testSearchTotalFromDensity = totalsTest(`INSERT INTO listings (seller_id, title, condition, status, created_at)
	SELECT $1, CASE WHEN i % 2 = 0 THEN 'Hexagon flange bolt ' WHEN i % 20 = 1 THEN 'Brass gasket ' ELSE 'Spare part ' END || i,
		'NEW', 'ACTIVE', now() - i * interval '1 minute'
	FROM generate_series(1, 60000) i`, []totalCase{
	{"hexagon flange bolt", false, 2 * store.SearchCountLimit, 1 << 30},
	{"brass gasket", true, 3000, 3000},
})
