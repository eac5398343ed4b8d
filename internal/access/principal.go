// Package access decides who is calling and what they may read: principals
// and their request context, bearer tokens (HS256 tokens signed with the
// gateway's secret, and an OpenID Connect provider's tokens checked against
// its key set, see internal/jwks), the schema's access directives (@hasRole,
// @owner, @pii) and the masks analysts see on personal data.
// Refusals are *store.Error values with code UNAUTHENTICATED (a bad token, or
// an anonymous caller where signing in could help) or FORBIDDEN (a denied
// field, argument or mutation); anything else is an internal error.
package access

import (
	"context"
	"time"

	"github.com/partsmarket/gateway/store"
)

// Role is a signed-in principal's role; the GraphQL enum Role is bound to it
// (values are the enum names) and it returns no errors.
type Role string

// The roles of signed-in principals; anonymous callers have the empty Role.
const (
	// RoleAdmin is the operator's staff: everything, every seller.
	RoleAdmin Role = "ADMIN"
	// RoleSeller is a seller's staff: its own seller's rows.
	RoleSeller Role = "SELLER"
	// RoleAnalyst reads everything but admin-only fields, never writes, and
	// sees personal data masked.
	RoleAnalyst Role = "ANALYST"
	// RoleUser is a signed-in subject with no mapped role and no seller: it
	// sees what anonymous callers see, and may act on its own account
	// (register a seller, accept an invitation).
	RoleUser Role = "USER"
)

// Valid reports whether r is one of RoleAdmin, RoleSeller, RoleAnalyst and
// RoleUser; it returns no error code.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleSeller, RoleAnalyst, RoleUser:
		return true
	}
	return false
}

// Principal is who makes a request (the zero value is anonymous); its methods
// return no errors.
type Principal struct {
	// Role is empty for anonymous callers.
	Role Role
	// Subject is the token's `sub` claim; never empty for a signed-in
	// principal.
	Subject string
	// Issuer is the token's `iss` claim (empty when an HS256 token has
	// none). A subject is unique only within its issuer: seller members are
	// keyed by the pair.
	Issuer string
	// SellerID is the seller a SELLER acts for; empty for other roles.
	SellerID string
	// MemberRole is a SELLER's role in its seller ("OWNER", "STAFF") when
	// the seller comes from a membership (MembershipFunc); empty when it
	// comes from a seller_id claim and for other roles.
	MemberRole string
	// IssuedAt is the token's `iat` claim; zero when the token has none
	// (revocation counts such a token as issued before any revocation).
	IssuedAt time.Time
	// ExpiresAt is when the token stops being valid (its exp claim); zero
	// for anonymous callers. A live websocket closes then.
	ExpiresAt time.Time
	// Email is the token's `email` claim, unverified: shown to its owner
	// (viewer) and kept with a membership, never trusted to grant anything.
	Email string
}

// Anonymous reports whether p has no role, i.e. came without a token; it
// returns no error code.
func (p Principal) Anonymous() bool { return p.Role == "" }

// Scope returns the rows p may see beyond the public ones (ADMIN and ANALYST:
// all; SELLER: its seller's; anyone else, USER included: the zero, public
// Scope); it returns no error code.
func (p Principal) Scope() store.Scope {
	switch p.Role {
	case RoleAdmin, RoleAnalyst:
		return store.Scope{All: true}
	case RoleSeller:
		return store.Scope{SellerID: p.SellerID}
	}
	return store.Scope{}
}

// Manages reports whether p may act for sellerID: an ADMIN always, a SELLER
// for its own seller only, an ANALYST, a USER or an anonymous caller never;
// it returns no error code.
func (p Principal) Manages(sellerID string) bool {
	switch p.Role {
	case RoleAdmin:
		return true
	case RoleSeller:
		return p.SellerID != "" && p.SellerID == sellerID
	}
	return false
}

// ManagesMembers reports whether p may invite and remove sellerID's members:
// an ADMIN always, a SELLER only as that seller's OWNER; it returns no error
// code.
func (p Principal) ManagesMembers(sellerID string) bool {
	return p.Role == RoleAdmin || (p.Manages(sellerID) && p.MemberRole == string(store.MemberOwner))
}

// principalKey is the context key of the request's Principal.
type principalKey struct{}

// WithPrincipal returns a copy of ctx carrying p; it returns no error.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the Principal carried by ctx, or the anonymous one when
// there is none; it returns no error.
func FromContext(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

// Owned is implemented by rows that belong to a seller (store.Listing,
// store.Lead, store.Seller, store.ListingReport); OwnerID returns that
// seller's id and no error.
type Owned interface {
	OwnerID() string
}
