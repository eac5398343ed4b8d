// Package jwks keeps the signing keys of an OpenID Connect identity
// provider: found through the provider's discovery document or named
// directly, fetched over HTTP, parsed and validated by
// github.com/MicahParks/jwkset, and cached in memory. The cache is
// refreshed when a token names a key id it does not hold and when it has
// grown old, never more than once per MinRefresh; a refresh that fails
// keeps the keys already known, so a provider outage stops only tokens
// signed with keys the gateway has never seen.
package jwks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
)

// The algorithms a key can verify, as JWS names them.
const (
	RS256 = "RS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
)

// Defaults of Options.
const (
	// DefaultMinRefresh is the least time between two fetches of the key
	// set: an unknown key id in a flood of forged tokens costs the provider
	// at most one request per interval.
	DefaultMinRefresh = 30 * time.Second
	// DefaultMaxAge is how long a fetched key set is used before it is
	// fetched again (in the background, the old keys still answering), so
	// that a key the provider withdrew stops working.
	DefaultMaxAge = time.Hour
	// defaultTimeout bounds one request to the provider.
	defaultTimeout = 10 * time.Second
)

// maxDocumentBytes bounds a discovery document or key set read from the
// provider.
const maxDocumentBytes = 1 << 20

// minRSABits is the smallest RSA modulus accepted.
const minRSABits = 2048

// ErrUnknownKey is returned by Set.Key for a key id that is not in the key
// set, even after a refresh (or when no refresh was allowed or possible).
var ErrUnknownKey = errors.New("jwks: unknown key id")

// Key is one verification key of the provider; it has no methods.
type Key struct {
	// ID is the key's `kid`.
	ID string
	// Algorithm is the only JWS algorithm the key verifies (RS256, ES256 or
	// EdDSA), decided by the key's type and curve: a token whose header
	// names another algorithm must be refused.
	Algorithm string
	// Public is the *rsa.PublicKey, *ecdsa.PublicKey (P-256) or
	// ed25519.PublicKey.
	Public crypto.PublicKey
}

// Options configure a Set; exactly one of IssuerURL and JWKSURL is set.
type Options struct {
	// IssuerURL is the provider's issuer; the key set's address comes from
	// its discovery document (IssuerURL + /.well-known/openid-configuration),
	// whose `issuer` must be IssuerURL exactly.
	IssuerURL string
	// JWKSURL is the key set's address, when there is no discovery.
	JWKSURL string
	// Client makes the requests; nil: a client with a 10 s timeout.
	Client *http.Client
	// MinRefresh is the least time between two fetches (0: 30 s).
	MinRefresh time.Duration
	// MaxAge is how long a fetched set is used before it is fetched again
	// (0: 1 h).
	MaxAge time.Duration
	// OnError, when set, is told of every failed fetch (the errors name the
	// URL and the cause, never a token).
	OnError func(error)
	// Now is the clock (nil: time.Now); tests move it.
	Now func() time.Time
}

// Set is a provider's key set, safe for concurrent use.
type Set struct {
	opts Options

	mu        sync.Mutex
	keys      map[string]Key
	fetchedAt time.Time     // last successful fetch
	triedAt   time.Time     // start of the last fetch, successful or not
	running   chan struct{} // closed when the running fetch ends; nil when none runs
	jwksURL   string        // from JWKSURL or discovery; written by fetches only
}

// New returns the Set of opts, or an error when opts names neither or both
// of IssuerURL and JWKSURL, or a URL that is not absolute http(s). It makes
// no request: keys are fetched when first needed.
func New(opts Options) (*Set, error) {
	if (opts.IssuerURL == "") == (opts.JWKSURL == "") {
		return nil, errors.New("jwks: set exactly one of the issuer URL and the key set URL")
	}
	for _, u := range []string{opts.IssuerURL, opts.JWKSURL} {
		if u != "" && !httpURL(u) {
			return nil, fmt.Errorf("jwks: %q is not an absolute http or https URL", u)
		}
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: defaultTimeout}
	}
	if opts.MinRefresh <= 0 {
		opts.MinRefresh = DefaultMinRefresh
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Set{opts: opts, jwksURL: opts.JWKSURL}, nil
}

// Key returns the key with id kid. A known key is returned at once (an old
// set is refreshed in the background). An unknown one waits for a refresh
// when one is allowed (none in the last MinRefresh) or already running, and
// is ErrUnknownKey when the refreshed set lacks it or the refresh failed;
// ctx ending while waiting returns ctx's error.
func (s *Set) Key(ctx context.Context, kid string) (Key, error) {
	s.mu.Lock()
	k, ok := s.keys[kid]
	if ok {
		if s.opts.Now().Sub(s.fetchedAt) >= s.opts.MaxAge {
			s.refreshLocked()
		}
		s.mu.Unlock()
		return k, nil
	}
	done := s.refreshLocked()
	s.mu.Unlock()
	if done == nil {
		return Key{}, ErrUnknownKey
	}
	select {
	case <-done:
	case <-ctx.Done():
		return Key{}, ctx.Err()
	}
	s.mu.Lock()
	k, ok = s.keys[kid]
	s.mu.Unlock()
	if !ok {
		return Key{}, ErrUnknownKey
	}
	return k, nil
}

