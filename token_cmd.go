package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/config"
	"github.com/partsmarket/gateway/internal/jwks"
	"github.com/partsmarket/gateway/internal/seed"
)

// tokenConfig returns how the gateway checks bearer tokens: HS256 with
// JWT_SECRET, and, when OIDC_ISSUER_URL or JWKS_URL is set, the identity
// provider's tokens, its key set fetched in the background from now on
// (fetch failures are logged, never a token).
func tokenConfig(cfg config.Config, log *slog.Logger) (access.TokenConfig, error) {
	tc := hs256Config(cfg)
	tc.Leeway = cfg.JWTLeeway
	if !cfg.IdentityProvider() {
		return tc, nil
	}
	keys, err := jwks.New(jwks.Options{IssuerURL: cfg.OIDCIssuerURL, JWKSURL: cfg.JWKSURL, OnError: func(err error) {
		log.Error("identity provider: fetching its keys failed; known keys still work, unknown ones are refused", "error", err.Error())
	}})
	if err != nil {
		return tc, err
	}
	keys.Prefetch()
	roles := make(map[string]access.Role, len(cfg.JWTRoleMap))
	for name, role := range cfg.JWTRoleMap {
		roles[name] = access.Role(role)
	}
	tc.Provider = access.ProviderConfig{Keys: keys, Issuer: cfg.ProviderIssuer(), RolesClaim: cfg.JWTRolesClaim, RoleMap: roles}
	return tc, nil
}

// hs256Config is the part of the token configuration that `gateway token`
// signs with.
func hs256Config(cfg config.Config) access.TokenConfig {
	return access.TokenConfig{Secret: []byte(cfg.JWTSecret), Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience}
}

// mintToken prints a signed HS256 token for development and tests, or with
// --demo the labelled tokens of the demo admin, analyst and seller owner.
func mintToken(cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: gateway token --role admin|seller|analyst|user [--seller-id ID] [--subject S] [--ttl 1h]")
		fmt.Fprintln(fs.Output(), "       gateway token --demo")
		fmt.Fprintln(fs.Output(), "Prints a token signed with JWT_SECRET (and JWT_ISSUER, JWT_AUDIENCE when set).")
		fs.PrintDefaults()
	}
	role := fs.String("role", "", "admin, seller, analyst or user")
	sellerID := fs.String("seller-id", "", "the seller a seller token acts for")
	subject := fs.String("subject", "", "the token's subject (sub claim); a new random one when left out")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	demo := fs.Bool("demo", false, "print tokens of the demo admin, analyst and seller owner (after gateway seed)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil // usage printed
	} else if err != nil {
		return err
	}
	if *ttl <= 0 {
		return errors.New("token: --ttl must be positive")
	}
	if *demo {
		return demoTokens(cfg, *ttl, stdout)
	}
	r := access.Role(strings.ToUpper(*role))
	if !r.Valid() {
		return errors.New("token: --role must be admin, seller, analyst or user")
	}
	sub := *subject
	if sub == "" {
		// Each token its own subject, so that what it does is told apart
		// in the audit log and the leads' history.
		sub = strings.ToLower(string(r)) + "-" + uuid.NewString()
	}
	tok, err := access.Mint(hs256Config(cfg), r, sub, *sellerID, *ttl)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// demoTokens prints one line per demo principal: what it is, then its
// token. The seller owner acts for the first seeded seller.
func demoTokens(cfg config.Config, ttl time.Duration, stdout io.Writer) error {
	demos := []struct {
		label, subject, sellerID string
		role                     access.Role
	}{
		{"admin", "demo-admin", "", access.RoleAdmin},
		{"analyst", "demo-analyst", "", access.RoleAnalyst},
		{"seller owner (seller " + seed.DemoSellerID() + ")", seed.DemoOwnerSubject, "", access.RoleUser},
	}
	for _, d := range demos {
		tok, err := access.Mint(hs256Config(cfg), d.role, d.subject, d.sellerID, ttl)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(stdout, "%s: %s\n", d.label, tok); err != nil {
			return err
		}
	}
	return nil
}
