package access

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/partsmarket/gateway/store"
)

const (
	activeSeller    = "0b6f6a8e-1c4e-4d39-9f3a-3a4b5c6d7e01"
	pendingSeller   = "0b6f6a8e-1c4e-4d39-9f3a-3a4b5c6d7e02"
	suspendedSeller = "0b6f6a8e-1c4e-4d39-9f3a-3a4b5c6d7e03"
	unknownSeller   = "0b6f6a8e-1c4e-4d39-9f3a-3a4b5c6d7e04"
	brokenDBSeller  = "0b6f6a8e-1c4e-4d39-9f3a-3a4b5c6d7e05"
)

var (
	testSecret = []byte("test-secret-of-reasonable-length-0123456789")
	errDB      = errors.New("connection refused")
)

// sellerStatus is a fake SellerStatusFunc over the sellers above.
func sellerStatus(_ context.Context, id string) (string, error) {
	switch id {
	case activeSeller:
		return "ACTIVE", nil
	case pendingSeller:
		return "PENDING", nil
	case suspendedSeller:
		return "SUSPENDED", nil
	case brokenDBSeller:
		return "", errDB
	}
	return "", store.NotFound("seller")
}

// sign signs mc with method and key.
func sign(t *testing.T, method jwt.SigningMethod, key any, mc jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, mc).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// handmade builds a token from a raw header, claims and signature segment.
func handmade(t *testing.T, header map[string]any, mc jwt.MapClaims, sig func(signing string) string) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(header) + "." + enc(mc)
	return signing + "." + sig(signing)
}

// claimsFor returns valid claims of role, expiring in an hour.
func claimsFor(role, sub, sellerID string) jwt.MapClaims {
	mc := jwt.MapClaims{
		"sub":  sub,
		"role": role,
		"iat":  time.Now().Unix(),
		"exp":  time.Now().Add(time.Hour).Unix(),
	}
	if sellerID != "" {
		mc["seller_id"] = sellerID
	}
	return mc
}

// with returns a copy of mc changed by f.
func with(mc jwt.MapClaims, f func(jwt.MapClaims)) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range mc {
		out[k] = v
	}
	f(out)
	return out
}

