// Package testidp is an OpenID Connect identity provider for tests: an
// httptest server on loopback that serves a discovery document and a key
// set (JWKS) holding an RSA, an EC P-256 and an Ed25519 key, signs tokens
// with them, and can rotate keys, go down and count the key set fetches.
package testidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// The ids of the keys a new Provider publishes.
const (
	RSAKey = "rsa-1"
	ECKey  = "ec-1"
	EdKey  = "ed-1"
)

// Audience is the audience Claims puts in tokens.
const Audience = "partsmarket-gateway"

// Provider is a running test identity provider; its methods are safe for
// concurrent use and fail the test on a setup error.
type Provider struct {
	// Issuer is the provider's issuer, its server's URL.
	Issuer string
	// JWKSURL is where its key set is served.
	JWKSURL string

	t         testing.TB
	mu        sync.Mutex
	keys      map[string]signer // every key made, published or not
	published map[string]bool
	down      bool
	fetches   int
}

// signer is a private key with its signing method.
type signer struct {
	method jwt.SigningMethod
	key    crypto.Signer
}

// New starts a Provider publishing RSAKey, ECKey and EdKey; it stops when
// the test ends.
func New(t testing.TB) *Provider {
	t.Helper()
	p := &Provider{t: t, keys: map[string]signer{}, published: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.Issuer, p.JWKSURL = srv.URL, srv.URL+"/keys"
	for kid, alg := range map[string]string{RSAKey: "RS256", ECKey: "ES256", EdKey: "EdDSA"} {
		p.NewKey(kid, alg)
		p.Publish(kid)
	}
	return p
}

// serve answers the discovery document and the key set, or 503 while the
// provider is down.
func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	var doc any
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		doc = map[string]any{"issuer": p.Issuer, "jwks_uri": p.JWKSURL,
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "EdDSA"}}
	case "/keys":
		p.fetches++
		set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
		for kid := range p.published {
			s := p.keys[kid]
			jwk, err := jwkset.NewJWKFromKey(s.key.Public(), jwkset.JWKOptions{
				Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: jwkset.ALG(s.method.Alg()), USE: jwkset.UseSig}})
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			set.Keys = append(set.Keys, jwk.Marshal())
		}
		doc = set
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

// NewKey makes a key with id kid for alg (RS256, ES256 or EdDSA) without
// publishing it: tokens signed with it carry a kid the gateway does not
// know yet.
func (p *Provider) NewKey(kid, alg string) {
	p.t.Helper()
	var s signer
	var err error
	switch alg {
	case "RS256":
		s.method = jwt.SigningMethodRS256
		s.key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		s.method = jwt.SigningMethodES256
		s.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		s.method = jwt.SigningMethodEdDSA
		_, s.key, err = ed25519.GenerateKey(rand.Reader)
	default:
		err = fmt.Errorf("unknown algorithm %q", alg)
	}
	if err != nil {
		p.t.Fatalf("testidp: new key %s: %v", kid, err)
	}
	p.mu.Lock()
	p.keys[kid] = s
	p.mu.Unlock()
}

// Publish adds key kid to the served key set.
func (p *Provider) Publish(kid string) {
	p.mu.Lock()
	p.published[kid] = true
	p.mu.Unlock()
}

// Withdraw removes key kid from the served key set.
func (p *Provider) Withdraw(kid string) {
	p.mu.Lock()
	delete(p.published, kid)
	p.mu.Unlock()
}

// SetDown makes the provider answer 503 to everything (down) or serve
// again.
func (p *Provider) SetDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
}

// Fetches returns how many times the key set was served.
func (p *Provider) Fetches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fetches
}

// PublicKey returns the public key of kid (for algorithm-confusion tests).
func (p *Provider) PublicKey(kid string) crypto.PublicKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[kid].key.Public()
}

// Claims returns valid claims for subject: this provider's issuer,
// Audience, issued now and expiring in an hour.
func (p *Provider) Claims(subject string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"iss": p.Issuer, "aud": Audience, "sub": subject,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// Sign signs claims with key kid, its algorithm in the header.
func (p *Provider) Sign(kid string, claims jwt.MapClaims) string {
	p.t.Helper()
	p.mu.Lock()
	s, ok := p.keys[kid]
	p.mu.Unlock()
	if !ok {
		p.t.Fatalf("testidp: no key %s", kid)
	}
	tok := jwt.NewWithClaims(s.method, claims)
	tok.Header["kid"] = kid
	out, err := tok.SignedString(s.key)
	if err != nil {
		p.t.Fatalf("testidp: sign with %s: %v", kid, err)
	}
	return out
}
