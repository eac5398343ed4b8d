package access

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/partsmarket/gateway/internal/jwks"
	"github.com/partsmarket/gateway/internal/testclock"
	"github.com/partsmarket/gateway/internal/testidp"
	"github.com/partsmarket/gateway/store"
)

// providerSetup is a test identity provider and an Authenticator that
// trusts it (through discovery), with the clock of its key set.
type providerSetup struct {
	idp   *testidp.Provider
	auth  *Authenticator
	clock *testclock.Clock
}

// keycloakRoles is the role map the provider tests use.
var keycloakRoles = map[string]Role{"market-admin": RoleAdmin, "market-analyst": RoleAnalyst}

// newProviderSetup starts a provider and an Authenticator trusting it, with
// rolesClaim and the role map above, HS256 tokens still accepted.
func newProviderSetup(t *testing.T, rolesClaim string, opts ...Option) *providerSetup {
	t.Helper()
	return trusting(t, testidp.New(t), rolesClaim, opts...)
}

// trusting is newProviderSetup with an existing provider.
func trusting(t *testing.T, idp *testidp.Provider, rolesClaim string, opts ...Option) *providerSetup {
	t.Helper()
	c := testclock.New(time.Now())
	keys, err := jwks.New(jwks.Options{IssuerURL: idp.Issuer, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	cfg := TokenConfig{Secret: testSecret, Audience: testidp.Audience, Leeway: 30 * time.Second,
		Provider: ProviderConfig{Keys: keys, Issuer: idp.Issuer, RolesClaim: rolesClaim, RoleMap: keycloakRoles}}
	return &providerSetup{idp: idp, auth: NewAuthenticator(cfg, sellerStatus, opts...), clock: c}
}

// authenticate authenticates a bearer token.
func (s *providerSetup) authenticate(token string) (Principal, error) {
	return s.auth.Authenticate(context.Background(), "Bearer "+token)
}

// TestProviderAlgorithms: a token of each of the provider's key types is
// accepted, and its subject, issuer and issue time reach the principal.
func TestProviderAlgorithms(t *testing.T) {
	s := newProviderSetup(t, "")
	for _, kid := range []string{testidp.RSAKey, testidp.ECKey, testidp.EdKey} {
		t.Run(kid, func(t *testing.T) {
			claims := s.idp.Claims("user-" + kid)
			p, err := s.authenticate(s.idp.Sign(kid, claims))
			if err != nil {
				t.Fatalf("Authenticate() error = %v", err)
			}
			want := Principal{Role: RoleUser, Subject: "user-" + kid, Issuer: s.idp.Issuer,
				IssuedAt: time.Unix(claims["iat"].(int64), 0), ExpiresAt: time.Unix(claims["exp"].(int64), 0)}
			if !p.IssuedAt.Equal(want.IssuedAt) || !p.ExpiresAt.Equal(want.ExpiresAt) {
				t.Errorf("times = %v, %v; want %v, %v", p.IssuedAt, p.ExpiresAt, want.IssuedAt, want.ExpiresAt)
			}
			p.IssuedAt, p.ExpiresAt, want.IssuedAt, want.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if p != want {
				t.Errorf("Authenticate() = %+v, want %+v", p, want)
			}
		})
	}
}

// TestProviderRefusals: tokens that are not the provider's valid tokens for
// this gateway are 401, the key set being reachable.
func TestProviderRefusals(t *testing.T) {
	s := newProviderSetup(t, "")
	idp := s.idp
	idp.NewKey("never-published", "RS256")
	valid := func(f func(jwt.MapClaims)) jwt.MapClaims { return with(idp.Claims("victim"), f) }
	rsaPEM := pemOf(t, idp.PublicKey(testidp.RSAKey))
	tests := []struct {
		name, token string
	}{
		{"wrong audience", idp.Sign(testidp.RSAKey, valid(func(m jwt.MapClaims) { m["aud"] = "another-api" }))},
		{"no audience", idp.Sign(testidp.RSAKey, valid(func(m jwt.MapClaims) { delete(m, "aud") }))},
		{"wrong issuer", idp.Sign(testidp.RSAKey, valid(func(m jwt.MapClaims) { m["iss"] = "https://evil.example" }))},
		{"no issuer", idp.Sign(testidp.ECKey, valid(func(m jwt.MapClaims) { delete(m, "iss") }))},
		{"unknown kid", idp.Sign("never-published", idp.Claims("victim"))},
		{"expired", idp.Sign(testidp.EdKey, valid(func(m jwt.MapClaims) { m["exp"] = time.Now().Add(-time.Minute).Unix() }))},
		{"no exp", idp.Sign(testidp.EdKey, valid(func(m jwt.MapClaims) { delete(m, "exp") }))},
		{"issued in the future", idp.Sign(testidp.RSAKey, valid(func(m jwt.MapClaims) { m["iat"] = time.Now().Add(time.Hour).Unix() }))},
		{"no sub", idp.Sign(testidp.RSAKey, valid(func(m jwt.MapClaims) { delete(m, "sub") }))},
		{"blank sub", idp.Sign(testidp.ECKey, valid(func(m jwt.MapClaims) { m["sub"] = " " }))},
		{"sub not a string", idp.Sign(testidp.ECKey, valid(func(m jwt.MapClaims) { m["sub"] = 7 }))},
		{"seller_id of a suspended seller", idp.Sign(testidp.RSAKey, valid(func(m jwt.MapClaims) { m["seller_id"] = suspendedSeller }))},
		{"seller_id not a UUID", idp.Sign(testidp.RSAKey, valid(func(m jwt.MapClaims) { m["seller_id"] = 12 }))},
		// Algorithm confusion: the RSA key's public PEM as an HMAC secret,
		// the textbook attack on verifiers that let the header choose.
		{"HS256 header on the RSA key id", handmade(t, map[string]any{"alg": "HS256", "kid": testidp.RSAKey}, idp.Claims("victim"),
			hmacWith(t, rsaPEM))},
		{"HS256 header on the RSA key id, shared secret", handmade(t, map[string]any{"alg": "HS256", "kid": testidp.RSAKey}, claimsFor("admin", "eve", ""),
			hmacWith(t, testSecret))},
		{"ES256 header on the RSA key id", resign(t, idp.Sign(testidp.ECKey, idp.Claims("victim")), testidp.RSAKey)},
		{"RS256 header on the EC key id", resign(t, idp.Sign(testidp.RSAKey, idp.Claims("victim")), testidp.ECKey)},
		{"EdDSA header on the RSA key id", resign(t, idp.Sign(testidp.EdKey, idp.Claims("victim")), testidp.RSAKey)},
		{"alg none with a kid", handmade(t, map[string]any{"alg": "none", "kid": testidp.RSAKey}, idp.Claims("victim"),
			func(string) string { return "" })},
		{"tampered claims", tamper(t, idp.Sign(testidp.RSAKey, idp.Claims("victim")), with(idp.Claims("victim"), func(m jwt.MapClaims) {
			m["roles"] = []string{"market-admin"}
		}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.authenticate(tt.token)
			if got := store.ErrorCode(err); got != store.EUNAUTHENTICATED {
				t.Fatalf("Authenticate() = %+v, %v (code %q); want UNAUTHENTICATED", p, err, got)
			}
			checkQuietMessage(t, err)
		})
	}
}

// TestProviderRoles: the roles claim at its dot path, through the role map;
// unmapped roles are ignored.
func TestProviderRoles(t *testing.T) {
	tests := []struct {
		name       string
		rolesClaim string
		extra      jwt.MapClaims
		want       Role
	}{
		{"keycloak realm admin", "realm_access.roles", jwt.MapClaims{"realm_access": map[string]any{"roles": []string{"offline_access", "market-admin"}}}, RoleAdmin},
		{"keycloak realm analyst", "realm_access.roles", jwt.MapClaims{"realm_access": map[string]any{"roles": []string{"market-analyst", "uma_authorization"}}}, RoleAnalyst},
		{"admin beats analyst", "realm_access.roles", jwt.MapClaims{"realm_access": map[string]any{"roles": []string{"market-analyst", "market-admin"}}}, RoleAdmin},
		{"unmapped roles only", "realm_access.roles", jwt.MapClaims{"realm_access": map[string]any{"roles": []string{"offline_access", "ADMIN", "admin"}}}, RoleUser},
		{"roles at another path are not read", "realm_access.roles", jwt.MapClaims{"roles": []string{"market-admin"}}, RoleUser},
		{"auth0 namespaced claim", "https://partsmarket.example/roles", jwt.MapClaims{"https://partsmarket.example/roles": []string{"market-analyst"}}, RoleAnalyst},
		{"entra app roles (default path)", "", jwt.MapClaims{"roles": []string{"market-admin"}}, RoleAdmin},
		{"space-separated string", "", jwt.MapClaims{"roles": "viewer market-analyst"}, RoleAnalyst},
		{"roles claim not a list", "", jwt.MapClaims{"roles": map[string]any{"market-admin": true}}, RoleUser},
		{"no roles claim", "", nil, RoleUser},
		{"a role claim as in HS256 tokens grants nothing", "", jwt.MapClaims{"role": "admin"}, RoleUser},
		{"seller_id claim", "", jwt.MapClaims{"seller_id": activeSeller}, RoleSeller},
		{"mapped role beats seller_id", "", jwt.MapClaims{"seller_id": activeSeller, "roles": []string{"market-analyst"}}, RoleAnalyst},
	}
	idp := testidp.New(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := trusting(t, idp, tt.rolesClaim)
			claims := with(s.idp.Claims("sam"), func(m jwt.MapClaims) {
				for k, v := range tt.extra {
					m[k] = v
				}
			})
			p, err := s.authenticate(s.idp.Sign(testidp.ECKey, claims))
			if err != nil {
				t.Fatalf("Authenticate() error = %v", err)
			}
			if p.Role != tt.want || p.Subject != "sam" {
				t.Errorf("Authenticate() = %+v, want role %s, subject sam", p, tt.want)
			}
			if wantSeller := map[bool]string{true: activeSeller}[tt.want == RoleSeller]; p.SellerID != wantSeller {
				t.Errorf("SellerID = %q, want %q", p.SellerID, wantSeller)
			}
		})
	}
}

// TestHS256BesideProvider: with a provider configured, HS256 tokens still
// work, and an unknown role in one is still 401.
func TestHS256BesideProvider(t *testing.T) {
	s := newProviderSetup(t, "")
	hs256 := func(mc jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, testSecret, mc) }
	aud := func(m jwt.MapClaims) { m["aud"] = testidp.Audience }
	if p, err := s.authenticate(hs256(with(claimsFor("analyst", "ann", ""), aud))); err != nil || p.Role != RoleAnalyst {
		t.Errorf("HS256 analyst: %+v, %v", p, err)
	}
	if p, err := s.authenticate(hs256(with(claimsFor("user", "uma", ""), aud))); err != nil || p.Role != RoleUser {
		t.Errorf("HS256 user: %+v, %v", p, err)
	}
	for _, role := range []string{"market-admin", "superuser", ""} {
		_, err := s.authenticate(hs256(with(claimsFor(role, "eve", ""), aud)))
		if got := store.ErrorCode(err); got != store.EUNAUTHENTICATED {
			t.Errorf("HS256 role %q: code %q, want UNAUTHENTICATED", role, got)
		}
	}
}