func TestAuthenticate(t *testing.T) {
	hs256 := func(mc jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, testSecret, mc) }
	admin := claimsFor("admin", "alice", "")
	seller := claimsFor("seller", "bob", activeSeller)

	plain := TokenConfig{Secret: testSecret}
	strict := TokenConfig{Secret: testSecret, Issuer: "https://id.partsmarket.test", Audience: "gateway"}
	strictClaims := func(mc jwt.MapClaims) jwt.MapClaims {
		return with(mc, func(m jwt.MapClaims) { m["iss"] = strict.Issuer; m["aud"] = strict.Audience })
	}

	tests := []struct {
		name     string
		cfg      TokenConfig
		header   string
		want     Principal
		wantCode string // "" for success; store.EINTERNAL for a non-store error
	}{
		{name: "no header is anonymous", cfg: plain, header: "", want: Principal{}},
		{name: "admin", cfg: plain, header: "Bearer " + hs256(admin), want: Principal{Role: RoleAdmin, Subject: "alice"}},
		{name: "analyst", cfg: plain, header: "Bearer " + hs256(claimsFor("analyst", "ann", "")), want: Principal{Role: RoleAnalyst, Subject: "ann"}},
		{name: "role in any case", cfg: plain, header: "Bearer " + hs256(claimsFor("AnAlYsT", "ann", "")), want: Principal{Role: RoleAnalyst, Subject: "ann"}},
		{name: "lower-case scheme", cfg: plain, header: "bearer " + hs256(admin), want: Principal{Role: RoleAdmin, Subject: "alice"}},
		{name: "active seller", cfg: plain, header: "Bearer " + hs256(seller), want: Principal{Role: RoleSeller, Subject: "bob", SellerID: activeSeller}},
		{name: "pending seller", cfg: plain, header: "Bearer " + hs256(claimsFor("seller", "pam", pendingSeller)), want: Principal{Role: RoleSeller, Subject: "pam", SellerID: pendingSeller}},
		{name: "upper-case seller id is normalised", cfg: plain, header: "Bearer " + hs256(claimsFor("seller", "bob", strings.ToUpper(activeSeller))), want: Principal{Role: RoleSeller, Subject: "bob", SellerID: activeSeller}},
		{name: "admin seller_id is ignored", cfg: plain, header: "Bearer " + hs256(claimsFor("admin", "alice", suspendedSeller)), want: Principal{Role: RoleAdmin, Subject: "alice"}},
		{name: "iss and aud match", cfg: strict, header: "Bearer " + hs256(strictClaims(admin)), want: Principal{Role: RoleAdmin, Subject: "alice", Issuer: strict.Issuer}},

		{name: "alg none", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + handmade(t, map[string]any{"alg": "none", "typ": "JWT"}, admin, func(string) string { return "" })},
		{name: "alg none with library signing", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, admin)},
		{name: "wrong signature", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("another-secret"), admin)},
		{name: "tampered claims", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + tamper(t, hs256(claimsFor("analyst", "ann", "")), admin)},
		{name: "RS256 header with HMAC signature", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + handmade(t, map[string]any{"alg": "RS256", "typ": "JWT"}, admin, hmacSig(t))},
		{name: "HS512", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + sign(t, jwt.SigningMethodHS512, testSecret, admin)},
		{name: "expired", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(with(admin, func(m jwt.MapClaims) { m["exp"] = time.Now().Add(-time.Minute).Unix() }))},
		{name: "no exp", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(with(admin, func(m jwt.MapClaims) { delete(m, "exp") }))},
		{name: "not yet valid", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(with(admin, func(m jwt.MapClaims) { m["nbf"] = time.Now().Add(time.Hour).Unix() }))},
		{name: "unknown role", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(claimsFor("superuser", "eve", ""))},
		{name: "no role", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(with(admin, func(m jwt.MapClaims) { delete(m, "role") }))},
		{name: "role not a string", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(with(admin, func(m jwt.MapClaims) { m["role"] = []string{"admin"} }))},
		{name: "admin without sub", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(with(admin, func(m jwt.MapClaims) { delete(m, "sub") }))},
		{name: "analyst without sub", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(claimsFor("analyst", "", ""))},
		{name: "seller without sub", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(with(seller, func(m jwt.MapClaims) { delete(m, "sub") }))},
		{name: "blank sub", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(claimsFor("admin", "  ", ""))},
		{name: "sub not a string", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(with(admin, func(m jwt.MapClaims) { m["sub"] = 42 }))},
		{name: "seller without seller_id", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(claimsFor("seller", "bob", ""))},
		{name: "seller with malformed seller_id", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(claimsFor("seller", "bob", "not-a-uuid"))},
		{name: "seller with braced seller_id", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(claimsFor("seller", "bob", "{"+activeSeller+"}"))},
		{name: "suspended seller", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(claimsFor("seller", "bob", suspendedSeller))},
		{name: "unknown seller", cfg: plain, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(claimsFor("seller", "bob", unknownSeller))},
		{name: "Bearer alone", cfg: plain, header: "Bearer", wantCode: store.EUNAUTHENTICATED},
		{name: "Bearer and space", cfg: plain, header: "Bearer ", wantCode: store.EUNAUTHENTICATED},
		{name: "Basic", cfg: plain, header: "Basic x", wantCode: store.EUNAUTHENTICATED},
		{name: "token without scheme", cfg: plain, header: hs256(admin), wantCode: store.EUNAUTHENTICATED},
		{name: "garbage", cfg: plain, header: "Bearer garbage", wantCode: store.EUNAUTHENTICATED},
		{name: "two tokens", cfg: plain, header: "Bearer " + hs256(admin) + " " + hs256(admin), wantCode: store.EUNAUTHENTICATED},
		{name: "blank header", cfg: plain, header: "   ", wantCode: store.EUNAUTHENTICATED},
		{name: "oversized header", cfg: plain, header: "Bearer " + strings.Repeat("a", maxHeaderLen), wantCode: store.EUNAUTHENTICATED},
		{name: "empty secret refuses all", cfg: TokenConfig{}, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + sign(t, jwt.SigningMethodHS256, []byte{}, admin)},
		{name: "issuer mismatch", cfg: strict, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(with(strictClaims(admin), func(m jwt.MapClaims) { m["iss"] = "https://evil.test" }))},
		{name: "issuer missing", cfg: strict, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(with(strictClaims(admin), func(m jwt.MapClaims) { delete(m, "iss") }))},
		{name: "audience mismatch", cfg: strict, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(with(strictClaims(admin), func(m jwt.MapClaims) { m["aud"] = "other" }))},
		{name: "audience missing", cfg: strict, wantCode: store.EUNAUTHENTICATED,
			header: "Bearer " + hs256(with(strictClaims(admin), func(m jwt.MapClaims) { delete(m, "aud") }))},
		{name: "database error passes through", cfg: plain, wantCode: store.EINTERNAL,
			header: "Bearer " + hs256(claimsFor("seller", "bob", brokenDBSeller))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAuthenticator(tt.cfg, sellerStatus)
			got, err := a.Authenticate(context.Background(), tt.header)
			if gotCode := store.ErrorCode(err); gotCode != tt.wantCode {
				t.Fatalf("Authenticate() error = %v (code %q), want code %q", err, gotCode, tt.wantCode)
			}
			if tt.wantCode == "" && !tt.want.Anonymous() {
				got.ExpiresAt = expiresInAboutAnHour(t, got.ExpiresAt)
				got.IssuedAt = time.Time{} // iat is read: TestMintRoundTrip
			}
			if got != tt.want {
				t.Errorf("Authenticate() = %+v, want %+v", got, tt.want)
			}
			if tt.wantCode == store.EINTERNAL && !errors.Is(err, errDB) {
				t.Errorf("Authenticate() error = %v, want the database error as-is", err)
			}
			if tt.wantCode == store.EUNAUTHENTICATED {
				checkQuietMessage(t, err)
			}
		})
	}
}

