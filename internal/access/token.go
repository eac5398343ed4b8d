package access

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/partsmarket/gateway/internal/jwks"
	"github.com/partsmarket/gateway/store"
)

// maxHeaderLen bounds the Authorization header we bother to parse.
const maxHeaderLen = 8 << 10

// maxProviderRoles bounds how many entries of a provider's roles claim are
// looked at.
const maxProviderRoles = 100

// Messages of UNAUTHENTICATED errors: short, and never saying which check
// failed beyond what a client needs (refresh an expired token).
const (
	msgInvalidToken   = "invalid token"
	msgTokenExpired   = "token expired"
	msgTokenRevoked   = "token revoked"
	msgSellerNotAllow = "seller is not allowed"
)

// TokenConfig says how bearer tokens are signed and checked (Issuer and
// Audience only when non-empty); it returns no errors.
type TokenConfig struct {
	// Secret is the HS256 key; an empty Secret refuses every HS256 token.
	Secret []byte
	// Issuer, when set, is required as the `iss` claim of HS256 tokens.
	Issuer string
	// Audience, when set, is required among the `aud` claim's values, of
	// HS256 and provider tokens alike.
	Audience string
	// Leeway is the clock skew allowed when checking exp, nbf and iat.
	Leeway time.Duration
	// Provider, when its Keys are set, accepts the tokens of an external
	// identity provider.
	Provider ProviderConfig
}

// ProviderConfig says how the tokens of an external OpenID Connect identity
// provider are checked and what they grant; it returns no errors. A token
// goes to the provider when its header names a key id (`kid`); it is then
// verified with that key of the provider's key set, with the one algorithm
// the key's type implies.
type ProviderConfig struct {
	// Keys holds the provider's verification keys (a *jwks.Set); nil: no
	// provider.
	Keys KeySource
	// Issuer, when set, is required as the `iss` claim.
	Issuer string
	// RolesClaim is the dot path of the claim listing the subject's roles
	// (e.g. "realm_access.roles"); "" means "roles". A key that itself
	// contains dots (Auth0's namespaced claims) is matched whole first.
	RolesClaim string
	// RoleMap maps provider role names to RoleAdmin or RoleAnalyst; other
	// provider roles are ignored.
	RoleMap map[string]Role
}

// KeySource returns a provider's verification key by key id; the error is
// jwks.ErrUnknownKey (or the context's) when it has none.
type KeySource interface {
	Key(ctx context.Context, kid string) (jwks.Key, error)
}

// SellerStatusFunc reports a seller's status ("PENDING", "ACTIVE",
// "SUSPENDED"), returning an error with store code NOT_FOUND for an unknown
// seller and any other error for a failure.
type SellerStatusFunc func(ctx context.Context, sellerID string) (string, error)

// MembershipFunc returns the seller that (issuer, subject) is a member of
// and its member role ("OWNER" or "STAFF"), or sellerID "" when it is a
// member of none. The Authenticator calls it for a signed-in subject that
// would otherwise be a USER (a provider token without an admin or analyst
// role and without seller_id, or an HS256 token of role user) and makes a
// member a SELLER of its seller, with MemberRole set, once the seller's
// status lets it act. It is called on every such request, so it should
// answer from a cache. A *store.Error with code UNAUTHENTICATED it returns
// is the request's 401; any other error is an internal failure.
type MembershipFunc func(ctx context.Context, issuer, subject string) (sellerID string, memberRole string, err error)

// RevokedFunc reports whether the sessions of (issuer, subject) issued at
// issuedAt (zero: unknown) were revoked since; it returns no error and must
// not touch the database (it runs on every signed-in request).
type RevokedFunc func(issuer, subject string, issuedAt time.Time) bool

// Option changes an Authenticator made by NewAuthenticator; it returns no
// errors.
type Option func(*Authenticator)

// WithMembership makes the Authenticator resolve seller memberships with f
// (see MembershipFunc); without it no subject is a member of any seller.
func WithMembership(f MembershipFunc) Option {
	return func(a *Authenticator) { a.membership = f }
}

// WithRevocations makes the Authenticator refuse (401) every token that f
// reports revoked, whatever signed it; without it none is.
func WithRevocations(f RevokedFunc) Option {
	return func(a *Authenticator) { a.revoked = f }
}