// TestProviderMembership: a provider USER that the membership function
// knows becomes a SELLER of its seller; its errors pass through.
func TestProviderMembership(t *testing.T) {
	errLookup := errors.New("membership lookup failed")
	var calls []string
	membership := func(_ context.Context, issuer, subject string) (string, string, error) {
		calls = append(calls, issuer+" "+subject)
		switch subject {
		case "owner":
			return activeSeller, "OWNER", nil
		case "revoked":
			return "", "", unauthenticated(msgInvalidToken)
		case "broken":
			return "", "", errLookup
		}
		return "", "", nil
	}
	s := newProviderSetup(t, "", WithMembership(membership))
	tok := func(sub string, extra jwt.MapClaims) string {
		return s.idp.Sign(testidp.RSAKey, with(s.idp.Claims(sub), func(m jwt.MapClaims) {
			for k, v := range extra {
				m[k] = v
			}
		}))
	}
	p, err := s.authenticate(tok("owner", nil))
	if err != nil || p.Role != RoleSeller || p.SellerID != activeSeller || p.MemberRole != "OWNER" || p.Issuer != s.idp.Issuer {
		t.Errorf("member: %+v, %v; want the OWNER SELLER of %s", p, err, activeSeller)
	}
	if p, err := s.authenticate(tok("stranger", nil)); err != nil || p.Role != RoleUser || p.SellerID != "" {
		t.Errorf("non-member: %+v, %v; want a USER", p, err)
	}
	if _, err := s.authenticate(tok("revoked", nil)); store.ErrorCode(err) != store.EUNAUTHENTICATED {
		t.Errorf("membership UNAUTHENTICATED: %v", err)
	}
	if _, err := s.authenticate(tok("broken", nil)); !errors.Is(err, errLookup) {
		t.Errorf("membership failure: %v, want it as-is", err)
	}
	calls = nil
	if p, err := s.authenticate(tok("owner", jwt.MapClaims{"roles": []string{"market-admin"}})); err != nil || p.Role != RoleAdmin {
		t.Errorf("admin member: %+v, %v; want ADMIN", p, err)
	}
	if p, err := s.authenticate(tok("owner", jwt.MapClaims{"seller_id": pendingSeller})); err != nil || p.SellerID != pendingSeller || p.MemberRole != "" {
		t.Errorf("seller_id claim: %+v, %v; want the claim's seller", p, err)
	}
	if len(calls) != 0 {
		t.Errorf("membership asked for %v; want no call for mapped roles and seller_id claims", calls)
	}
	hs := sign(t, jwt.SigningMethodHS256, testSecret, with(claimsFor("user", "owner", ""), func(m jwt.MapClaims) {
		m["aud"], m["iss"] = testidp.Audience, "dev"
	}))
	if p, err := s.authenticate(hs); err != nil || p.Role != RoleSeller || p.SellerID != activeSeller || calls[0] != "dev owner" {
		t.Errorf("HS256 user member: %+v, %v, calls %v", p, err, calls)
	}
}

