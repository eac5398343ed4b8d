package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/partsmarket/gateway/internal/testidp"
)

// identityAPI starts a gateway trusting a loopback identity provider the
// way a Keycloak realm is connected: discovery, audience, realm roles.
func identityAPI(t *testing.T) (*testAPI, *testidp.Provider) {
	t.Helper()
	idp := testidp.New(t)
	api := newTestAPI(t, map[string]string{
		"OIDC_ISSUER_URL": idp.Issuer,
		"JWT_AUDIENCE":    testidp.Audience,
		"JWT_ROLES_CLAIM": "realm_access.roles",
		"JWT_ROLE_MAP":    "market-admin:ADMIN, market-analyst:ANALYST",
	})
	return api, idp
}

// realmRoles returns the provider's claims for subject with Keycloak realm
// roles.
func realmRoles(idp *testidp.Provider, subject string, roles ...string) jwt.MapClaims {
	c := idp.Claims(subject)
	c["realm_access"] = map[string]any{"roles": roles}
	return c
}

// TestIdentityProviderSignIn: tokens of the provider sign in as the role
// their realm roles map to (USER without one), a seller_id claim makes a
// SELLER, and HS256 tokens keep working beside them.
func TestIdentityProviderSignIn(t *testing.T) {
	api, idp := identityAPI(t)
	f := api.newFixture()
	sellerClaims := idp.Claims("yard-manager")
	sellerClaims["seller_id"] = f.SellerA.ID
	tests := []struct {
		name, token, role, subject, seller string
	}{
		{"RS256 admin", idp.Sign(testidp.RSAKey, realmRoles(idp, "kc-admin", "market-admin", "offline_access")), "ADMIN", "kc-admin", ""},
		{"ES256 analyst", idp.Sign(testidp.ECKey, realmRoles(idp, "kc-analyst", "market-analyst")), "ANALYST", "kc-analyst", ""},
		{"EdDSA user", idp.Sign(testidp.EdKey, realmRoles(idp, "kc-user", "offline_access")), "USER", "kc-user", ""},
		{"seller_id claim", idp.Sign(testidp.RSAKey, sellerClaims), "SELLER", "yard-manager", f.SellerA.ID},
		{"HS256 user", f.User, "USER", "fixture-user", ""},
		{"HS256 admin", f.Admin, "ADMIN", "test-admin", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := api.mustPost(tt.token, `{ viewer { role subject seller { id } } }`, nil)
			if r.Get("viewer.role") != tt.role || r.Get("viewer.subject") != tt.subject {
				t.Errorf("viewer = %s, want role %s, subject %s", r.Raw, tt.role, tt.subject)
			}
			if got, _ := r.Get("viewer.seller.id").(string); got != tt.seller {
				t.Errorf("viewer.seller.id = %q, want %q", got, tt.seller)
			}
		})
	}
}