// Authenticator turns Authorization headers into Principals; its method
// returns UNAUTHENTICATED for bad tokens and internal errors for failures.
type Authenticator struct {
	cfg          TokenConfig
	sellerStatus SellerStatusFunc
	membership   MembershipFunc
	revoked      RevokedFunc
	parser       *jwt.Parser
	provider     *jwt.Parser // nil without a provider
}

// claims are an HS256 token's claims: the registered ones plus role and
// seller_id.
type claims struct {
	Role     string `json:"role"`
	SellerID string `json:"seller_id,omitempty"`
	Email    string `json:"email,omitempty"`
	jwt.RegisteredClaims
}

// providerAlgorithms are the algorithms of provider tokens.
var providerAlgorithms = []string{jwks.RS256, jwks.ES256, jwks.EdDSA}

// NewAuthenticator returns an Authenticator checking tokens per cfg and seller
// tokens' sellers with sellerStatus; it returns no error (a nil sellerStatus
// makes every seller token fail with an internal error).
func NewAuthenticator(cfg TokenConfig, sellerStatus SellerStatusFunc, opts ...Option) *Authenticator {
	common := []jwt.ParserOption{jwt.WithExpirationRequired(), jwt.WithStrictDecoding(), jwt.WithLeeway(cfg.Leeway)}
	if cfg.Audience != "" {
		common = append(common, jwt.WithAudience(cfg.Audience))
	}
	hs := append([]jwt.ParserOption{jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()})}, common...)
	if cfg.Issuer != "" {
		hs = append(hs, jwt.WithIssuer(cfg.Issuer))
	}
	cfg.Secret = append([]byte(nil), cfg.Secret...)
	a := &Authenticator{cfg: cfg, sellerStatus: sellerStatus, parser: jwt.NewParser(hs...)}
	if cfg.Provider.Keys != nil {
		pr := append([]jwt.ParserOption{jwt.WithValidMethods(providerAlgorithms), jwt.WithIssuedAt()}, common...)
		if cfg.Provider.Issuer != "" {
			pr = append(pr, jwt.WithIssuer(cfg.Provider.Issuer))
		}
		a.provider = jwt.NewParser(pr...)
		if a.cfg.Provider.RolesClaim == "" {
			a.cfg.Provider.RolesClaim = "roles"
		}
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Authenticate reads an Authorization header value: "" is the anonymous
// Principal; a present but bad token is a *store.Error with code
// UNAUTHENTICATED; a failure of the seller status or membership lookup is
// returned as-is (an internal error). A token whose header names a key id
// is the identity provider's (when one is configured); any other is an
// HS256 token.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (Principal, error) {
	if header == "" {
		return Principal{}, nil
	}
	raw, ok := bearer(header)
	if !ok {
		return Principal{}, unauthenticated(msgInvalidToken)
	}
	if a.provider != nil && hasKeyID(raw) {
		return a.providerToken(ctx, raw)
	}
	return a.hs256Token(ctx, raw)
}

// hs256Token checks a token signed with the shared secret: its role claim
// must be one of the roles (USER included), a SELLER's seller_id a seller
// that may act.
func (a *Authenticator) hs256Token(ctx context.Context, raw string) (Principal, error) {
	if len(a.cfg.Secret) == 0 {
		return Principal{}, unauthenticated(msgInvalidToken)
	}
	var c claims
	_, err := a.parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		if t.Method != jwt.SigningMethodHS256 {
			return nil, jwt.ErrTokenSignatureInvalid
		}
		return a.cfg.Secret, nil
	})
	if err != nil {
		return Principal{}, parseError(err)
	}
	p := Principal{Role: Role(strings.ToUpper(c.Role)), Subject: c.Subject, Issuer: c.Issuer, Email: c.Email}
	p.IssuedAt, p.ExpiresAt = timeOf(c.IssuedAt), timeOf(c.ExpiresAt)
	// Every action is attributed to a subject (audit rows, lead history):
	// a token without one is refused.
	if !p.Role.Valid() || strings.TrimSpace(p.Subject) == "" {
		return Principal{}, unauthenticated(msgInvalidToken)
	}
	if a.isRevoked(p) {
		return Principal{}, unauthenticated(msgTokenRevoked)
	}
	switch p.Role {
	case RoleSeller:
		return a.sellerOf(ctx, p, c.SellerID)
	case RoleUser:
		return a.member(ctx, p)
	}
	// seller_id means nothing for other roles and grants nothing.
	return p, nil
}