// TestProviderKeyRotation: a token signed with a key the provider published
// after the last fetch is accepted after one refresh; unknown key ids
// refresh at most once per 30 s.
func TestProviderKeyRotation(t *testing.T) {
	s := newProviderSetup(t, "")
	idp := s.idp
	if _, err := s.authenticate(idp.Sign(testidp.RSAKey, idp.Claims("a"))); err != nil {
		t.Fatalf("first token: %v", err)
	}
	if got := idp.Fetches(); got != 1 {
		t.Fatalf("fetches after the first token = %d, want 1", got)
	}
	idp.NewKey("rsa-2", "RS256")
	idp.Publish("rsa-2")
	rotated := idp.Sign("rsa-2", idp.Claims("b"))
	if _, err := s.authenticate(rotated); store.ErrorCode(err) != store.EUNAUTHENTICATED {
		t.Errorf("new key within 30 s of the last fetch: %v, want UNAUTHENTICATED", err)
	}
	if got := idp.Fetches(); got != 1 {
		t.Errorf("fetches within 30 s = %d, want still 1", got)
	}
	s.clock.Advance(31 * time.Second)
	if p, err := s.authenticate(rotated); err != nil || p.Subject != "b" {
		t.Fatalf("new key after 30 s: %+v, %v", p, err)
	}
	if got := idp.Fetches(); got != 2 {
		t.Errorf("fetches = %d, want 2", got)
	}
	// Forged key ids right after a refresh cost the provider nothing.
	for i := 0; i < 5; i++ {
		forged := resign(t, idp.Sign("rsa-2", idp.Claims("c")), "forged-kid")
		if _, err := s.authenticate(forged); store.ErrorCode(err) != store.EUNAUTHENTICATED {
			t.Errorf("forged kid: %v", err)
		}
	}
	if got := idp.Fetches(); got != 2 {
		t.Errorf("fetches after forged kids = %d, want 2", got)
	}
	// A withdrawn key is still cached until the set is an hour old; then
	// the background refresh drops it.
	idp.Withdraw(testidp.RSAKey)
	old := idp.Sign(testidp.RSAKey, idp.Claims("d"))
	s.clock.Advance(time.Hour)
	if _, err := s.authenticate(old); err != nil {
		t.Errorf("withdrawn key before the refresh: %v", err)
	}
	waitFor(t, func() bool { return idp.Fetches() == 3 })
	waitFor(t, func() bool {
		_, err := s.authenticate(old)
		return store.ErrorCode(err) == store.EUNAUTHENTICATED
	})
}

