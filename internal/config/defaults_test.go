package config

import (
	"maps"
	"strings"
	"testing"
)

// loadOver loads env over base.
func loadOver(base, env map[string]string) (Config, error) {
	merged := maps.Clone(base)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, env)
	return load(merged)
}

// TestAbuseLimitDefaults: development's limits on leads and reports are
// generous; production's are unchanged; both give way to the variables.
func TestAbuseLimitDefaults(t *testing.T) {
	dev, err := loadOver(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := loadOver(production(), nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := loadOver(nil, map[string]string{"RATE_LIMIT_LEADS_PER_IP_PER_HOUR": "3"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"development leads per IP", dev.RateLimitLeadsPerIPPerHour, DevAbuseLimit},
		{"development reports per IP", dev.RateLimitReportsPerIPPerHour, DevAbuseLimit},
		{"development leads per email", dev.RateLimitLeadsPerEmailPerDay, DevAbuseLimit},
		{"development reports per email", dev.RateLimitReportsPerEmailPerDay, DevAbuseLimit},
		{"production leads per IP", prod.RateLimitLeadsPerIPPerHour, 20},
		{"production reports per IP", prod.RateLimitReportsPerIPPerHour, 10},
		{"production leads per email", prod.RateLimitLeadsPerEmailPerDay, 10},
		{"production reports per email", prod.RateLimitReportsPerEmailPerDay, 10},
		{"RATE_LIMIT_LEADS_PER_IP_PER_HOUR in development", set.RateLimitLeadsPerIPPerHour, 3},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
}

// TestHost: the API listens on loopback in development, on every interface
// in production, and where HOST says when set.
func TestHost(t *testing.T) {
	for _, c := range []struct {
		name      string
		base, env map[string]string
		want      string
	}{
		{"development", nil, nil, "127.0.0.1:8080"},
		{"development with the development secret set", nil, map[string]string{"JWT_SECRET": DevJWTSecret}, "127.0.0.1:8080"},
		{"development with its own secret", nil, map[string]string{"JWT_SECRET": strings.Repeat("x", 40)}, "127.0.0.1:8080"},
		{"development, HOST set", nil, map[string]string{"HOST": "0.0.0.0", "PORT": "9000"}, "0.0.0.0:9000"},
		{"production", production(), nil, ":8080"},
		{"production, HOST set", production(), map[string]string{"HOST": "10.0.0.5"}, "10.0.0.5:8080"},
		{"IPv6", nil, map[string]string{"HOST": "::1"}, "[::1]:8080"},
	} {
		cfg, err := loadOver(c.base, c.env)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := cfg.ListenAddr(); got != c.want {
			t.Errorf("%s: listen address %q, want %q", c.name, got, c.want)
		}
	}
	for _, bad := range []string{"127.0.0.1:8080", "host name", "[::1]", "a/b"} {
		if _, err := loadOver(nil, map[string]string{"HOST": bad}); err == nil || !strings.Contains(err.Error(), "HOST") {
			t.Errorf("HOST %q: got %v, want an error naming HOST", bad, err)
		}
	}
}
