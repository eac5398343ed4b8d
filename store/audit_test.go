package store_test

import (
	"encoding/json"
	"testing"

	"github.com/partsmarket/gateway/store"
)

func TestTruncateIP(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"203.0.113.77", "203.0.113.0/24"},
		{"203.0.113.0/24", "203.0.113.0/24"},
		{"::ffff:203.0.113.77", "203.0.113.0/24"},
		{"2001:db8:1234:5678:9abc::1", "2001:db8:1234::/48"},
		{"fe80::1%eth0", "fe80::/48"},
		{"", ""},
		{"not an address", ""},
	} {
		if got := store.TruncateIP(tt.in); got != tt.want {
			t.Errorf("TruncateIP(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestAudit: an event written in a caller's transaction names the actor of
// the context, commits and rolls back with the transaction, and the table
// refuses an untruncated IP.
func TestAudit(t *testing.T) {
	st, db := newStore(t)
	ctx := store.WithActor(t.Context(), store.Actor{ID: "admin-7", Role: "ADMIN", RequestID: "req-1", IP: "2001:db8:1:2::3"})
	e := store.AuditEntry{Action: "thing.change", TargetType: "thing", TargetID: "t-1",
		Changes: map[string]any{"status": store.Change("A", "B")}}
	for _, commit := range []bool{false, true} {
		tx := db.MustBeginTx(ctx, nil)
		if err := st.Audit(ctx, tx, e); err != nil {
			t.Fatal(err)
		}
		if commit {
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		} else if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
	}
	page, err := st.AuditEvents(t.Context(), store.AuditQuery{Filter: store.AuditEventFilter{Action: ptr("thing.change")}},
		store.PageArgs{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("%d events, want the committed one only", len(page.Items))
	}
	got := page.Items[0]
	var changes map[string]map[string]string
	if err := json.Unmarshal(got.Changes, &changes); err != nil {
		t.Fatal(err)
	}
	if *got.ActorID != "admin-7" || *got.ActorRole != "ADMIN" || *got.RequestID != "req-1" || *got.IP != "2001:db8:1::/48" ||
		*got.TargetID != "t-1" || got.TargetType != "thing" || changes["status"]["from"] != "A" || changes["status"]["to"] != "B" {
		t.Errorf("event %+v (changes %s)", got, got.Changes)
	}

	if err := st.Audit(t.Context(), db, store.AuditEntry{Action: "thing.change"}); err == nil {
		t.Error("an event without a target type was written")
	}
	if _, err := db.Exec(`INSERT INTO audit_events (action, target_type, ip) VALUES ('x', 'y', '203.0.113.77/32')`); err == nil {
		t.Error("the table took a whole IPv4 address")
	}
}
