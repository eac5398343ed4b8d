package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/config"
	"github.com/partsmarket/gateway/internal/seed"
	"github.com/partsmarket/gateway/store"
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

// TestTokenCommandUserAndDemo: `gateway token --role user` mints a USER
// token with a subject of its own, and --demo prints one labelled token
// for each demo principal, the seller owner's a user token of the first
// seeded seller's OWNER member.
func TestTokenCommandUserAndDemo(t *testing.T) {
	cfg := config.Config{JWTSecret: config.DevJWTSecret}
	auth := access.NewAuthenticator(hs256Config(cfg), func(_ context.Context, id string) (string, error) {
		if id == seed.DemoSellerID() {
			return "ACTIVE", nil
		}
		return "", store.NotFound("seller")
	}, access.WithMembership(func(_ context.Context, issuer, subject string) (string, string, error) {
		if issuer == "" && subject == seed.DemoOwnerSubject { // what gateway seed stores
			return seed.DemoSellerID(), "OWNER", nil
		}
		return "", "", nil
	}))
	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := mintToken(cfg, args, &out); err != nil {
			t.Fatalf("token %v: %v", args, err)
		}
		return out.String()
	}
	users := map[string]bool{}
	for i := 0; i < 2; i++ {
		p, err := auth.Authenticate(context.Background(), "Bearer "+strings.TrimSpace(run("--role", "user")))
		if err != nil || p.Role != access.RoleUser || !strings.HasPrefix(p.Subject, "user-") {
			t.Errorf("--role user: %+v, %v", p, err)
		}
		users[p.Subject] = true
	}
	if len(users) != 2 {
		t.Errorf("two user tokens share a subject: %v", users)
	}
	want := []access.Principal{
		{Role: access.RoleAdmin, Subject: "demo-admin"},
		{Role: access.RoleAnalyst, Subject: "demo-analyst"},
		{Role: access.RoleSeller, Subject: seed.DemoOwnerSubject, SellerID: seed.DemoSellerID(), MemberRole: "OWNER"},
	}
	lines := strings.Split(strings.TrimSpace(run("--demo", "--ttl", "12h")), "\n")
	if len(lines) != len(want) {
		t.Fatalf("--demo printed %d lines, want %d: %q", len(lines), len(want), lines)
	}
	for i, line := range lines {
		label, tok, ok := strings.Cut(line, ": ")
		if !ok || label == "" {
			t.Fatalf("--demo line %q, want \"label: token\"", line)
		}
		p, err := auth.Authenticate(context.Background(), "Bearer "+tok)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		if d := time.Until(p.ExpiresAt); d < 11*time.Hour || d > 12*time.Hour {
			t.Errorf("%s expires in %v, want 12h", label, d)
		}
		p.ExpiresAt, p.IssuedAt = time.Time{}, time.Time{}
		if p != want[i] {
			t.Errorf("%s: %+v, want %+v", label, p, want[i])
		}
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
