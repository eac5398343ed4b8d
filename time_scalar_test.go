package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// TestBadTimeIsAValidationError: a Time that is not RFC 3339, as a literal
// or in a variable at any depth, is refused before execution.
func TestBadTimeIsAValidationError(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		ok    bool
	}{
		{"good literal", `{ leads(filter: {from: "2026-01-01T00:00:00Z"}) { totalCount } }`, nil, true},
		{"bad literal", `{ leads(filter: {from: "yesterday"}) { totalCount } }`, nil, false},
		{"bad variable", `query($t: Time) { leads(filter: {to: $t}) { totalCount } }`, map[string]any{"t": "01/02/2026"}, false},
		{"bad nested variable", `query($f: LeadFilter) { leads(filter: $f) { totalCount } }`, map[string]any{"f": map[string]any{"from": 42}}, false},
		{"good nested variable", `query($f: LeadFilter) { leads(filter: $f) { totalCount } }`, map[string]any{"f": map[string]any{"from": "2026-01-01T00:00:00.5+02:00"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"query": tt.query, "variables": tt.vars})
			req, _ := http.NewRequest(http.MethodPost, api.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/graphql-response+json")
			req.Header.Set("Authorization", "Bearer "+f.Admin)
			resp := api.send(req)
			if tt.ok {
				if resp.Status != http.StatusOK || len(resp.Errors) > 0 {
					t.Fatalf("got %d %s, want success", resp.Status, resp.Raw)
				}
				return
			}
			if resp.Status != http.StatusBadRequest || len(resp.Errors) != 1 || resp.Errors[0].Code() != "GRAPHQL_VALIDATION_FAILED" || resp.Data != nil {
				t.Errorf("got %d %s, want 400 GRAPHQL_VALIDATION_FAILED and no data", resp.Status, resp.Raw)
			}
		})
	}
}
