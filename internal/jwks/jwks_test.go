package jwks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/MicahParks/jwkset"

	"github.com/partsmarket/gateway/internal/testidp"
)

// TestDiscovery: keys come from the discovery document's jwks_uri, each
// with the algorithm of its type.
func TestDiscovery(t *testing.T) {
	idp := testidp.New(t)
	s, err := New(Options{IssuerURL: idp.Issuer})
	if err != nil {
		t.Fatal(err)
	}
	for kid, alg := range map[string]string{testidp.RSAKey: RS256, testidp.ECKey: ES256, testidp.EdKey: EdDSA} {
		k, err := s.Key(context.Background(), kid)
		if err != nil || k.Algorithm != alg || k.ID != kid {
			t.Errorf("Key(%s) = %+v, %v; want algorithm %s", kid, k, err, alg)
		}
	}
	if got := idp.Fetches(); got != 1 {
		t.Errorf("fetches = %d, want 1", got)
	}
}

// TestConcurrentUnknownKeys: many requests naming unknown key ids at once
// share one fetch.
func TestConcurrentUnknownKeys(t *testing.T) {
	idp := testidp.New(t)
	s, err := New(Options{JWKSURL: idp.JWKSURL})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var found atomic.Int32
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			kid := "forged"
			if i%2 == 0 {
				kid = testidp.ECKey
			}
			if _, err := s.Key(context.Background(), kid); err == nil {
				found.Add(1)
			} else if !errors.Is(err, ErrUnknownKey) {
				t.Errorf("Key(%s) error = %v, want ErrUnknownKey", kid, err)
			}
		}(i)
	}
	wg.Wait()
	if got := idp.Fetches(); got != 1 {
		t.Errorf("fetches = %d, want 1", got)
	}
	if got := found.Load(); got != 25 {
		t.Errorf("keys found = %d, want 25", got)
	}
}

// TestUsableKeys: entries that cannot verify our tokens are skipped, and a
// declared alg must be the one the key's type implies.
func TestUsableKeys(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	shortRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwk := func(key any, kid string, alg jwkset.ALG, use jwkset.USE) jwkset.JWKMarshal {
		j, err := jwkset.NewJWKFromKey(key, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: alg, USE: use}})
		if err != nil {
			t.Fatal(err)
		}
		return j.Marshal()
	}
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{
		jwk(&rsaKey.PublicKey, "good-rsa", jwkset.AlgRS256, jwkset.UseSig),
		jwk(&p256.PublicKey, "good-ec-no-alg", "", ""),
		jwk(&rsaKey.PublicKey, "", jwkset.AlgRS256, jwkset.UseSig),
		jwk(&rsaKey.PublicKey, "rsa-declared-ps256", jwkset.AlgPS256, jwkset.UseSig),
		jwk(&rsaKey.PublicKey, "rsa-declared-hs256", jwkset.AlgHS256, jwkset.UseSig),
		jwk(&rsaKey.PublicKey, "rsa-for-encryption", jwkset.AlgRSAOAEP, jwkset.UseEnc),
		jwk(&shortRSA.PublicKey, "rsa-1024", jwkset.AlgRS256, jwkset.UseSig),
		jwk(&p384.PublicKey, "ec-p384", jwkset.AlgES384, jwkset.UseSig),
		jwk(&p256.PublicKey, "ec-declared-es384", jwkset.AlgES384, jwkset.UseSig),
		{KTY: "oct", KID: "symmetric", K: "c2VjcmV0"},
	}}
	srv := serveJSON(t, set)
	s, _ := New(Options{JWKSURL: srv.URL})
	for _, kid := range []string{"good-rsa", "good-ec-no-alg"} {
		if _, err := s.Key(context.Background(), kid); err != nil {
			t.Errorf("Key(%s) = %v, want the key", kid, err)
		}
	}
	for _, kid := range []string{"", "rsa-declared-ps256", "rsa-declared-hs256", "rsa-for-encryption", "rsa-1024", "ec-p384", "ec-declared-es384", "symmetric"} {
		if k, err := s.Key(context.Background(), kid); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("Key(%q) = %+v, %v; want ErrUnknownKey", kid, k, err)
		}
	}
}

// TestBadProviders: a discovery document for another issuer, an empty or
// oversized key set, and an error status are fetch failures that keep
// every key unknown and are reported.
func TestBadProviders(t *testing.T) {
	tests := map[string]http.HandlerFunc{
		"issuer mismatch": func(w http.ResponseWriter, r *http.Request) {
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": "https://other.example", "jwks_uri": "http://" + r.Host + "/keys"})
		},
		"no jwks_uri": func(w http.ResponseWriter, r *http.Request) {
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": "http://" + r.Host})
		},
		"error status": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusInternalServerError) },
		"oversized": func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"issuer":"` + strings.Repeat("x", maxDocumentBytes) + `"}`))
		},
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			var reported atomic.Int32
			s, _ := New(Options{IssuerURL: srv.URL, OnError: func(error) { reported.Add(1) }})
			if _, err := s.Key(context.Background(), "any"); !errors.Is(err, ErrUnknownKey) {
				t.Errorf("Key() error = %v, want ErrUnknownKey", err)
			}
			if reported.Load() != 1 {
				t.Errorf("errors reported = %d, want 1", reported.Load())
			}
		})
	}
	t.Run("empty key set", func(t *testing.T) {
		srv := serveJSON(t, map[string]any{"keys": []any{}})
		s, _ := New(Options{JWKSURL: srv.URL})
		if _, err := s.Key(context.Background(), "any"); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("Key() error = %v, want ErrUnknownKey", err)
		}
	})
}

// TestNewRefuses: exactly one absolute http(s) URL.
func TestNewRefuses(t *testing.T) {
	for name, o := range map[string]Options{
		"none":     {},
		"both":     {IssuerURL: "https://id.example", JWKSURL: "https://id.example/keys"},
		"relative": {JWKSURL: "/keys"},
		"file":     {IssuerURL: "file:///etc/passwd"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%s) = nil error, want one", name)
		}
	}
}

// serveJSON serves v as JSON on loopback until the test ends.
func serveJSON(t *testing.T, v any) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(v)
	}))
	t.Cleanup(srv.Close)
	return srv
}
