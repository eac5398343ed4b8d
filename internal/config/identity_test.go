package config

import (
	"bytes"
	"encoding/base64"
	"maps"
	"strings"
	"testing"
	"time"
)

// production is a valid production environment without an identity
// provider.
func production() map[string]string {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	return map[string]string{
		"ENV": "production", "DATABASE_URL": "postgres://gateway@127.0.0.1/gateway",
		"JWT_SECRET": strings.Repeat("s", 48), "ENCRYPTION_KEYS": "k1:" + key,
		"BLIND_INDEX_KEY":  base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)),
		"CAPTCHA_PROVIDER": "turnstile", "CAPTCHA_SECRET": "x",
	}
}

func load(env map[string]string) (Config, error) {
	return Load(func(k string) string { return env[k] })
}

// TestIdentityDefaults: no provider, a 30 s leeway, the roles claim
// "roles"; a role map is read into provider role → role.
func TestIdentityDefaults(t *testing.T) {
	c, err := load(map[string]string{"JWT_ROLE_MAP": " market-admin:ADMIN , market-analyst:analyst"})
	if err != nil {
		t.Fatal(err)
	}
	if c.IdentityProvider() || c.JWTLeeway != 30*time.Second || c.JWTRolesClaim != "roles" {
		t.Errorf("defaults: provider %v, leeway %v, roles claim %q", c.IdentityProvider(), c.JWTLeeway, c.JWTRolesClaim)
	}
	if want := map[string]string{"market-admin": "ADMIN", "market-analyst": "ANALYST"}; !maps.Equal(c.JWTRoleMap, want) {
		t.Errorf("role map %v, want %v", c.JWTRoleMap, want)
	}
}

// TestProviderIssuer: OIDC_ISSUER_URL is the provider tokens' issuer;
// with JWKS_URL it is JWT_ISSUER.
func TestProviderIssuer(t *testing.T) {
	c, err := load(map[string]string{"OIDC_ISSUER_URL": "https://id.example/realms/market", "JWT_ISSUER": "dev"})
	if err != nil || c.ProviderIssuer() != "https://id.example/realms/market" {
		t.Errorf("OIDC: %q, %v", c.ProviderIssuer(), err)
	}
	c, err = load(map[string]string{"JWKS_URL": "http://localhost:8081/keys", "JWT_ISSUER": "https://id.example"})
	if err != nil || c.ProviderIssuer() != "https://id.example" || !c.IdentityProvider() {
		t.Errorf("JWKS: %q, %v", c.ProviderIssuer(), err)
	}
}

// TestIdentityRefusals: each bad identity setting is an error naming its
// variable.
func TestIdentityRefusals(t *testing.T) {
	oidc := map[string]string{"OIDC_ISSUER_URL": "https://id.example", "JWT_AUDIENCE": "gateway"}
	tests := []struct {
		name, variable string
		base, env      map[string]string
	}{
		{"both provider URLs", "JWKS_URL", nil, map[string]string{"OIDC_ISSUER_URL": "https://a.example", "JWKS_URL": "https://a.example/keys"}},
		{"relative URL", "OIDC_ISSUER_URL", nil, map[string]string{"OIDC_ISSUER_URL": "/realms/x"}},
		{"not http", "JWKS_URL", nil, map[string]string{"JWKS_URL": "file:///keys.json"}},
		{"role map to SELLER", "JWT_ROLE_MAP", nil, map[string]string{"JWT_ROLE_MAP": "vendor:SELLER"}},
		{"role map without role", "JWT_ROLE_MAP", nil, map[string]string{"JWT_ROLE_MAP": "market-admin"}},
		{"leeway too long", "JWT_LEEWAY", nil, map[string]string{"JWT_LEEWAY": "1h"}},
		{"leeway not a duration", "JWT_LEEWAY", nil, map[string]string{"JWT_LEEWAY": "soon"}},
		{"production without audience", "JWT_AUDIENCE", production(), map[string]string{"OIDC_ISSUER_URL": "https://id.example"}},
		{"production JWKS_URL without issuer", "JWT_ISSUER", production(), map[string]string{"JWKS_URL": "https://id.example/keys", "JWT_AUDIENCE": "gateway"}},
		{"production over http", "OIDC_ISSUER_URL", production(), map[string]string{"OIDC_ISSUER_URL": "http://id.example", "JWT_AUDIENCE": "gateway"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := maps.Clone(tt.base)
			if env == nil {
				env = map[string]string{}
			}
			maps.Copy(env, tt.env)
			_, err := load(env)
			if err == nil || !strings.Contains(err.Error(), tt.variable) {
				t.Errorf("Load() error = %v, want one naming %s", err, tt.variable)
			}
		})
	}
	env := production()
	maps.Copy(env, oidc)
	if _, err := load(env); err != nil {
		t.Errorf("production with OIDC_ISSUER_URL and JWT_AUDIENCE: %v", err)
	}
}