// TestProviderOutage: with the provider down, cached keys keep working and
// unknown keys fail closed.
func TestProviderOutage(t *testing.T) {
	s := newProviderSetup(t, "")
	idp := s.idp
	if _, err := s.authenticate(idp.Sign(testidp.EdKey, idp.Claims("a"))); err != nil {
		t.Fatalf("first token: %v", err)
	}
	idp.SetDown(true)
	idp.NewKey("ec-2", "ES256")
	idp.Publish("ec-2")
	s.clock.Advance(2 * time.Hour) // past the refresh interval and the set's age
	for _, kid := range []string{testidp.RSAKey, testidp.ECKey, testidp.EdKey} {
		if p, err := s.authenticate(idp.Sign(kid, idp.Claims("known-"+kid))); err != nil || p.Role != RoleUser {
			t.Errorf("cached key %s during the outage: %+v, %v", kid, p, err)
		}
	}
	unknown := idp.Sign("ec-2", idp.Claims("b"))
	if _, err := s.authenticate(unknown); store.ErrorCode(err) != store.EUNAUTHENTICATED {
		t.Errorf("unknown key during the outage: %v, want UNAUTHENTICATED", err)
	}
	idp.SetDown(false)
	s.clock.Advance(31 * time.Second)
	if _, err := s.authenticate(unknown); err != nil {
		t.Errorf("unknown key once the provider is back: %v", err)
	}
}

