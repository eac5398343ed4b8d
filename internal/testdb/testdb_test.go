package testdb

import (
	"context"
	"database/sql"
	"testing"

	"github.com/partsmarket/gateway/internal/database"
)

func TestNew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := New(t), New(t)
	if a == b {
		t.Fatalf("two New databases share the URL %q", a)
	}
	dbA, dbB := connect(t, a), connect(t, b)
	for name, db := range map[string]*sql.DB{"a": dbA, "b": dbB} {
		current, err := database.MigrationsCurrent(ctx, db)
		if err != nil {
			t.Fatalf("%s: MigrationsCurrent: %v", name, err)
		}
		if !current {
			t.Errorf("%s: MigrationsCurrent: got false, want true", name)
		}
	}
	if _, err := dbA.ExecContext(ctx, `CREATE TABLE only_in_a (n int)`); err != nil {
		t.Fatal(err)
	}
	var inB bool
	if err := dbB.QueryRowContext(ctx, `SELECT to_regclass('only_in_a') IS NOT NULL`).Scan(&inB); err != nil {
		t.Fatal(err)
	}
	if inB {
		t.Error("a table created in one New database shows up in the other")
	}

	var isTemplate, allowConn bool
	err := dbA.QueryRowContext(ctx, `SELECT datistemplate, datallowconn FROM pg_database WHERE datname = $1`,
		templateName()).Scan(&isTemplate, &allowConn)
	if err != nil {
		t.Fatalf("template %s: %v", templateName(), err)
	}
	if !isTemplate || allowConn {
		t.Errorf("template: datistemplate %v, datallowconn %v; want true, false", isTemplate, allowConn)
	}
}

func TestNewDropsDatabase(t *testing.T) {
	t.Parallel()
	var name string
	outer := t
	t.Run("uses a database", func(t *testing.T) {
		db, err := sql.Open("postgres", New(t))
		if err != nil {
			t.Fatal(err)
		}
		// Left open until after the drop, which must not wait for it.
		outer.Cleanup(func() { db.Close() })
		if err := db.QueryRow(`SELECT current_database()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	admin, err := adminPool(ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	var exists bool
	if err := admin.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

func TestWithDatabase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u@127.0.0.1:54329/gateway?sslmode=disable", "postgres://u@127.0.0.1:54329/x?sslmode=disable"},
		{"postgresql://u:p@h/", "postgresql://u:p@h/x"},
		{"postgres://h", "postgres://h/x"},
		{"host=h dbname=gateway", "host=h dbname=gateway dbname=x"},
	}
	for _, tt := range tests {
		got, err := withDatabase(tt.in, "x")
		if err != nil || got != tt.want {
			t.Errorf("withDatabase(%q): got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// connect opens a small pool, closed when the test ends (before its
// database is dropped).
func connect(t *testing.T, u string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestWithRole(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://postgres@127.0.0.1:5432/db?sslmode=disable", "postgres://gateway_app:gateway_app@127.0.0.1:5432/db?sslmode=disable"},
		{"postgresql://u:p@h/x", "postgresql://gateway_app:gateway_app@h/x"},
		{"postgres://h/x", "postgres://gateway_app:gateway_app@h/x"},
		{"host=h dbname=x user=u", "host=h dbname=x user=u user=gateway_app password=gateway_app"},
	}
	for _, tt := range tests {
		got, err := withRole(tt.in, servingRole)
		if err != nil || got != tt.want {
			t.Errorf("withRole(%q): got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestClonesKeepTheRoles: a database from New has the template's owner and
// grants: gateway_owner owns the tables and the database, gateway_app reads
// them and owns none.
func TestClonesKeepTheRoles(t *testing.T) {
	t.Parallel()
	u := New(t)
	admin := connect(t, u)
	var dbOwner string
	var notOwned, appOwns int
	var appReads bool
	err := admin.QueryRow(`SELECT pg_get_userbyid(d.datdba),
			(SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> 'gateway_owner'),
			(SELECT count(*) FROM pg_tables WHERE tableowner = 'gateway_app'),
			has_table_privilege('gateway_app', 'leads', 'SELECT')
		FROM pg_database d WHERE d.datname = current_database()`).Scan(&dbOwner, &notOwned, &appOwns, &appReads)
	if err != nil {
		t.Fatal(err)
	}
	if dbOwner != ownerRole || notOwned != 0 || appOwns != 0 || !appReads {
		t.Errorf("database owned by %s, %d tables not owned by %s, %d owned by %s, %s reads leads: %v",
			dbOwner, notOwned, ownerRole, appOwns, servingRole, servingRole, appReads)
	}
	for _, v := range []string{ServingURL(t, u), OwnerURL(t, u)} {
		if err := connect(t, v).Ping(); err != nil {
			t.Errorf("connect as a test role: %v", err)
		}
	}
}
