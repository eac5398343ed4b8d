package main

import (
	"context"
	"database/sql"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/pii"
	"github.com/partsmarket/gateway/internal/testdb"
	"github.com/partsmarket/gateway/store"
)

// TestLoad generates a tiny marketplace and checks counts, referential
// integrity, the rollups and that the schema is whole again afterwards.
func TestLoad(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("postgres", testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f, err := detect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	schemaBefore := schemaObjects(t, db)

	p := newPlan(0.0004, 7, time.Now(), 2) // 20 sellers, 400 listings, 80 leads, 4,000 events
	res, err := load(ctx, db, p, pii.Dev(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}

	if got := schemaObjects(t, db); !slices.Equal(got, schemaBefore) {
		t.Errorf("indexes and constraints after the load differ:\n got %v\nwant %v", got, schemaBefore)
	}

	count := func(q string) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	counts := []struct {
		name string
		q    string
		want int
	}{
		{"sellers", `SELECT count(*) FROM sellers`, p.sellers},
		{"listings", `SELECT count(*) FROM listings`, p.listings},
		{"media", `SELECT count(*) FROM media`, p.listings * mediaPerListing},
		{"listings without exactly 3 media",
			`SELECT count(*) FROM listings l WHERE (SELECT count(*) FROM media m WHERE m.listing_id = l.id) <> 3`, 0},
		{"listings whose seller does not exist",
			`SELECT count(*) FROM listings l WHERE NOT EXISTS (SELECT 1 FROM sellers s WHERE s.id = l.seller_id)`, 0},
		{"listings at another seller's yard",
			`SELECT count(*) FROM listings l JOIN seller_locations sl ON sl.id = l.location_id WHERE sl.seller_id <> l.seller_id`, 0},
		{"listings whose region is not their yard's",
			`SELECT count(*) FROM listings l JOIN seller_locations sl ON sl.id = l.location_id WHERE l.region IS DISTINCT FROM lower(sl.region)`, 0},
		{"sellers without an email contact",
			`SELECT count(*) FROM sellers s WHERE NOT EXISTS (SELECT 1 FROM seller_contacts c WHERE c.seller_id = s.id AND c.kind = 'EMAIL')`, 0},
		{"sellers without a location",
			`SELECT count(*) FROM sellers s WHERE NOT EXISTS (SELECT 1 FROM seller_locations c WHERE c.seller_id = s.id)`, 0},
	}
	if f.sealedLeads {
		counts = append(counts, []struct {
			name string
			q    string
			want int
		}{
			{"leads", `SELECT count(*) FROM leads`, p.leads},
			{"lead notifications", `SELECT count(*) FROM lead_notifications n JOIN leads l ON l.id = n.lead_id`, p.leads},
			{"leads about another seller's listing (or a missing one)",
				`SELECT count(*) FROM leads d LEFT JOIN listings l ON l.id = d.listing_id
				WHERE d.listing_id IS NOT NULL AND (l.id IS NULL OR l.seller_id <> d.seller_id)`, 0},
			{"leads about a listing that is not public",
				`SELECT count(*) FROM leads d JOIN listings l ON l.id = d.listing_id JOIN sellers s ON s.id = l.seller_id
				WHERE l.status <> 'ACTIVE' OR s.status <> 'ACTIVE'`, 0},
			{"leads of a missing seller",
				`SELECT count(*) FROM leads d WHERE NOT EXISTS (SELECT 1 FROM sellers s WHERE s.id = d.seller_id)`, 0},
		}...)
	}
	if f.events {
		counts = append(counts, []struct {
			name string
			q    string
			want int
		}{
			{"events", `SELECT count(*) FROM events`, p.events},
			{"events of a missing listing",
				`SELECT count(*) FROM events e WHERE e.listing_id IS NOT NULL
				AND NOT EXISTS (SELECT 1 FROM listings l WHERE l.id = e.listing_id)`, 0},
			{"events of a missing seller",
				`SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM sellers s WHERE s.id = e.seller_id)`, 0},
			{"events whose seller is not the listing's",
				`SELECT count(*) FROM events e JOIN listings l ON l.id = e.listing_id WHERE l.seller_id <> e.seller_id`, 0},
			{"events outside the 90 days",
				`SELECT count(*) FROM events WHERE created_at > now() OR created_at < now() - interval '91 days'`, 0},
			{"listing rollup rows that differ from the events and leads", rawDays + `, expected AS (
					SELECT e.day, e.listing_id, l.seller_id, l.category, sl.region, sum(views)::bigint,
						sum(calls)::bigint, sum(texts)::bigint, sum(emails)::bigint, sum(leads)::bigint
					FROM raw e JOIN listings l ON l.id = e.listing_id
					LEFT JOIN seller_locations sl ON sl.id = l.location_id
					GROUP BY 1, 2, 3, 4, 5),
				got AS (SELECT day, listing_id, seller_id, category, region, views, call_clicks, text_clicks,
					email_clicks, leads FROM daily_listing_stats)
				SELECT count(*) FROM ((SELECT * FROM got EXCEPT SELECT * FROM expected)
					UNION ALL (SELECT * FROM expected EXCEPT SELECT * FROM got)) x`, 0},
			{"seller rollup rows that differ from the events and leads", rawDays + `, expected AS (
					SELECT day, seller_id, sum(views)::bigint, sum(calls)::bigint, sum(texts)::bigint,
						sum(emails)::bigint, sum(leads)::bigint
					FROM raw WHERE listing_id IS NULL GROUP BY 1, 2),
				got AS (SELECT day, seller_id, views, call_clicks, text_clicks, email_clicks, leads FROM daily_seller_stats)
				SELECT count(*) FROM ((SELECT * FROM got EXCEPT SELECT * FROM expected)
					UNION ALL (SELECT * FROM expected EXCEPT SELECT * FROM got)) x`, 0},
			{"views in the listing rollups", `SELECT sum(views) FROM daily_listing_stats`,
				count(`SELECT count(*) FROM events WHERE type = 'LISTING_VIEW' AND listing_id IS NOT NULL`)},
		}...)
	}
	if f.metricRollups {
		counts = append(counts, []struct {
			name string
			q    string
			want int
		}{
			{"views in the segment rollups", `SELECT sum(views) FROM daily_segment_stats`,
				count(`SELECT count(*) FROM events WHERE type = 'LISTING_VIEW'`)},
			{"leads in the seller totals", `SELECT sum(leads) FROM daily_seller_totals`, p.leads},
		}...)
	}
	for _, c := range counts {
		t.Run(c.name, func(t *testing.T) {
			if got := count(c.q); got != c.want {
				t.Errorf("got %d, want %d", got, c.want)
			}
		})
	}

	t.Run("workload", func(t *testing.T) {
		w := res.workload
		if len(w.Terms) < 10 || len(w.Regions) == 0 || len(w.Listings) == 0 || len(w.InboxSellers) == 0 {
			t.Fatalf("workload incomplete: %d terms, %d regions, %d listings, %d inbox sellers",
				len(w.Terms), len(w.Regions), len(w.Listings), len(w.InboxSellers))
		}
		var public int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM listings l JOIN sellers s ON s.id = l.seller_id
			WHERE l.id = ANY($1::uuid[]) AND l.status = 'ACTIVE' AND s.status = 'ACTIVE'`,
			pq.Array(w.Listings)).Scan(&public)
		if err != nil {
			t.Fatal(err)
		}
		if distinct := len(uniq(w.Listings)); public != distinct {
			t.Errorf("public listings among the workload's %d: %d", distinct, public)
		}
		if f.sealedLeads {
			var top, most int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM leads WHERE seller_id = $1`, w.InboxSellers[0]).Scan(&top); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRowContext(ctx, `SELECT max(n) FROM (SELECT count(*) AS n FROM leads d JOIN sellers s ON s.id = d.seller_id
				WHERE s.status = 'ACTIVE' GROUP BY d.seller_id) x`).Scan(&most); err != nil {
				t.Fatal(err)
			}
			if top != most {
				t.Errorf("the first inbox seller has %d leads, the busiest active seller %d", top, most)
			}
		}
	})

	if f.sealedLeads {
		t.Run("leads open with the gateway's keys", func(t *testing.T) {
			var id string
			if err := db.QueryRowContext(ctx, `SELECT id FROM leads ORDER BY id LIMIT 1`).Scan(&id); err != nil {
				t.Fatal(err)
			}
			st := store.New(sqlx.NewDb(db, "postgres"))
			l, err := st.Lead(ctx, store.Scope{All: true}, id)
			if err != nil {
				t.Fatal(err)
			}
			if l.BuyerName == "" || l.Email == "" || l.Message == "" || l.BuyerName == store.Erased {
				t.Errorf("lead %s opened as name %q, email %q, message %q", id, l.BuyerName, l.Email, l.Message)
			}
		})
	}
}

