package access

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/partsmarket/gateway/store"
)

// maxHeaderLen bounds the Authorization header we bother to parse.
const maxHeaderLen = 8 << 10

// Messages of UNAUTHENTICATED errors: short, and never saying which check
// failed beyond what a client needs (refresh an expired token).
const (
	msgInvalidToken   = "invalid token"
	msgTokenExpired   = "token expired"
	msgSellerNotAllow = "seller is not allowed"
	msgTokenRevoked   = "token revoked"
)

// TokenConfig says how bearer tokens are signed and checked (Issuer and
// Audience only when non-empty); it returns no errors.
type TokenConfig struct {
	// Secret is the HS256 key; an empty Secret refuses every token.
	Secret []byte
	// Issuer, when set, is required as the `iss` claim.
	Issuer string
	// Audience, when set, is required among the `aud` claim's values.
	Audience string
}

// SellerStatusFunc reports a seller's status ("PENDING", "ACTIVE",
// "SUSPENDED"), returning an error with store code NOT_FOUND for an unknown
// seller and any other error for a failure.
type SellerStatusFunc func(ctx context.Context, sellerID string) (string, error)

// MembershipFunc returns the seller a signed-in identity (issuer, subject)
// belongs to and its member role (OWNER or STAFF), both empty when it
// belongs to none; an error is a failure (internal).
type MembershipFunc func(ctx context.Context, issuer, subject string) (sellerID, memberRole string, err error)

// RevokedFunc reports whether the sessions of (issuer, subject) issued at
// issuedAt (zero: unknown) were revoked since; it returns no error and must
// not touch the database (it runs on every signed-in request).
type RevokedFunc func(issuer, subject string, issuedAt time.Time) bool

// Authenticator turns Authorization headers into Principals; its method
// returns UNAUTHENTICATED for bad tokens and internal errors for failures.
type Authenticator struct {
	cfg          TokenConfig
	sellerStatus SellerStatusFunc
	parser       *jwt.Parser
	// membership makes a USER token's identity a SELLER when it belongs to
	// one (nil: every USER stays a USER).
	membership MembershipFunc
	// revoked refuses revoked sessions (nil: none are).
	revoked RevokedFunc
}

// claims are the token's claims: the registered ones plus role, seller_id
// and email.
type claims struct {
	Role     string `json:"role"`
	SellerID string `json:"seller_id,omitempty"`
	Email    string `json:"email,omitempty"`
	jwt.RegisteredClaims
}

// NewAuthenticator returns an Authenticator checking tokens per cfg and seller
// tokens' sellers with sellerStatus; it returns no error (a nil sellerStatus
// makes every seller token fail with an internal error).
func NewAuthenticator(cfg TokenConfig, sellerStatus SellerStatusFunc) *Authenticator {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithStrictDecoding(),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	cfg.Secret = append([]byte(nil), cfg.Secret...)
	return &Authenticator{cfg: cfg, sellerStatus: sellerStatus, parser: jwt.NewParser(opts...)}
}

// WithIdentity makes a use membership to turn members' USER tokens into
// SELLER principals and revoked to refuse revoked sessions, and returns a;
// call it before a serves requests. It returns no error.
func (a *Authenticator) WithIdentity(membership MembershipFunc, revoked RevokedFunc) *Authenticator {
	a.membership, a.revoked = membership, revoked
	return a
}

// Authenticate reads an Authorization header value: "" is the anonymous
// Principal; a present but bad token is a *store.Error with code
// UNAUTHENTICATED; a failure of the seller status lookup is returned as-is
// (an internal error).
func (a *Authenticator) Authenticate(ctx context.Context, header string) (Principal, error) {
	if header == "" {
		return Principal{}, nil
	}
	raw, ok := bearer(header)
	if !ok || len(a.cfg.Secret) == 0 {
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
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Principal{}, unauthenticated(msgTokenExpired)
		}
		return Principal{}, unauthenticated(msgInvalidToken)
	}
	p := Principal{Role: Role(strings.ToUpper(c.Role)), Subject: c.Subject, Issuer: c.Issuer, Email: c.Email}
	if c.ExpiresAt != nil {
		p.ExpiresAt = c.ExpiresAt.Time
	}
	if c.IssuedAt != nil {
		p.IssuedAt = c.IssuedAt.Time
	}
	// Every action is attributed to a subject (audit rows, lead history):
	// a token without one is refused.
	if !p.Role.Valid() || strings.TrimSpace(p.Subject) == "" {
		return Principal{}, unauthenticated(msgInvalidToken)
	}
	if a.revoked != nil && a.revoked(p.Issuer, p.Subject, p.IssuedAt) {
		return Principal{}, unauthenticated(msgTokenRevoked)
	}
	if p.Role == RoleUser {
		return a.member(ctx, p)
	}
	if p.Role != RoleSeller {
		// seller_id means nothing for other roles and grants nothing.
		return p, nil
	}
	id, ok := canonicalUUID(c.SellerID)
	if !ok {
		return Principal{}, unauthenticated(msgInvalidToken)
	}
	if err := a.checkSeller(ctx, id); err != nil {
		return Principal{}, err
	}
	p.SellerID = id
	return p, nil
}

// member returns the USER p as the SELLER its identity is a member of, if
// any; a member of a seller that may not act is refused like a seller token.
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
