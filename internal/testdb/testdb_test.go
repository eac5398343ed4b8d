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
