package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/partsmarket/gateway/internal/config"
)

// productionEnv is a valid production configuration (DATABASE_URL aside).
func productionEnv() map[string]string {
	key := func(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }
	return map[string]string{
		"ENV":                  "production",
		"DATABASE_URL":         "postgres://gateway@db.internal/gateway",
		"JWT_SECRET":           strings.Repeat("s", 48),
		"ENCRYPTION_KEYS":      "k2026:" + key(7),
		"BLIND_INDEX_KEY":      key(9),
		"CAPTCHA_PROVIDER":     "turnstile",
		"CAPTCHA_SECRET":       "turnstile-secret",
		"CORS_ALLOWED_ORIGINS": "https://parts.example.com",
	}
}

// TestProductionRefusesBadSettings: with ENV=production, each bad setting
// alone, against an otherwise valid production configuration, stops the
// binary before it touches anything, with a message naming the setting.
func TestProductionRefusesBadSettings(t *testing.T) {
	short := base64.StdEncoding.EncodeToString([]byte("sixteen-byte-key"))
	tests := []struct {
		name, variable, value string
	}{
		{"JWT_SECRET missing", "JWT_SECRET", ""},
		{"JWT_SECRET short", "JWT_SECRET", "short-secret"},
		{"JWT_SECRET development default", "JWT_SECRET", devDefault(t, "JWT_SECRET")},
		{"ENCRYPTION_KEYS missing", "ENCRYPTION_KEYS", ""},
		{"ENCRYPTION_KEYS short key", "ENCRYPTION_KEYS", "k1:" + short},
		{"ENCRYPTION_KEYS development default", "ENCRYPTION_KEYS", devDefault(t, "ENCRYPTION_KEYS")},
		{"BLIND_INDEX_KEY missing", "BLIND_INDEX_KEY", ""},
		{"BLIND_INDEX_KEY short", "BLIND_INDEX_KEY", short},
		{"BLIND_INDEX_KEY development default", "BLIND_INDEX_KEY", devDefault(t, "BLIND_INDEX_KEY")},
		{"CAPTCHA_PROVIDER test", "CAPTCHA_PROVIDER", "test"},
		{"CORS wildcard", "CORS_ALLOWED_ORIGINS", "https://parts.example.com,*"},
		{"DATABASE_URL missing", "DATABASE_URL", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := productionEnv()
			env[tc.variable] = tc.value
			var out bytes.Buffer
			err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, &out,
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err == nil {
				t.Fatalf("serve started with %s=%q in production", tc.variable, tc.value)
			}
			if !strings.Contains(err.Error(), tc.variable) {
				t.Errorf("error %q does not name %s", err, tc.variable)
			}
			if tc.value != "" && len(tc.value) > 8 && strings.Contains(err.Error(), tc.value) {
				t.Errorf("error %q quotes the secret", err)
			}
		})
	}
}

// devDefault returns the development default of a secret, as a development
// configuration fills it in.
func devDefault(t *testing.T, variable string) string {
	t.Helper()
	v, ok := developmentSecrets()[variable]
	if !ok || v == "" {
		t.Fatalf("no development default of %s", variable)
	}
	return v
}

// TestProductionConfigurationStarts: the valid production configuration
// serves, with GraphiQL, introspection and field suggestions off.
func TestProductionConfigurationStarts(t *testing.T) {
	env := productionEnv()
	delete(env, "DATABASE_URL") // newTestAPI gives a test database
	api := newTestAPI(t, env)
	resp, err := http.Get(api.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GraphiQL in production: GET / answered %d, want 404", resp.StatusCode)
	}
	if r := api.post("", `{ __schema { queryType { name } } }`, nil); r.Get("__schema.queryType.name") != nil {
		t.Errorf("introspection in production: got %s", r.Raw)
	}
	r := api.post("", `{ listingz { totalCount } }`, nil)
	if len(r.Errors) == 0 || strings.Contains(strings.ToLower(string(r.Raw)), "did you mean") {
		t.Errorf("a misspelled field in production: got %s, want an error without suggestions", r.Raw)
	}
	if r := api.mustPost("", `{ viewer { role } }`, nil); r.Get("viewer") == nil {
		t.Errorf("viewer: got %s", r.Raw)
	}
}

// developmentSecrets returns the secrets a development configuration fills
// in when they are unset.
func developmentSecrets() map[string]string {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		panic(err)
	}
	return map[string]string{"JWT_SECRET": cfg.JWTSecret, "ENCRYPTION_KEYS": cfg.EncryptionKeys, "BLIND_INDEX_KEY": cfg.BlindIndexKey}
}
