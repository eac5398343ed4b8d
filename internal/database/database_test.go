package database_test

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io/fs"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"

	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/internal/testdb"
	"github.com/partsmarket/gateway/migrations"
)

// open opens a counted pool on a fresh database, closed before it is dropped.
func open(t *testing.T, app string, maxConns int) (*sqlx.DB, string) {
	t.Helper()
	u := testdb.New(t)
	db, err := database.Open(context.Background(), u, app, maxConns)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, u
}

func TestStatementCount(t *testing.T) {
	t.Parallel()
	db, _ := open(t, "gateway-test", 4)
	bg := context.Background()
	if _, err := db.ExecContext(bg, `CREATE TABLE items (n int)`); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		want int64 // statements counted in the request's context
		run  func(t *testing.T, ctx context.Context)
	}{
		{"query", 1, func(t *testing.T, ctx context.Context) {
			var n int
			if err := db.GetContext(ctx, &n, `SELECT $1::int`, 7); err != nil || n != 7 {
				t.Fatalf("got %d, %v; want 7", n, err)
			}
		}},
		{"exec", 1, func(t *testing.T, ctx context.Context) {
			mustExec(t, ctx, db, `INSERT INTO items VALUES (1)`)
		}},
		{"failed statement", 1, func(t *testing.T, ctx context.Context) {
			if _, err := db.ExecContext(ctx, `SELECT * FROM no_such_table`); err == nil {
				t.Fatal("got no error, want one")
			}
		}},
		{"derived context", 2, func(t *testing.T, ctx context.Context) {
			child, cancel := context.WithCancel(ctx)
			defer cancel()
			var rows []int
			if err := db.SelectContext(child, &rows, `SELECT n FROM items`); err != nil {
				t.Fatal(err)
			}
			mustExec(t, child, db, `DELETE FROM items`)
		}},
		{"transaction: statements, not BEGIN and COMMIT", 2, func(t *testing.T, ctx context.Context) {
			tx, err := db.BeginTxx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			mustExec(t, ctx, tx, `INSERT INTO items VALUES (2)`)
			mustExec(t, ctx, tx, `INSERT INTO items VALUES (3)`)
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}},
		{"prepared: each execution, not the preparation", 3, func(t *testing.T, ctx context.Context) {
			st, err := db.PreparexContext(ctx, `INSERT INTO items VALUES ($1)`)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for i := range 3 {
				if _, err := st.ExecContext(ctx, i); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"copy: once, whatever the rows", 2, func(t *testing.T, ctx context.Context) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			mustExec(t, ctx, tx, `DELETE FROM items`)
			st, err := tx.PrepareContext(ctx, pq.CopyIn("items", "n"))
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				if _, err := st.ExecContext(ctx, i); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.ExecContext(ctx); err != nil {
				t.Fatalf("flushing COPY: %v", err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			var got int
			if err := db.GetContext(bg, &got, `SELECT count(*) FROM items`); err != nil || got != 5 {
				t.Fatalf("rows after COPY: got %d, %v; want 5", got, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := database.WithStatementCounter(bg)
			other := database.WithStatementCounter(bg)
			totalBefore := database.TotalStatements()
			tt.run(t, ctx)
			if got := database.StatementCount(ctx); got != tt.want {
				t.Errorf("StatementCount: got %d, want %d", got, tt.want)
			}
			if got := database.StatementCount(other); got != 0 {
				t.Errorf("StatementCount of an unused counter: got %d, want 0", got)
			}
			if got := database.TotalStatements() - totalBefore; got < tt.want {
				t.Errorf("TotalStatements grew by %d, want at least %d", got, tt.want)
			}
		})
	}
	if got := database.StatementCount(bg); got != 0 {
		t.Errorf("StatementCount without a counter: got %d, want 0", got)
	}
}

// execer is a pool or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func mustExec(t *testing.T, ctx context.Context, db execer, query string) {
	t.Helper()
	if _, err := db.ExecContext(ctx, query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestStatementCountConcurrent(t *testing.T) {
	t.Parallel()
	db, _ := open(t, "gateway-test", 4)
	const goroutines, queries = 16, 10
	a := database.WithStatementCounter(context.Background())
	b := database.WithStatementCounter(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 2*goroutines)
	for i := range 2 * goroutines {
		ctx, n := a, queries
		if i%2 == 1 {
			ctx, n = b, 1 // b's goroutines run one query each
		}
		wg.Go(func() {
			for range n {
				var one int
				if err := db.GetContext(ctx, &one, `SELECT 1`); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got, want := database.StatementCount(a), int64(goroutines*queries); got != want {
		t.Errorf("counter a: got %d, want %d", got, want)
	}
	if got, want := database.StatementCount(b), int64(goroutines); got != want {
		t.Errorf("counter b: got %d, want %d", got, want)
	}
}

func TestApplicationName(t *testing.T) {
	t.Parallel()
	u := testdb.New(t)
	tests := []struct{ name, databaseURL, app string }{
		{"as testdb gives it", u, "gateway-http"},
		{"with an application_name", withParam(t, u, "application_name", "someone-else"), "gateway-worker"},
		{"with a quote", u, `it's "gateway"`},
	}
	if isURL(u) {
		kv := keyValue(t, u)
		tests = append(tests,
			struct{ name, databaseURL, app string }{"key=value form", kv, "gateway-http"},
			struct{ name, databaseURL, app string }{"key=value form with an application_name", withParam(t, kv, "application_name", "someone-else"), "gateway-worker"},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := database.Open(ctx, tt.databaseURL, tt.app, 2)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()
			var got string
			err = db.GetContext(ctx, &got, `SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()`)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.app {
				t.Errorf("application_name in pg_stat_activity: got %q, want %q", got, tt.app)
			}
			if got := db.Stats().MaxOpenConnections; got != 2 {
				t.Errorf("MaxOpenConnections: got %d, want 2", got)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, databaseURL string }{
		{"bad URL", "postgres://gateway:s3cret-pw@%zz/db"},
		{"nobody listening", "postgres://gateway:s3cret-pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=5"},
		{"bad key=value", "host=127.0.0.1 password='s3cret-pw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := database.Open(context.Background(), tt.databaseURL, "gateway-test", 1)
			if err == nil {
				db.Close()
				t.Fatal("got no error, want one")
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	if _, err := database.Open(context.Background(), "postgres://127.0.0.1/db", "gateway-test", 0); err == nil {
		t.Error("maxConns 0: got no error, want one")
	}
}

// TestDriverInterfaces checks that the counting wrapper offers database/sql
// exactly the optional interfaces lib/pq's own connection does.
func TestDriverInterfaces(t *testing.T) {
	t.Parallel()
	db, u := open(t, "gateway-test", 1)
	raw, err := pq.Driver{}.Open(keyValue(t, u))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var wrapped any
	if err := conn.Raw(func(dc any) error { wrapped = dc; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, want := connInterfaces(wrapped), connInterfaces(raw); got != want {
		t.Errorf("wrapped connection implements %s; lib/pq's implements %s", got, want)
	}
}

// connInterfaces lists the optional driver interfaces c implements.
func connInterfaces(c any) string {
	var has []string
	check := func(name string, ok bool) {
		if ok {
			has = append(has, name)
		}
	}
	_, ok := c.(driver.QueryerContext)
	check("QueryerContext", ok)
	_, ok = c.(driver.ExecerContext)
	check("ExecerContext", ok)
	_, ok = c.(driver.ConnPrepareContext)
	check("ConnPrepareContext", ok)
	_, ok = c.(driver.ConnBeginTx)
	check("ConnBeginTx", ok)
	_, ok = c.(driver.Pinger)
	check("Pinger", ok)
	_, ok = c.(driver.Validator)
	check("Validator", ok)
	_, ok = c.(driver.SessionResetter)
	check("SessionResetter", ok)
	_, ok = c.(driver.NamedValueChecker)
	check("NamedValueChecker", ok)
	return strings.Join(has, ",")
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := open(t, "gateway-test", 2)
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded migrations: %v, %v", files, err)
	}

	current := func(want bool) {
		t.Helper()
		got, err := database.MigrationsCurrent(ctx, db.DB)
		if err != nil {
			t.Fatalf("MigrationsCurrent: %v", err)
		}
		if got != want {
			t.Fatalf("MigrationsCurrent: got %v, want %v", got, want)
		}
	}
	status := func(wantPending int) {
		t.Helper()
		var buf bytes.Buffer
		if err := database.MigrationStatus(ctx, db.DB, &buf); err != nil {
			t.Fatalf("MigrationStatus: %v", err)
		}
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(lines) != len(files) {
			t.Fatalf("MigrationStatus: got %d lines, want %d:\n%s", len(lines), len(files), buf.String())
		}
		if got := strings.Count(buf.String(), " pending\n"); got != wantPending {
			t.Errorf("MigrationStatus: got %d pending, want %d:\n%s", got, wantPending, buf.String())
		}
		if !strings.HasPrefix(lines[0], "00001  marketplace ") {
			t.Errorf("MigrationStatus: first line %q, want it to start with version and name", lines[0])
		}
	}
	tableExists := func() bool {
		t.Helper()
		var ok bool
		if err := db.GetContext(ctx, &ok, `SELECT to_regclass('sellers') IS NOT NULL`); err != nil {
			t.Fatal(err)
		}
		return ok
	}

	// testdb's databases come migrated.
	current(true)
	status(0)

	// Down, one step at a time, until nothing is applied.
	for range files {
		if err := database.MigrateDown(ctx, db.DB); err != nil {
			t.Fatalf("MigrateDown: %v", err)
		}
		current(false)
	}
	if err := database.MigrateDown(ctx, db.DB); !errors.Is(err, goose.ErrNoNextVersion) {
		t.Fatalf("MigrateDown with nothing applied: got %v, want ErrNoNextVersion", err)
	}
	if tableExists() {
		t.Error("sellers still exists after migrating all the way down")
	}
	status(len(files))

	if err := database.MigrateUp(ctx, db.DB); err != nil {
		t.Fatalf("MigrateUp: %v", err)
	}
	current(true)
	status(0)
	if !tableExists() {
		t.Error("sellers is missing after MigrateUp")
	}
	if err := database.MigrateUp(ctx, db.DB); err != nil {
		t.Fatalf("MigrateUp again: %v", err)
	}
}

// TestMigrationsCurrentReadOnly checks that on a database goose never
// touched, MigrationsCurrent says false and creates nothing.
func TestMigrationsCurrentReadOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, u := open(t, "gateway-test", 1)
	mustExec(t, ctx, db, `CREATE SCHEMA untouched`)
	fresh, err := database.Open(ctx, withParam(t, u, "search_path", "untouched"), "gateway-test", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	current, err := database.MigrationsCurrent(ctx, fresh.DB)
	if err != nil {
		t.Fatalf("MigrationsCurrent: %v", err)
	}
	if current {
		t.Error("MigrationsCurrent on an unmigrated schema: got true, want false")
	}
	var tables int
	if err := db.GetContext(ctx, &tables, `SELECT count(*) FROM pg_tables WHERE schemaname = 'untouched'`); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("MigrationsCurrent created %d tables, want none", tables)
	}
}

// isURL reports whether u is in URL form rather than key=value form.
func isURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// keyValue returns u in lib/pq's key=value form.
func keyValue(t *testing.T, u string) string {
	t.Helper()
	if !isURL(u) {
		return u
	}
	kv, err := pq.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// withParam returns u (either form) with the connection parameter key set to
// value.
func withParam(t *testing.T, u, key, value string) string {
	t.Helper()
	if !isURL(u) {
		return u + " " + key + "=" + value
	}
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := parsed.Query()
	q.Set(key, value)
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

// TestMigrationsCurrentRollingDeploy: a database that holds a migration the
// binary does not know (a newer release's) is current for it; one that lacks
// a migration the binary has (rolled back) is not.
func TestMigrationsCurrentRollingDeploy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := open(t, "gateway-test", 1)
	current := func(want bool) {
		t.Helper()
		got, err := database.MigrationsCurrent(ctx, db.DB)
		if err != nil || got != want {
			t.Fatalf("MigrationsCurrent: got %v, %v; want %v", got, err, want)
		}
	}
	current(true)
	mustExec(t, ctx, db, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)`)
	current(true)
	// The newest embedded migration rolled back: goose records it as a row
	// with is_applied false after the one that applied it.
	var newest int64
	if err := db.GetContext(ctx, &newest, `SELECT max(version_id) FROM goose_db_version WHERE version_id < 99999`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, false)`, newest); err != nil {
		t.Fatal(err)
	}
	current(false)
}
