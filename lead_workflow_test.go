package main

import (
	"testing"
)

// TestLeadInboxWorkflow: a seller moves its leads through the allowed
// statuses, each change is recorded with who and when, moves outside the
// workflow are refused, and the inbox filters by exact buyer email.
func TestLeadInboxWorkflow(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	const move = `mutation($id: ID!, $s: LeadStatus!) { updateLeadStatus(id: $id, status: $s) { lead { status } } }`
	steps := []struct {
		name  string
		token string
		to    string
		code  string
	}{
		{"seller contacts the buyer", f.TokenA, "CONTACTED", ""},
		{"seller qualifies", f.TokenA, "QUALIFIED", ""},
		{"same status is a no-op", f.TokenA, "QUALIFIED", ""},
		{"back to NEW is not a move", f.TokenA, "NEW", "BAD_USER_INPUT"},
		{"seller wins the deal", f.TokenA, "WON", ""},
		{"seller marks it spam", f.TokenA, "SPAM", "BAD_USER_INPUT"},
		{"seller loses it", f.TokenA, "LOST", ""},
		{"seller marks it spam after all", f.TokenA, "SPAM", "BAD_USER_INPUT"},
		{"admin marks it spam", f.Admin, "SPAM", ""},
		{"seller cannot take it out of spam", f.TokenA, "CONTACTED", "FORBIDDEN"},
		{"admin takes it out of spam", f.Admin, "NEW", ""},
	}
	for _, s := range steps {
		resp := api.post(s.token, move, map[string]any{"id": f.LeadA, "s": s.to})
		switch {
		case s.code == "" && len(resp.Errors) > 0:
			t.Fatalf("%s: got %s, want success", s.name, resp.Raw)
		case s.code != "" && (len(resp.Errors) != 1 || resp.Errors[0].Code() != s.code):
			t.Fatalf("%s: got %s, want %s", s.name, resp.Raw, s.code)
		case s.code == "" && resp.Get("updateLeadStatus.lead.status") != s.to:
			t.Fatalf("%s: status %v, want %s", s.name, resp.Get("updateLeadStatus.lead.status"), s.to)
		}
	}

	resp := api.mustPost(f.TokenA, `query($id: ID!) { lead(id: $id) { statusHistory { from to actorRole actorId at } } }`,
		map[string]any{"id": f.LeadA})
	history := resp.Get("lead.statusHistory").([]any)
	want := [][2]string{{"NEW", "CONTACTED"}, {"CONTACTED", "QUALIFIED"}, {"QUALIFIED", "WON"}, {"WON", "LOST"}, {"LOST", "SPAM"}, {"SPAM", "NEW"}}
	if len(history) != len(want) {
		t.Fatalf("history has %d changes, want %d: %s", len(history), len(want), resp.Raw)
	}
	for i, w := range want {
		c := history[i].(map[string]any)
		if c["from"] != w[0] || c["to"] != w[1] || c["at"] == nil || c["actorId"] == nil {
			t.Errorf("change %d = %v, want %s -> %s with actor and time", i, c, w[0], w[1])
		}
	}
	if role := history[4].(map[string]any)["actorRole"]; role != "ADMIN" {
		t.Errorf("spam change by %v, want ADMIN", role)
	}

	for _, tt := range []struct {
		name  string
		email string
		want  int
	}{{"exact", "jane.buyer@example.com", 1}, {"ignoring case", "Jane.Buyer@Example.com", 1}, {"no partial match", "jane.buyer", 0}} {
		t.Run("email filter "+tt.name, func(t *testing.T) {
			resp := api.mustPost(f.TokenA, `query($e: String) { leads(filter: {email: $e}) { totalCount nodes { id } } }`,
				map[string]any{"e": tt.email})
			if got := int(resp.Get("leads.totalCount").(float64)); got != tt.want {
				t.Errorf("got %d leads, want %d", got, tt.want)
			}
		})
	}
}
