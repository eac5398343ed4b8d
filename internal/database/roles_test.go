package database_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/internal/testdb"
)

// connect opens a plain pool on u, closed when the test ends.
func connect(t *testing.T, u string) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Connect("postgres", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// privileges returns role's privileges on every table of the public schema,
// "table:PRIVILEGE", sorted, and the tables it owns.
func privileges(t *testing.T, db *sqlx.DB, role string) (granted, owned []string) {
	t.Helper()
	err := db.Select(&granted, `SELECT c.relname || ':' || p.privilege
		FROM pg_class c CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(privilege)
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v')
			AND has_table_privilege($1, c.oid, p.privilege) ORDER BY 1`, role)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Select(&owned, `SELECT c.relname FROM pg_class c
		WHERE c.relnamespace = 'public'::regnamespace AND c.relowner = $1::regrole ORDER BY 1`, role)
	if err != nil {
		t.Fatal(err)
	}
	return granted, owned
}

// TestServingRolePrivileges: in a database cloned from the test template
// (migrated by the owner, which then granted the serving role), the serving
// role owns nothing, may read and write rows, may never truncate, reference
// or trigger, may only read the migrations' versions, and may not change
// or delete audit events.
func TestServingRolePrivileges(t *testing.T) {
	t.Parallel()
	u := testdb.New(t)
	admin := connect(t, u)
	granted, owned := privileges(t, admin, "gateway_app")
	if len(owned) > 0 {
		t.Errorf("the serving role owns %v", owned)
	}
	var tables []string
	if err := admin.Select(&tables, `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace
		AND relkind IN ('r', 'p') ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	var ownedByOwner int
	if err := admin.Get(&ownedByOwner, `SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace
		AND relkind IN ('r', 'p') AND relowner = 'gateway_owner'::regrole`); err != nil {
		t.Fatal(err)
	}
	if ownedByOwner != len(tables) {
		t.Errorf("gateway_owner owns %d of the %d tables, want all", ownedByOwner, len(tables))
	}
	for _, table := range tables {
		want := []string{"DELETE", "INSERT", "SELECT", "UPDATE"}
		switch table {
		case "audit_events":
			want = []string{"INSERT", "SELECT"}
		case "goose_db_version":
			want = []string{"SELECT"}
		}
		var got []string
		for _, g := range granted {
			if name, priv, _ := strings.Cut(g, ":"); name == table {
				got = append(got, priv)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the serving role may %v, want %v", table, got, want)
		}
	}

	serving := connect(t, testdb.ServingURL(t, u))
	admin.MustExec(`INSERT INTO audit_events (action, target_type) VALUES ('test.event', 'test')`)
	for _, q := range []string{`UPDATE audit_events SET action = 'x'`, `DELETE FROM audit_events`, `TRUNCATE audit_events`,
		`ALTER TABLE leads DISABLE ROW LEVEL SECURITY`, `DROP POLICY leads_scope ON leads`} {
		_, err := serving.Exec(q)
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) || (pqErr.Code != "42501" && pqErr.Code != "42P01") {
			t.Errorf("%s as the serving role: %v, want permission denied", q, err)
		}
	}
	var n int
	if err := admin.Get(&n, `SELECT count(*) FROM audit_events WHERE action = 'test.event'`); err != nil || n != 1 {
		t.Errorf("audit events left: %d (%v), want 1", n, err)
	}
}

// TestAuditTriggersFireInReplicaMode: a superuser who turns ordinary
// triggers off (session_replication_role = replica) still cannot change,
// delete or truncate audit events.
func TestAuditTriggersFireInReplicaMode(t *testing.T) {
	t.Parallel()
	admin := connect(t, testdb.New(t))
	admin.MustExec(`INSERT INTO audit_events (action, target_type) VALUES ('test.event', 'test')`)
	for _, q := range []string{`UPDATE audit_events SET action = 'x'`, `DELETE FROM audit_events`, `TRUNCATE audit_events`} {
		tx, err := admin.Beginx()
		if err != nil {
			t.Fatal(err)
		}
		tx.MustExec(`SET LOCAL session_replication_role = replica`)
		_, err = tx.Exec(q)
		_ = tx.Rollback()
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s in replica mode: %v, want the append-only refusal", q, err)
		}
	}
	var n int
	if err := admin.Get(&n, `SELECT count(*) FROM audit_events WHERE action = 'test.event'`); err != nil || n != 1 {
		t.Errorf("audit events left: %d (%v), want 1", n, err)
	}
}

// TestGrantServingCoversNewTables: a table added by a later migration is
// granted on the next run, and GrantServing refuses to grant the owner.
func TestGrantServingCoversNewTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := testdb.New(t)
	owner := connect(t, testdb.OwnerURL(t, u))
	serving := connect(t, testdb.ServingURL(t, u))
	owner.MustExec(`CREATE TABLE later_table (n int)`)
	if _, err := serving.Exec(`SELECT n FROM later_table`); err == nil {
		t.Fatal("the serving role reads a table it was never granted")
	}
	for range 2 { // idempotent
		if err := database.GrantServing(ctx, owner.DB, "gateway_app"); err != nil {
			t.Fatalf("GrantServing: %v", err)
		}
	}
	if _, err := serving.Exec(`INSERT INTO later_table VALUES (1)`); err != nil {
		t.Errorf("after GrantServing the serving role cannot write a new table: %v", err)
	}
	if err := database.GrantServing(ctx, owner.DB, "gateway_owner"); err == nil {
		t.Error("GrantServing granted the owner itself")
	}
}

// TestCheckServingRole: the serving role passes; a superuser, the owner and
// a role with BYPASSRLS are refused with the reason named.
func TestCheckServingRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := testdb.New(t)
	admin := connect(t, u)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	bypass := "gateway_test_bypassrls_" + hex.EncodeToString(b)
	admin.MustExec(`CREATE ROLE ` + bypass + ` LOGIN BYPASSRLS PASSWORD '` + bypass + `'`)
	t.Cleanup(func() { admin.MustExec(`DROP ROLE ` + bypass) })
	bypassURL, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	bypassURL.User = url.UserPassword(bypass, bypass)
	for _, tc := range []struct{ name, url, want string }{
		{"serving role", testdb.ServingURL(t, u), ""},
		{"superuser", u, "is a superuser"},
		{"owner", testdb.OwnerURL(t, u), "owns table"},
		{"BYPASSRLS", bypassURL.String(), "has BYPASSRLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := connect(t, tc.url)
			err := database.CheckServingRole(ctx, db.DB)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (!errors.Is(err, database.ErrPrivilegedRole) || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), "DATABASE_URL")):
				t.Errorf("got %v, want an error naming DATABASE_URL and saying %q", err, tc.want)
			}
		})
	}
}