// TestProviderDownAtStart: a provider that never answered fails every
// provider token closed, HS256 tokens still working.
func TestProviderDownAtStart(t *testing.T) {
	s := newProviderSetup(t, "")
	s.idp.SetDown(true)
	if _, err := s.authenticate(s.idp.Sign(testidp.RSAKey, s.idp.Claims("a"))); store.ErrorCode(err) != store.EUNAUTHENTICATED {
		t.Errorf("provider token with the provider down: %v, want UNAUTHENTICATED", err)
	}
	hs := sign(t, jwt.SigningMethodHS256, testSecret, with(claimsFor("admin", "ops", ""), func(m jwt.MapClaims) { m["aud"] = testidp.Audience }))
	if p, err := s.authenticate(hs); err != nil || p.Role != RoleAdmin {
		t.Errorf("HS256 token with the provider down: %+v, %v", p, err)
	}
}

// TestLeeway: a token expired less than the leeway ago is accepted, one
// expired longer ago refused.
func TestLeeway(t *testing.T) {
	s := newProviderSetup(t, "")
	expiredAgo := func(d time.Duration) string {
		return s.idp.Sign(testidp.ECKey, with(s.idp.Claims("skew"), func(m jwt.MapClaims) { m["exp"] = time.Now().Add(-d).Unix() }))
	}
	if _, err := s.authenticate(expiredAgo(10 * time.Second)); err != nil {
		t.Errorf("expired 10 s ago with a 30 s leeway: %v", err)
	}
	_, err := s.authenticate(expiredAgo(2 * time.Minute))
	if err == nil || err.Error() != msgTokenExpired {
		t.Errorf("expired 2 min ago: %v, want %q", err, msgTokenExpired)
	}
}