// TestSignInErrors: a bad token is HTTP 401; an anonymous caller on a field
// or mutation that needs signing in gets an UNAUTHENTICATED field error
// (HTTP 200); a signed-in caller without the right gets FORBIDDEN.
func TestSignInErrors(t *testing.T) {
	api, idp := identityAPI(t)
	f := api.newFixture()
	idp.NewKey("unpublished", "RS256")
	user := idp.Sign(testidp.EdKey, realmRoles(idp, "kc-user"))
	analyst := idp.Sign(testidp.ECKey, realmRoles(idp, "kc-analyst", "market-analyst"))
	admin := idp.Sign(testidp.RSAKey, realmRoles(idp, "kc-admin", "market-admin"))
	with := func(f func(jwt.MapClaims)) string {
		c := realmRoles(idp, "kc-admin", "market-admin")
		f(c)
		return idp.Sign(testidp.RSAKey, c)
	}

	t.Run("bad tokens are 401", func(t *testing.T) {
		unknownKid := idp.Sign("unpublished", realmRoles(idp, "kc-admin", "market-admin"))
		hsOnRSA := jwt.NewWithClaims(jwt.SigningMethodHS256, realmRoles(idp, "kc-admin", "market-admin"))
		hsOnRSA.Header["kid"] = testidp.RSAKey
		confused, err := hsOnRSA.SignedString([]byte(api.Config.JWTSecret))
		if err != nil {
			t.Fatal(err)
		}
		for name, token := range map[string]string{
			"expired":                    with(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }),
			"wrong audience":             with(func(c jwt.MapClaims) { c["aud"] = "another-api" }),
			"wrong issuer":               with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }),
			"no sub":                     with(func(c jwt.MapClaims) { delete(c, "sub") }),
			"unknown kid":                unknownKid,
			"HS256 header on an RSA kid": confused,
			"HS256 unknown role":         httpSign(t, api.Config.JWTSecret, jwt.MapClaims{"role": "market-admin", "sub": "eve", "aud": testidp.Audience, "exp": time.Now().Add(time.Hour).Unix()}),
		} {
			r := api.post(token, `{ viewer { role } }`, nil)
			if r.Status != http.StatusUnauthorized || len(r.Errors) != 1 || r.Errors[0].Code() != "UNAUTHENTICATED" {
				t.Errorf("%s: got %d %s, want 401 UNAUTHENTICATED", name, r.Status, r.Raw)
			}
		}
	})

	// Each case: a query, and the code each caller gets ("" for none).
	cases := []struct {
		name, query, field string
		vars               map[string]any
		codes              map[string]string
	}{
		{"admin-only field", `{ auditEvents(first: 1) { totalCount } }`, "auditEvents", nil,
			map[string]string{"anonymous": "UNAUTHENTICATED", "user": "FORBIDDEN", "analyst": "FORBIDDEN", "admin": ""}},
		{"analysts' field", `{ searchTerms(first: 1) { term } }`, "searchTerms", nil,
			map[string]string{"anonymous": "UNAUTHENTICATED", "user": "FORBIDDEN", "analyst": "", "admin": ""}},
		{"private rows", `query($id: ID!) { lead(id: $id) { id } }`, "lead", map[string]any{"id": f.LeadA},
			map[string]string{"anonymous": "UNAUTHENTICATED", "user": "FORBIDDEN", "analyst": "", "admin": ""}},
		{"admin mutation", `mutation($id: ID!) { verifySeller(id: $id) { seller { id } } }`, "verifySeller", map[string]any{"id": f.SellerB.ID},
			map[string]string{"anonymous": "UNAUTHENTICATED", "user": "FORBIDDEN", "analyst": "FORBIDDEN", "admin": ""}},
	}
	callers := map[string]string{"anonymous": "", "user": user, "analyst": analyst, "admin": admin}
	for _, c := range cases {
		for who, token := range callers {
			t.Run(c.name+"/"+who, func(t *testing.T) {
				r := api.post(token, c.query, c.vars)
				if r.Status != http.StatusOK {
					t.Fatalf("status %d, want 200: %s", r.Status, r.Raw)
				}
				want := c.codes[who]
				if want == "" {
					if len(r.Errors) != 0 {
						t.Errorf("errors %s, want none", r.Raw)
					}
					return
				}
				if len(r.Errors) != 1 || r.Errors[0].Code() != want || r.Errors[0].PathString() != c.field {
					t.Errorf("got %s, want one %s error on %s", r.Raw, want, c.field)
				}
			})
		}
	}
}

// TestIdentityProviderWebsocket: the live inbox takes the provider's tokens
// in connection_init like HS256 ones, and closes with 4401 on a token
// signed with a key the provider never published.
func TestIdentityProviderWebsocket(t *testing.T) {
	api, idp := identityAPI(t)
	f := api.newFixture()
	claims := idp.Claims("yard-manager")
	claims["seller_id"] = f.SellerA.ID
	api.subscriber(idp.Sign(testidp.ECKey, claims), f.SellerA.ID)
	idp.NewKey("unpublished", "EdDSA")
	api.connect(t, map[string]any{"Authorization": "Bearer " + idp.Sign("unpublished", claims)}).closedWith(4401)
}
