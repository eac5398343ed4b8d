package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"github.com/partsmarket/gateway/bench/workload"
	"github.com/partsmarket/gateway/internal/pii"
)

// rowsFunc writes the rows of stream stream (of streams) of one table.
type rowsFunc func(stream, streams int, emit func([]driver.Value) error) error

// tableLoad is one table to copy.
type tableLoad struct {
	name    string
	columns []string
	rows    rowsFunc
	streams int
}

// timing is how long one step took and how many rows it wrote.
type timing struct {
	step string
	rows int64
	took time.Duration
}

// result is what load did.
type result struct {
	workload *workload.Workload
	timings  []timing
	skipped  []string // what the schema did not allow, and why
}

// features says which of the optional tables the schema has.
type features struct {
	sealedLeads bool // leads.pii (migration 00005)
	events      bool // events and the daily rollups (migration 00007)
	// coarser rollups (daily_seller_totals, daily_segment_stats) that
	// rebuild_metric_rollups() recomputes from the daily ones
	metricRollups bool
}

// detect reads which optional tables and columns the schema has.
func detect(ctx context.Context, db *sql.DB) (features, error) {
	var f features
	err := db.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
			AND table_name = 'leads' AND column_name = 'pii'),
		to_regclass('events') IS NOT NULL AND to_regclass('daily_listing_stats') IS NOT NULL
			AND to_regclass('daily_seller_stats') IS NOT NULL,
		to_regprocedure('rebuild_metric_rollups()') IS NOT NULL`).Scan(&f.sealedLeads, &f.events, &f.metricRollups)
	return f, err
}

// load generates p's data into db, a freshly migrated database without
// sellers: it drops the secondary indexes and constraints of the tables it
// fills, copies every table with p.streams parallel COPY streams, computes
// the daily rollups from the events and leads, builds the indexes and
// constraints again and analyses the tables. Progress goes to log.
func load(ctx context.Context, db *sql.DB, p plan, keys *pii.Keyring, log io.Writer) (*result, error) {
	var seeded bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sellers)`).Scan(&seeded); err != nil {
		return nil, err
	}
	if seeded {
		return nil, errors.New("the database already has sellers: generate into a freshly migrated database")
	}
	f, err := detect(ctx, db)
	if err != nil {
		return nil, err
	}
	res := &result{}
	step := func(name string, rows int64, start time.Time) {
		t := timing{step: name, rows: rows, took: time.Since(start)}
		res.timings = append(res.timings, t)
		fmt.Fprintf(log, "gen: %-28s %11d rows %8.1fs\n", name, rows, t.took.Seconds())
	}

	start := time.Now()
	d := generate(p)
	step("generate (in memory)", int64(len(d.listings)), start)

	tables := []tableLoad{
		{"sellers", sellerColumns, d.sellerRows, 1},
		{"seller_contacts", contactColumns, d.contactRows, 1},
		{"seller_locations", locationColumns, d.locationRows, 1},
		{"listings", listingColumns, d.listingRows, p.streams},
		{"media", mediaColumns, d.mediaRows, p.streams},
	}
	if f.sealedLeads {
		tables = append(tables,
			tableLoad{"leads", leadColumns, d.leadRows(keys), p.streams},
			tableLoad{"lead_notifications", notificationColumns, d.notificationRows, 1})
	} else {
		res.skipped = append(res.skipped, "leads: the schema has no leads.pii yet (migration 00005)")
	}
	if f.events {
		tables = append(tables, tableLoad{"events", eventColumns, d.eventRows, p.streams})
	} else {
		res.skipped = append(res.skipped, "events and rollups: the schema has no events table yet (migration 00007)")
	}
	names := make([]string, 0, len(tables)+2)
	for _, t := range tables {
		names = append(names, t.name)
	}
	if f.events {
		names = append(names, "daily_listing_stats", "daily_seller_stats")
	}

	start = time.Now()
	saved, err := dropSecondary(ctx, db, names)
	if err != nil {
		return nil, fmt.Errorf("dropping indexes: %w", err)
	}
	step(fmt.Sprintf("drop %d indexes/constraints", len(saved.items)), 0, start)

	for _, t := range tables {
		start = time.Now()
		n, err := copyTable(ctx, db, t)
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", t.name, err)
		}
		step("copy "+t.name, n, start)
	}
	if f.events {
		// Statistics first: without them the planner joins the new rows
		// by nested loops.
		start = time.Now()
		for _, t := range []string{"events", "listings", "seller_locations", "leads"} {
			if _, err := db.ExecContext(ctx, "ANALYZE "+t); err != nil {
				return nil, err
			}
		}
		step("analyze for the rollups", 0, start)
		// Days are independent groups: each stream rolls up its own
		// range of days (PostgreSQL runs INSERT … SELECT on one core).
		bounds := dayBounds(p.now.Add(-days(eventDays)), p.now, p.streams)
		for _, r := range rollups(f.sealedLeads) {
			start = time.Now()
			var rows atomic.Int64
			err := parallel(ctx, len(bounds)-1, func(ctx context.Context, i int) error {
				n, err := execLarge(ctx, db, r.sql, bounds[i], bounds[i+1])
				rows.Add(n)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("rollup %s: %w", r.table, err)
			}
			step("rollup "+r.table, rows.Load(), start)
		}
		if f.metricRollups {
			start = time.Now()
			if _, err := execLarge(ctx, db, `SELECT rebuild_metric_rollups()`); err != nil {
				return nil, fmt.Errorf("rebuild_metric_rollups: %w", err)
			}
			for _, t := range []string{"daily_seller_totals", "daily_segment_stats"} {
				if _, err := db.ExecContext(ctx, "VACUUM (ANALYZE) "+t); err != nil {
					return nil, err
				}
			}
			step("rebuild_metric_rollups()", 0, start)
		}
	}

	start = time.Now()
	if err := saved.restore(ctx, db, p.streams, log); err != nil {
		return nil, fmt.Errorf("rebuilding indexes: %w", err)
	}
	step("indexes and constraints", 0, start)

	start = time.Now()
	for _, name := range names {
		// Vacuum sets the visibility map (index-only scans) and hint
		// bits, so the first benchmark does not pay for them; the raw
		// events are only analysed: no benchmark reads them and a
		// vacuum would rewrite gigabytes.
		q := "VACUUM (ANALYZE) " + pq.QuoteIdentifier(name)
		if name == "events" {
			q = "ANALYZE events"
		}
		if _, err := db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	step("vacuum/analyze", 0, start)
	res.workload = d.workload(f.events)
	return res, nil
}

// copyTable copies t with t.streams COPY streams in parallel, each in a
// transaction of its own, and returns the number of rows.
func copyTable(ctx context.Context, db *sql.DB, t tableLoad) (int64, error) {
	var rows atomic.Int64
	err := parallel(ctx, t.streams, func(ctx context.Context, stream int) error {
		n, err := copyStream(ctx, db, t, stream)
		rows.Add(n)
		return err
	})
	return rows.Load(), err
}

// copyStream runs one COPY of stream's rows of t on a connection of its
// own. It talks to the driver directly: database/sql's per-row Exec
// (argument conversion, locking) would cost more than the encoding.
func copyStream(ctx context.Context, db *sql.DB, t tableLoad, stream int) (int64, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var n int64
	err = conn.Raw(func(dc any) error {
		tx, err := dc.(driver.ConnBeginTx).BeginTx(ctx, driver.TxOptions{})
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit
		stmt, err := dc.(driver.Conn).Prepare(pq.CopyIn(t.name, t.columns...))
		if err != nil {
			return err
		}
		defer stmt.Close()
		err = t.rows(stream, t.streams, func(row []driver.Value) error {
			n++
			_, err := stmt.Exec(row) //nolint:staticcheck // lib/pq's COPY statement implements only Exec
			return err
		})
		if err != nil {
			return err
		}
		if _, err := stmt.Exec(nil); err != nil { //nolint:staticcheck // flushes the COPY
			return err
		}
		if err := stmt.Close(); err != nil {
			return err
		}
		return tx.Commit()
	})
	return n, err
}

// dayBounds splits [from, to) into n ranges of whole UTC days and returns
// their n+1 bounds; the first is nil (no lower bound) and so is the last
// (no upper bound), so that together they cover every instant.
func dayBounds(from, to time.Time, n int) []any {
	first, last := from.UTC().Truncate(24*time.Hour), to.UTC().Truncate(24*time.Hour)
	total := int(last.Sub(first)/(24*time.Hour)) + 1
	n = max(1, min(n, total))
	bounds := []any{nil}
	for i := 1; i < n; i++ {
		bounds = append(bounds, first.Add(days(total*i/n)))
	}
	return append(bounds, nil)
}

// rollup is the statement that fills one rollup table.
type rollup struct {
	table string
	sql   string
}

// rollups returns the statements that compute the daily rollups from the
// raw events (and the leads, when they were loaded), the way the gateway
// counts them: events and leads of a listing go to daily_listing_stats with
// the listing's category and region, those of a seller alone to
// daily_seller_stats. One INSERT … SELECT … GROUP BY per table, over the
// rows created in [$1, $2) (a NULL bound: unbounded), UTC days whole.
func rollups(withLeads bool) []rollup {
	const within = `($1::timestamptz IS NULL OR created_at >= $1) AND ($2::timestamptz IS NULL OR created_at < $2)`
	listingLeads, sellerLeads := "", ""
	if withLeads {
		listingLeads = `
			UNION ALL
			SELECT (created_at AT TIME ZONE 'UTC')::date, listing_id, 0, 0, 0, 0, count(*)
			FROM leads WHERE listing_id IS NOT NULL AND ` + within + ` GROUP BY 1, 2`
		sellerLeads = `
			UNION ALL
			SELECT (created_at AT TIME ZONE 'UTC')::date, seller_id, 0, 0, 0, 0, count(*)
			FROM leads WHERE listing_id IS NULL AND ` + within + ` GROUP BY 1, 2`
	}
	counts := `count(*) FILTER (WHERE type = 'LISTING_VIEW'), count(*) FILTER (WHERE type = 'CALL_CLICK'),
				count(*) FILTER (WHERE type = 'TEXT_CLICK'), count(*) FILTER (WHERE type = 'EMAIL_CLICK'), 0`
	return []rollup{
		{"daily_listing_stats", `INSERT INTO daily_listing_stats
				(day, listing_id, seller_id, category, region, views, call_clicks, text_clicks, email_clicks, leads, reports)
			SELECT x.day, x.listing_id, l.seller_id, l.category, sl.region,
				sum(x.views), sum(x.calls), sum(x.texts), sum(x.emails), sum(x.leads), 0
			FROM (
				SELECT (created_at AT TIME ZONE 'UTC')::date AS day, listing_id,
					` + counts + `
				FROM events WHERE listing_id IS NOT NULL AND ` + within + ` GROUP BY 1, 2` + listingLeads + `
			) AS x (day, listing_id, views, calls, texts, emails, leads)
			JOIN listings l ON l.id = x.listing_id
			LEFT JOIN seller_locations sl ON sl.id = l.location_id
			GROUP BY x.day, x.listing_id, l.seller_id, l.category, sl.region`},
		{"daily_seller_stats", `INSERT INTO daily_seller_stats
				(day, seller_id, views, call_clicks, text_clicks, email_clicks, leads, reports)
			SELECT x.day, x.seller_id, sum(x.views), sum(x.calls), sum(x.texts), sum(x.emails), sum(x.leads), 0
			FROM (
				SELECT (created_at AT TIME ZONE 'UTC')::date AS day, seller_id,
					` + counts + `
				FROM events WHERE listing_id IS NULL AND ` + within + ` GROUP BY 1, 2` + sellerLeads + `
			) AS x (day, seller_id, views, calls, texts, emails, leads)
			GROUP BY x.day, x.seller_id`},
	}
}

// execLarge runs one big statement with a generous work_mem and returns the
// rows it affected.
func execLarge(ctx context.Context, db *sql.DB, q string, args ...any) (int64, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET work_mem = '256MB'`); err != nil {
		return 0, err
	}
	r, err := conn.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	_, _ = conn.ExecContext(ctx, `RESET work_mem`)
	return r.RowsAffected()
}

// schemaItem is an index or constraint dropped for the load.
type schemaItem struct {
	table string // quoted
	name  string // quoted
	kind  byte   // 'p' primary key, 'u' unique, 'f' foreign key, 'i' plain index
	def   string // constraint definition, or CREATE INDEX statement
}

// create returns the statement that creates the item again.
func (s schemaItem) create() string {
	if s.kind == 'i' {
		return s.def
	}
	return "ALTER TABLE " + s.table + " ADD CONSTRAINT " + s.name + " " + s.def
}

// savedSchema is what dropSecondary dropped, to be restored after the load.
type savedSchema struct {
	items    []schemaItem
	triggers []string // tables whose user triggers were disabled
}

// dropSecondary drops the indexes, primary keys, unique constraints and
// foreign keys of tables (and the foreign keys of other tables that point
// at them) and disables their user triggers (the leads rollup trigger: the
// rollups are computed once after the load), in one transaction, and
// returns what it dropped. Check constraints and NOT NULL stay.
func dropSecondary(ctx context.Context, db *sql.DB, tables []string) (*savedSchema, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	s := &savedSchema{}
	rows, err := tx.QueryContext(ctx, `
		WITH t AS (SELECT unnest($1::text[])::regclass AS oid)
		SELECT c.conrelid::regclass::text, quote_ident(c.conname), c.contype::text, pg_get_constraintdef(c.oid)
		FROM pg_constraint c
		WHERE c.contype IN ('p', 'u', 'f') AND (c.conrelid IN (SELECT oid FROM t) OR c.confrelid IN (SELECT oid FROM t))
		UNION ALL
		SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, 'i', pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		WHERE i.indrelid IN (SELECT oid FROM t)
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))`,
		pq.Array(tables))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var it schemaItem
		var kind string
		if err := rows.Scan(&it.table, &it.name, &kind, &it.def); err != nil {
			rows.Close()
			return nil, err
		}
		it.kind = kind[0]
		s.items = append(s.items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Foreign keys go first (they depend on the unique indexes they point
	// at), then keys, then plain indexes.
	order := map[byte]int{'f': 0, 'p': 1, 'u': 1, 'i': 2}
	slices.SortStableFunc(s.items, func(a, b schemaItem) int { return order[a.kind] - order[b.kind] })
	for _, it := range s.items {
		q := "DROP INDEX " + it.name
		if it.kind != 'i' {
			q = "ALTER TABLE " + it.table + " DROP CONSTRAINT " + it.name
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	for _, t := range tables {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+pq.QuoteIdentifier(t)+" DISABLE TRIGGER USER"); err != nil {
			return nil, err
		}
		s.triggers = append(s.triggers, t)
	}
	return s, tx.Commit()
}

// restore builds the dropped keys and indexes again, workers at a time
// (biggest tables first), then the foreign keys one by one (each locks
// the table it points at), and enables the triggers.
func (s *savedSchema) restore(ctx context.Context, db *sql.DB, workers int, log io.Writer) error {
	var builds, fks []schemaItem
	for _, it := range s.items {
		if it.kind == 'f' {
			fks = append(fks, it)
		} else {
			builds = append(builds, it)
		}
	}
	size := map[string]int64{}
	for _, it := range builds {
		if _, ok := size[it.table]; !ok {
			var n int64
			if err := db.QueryRowContext(ctx, `SELECT pg_relation_size($1::regclass)`, it.table).Scan(&n); err != nil {
				return err
			}
			size[it.table] = n
		}
	}
	sort.SliceStable(builds, func(a, b int) bool { return size[builds[a].table] > size[builds[b].table] })
	var next atomic.Int64
	var mu sync.Mutex
	err := parallel(ctx, max(1, workers), func(ctx context.Context, _ int) error {
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		// Sorting in memory instead of in temporary files: the machine
		// has the memory; the default (64 MB) is for many sessions.
		if _, err := conn.ExecContext(ctx, `SET maintenance_work_mem = '512MB'`); err != nil {
			return err
		}
		for i := int(next.Add(1)) - 1; i < len(builds); i = int(next.Add(1)) - 1 {
			it := builds[i]
			start := time.Now()
			if _, err := conn.ExecContext(ctx, it.create()); err != nil {
				return fmt.Errorf("%s: %w", it.create(), err)
			}
			mu.Lock()
			fmt.Fprintf(log, "gen:   %-40s %6.1fs\n", strings.Trim(it.name, `"`), time.Since(start).Seconds())
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, it := range fks {
		start := time.Now()
		if _, err := db.ExecContext(ctx, it.create()); err != nil {
			return fmt.Errorf("%s: %w", it.create(), err)
		}
		fmt.Fprintf(log, "gen:   %-40s %6.1fs\n", strings.Trim(it.name, `"`), time.Since(start).Seconds())
	}
	for _, t := range s.triggers {
		if _, err := db.ExecContext(ctx, "ALTER TABLE "+pq.QuoteIdentifier(t)+" ENABLE TRIGGER USER"); err != nil {
			return err
		}
	}
	return nil
}

// parallel runs fn(ctx, 0) … fn(ctx, n-1) concurrently and returns the
// first error; the others' ctx is cancelled then.
func parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = fn(ctx, i); errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	// The first error that is not a consequence of the cancellation.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}