// TestClaimAt: dot paths, with keys that contain dots matched whole.
func TestClaimAt(t *testing.T) {
	mc := map[string]any{
		"roles":                   "top",
		"realm_access":            map[string]any{"roles": "nested"},
		"https://x.example/roles": "namespaced",
		"a.b":                     map[string]any{"c": "dotted parent"},
		"resource_access":         map[string]any{"gateway": map[string]any{"roles": "client"}},
	}
	for path, want := range map[string]any{
		"roles": "top", "realm_access.roles": "nested", "https://x.example/roles": "namespaced",
		"a.b.c": "dotted parent", "resource_access.gateway.roles": "client", "realm_access.missing": nil, "": nil,
	} {
		if got := claimAt(mc, path); got != want {
			t.Errorf("claimAt(%q) = %v, want %v", path, got, want)
		}
	}
}

// pemOf returns the PEM of a public key, as an attacker would download it.
func pemOf(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// hmacWith signs with HS256 and key whatever the header says.
func hmacWith(t *testing.T, key []byte) func(string) string {
	return func(signing string) string {
		sig, err := jwt.SigningMethodHS256.Sign(signing, key)
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
		return base64.RawURLEncoding.EncodeToString(sig)
	}
}

// resign swaps the kid in token's header for kid, keeping its algorithm,
// claims and signature: a signature by one key presented as another's.
func resign(t *testing.T, token, kid string) string {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	header := map[string]any{}
	for k, v := range parsed.Header {
		header[k] = v
	}
	header["kid"] = kid
	sig := token[len(token)-len(base64.RawURLEncoding.EncodeToString(parsed.Signature)):]
	return handmade(t, header, parsed.Claims.(jwt.MapClaims), func(string) string { return sig })
}

// waitFor polls cond (a background refresh to land) for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met within 5 s")
}

// BenchmarkAuthenticate measures one token's check per kind of token, keys
// cached: HS256 against the shared secret, and the provider's three
// algorithms.
func BenchmarkAuthenticate(b *testing.B) {
	idp := testidp.New(b)
	keys, err := jwks.New(jwks.Options{IssuerURL: idp.Issuer})
	if err != nil {
		b.Fatal(err)
	}
	auth := NewAuthenticator(TokenConfig{Secret: testSecret, Audience: testidp.Audience,
		Provider: ProviderConfig{Keys: keys, Issuer: idp.Issuer, RoleMap: keycloakRoles}}, sellerStatus)
	hs, err := Mint(TokenConfig{Secret: testSecret, Audience: testidp.Audience}, RoleAnalyst, "ann", "", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	tokens := map[string]string{"HS256": hs, "RS256": idp.Sign(testidp.RSAKey, idp.Claims("a")),
		"ES256": idp.Sign(testidp.ECKey, idp.Claims("b")), "EdDSA": idp.Sign(testidp.EdKey, idp.Claims("c"))}
	for _, name := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
		header := "Bearer " + tokens[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := auth.Authenticate(context.Background(), header); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
