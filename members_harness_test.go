package main

import (
	"time"

	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/store"
)

// userToken mints a USER token of subject (the configured issuer, if any).
func (a *testAPI) userToken(subject string) string {
	a.t.Helper()
	tok, err := access.Mint(a.tokenConfig(), access.RoleUser, subject, "", time.Hour)
	if err != nil {
		a.t.Fatalf("mint: %v", err)
	}
	return tok
}

// tokenConfig is how the gateway under test checks tokens.
func (a *testAPI) tokenConfig() access.TokenConfig {
	return access.TokenConfig{Secret: []byte(a.Config.JWTSecret), Issuer: a.Config.JWTIssuer, Audience: a.Config.JWTAudience}
}

// mustMember stores subject (email subject@members.example) as a member of
// sellerID with role, as a bulk loader would, and returns the member's USER
// token.
func (a *testAPI) mustMember(sellerID, subject string, role store.MemberRole) string {
	a.t.Helper()
	blob, keyID, err := store.SealMemberEmail(a.Config.Keyring, subject+"@members.example")
	if err != nil {
		a.t.Fatal(err)
	}
	a.DB.MustExec(`INSERT INTO seller_members (issuer, subject, seller_id, role, email_pii, email_key_id) VALUES ($1, $2, $3, $4, $5, $6)`,
		a.Config.JWTIssuer, subject, sellerID, role, blob, keyID)
	return a.userToken(subject)
}
