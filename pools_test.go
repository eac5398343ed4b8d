package main

import (
	"testing"

	"github.com/partsmarket/gateway/internal/testdb"
)

// TestAnalystQueriesGoToTheReadReplica: with DATABASE_READ_URL set, an
// analyst's reads come from the replica (here an empty database), while
// other principals read the primary.
func TestAnalystQueriesGoToTheReadReplica(t *testing.T) {
	replica := testdb.New(t)
	api := newTestAPI(t, map[string]string{"DATABASE_READ_URL": replica})
	f := api.newFixture()
	const q = `{ sellers { totalCount } }`
	if got := api.mustPost(f.Admin, q, nil).Get("sellers.totalCount"); got != 3.0 {
		t.Errorf("admin on the primary: %v sellers, want 3", got)
	}
	if got := api.mustPost(f.Analyst, q, nil).Get("sellers.totalCount"); got != 0.0 {
		t.Errorf("analyst on the (empty) replica: %v sellers, want 0", got)
	}
}

// TestPoolsCarryPerRoleSettings: the request pool has STATEMENT_TIMEOUT,
// the analyst pool STATEMENT_TIMEOUT_ANALYST and refuses writes, and both
// carry application_name gateway-http.
func TestPoolsCarryPerRoleSettings(t *testing.T) {
	api := newTestAPI(t, map[string]string{"STATEMENT_TIMEOUT": "1500ms", "STATEMENT_TIMEOUT_ANALYST": "2500ms"})
	httpDB, analystDB := api.app.pools[0], api.app.pools[2]
	for _, c := range []struct {
		pool        string
		timeout, ro string
		db          interface {
			Get(any, string, ...any) error
		}
	}{{"request", "1500ms", "off", httpDB}, {"analyst", "2500ms", "on", analystDB}} {
		var timeout, ro, app string
		if err := c.db.Get(&timeout, `SHOW statement_timeout`); err != nil || timeout != c.timeout {
			t.Errorf("%s pool: statement_timeout %q (%v), want %s", c.pool, timeout, err, c.timeout)
		}
		if err := c.db.Get(&ro, `SHOW default_transaction_read_only`); err != nil || ro != c.ro {
			t.Errorf("%s pool: default_transaction_read_only %q (%v), want %s", c.pool, ro, err, c.ro)
		}
		if err := c.db.Get(&app, `SHOW application_name`); err != nil || app != "gateway-http" {
			t.Errorf("%s pool: application_name %q (%v), want gateway-http", c.pool, app, err)
		}
	}
	if _, err := analystDB.Exec(`CREATE TABLE analyst_write (x int)`); err == nil {
		t.Error("the analyst pool wrote to the database")
	}
}