// TestDeterministic checks that the same plan generates the same skeleton
// and that ids do not collide.
func TestDeterministic(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	a, b := generate(newPlan(0.002, 1, now, 2)), generate(newPlan(0.002, 1, now, 1))
	if !slices.Equal(a.listings, b.listings) || !slices.Equal(a.public, b.public) || len(a.leads) != len(b.leads) {
		t.Fatal("two runs of the same plan differ")
	}
	seen := map[string]bool{}
	for kind := idKindSeller; kind <= idKindEvent; kind++ {
		for i := range 10_000 {
			id := genID(1, kind, i)
			if seen[id] {
				t.Fatalf("id %s repeats (kind %d, row %d)", id, kind, i)
			}
			seen[id] = true
		}
	}
}

// schemaObjects lists the indexes and constraints of the public schema.
func schemaObjects(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT indexrelid::regclass::text || ' ' || pg_get_indexdef(indexrelid) FROM pg_index i
		JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'public'::regnamespace
		UNION ALL
		SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rawDays is a WITH clause: every event and lead as one row of its UTC day
// with its counts, from which the rollups are expected.
const rawDays = `WITH raw AS (
	SELECT (created_at AT TIME ZONE 'UTC')::date AS day, listing_id, seller_id,
		(type = 'LISTING_VIEW')::int AS views, (type = 'CALL_CLICK')::int AS calls,
		(type = 'TEXT_CLICK')::int AS texts, (type = 'EMAIL_CLICK')::int AS emails, 0 AS leads
	FROM events
	UNION ALL
	SELECT (created_at AT TIME ZONE 'UTC')::date, listing_id, seller_id, 0, 0, 0, 0, 1 FROM leads)`

func uniq(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}