// providerToken checks a token of the identity provider: signed with the
// key its kid names, with that key's algorithm. Its role is ADMIN or
// ANALYST when the roles claim holds a role mapped to one (ADMIN first),
// else SELLER for a seller_id claim, else the subject's membership, else
// USER.
func (a *Authenticator) providerToken(ctx context.Context, raw string) (Principal, error) {
	mc := jwt.MapClaims{}
	_, err := a.provider.ParseWithClaims(raw, mc, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, err := a.cfg.Provider.Keys.Key(ctx, kid)
		if err != nil {
			return nil, err
		}
		// The key decides the algorithm; a header naming another one (an
		// HS256 header on an RSA key's id) is refused before any check.
		if t.Method.Alg() != k.Algorithm {
			return nil, jwt.ErrTokenSignatureInvalid
		}
		return k.Public, nil
	})
	if err != nil {
		return Principal{}, parseError(err)
	}
	sub, errSub := mc.GetSubject()
	iss, errIss := mc.GetIssuer()
	iat, errIat := mc.GetIssuedAt()
	exp, errExp := mc.GetExpirationTime()
	if errors.Join(errSub, errIss, errIat, errExp) != nil || strings.TrimSpace(sub) == "" {
		return Principal{}, unauthenticated(msgInvalidToken)
	}
	p := Principal{Subject: sub, Issuer: iss, IssuedAt: timeOf(iat), ExpiresAt: timeOf(exp)}
	if email, ok := mc["email"].(string); ok {
		p.Email = email
	}
	if a.isRevoked(p) {
		return Principal{}, unauthenticated(msgTokenRevoked)
	}
	if p.Role = a.mappedRole(mc); p.Role != "" {
		return p, nil
	}
	if v, ok := mc["seller_id"]; ok {
		id, _ := v.(string)
		p.Role = RoleSeller
		return a.sellerOf(ctx, p, id)
	}
	p.Role = RoleUser
	return a.member(ctx, p)
}

// mappedRole returns RoleAdmin when the roles claim holds a provider role
// mapped to it, else RoleAnalyst likewise, else "".
func (a *Authenticator) mappedRole(mc jwt.MapClaims) Role {
	var best Role
	for i, name := range claimStrings(claimAt(mc, a.cfg.Provider.RolesClaim)) {
		if i == maxProviderRoles {
			break
		}
		switch a.cfg.Provider.RoleMap[name] {
		case RoleAdmin:
			return RoleAdmin
		case RoleAnalyst:
			best = RoleAnalyst
		}
	}
	return best
}

// sellerOf returns p as the SELLER of the seller_id claim sellerID, which
// must be a canonical UUID of a seller that may act.
func (a *Authenticator) sellerOf(ctx context.Context, p Principal, sellerID string) (Principal, error) {
	id, ok := canonicalUUID(sellerID)
	if !ok {
		return Principal{}, unauthenticated(msgInvalidToken)
	}
	if err := a.checkSeller(ctx, id); err != nil {
		return Principal{}, err
	}
	p.SellerID = id
	return p, nil
}

// isRevoked reports whether p's session was revoked.
func (a *Authenticator) isRevoked(p Principal) bool {
	return a.revoked != nil && a.revoked(p.Issuer, p.Subject, p.IssuedAt)
}

// member returns the USER p, or the SELLER of the seller it is a member of;
// a member of a seller that may not act is refused like a seller token.
func (a *Authenticator) member(ctx context.Context, p Principal) (Principal, error) {
	if a.membership == nil {
		return p, nil
	}
	sellerID, role, err := a.membership(ctx, p.Issuer, p.Subject)
	if err != nil || sellerID == "" {
		return p, err
	}
	if err := a.checkSeller(ctx, sellerID); err != nil {
		return Principal{}, err
	}
	p.Role, p.SellerID, p.MemberRole = RoleSeller, sellerID, role
	return p, nil
}

// parseError maps a token that failed parsing or verification to its
// UNAUTHENTICATED error.
func parseError(err error) *store.Error {
	if errors.Is(err, jwt.ErrTokenExpired) {
		return unauthenticated(msgTokenExpired)
	}
	return unauthenticated(msgInvalidToken)
}

