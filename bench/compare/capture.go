package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/partsmarket/gateway/bench/internal/benchkit"
)

// logLine is the start of a line of the benchmark cluster's log
// (log_line_prefix '%m [%p] %a: ' in postgresql.conf).
var logLine = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[\d+\] `)

// capture prints the statements the gateway runs for one listing page and
// one detail page, with their parameters, as the benchmark cluster logs
// them with log_min_duration_statement = 0 (set on the database for the
// gateway's new connections only, and reset after).
func capture(ctx context.Context, o options, db *sqlx.DB, out io.Writer) error {
	var dbName string
	if err := db.GetContext(ctx, &dbName, `SELECT current_database()`); err != nil {
		return err
	}
	ids, err := publicSample(ctx, db, 1)
	if err != nil {
		return err
	}
	st, err := os.Stat(o.pgLog)
	if err != nil {
		return err
	}
	from := st.Size()
	if _, err := db.ExecContext(ctx, `ALTER DATABASE `+pq.QuoteIdentifier(dbName)+` SET log_min_duration_statement = 0`); err != nil {
		return err
	}
	defer db.Exec(`ALTER DATABASE ` + pq.QuoteIdentifier(dbName) + ` RESET log_min_duration_statement`)
	gw, err := startGateway(ctx, o, false)
	if err != nil {
		return err
	}
	defer gw.stop()
	client := newClient(1)
	for _, q := range queries(nil, nil, ids) {
		if q.name == "region" {
			continue
		}
		if _, err := db.ExecContext(ctx, `DO $$BEGIN RAISE LOG 'bench-compare: the gateway''s `+q.name+` request'; END$$`); err != nil {
			return err
		}
		if _, err := benchkit.PostGraphQL(ctx, client, gw.endpoint, q.bodies(gateway)[0], ""); err != nil {
			return fmt.Errorf("capture %s: %w", q.name, err)
		}
	}
	gw.stop()
	f, err := os.Open(o.pgLog)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return err
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	// From the first marker on, the gateway's request statements and the
	// markers, with their continuation lines.
	started, keep := false, false
	for sc.Scan() {
		line := sc.Text()
		if logLine.MatchString(line) {
			marker := strings.Contains(line, "bench-compare: ")
			started = started || marker
			keep = started && (marker || strings.Contains(line, " gateway-http: "))
		}
		if keep {
			fmt.Fprintln(out, line)
		}
	}
	return sc.Err()
}