// Prefetch starts fetching the key set when none was fetched or tried yet,
// and returns without waiting; a server calls it at start so that the
// first token does not wait for the provider.
func (s *Set) Prefetch() {
	s.mu.Lock()
	if s.triedAt.IsZero() {
		s.refreshLocked()
	}
	s.mu.Unlock()
}

// refreshLocked starts a fetch unless one runs (its channel is returned) or
// one started less than MinRefresh ago (nil is returned). s.mu is held.
func (s *Set) refreshLocked() <-chan struct{} {
	if s.running != nil {
		return s.running
	}
	now := s.opts.Now()
	if !s.triedAt.IsZero() && now.Sub(s.triedAt) < s.opts.MinRefresh {
		return nil
	}
	s.triedAt = now
	done := make(chan struct{})
	s.running = done
	go func() {
		// The fetch is shared by every waiting request, so it has its own
		// deadline rather than one request's context.
		keys, err := s.fetch(context.Background())
		if err != nil && s.opts.OnError != nil {
			s.opts.OnError(err)
		}
		s.mu.Lock()
		if err == nil {
			s.keys, s.fetchedAt = keys, s.opts.Now()
		}
		s.running = nil
		close(done)
		s.mu.Unlock()
	}()
	return done
}

// fetch reads the key set (after the discovery document, the first time)
// and returns its usable keys by id; a set without any is an error, so that
// an empty or mangled answer never replaces good keys.
func (s *Set) fetch(ctx context.Context) (map[string]Key, error) {
	if s.jwksURL == "" {
		u, err := s.discover(ctx)
		if err != nil {
			return nil, err
		}
		s.jwksURL = u
	}
	var set jwkset.JWKSMarshal
	if err := s.getJSON(ctx, s.jwksURL, &set); err != nil {
		return nil, err
	}
	keys := make(map[string]Key, len(set.Keys))
	for _, m := range set.Keys {
		if k, ok := usable(m); ok {
			keys[k.ID] = k
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("jwks: the key set at %s has no usable signing key (RS256, ES256 on P-256, EdDSA on Ed25519, with a kid)", s.jwksURL)
	}
	return keys, nil
}

// discover reads the provider's discovery document and returns its
// jwks_uri, checking that the document speaks for the configured issuer.
func (s *Set) discover(ctx context.Context) (string, error) {
	issuer := s.opts.IssuerURL
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := s.getJSON(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &doc); err != nil {
		return "", err
	}
	if doc.Issuer != issuer {
		return "", fmt.Errorf("jwks: the discovery document of %s names the issuer %q", issuer, doc.Issuer)
	}
	if !httpURL(doc.JWKSURI) {
		return "", fmt.Errorf("jwks: the discovery document of %s has no http(s) jwks_uri", issuer)
	}
	return doc.JWKSURI, nil
}

// getJSON decodes the JSON document at u (200 only, at most
// maxDocumentBytes) into v.
func (s *Set) getJSON(ctx context.Context, u string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, defaultTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("jwks: fetch %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("jwks: fetch %s: status %d", u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return fmt.Errorf("jwks: read %s: %w", u, err)
	}
	if len(body) > maxDocumentBytes {
		return fmt.Errorf("jwks: %s is larger than %d bytes", u, maxDocumentBytes)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("jwks: decode %s: %w", u, err)
	}
	return nil
}

// usable returns the Key of a JWK that can verify signatures: a kid, use
// "sig" or none, and a public key of a supported type whose declared alg,
// if any, is the one its type implies. Other entries (encryption keys,
// other curves, short RSA keys) are skipped.
func usable(m jwkset.JWKMarshal) (Key, bool) {
	if m.KID == "" || (m.USE != "" && m.USE != jwkset.UseSig) {
		return Key{}, false
	}
	jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		return Key{}, false
	}
	k := Key{ID: m.KID, Public: jwk.Key()}
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return Key{}, false
		}
		k.Algorithm = RS256
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return Key{}, false
		}
		k.Algorithm = ES256
	case ed25519.PublicKey:
		k.Algorithm = EdDSA
	default:
		return Key{}, false
	}
	if m.ALG != "" && string(m.ALG) != k.Algorithm {
		return Key{}, false
	}
	return k, true
}

// httpURL reports whether u is an absolute http or https URL with a host.
func httpURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != ""
}
