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

	"github.com/jmoiron/sqlx"

	"github.com/partsmarket/gateway/internal/config"
	"github.com/partsmarket/gateway/internal/testdb"
)

// productionEnv is a valid production configuration (DATABASE_URL aside).
func productionEnv() map[string]string {
	key := func(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }
	return map[string]string{
		"ENV":                  "production",
		"DATABASE_URL":         "postgres://gateway@db.internal/gateway?sslmode=verify-full",
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
		{"DATABASE_URL without TLS", "DATABASE_URL", "postgres://gateway:secret-pw@db.internal/gateway?sslmode=disable"},
		{"DATABASE_URL TLS only preferred", "DATABASE_URL", "host=db.internal user=gateway sslmode=prefer"},
		{"DATABASE_URL TLS allowed, not required", "DATABASE_URL", "postgres://gateway@10.0.0.5:5432/gateway?sslmode=allow"},
		{"MIGRATE_DATABASE_URL without TLS", "MIGRATE_DATABASE_URL", "postgres://owner:owner-pw@db.internal/gateway?sslmode=disable"},
		{"DATABASE_READ_URL without TLS", "DATABASE_READ_URL", "host=replica.internal dbname=gateway sslmode=disable"},
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

// TestProductionDatabaseTLS: production accepts a database without TLS
// only on this machine (loopback or a unix socket); elsewhere sslmode must
// be require or stronger, given in the URL or by PGSSLMODE (lib/pq's
// default, without either, is require).
func TestProductionDatabaseTLS(t *testing.T) {
	for _, tc := range []struct {
		url, pgsslmode string
		ok             bool
	}{
		{"postgres://gateway@127.0.0.1:5432/gateway?sslmode=disable", "", true},
		{"postgres://gateway@[::1]/gateway?sslmode=disable", "", true},
		{"postgres://gateway@localhost/gateway?sslmode=disable", "", true},
		{"host=/var/run/postgresql dbname=gateway sslmode=disable", "", true},
		{"postgres:///gateway?host=/run/postgresql&sslmode=disable", "", true},
		{"postgres://gateway@db.internal/gateway?sslmode=require", "", true},
		{"postgres://gateway@db.internal/gateway?sslmode=verify-ca", "", true},
		{"host=db.internal sslmode='verify-full' password='a b\\'c'", "", true},
		{"postgres://gateway@db.internal/gateway", "", true},
		{"postgres://gateway@db.internal/gateway", "disable", false},
		{"postgres://gateway@db.internal/gateway?sslmode=disable", "require", false},
		{"postgres://gateway@127.0.0.2.example.com/gateway?sslmode=disable", "", false},
		{"host=db.internal sslmode=disable host=127.0.0.1", "", true},
		{"host=127.0.0.1 sslmode=disable host=db.internal", "", false},
	} {
		env := productionEnv()
		env["DATABASE_URL"], env["PGSSLMODE"] = tc.url, tc.pgsslmode
		_, err := config.Load(func(k string) string { return env[k] })
		if tc.ok && err != nil {
			t.Errorf("%s (PGSSLMODE %q): refused: %v", tc.url, tc.pgsslmode, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "DATABASE_URL must use TLS")) {
			t.Errorf("%s (PGSSLMODE %q): got %v, want DATABASE_URL refused for want of TLS", tc.url, tc.pgsslmode, err)
		}
	}
}

// TestProductionRefusesPrivilegedRole: in production serve refuses to start
// when DATABASE_URL's role could skip row-level security: a superuser or
// the tables' owner. (A BYPASSRLS role: internal/database's
// TestCheckServingRole.)
func TestProductionRefusesPrivilegedRole(t *testing.T) {
	u := testdb.New(t)
	for _, tc := range []struct{ name, url, reason string }{
		{"superuser", u, "is a superuser"},
		{"owner", testdb.OwnerURL(t, u), "owns table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := productionEnv()
			env["DATABASE_URL"] = tc.url
			err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, io.Discard,
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("serve as the %s: %v, want a refusal naming DATABASE_URL and saying %q", tc.name, err, tc.reason)
			}
		})
	}
}

// TestMigrateUpGrantsTheServingRole: `gateway migrate up` as the owner
// (MIGRATE_DATABASE_URL) grants DATABASE_URL's role what serving needs on
// every table, including one created since the last run.
func TestMigrateUpGrantsTheServingRole(t *testing.T) {
	u := testdb.New(t)
	owner, serving := testdb.OwnerURL(t, u), testdb.ServingURL(t, u)
	db := sqlx.MustConnect("postgres", serving)
	defer db.Close()
	ownerDB := sqlx.MustConnect("postgres", owner)
	defer ownerDB.Close()
	ownerDB.MustExec(`CREATE TABLE added_later (n int)`)
	if _, err := db.Exec(`INSERT INTO added_later VALUES (1)`); err == nil {
		t.Fatal("the serving role writes a table before it is granted")
	}
	env := map[string]string{"DATABASE_URL": serving, "MIGRATE_DATABASE_URL": owner}
	if err := run(context.Background(), []string{"migrate", "up"}, func(k string) string { return env[k] }, io.Discard,
		slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	if _, err := db.Exec(`INSERT INTO added_later VALUES (1)`); err != nil {
		t.Errorf("after migrate up the serving role cannot write the new table: %v", err)
	}
	if _, err := db.Exec(`DELETE FROM audit_events`); err == nil {
		t.Error("after migrate up the serving role may delete audit events")
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