// timeOf returns d's time, or the zero time for a missing claim.
func timeOf(d *jwt.NumericDate) time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.Time
}

// hasKeyID reports whether the header of the compact JWS raw names a key
// id; a header that cannot be read has none (and fails verification later).
func hasKeyID(raw string) bool {
	seg, _, ok := strings.Cut(raw, ".")
	if !ok {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return false
	}
	var h struct {
		Kid any `json:"kid"`
	}
	return json.Unmarshal(b, &h) == nil && h.Kid != nil
}

// claimAt returns the claim at the dot path path of mc: at each level a key
// equal to the rest of the path is taken whole, else the longest prefix
// before a dot that names an object is descended into. nil when there is
// none.
func claimAt(mc map[string]any, path string) any {
	if v, ok := mc[path]; ok {
		return v
	}
	for i := strings.LastIndexByte(path, '.'); i > 0; i = strings.LastIndexByte(path[:i], '.') {
		if sub, ok := mc[path[:i]].(map[string]any); ok {
			if v := claimAt(sub, path[i+1:]); v != nil {
				return v
			}
		}
	}
	return nil
}

// claimStrings returns a roles claim's names: the strings of an array, or
// the words of a space-separated string.
func claimStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// checkSeller refuses a seller that is unknown or not PENDING/ACTIVE.
func (a *Authenticator) checkSeller(ctx context.Context, id string) error {
	if a.sellerStatus == nil {
		return errors.New("access: no seller status function configured")
	}
	status, err := a.sellerStatus(ctx, id)
	if err != nil {
		if store.ErrorCode(err) == store.ENOTFOUND {
			return unauthenticated(msgSellerNotAllow)
		}
		return err
	}
	switch status {
	case "ACTIVE", "PENDING":
		return nil
	}
	return unauthenticated(msgSellerNotAllow)
}

// bearer returns the token of a "Bearer <token>" header (scheme in any case).
func bearer(header string) (string, bool) {
	if len(header) > maxHeaderLen {
		return "", false
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", false
	}
	return token, true
}

// canonicalUUID returns s lower-cased when it is a UUID in its canonical
// 8-4-4-4-12 form.
func canonicalUUID(s string) (string, bool) {
	u, err := uuid.Parse(s)
	if err != nil || len(s) != 36 || !strings.EqualFold(u.String(), s) {
		return "", false
	}
	return u.String(), true
}

// unauthenticated returns an UNAUTHENTICATED error with msg.
func unauthenticated(msg string) *store.Error {
	return &store.Error{Code: store.EUNAUTHENTICATED, Message: msg}
}

// Mint signs an HS256 token for development and tests (claims sub, role in
// lower case, seller_id for sellers, iat, exp = now+ttl so a ttl ≤ 0 gives an
// expired token, iss/aud when configured), returning a plain internal error
// (no store code) for an empty secret, a blank subject, an unknown role, or a
// seller id that is missing or malformed for a SELLER or present for another
// role.
func Mint(cfg TokenConfig, role Role, subject, sellerID string, ttl time.Duration) (string, error) {
	if len(cfg.Secret) == 0 {
		return "", errors.New("access: mint: empty secret")
	}
	if strings.TrimSpace(subject) == "" {
		return "", errors.New("access: mint: a token needs a subject")
	}
	if !role.Valid() {
		return "", fmt.Errorf("access: mint: unknown role %q", role)
	}
	c := claims{Role: strings.ToLower(string(role))}
	if role == RoleSeller {
		id, ok := canonicalUUID(sellerID)
		if !ok {
			return "", errors.New("access: mint: seller role needs a seller id that is a UUID")
		}
		c.SellerID = id
	} else if sellerID != "" {
		return "", fmt.Errorf("access: mint: seller id given for role %s", role)
	}
	now := time.Now()
	c.Subject = subject
	c.IssuedAt = jwt.NewNumericDate(now)
	c.ExpiresAt = jwt.NewNumericDate(now.Add(ttl))
	c.Issuer = cfg.Issuer
	if cfg.Audience != "" {
		c.Audience = jwt.ClaimStrings{cfg.Audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(cfg.Secret)
}
