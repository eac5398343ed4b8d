package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/partsmarket/gateway/internal/config"
)

// TestTokenCommandSubjects: `gateway token` gives each token a subject of
// its own unless --subject names one.
func TestTokenCommandSubjects(t *testing.T) {
	cfg := config.Config{JWTSecret: config.DevJWTSecret}
	mint := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := mintToken(cfg, args, &out); err != nil {
			t.Fatalf("token %v: %v", args, err)
		}
		var c jwt.RegisteredClaims
		if _, err := jwt.ParseWithClaims(strings.TrimSpace(out.String()), &c, func(*jwt.Token) (any, error) {
			return []byte(cfg.JWTSecret), nil
		}); err != nil {
			t.Fatalf("token %v: %v", args, err)
		}
		return c.Subject
	}
	seen := map[string]bool{}
	for _, role := range []string{"admin", "admin", "analyst", "analyst"} {
		sub := mint("--role", role)
		if !strings.HasPrefix(sub, role+"-") || len(sub) < len(role)+10 {
			t.Errorf("--role %s: subject %q, want %s- and a random part", role, sub, role)
		}
		if seen[sub] {
			t.Errorf("--role %s: subject %q given twice", role, sub)
		}
		seen[sub] = true
	}
	if sub := mint("--role", "admin", "--subject", "alice"); sub != "alice" {
		t.Errorf("--subject alice: subject %q", sub)
	}
}

// TestTokenWithoutSubject: a well-signed, unexpired token without `sub` is
// refused with 401 UNAUTHENTICATED, whatever its role: nothing done with it
// could be attributed.
func TestTokenWithoutSubject(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	for name, c := range map[string]jwt.MapClaims{
		"admin":     {"role": "admin"},
		"analyst":   {"role": "analyst"},
		"seller":    {"role": "seller", "seller_id": f.SellerA.ID},
		"empty sub": {"role": "admin", "sub": ""},
	} {
		t.Run(name, func(t *testing.T) {
			c["exp"] = time.Now().Add(time.Hour).Unix()
			r := api.post(httpSign(t, api.Config.JWTSecret, c), `{ viewer { role subject } }`, nil)
			if r.Status != http.StatusUnauthorized || len(r.Errors) != 1 || r.Errors[0].Code() != "UNAUTHENTICATED" {
				t.Errorf("got %d %s, want 401 UNAUTHENTICATED", r.Status, r.Raw)
			}
		})
	}
}