// checkQuietMessage fails when an UNAUTHENTICATED error says more than a few
// words (no token, claim or library text).
func checkQuietMessage(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	allowed := map[string]bool{msgInvalidToken: true, msgTokenExpired: true, msgSellerNotAllow: true}
	if !allowed[msg] {
		t.Errorf("error message = %q, want one of the short fixed messages", msg)
	}
}

// tamper replaces the claims segment of token with mc, keeping its signature.
func tamper(t *testing.T, token string, mc jwt.MapClaims) string {
	t.Helper()
	parts := strings.Split(token, ".")
	b, err := json.Marshal(mc)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

// hmacSig signs with HS256 and the test secret whatever the header says (the
// algorithm-confusion attack).
func hmacSig(t *testing.T) func(string) string {
	return func(signing string) string {
		sig, err := jwt.SigningMethodHS256.Sign(signing, testSecret)
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
		return base64.RawURLEncoding.EncodeToString(sig)
	}
}

func TestAuthenticateExpiredMessage(t *testing.T) {
	a := NewAuthenticator(TokenConfig{Secret: testSecret}, sellerStatus)
	tok := sign(t, jwt.SigningMethodHS256, testSecret, with(claimsFor("admin", "alice", ""), func(m jwt.MapClaims) {
		m["exp"] = time.Now().Add(-time.Hour).Unix()
	}))
	_, err := a.Authenticate(context.Background(), "Bearer "+tok)
	if got, want := err.Error(), msgTokenExpired; got != want {
		t.Errorf("Authenticate(expired) message = %q, want %q", got, want)
	}
}

func TestAuthenticateNilSellerStatus(t *testing.T) {
	a := NewAuthenticator(TokenConfig{Secret: testSecret}, nil)
	tok := sign(t, jwt.SigningMethodHS256, testSecret, claimsFor("seller", "bob", activeSeller))
	_, err := a.Authenticate(context.Background(), "Bearer "+tok)
	if got, want := store.ErrorCode(err), store.EINTERNAL; got != want {
		t.Errorf("Authenticate() with nil status func: code %q, want %q", got, want)
	}
}

func TestMintRoundTrip(t *testing.T) {
	cfgs := map[string]TokenConfig{
		"plain":           {Secret: testSecret},
		"issuer+audience": {Secret: testSecret, Issuer: "https://id.partsmarket.test", Audience: "gateway"},
	}
	tests := []struct {
		name     string
		role     Role
		subject  string
		sellerID string
		want     Principal
	}{
		{name: "admin", role: RoleAdmin, subject: "alice", want: Principal{Role: RoleAdmin, Subject: "alice"}},
		{name: "analyst", role: RoleAnalyst, subject: "ann", want: Principal{Role: RoleAnalyst, Subject: "ann"}},
		{name: "seller", role: RoleSeller, subject: "bob", sellerID: activeSeller, want: Principal{Role: RoleSeller, Subject: "bob", SellerID: activeSeller}},
		{name: "pending seller", role: RoleSeller, subject: "pam", sellerID: pendingSeller, want: Principal{Role: RoleSeller, Subject: "pam", SellerID: pendingSeller}},
		{name: "user", role: RoleUser, subject: "uma", want: Principal{Role: RoleUser, Subject: "uma"}},
	}
	for cfgName, cfg := range cfgs {
		for _, tt := range tests {
			t.Run(cfgName+"/"+tt.name, func(t *testing.T) {
				tok, err := Mint(cfg, tt.role, tt.subject, tt.sellerID, time.Hour)
				if err != nil {
					t.Fatalf("Mint() error = %v", err)
				}
				got, err := NewAuthenticator(cfg, sellerStatus).Authenticate(context.Background(), "Bearer "+tok)
				if err != nil {
					t.Fatalf("Authenticate(Mint()) error = %v", err)
				}
				got.ExpiresAt = expiresInAboutAnHour(t, got.ExpiresAt)
				if got.IssuedAt.IsZero() {
					t.Error("IssuedAt is zero; Mint sets iat")
				}
				got.IssuedAt = time.Time{}
				want := tt.want
				want.Issuer = cfg.Issuer
				if got != want {
					t.Errorf("Authenticate(Mint()) = %+v, want %+v", got, want)
				}
			})
		}
	}
}

func TestMintClaims(t *testing.T) {
	cfg := TokenConfig{Secret: testSecret, Issuer: "iss", Audience: "aud"}
	tok, err := Mint(cfg, RoleSeller, "bob", activeSeller, time.Hour)
	if err != nil {
		t.Fatalf("Mint() error = %v", err)
	}
	mc := jwt.MapClaims{}
	tk, err := jwt.ParseWithClaims(tok, mc, func(*jwt.Token) (any, error) { return testSecret, nil })
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if got, want := tk.Method.Alg(), "HS256"; got != want {
		t.Errorf("alg = %q, want %q", got, want)
	}
	for claim, want := range map[string]any{"sub": "bob", "role": "seller", "seller_id": activeSeller, "iss": "iss"} {
		if got := mc[claim]; got != want {
			t.Errorf("claim %s = %v, want %v", claim, got, want)
		}
	}
	for _, claim := range []string{"iat", "exp", "aud"} {
		if _, ok := mc[claim]; !ok {
			t.Errorf("claim %s missing", claim)
		}
	}
	exp, _ := mc.GetExpirationTime()
	if got, want := time.Until(exp.Time).Round(time.Minute), time.Hour; got != want {
		t.Errorf("exp - now = %v, want %v", got, want)
	}
}

func TestMintExpired(t *testing.T) {
	cfg := TokenConfig{Secret: testSecret}
	tok, err := Mint(cfg, RoleAdmin, "alice", "", -time.Minute)
	if err != nil {
		t.Fatalf("Mint() error = %v", err)
	}
	_, err = NewAuthenticator(cfg, sellerStatus).Authenticate(context.Background(), "Bearer "+tok)
	if got, want := store.ErrorCode(err), store.EUNAUTHENTICATED; got != want {
		t.Errorf("Authenticate(expired Mint()) code = %q, want %q", got, want)
	}
}

func TestMintRefuses(t *testing.T) {
	key := TokenConfig{Secret: testSecret}
	tests := []struct {
		name     string
		cfg      TokenConfig
		role     Role
		subject  string
		sellerID string
	}{
		{name: "empty secret", cfg: TokenConfig{}, role: RoleAdmin, subject: "x"},
		{name: "no subject", cfg: key, role: RoleAdmin},
		{name: "blank subject", cfg: key, role: RoleAnalyst, subject: " \t"},
		{name: "seller without subject", cfg: key, role: RoleSeller, sellerID: activeSeller},
		{name: "unknown role", cfg: key, role: "ROOT", subject: "x"},
		{name: "lower-case role", cfg: key, role: "admin", subject: "x"},
		{name: "anonymous role", cfg: key, role: "", subject: "x"},
		{name: "seller without id", cfg: key, role: RoleSeller, subject: "x"},
		{name: "seller with bad id", cfg: key, role: RoleSeller, subject: "x", sellerID: "42"},
		{name: "admin with seller id", cfg: key, role: RoleAdmin, subject: "x", sellerID: activeSeller},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Mint(tt.cfg, tt.role, tt.subject, tt.sellerID, time.Hour)
			if err == nil {
				t.Fatalf("Mint() = %q, nil; want an error", tok)
			}
		})
	}
}

// expiresInAboutAnHour checks that a principal's expiry is its token's exp,
// an hour from now, and returns the zero time for comparing the rest.
func expiresInAboutAnHour(t *testing.T, exp time.Time) time.Time {
	t.Helper()
	if d := time.Until(exp); d < 58*time.Minute || d > 61*time.Minute {
		t.Errorf("ExpiresAt = %v, %v from now, want the token's exp, an hour from now", exp, d)
	}
	return time.Time{}
}
