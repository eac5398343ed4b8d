package config

import (
	"strings"
	"testing"
)

// TestBudgetNeverBelowCostLimit: each role's query-cost budget must hold a
// query at that role's cost limit; a smaller one is a configuration error
// naming both settings.
func TestBudgetNeverBelowCostLimit(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"defaults", nil, ""},
		{"equal is enough", map[string]string{"RATE_LIMIT_POINTS_PER_MINUTE": "10000",
			"RATE_LIMIT_POINTS_PER_MINUTE_ANALYST": "50000"}, ""},
		{"common budget below LIMIT_COST", map[string]string{"RATE_LIMIT_POINTS_PER_MINUTE": "9999"},
			"RATE_LIMIT_POINTS_PER_MINUTE (9999) must be at least LIMIT_COST (10000)"},
		{"analyst budget below LIMIT_COST_ANALYST", map[string]string{"RATE_LIMIT_POINTS_PER_MINUTE_ANALYST": "20000"},
			"RATE_LIMIT_POINTS_PER_MINUTE_ANALYST (20000) must be at least LIMIT_COST_ANALYST (50000)"},
		{"analyst cost limit raised over the default budget", map[string]string{"LIMIT_COST_ANALYST": "150000"},
			"RATE_LIMIT_POINTS_PER_MINUTE_ANALYST (100000) must be at least LIMIT_COST_ANALYST (150000)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := load(c.env)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("Load: got %v, want an error containing %q", err, c.wantErr)
			}
			if err == nil && cfg.RateLimitPointsPerMinuteAnalyst < cfg.LimitCostAnalyst {
				t.Errorf("analyst budget %d below the analyst cost limit %d", cfg.RateLimitPointsPerMinuteAnalyst, cfg.LimitCostAnalyst)
			}
		})
	}
	cfg, err := Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RateLimitPointsPerMinute != 20000 || cfg.RateLimitPointsPerMinuteAnalyst != 100000 {
		t.Errorf("default budgets %d and %d, want 20000 and 100000", cfg.RateLimitPointsPerMinute, cfg.RateLimitPointsPerMinuteAnalyst)
	}
}
