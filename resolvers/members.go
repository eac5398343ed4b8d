package resolvers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/partsmarket/gateway/graph/model"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/loaders"
	"github.com/partsmarket/gateway/store"
)

// Identities is what the membership mutations tell at once about the
// identities they change (identity.Directory), so that this instance's
// next request sees the change without waiting for the database's
// announcement, which the other instances act on.
type Identities interface {
	Forget(id store.Identity)
	Revoke(r store.Revocation)
}

// invitationTTL is how long an invitation's token works.
const invitationTTL = 7 * 24 * time.Hour

// Bounds of the identity arguments.
const (
	maxSubjectLen = 1024
	maxTokenLen   = 128
)

// identityOf returns the identity p signed in as.
func identityOf(p access.Principal) store.Identity {
	return store.Identity{Issuer: p.Issuer, Subject: p.Subject}
}

// changed tells r.Identities, when set, that id's membership changed.
func (r *mutationResolver) changed(id store.Identity) {
	if r.Identities != nil {
		r.Identities.Forget(id)
	}
}

// asUser returns the caller when it is a USER (a signed-in person of no
// seller): FORBIDDEN for anyone else, a seller's member and ADMIN included
// (a person belongs to at most one seller, and operator tokens join none).
func asUser(ctx context.Context) (access.Principal, error) {
	p := access.FromContext(ctx)
	if p.Role != access.RoleUser {
		return p, access.Refuse(p)
	}
	return p, nil
}

func (r *mutationResolver) RegisterSeller(ctx context.Context, input model.CreateSellerInput) (*model.CreateSellerPayload, error) {
	p, err := asUser(ctx)
	if err != nil {
		return nil, err
	}
	n, err := newSeller(ctx, input)
	if err != nil {
		return nil, err
	}
	id := identityOf(p)
	s, err := r.createSeller(ctx, n, func(ctx context.Context, n store.NewSeller) (*store.Seller, error) {
		return r.Store.RegisterSeller(ctx, n, id, p.Email)
	})
	if err != nil {
		return nil, inInput(err)
	}
	r.changed(id)
	return &model.CreateSellerPayload{Seller: s}, nil
}

func (r *mutationResolver) InviteSellerMember(ctx context.Context, sellerID string, email string, role store.MemberRole) (*model.InviteSellerMemberPayload, error) {
	var c check
	email = c.required("email", email, 254)
	c.email("email", email)
	p, err := managingMembers(ctx, sellerID, c)
	if err != nil {
		return nil, err
	}
	token, hash, err := newInvitationToken()
	if err != nil {
		return nil, err
	}
	inv, err := r.Store.InviteSellerMember(ctx, store.NewInvitation{SellerID: sellerID, Email: email, Role: role,
		CreatedBy: p.Subject, Token: token, TokenHash: hash, TTL: invitationTTL})
	if err != nil {
		return nil, err
	}
	return &model.InviteSellerMemberPayload{Invitation: inv}, nil
}

// managingMembers returns the caller when it may manage sellerID's members
// and c found no invalid argument: NOT_FOUND for a caller that does not act
// for the seller (ids reveal nothing), FORBIDDEN for one that acts for it
// but is no OWNER, else c's BAD_USER_INPUT errors.
func managingMembers(ctx context.Context, sellerID string, c check) (access.Principal, error) {
	p := access.FromContext(ctx)
	switch {
	case !p.Manages(sellerID):
		return p, store.NotFound("seller")
	case !p.ManagesMembers(sellerID):
		return p, access.Refuse(p)
	}
	return p, fail(ctx, c.errs.Err())
}

// newInvitationToken returns a new invitation token (256 random bits,
// base64url) and the hash the database keeps of it.
func newInvitationToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

// hashToken is what the database keeps of an invitation token.
func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func (r *mutationResolver) AcceptSellerInvitation(ctx context.Context, token string) (*model.AcceptSellerInvitationPayload, error) {
	p, err := asUser(ctx)
	if err != nil {
		return nil, err
	}
	var c check
	token = c.required("token", token, maxTokenLen)
	if err := c.errs.Err(); err != nil {
		return nil, fail(ctx, err)
	}
	id := identityOf(p)
	s, err := r.Store.AcceptSellerInvitation(ctx, hashToken(token), id)
	if err != nil {
		return nil, err
	}
	r.changed(id)
	return &model.AcceptSellerInvitationPayload{Seller: s}, nil
}

func (r *mutationResolver) RemoveSellerMember(ctx context.Context, sellerID string, subject string) (*model.RemoveSellerMemberPayload, error) {
	var c check
	subject = c.required("subject", subject, maxSubjectLen)
	if _, err := managingMembers(ctx, sellerID, c); err != nil {
		return nil, err
	}
	s, removed, err := r.Store.RemoveSellerMember(ctx, sellerID, subject)
	if err != nil {
		return nil, err
	}
	for _, id := range removed {
		r.changed(id)
	}
	return &model.RemoveSellerMemberPayload{Seller: s}, nil
}

func (r *mutationResolver) RevokeSessions(ctx context.Context, subject string, issuer *string) (*model.RevokeSessionsPayload, error) {
	var c check
	id := store.Identity{Subject: c.required("subject", subject, maxSubjectLen)}
	if iss := c.optional("issuer", issuer, maxSubjectLen); iss != nil {
		id.Issuer = *iss
	}
	if err := c.errs.Err(); err != nil {
		return nil, fail(ctx, err)
	}
	before, err := r.Store.RevokeSessions(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Identities != nil {
		r.Identities.Revoke(store.Revocation{Issuer: id.Issuer, Subject: id.Subject, RevokedBefore: before})
	}
	return &model.RevokeSessionsPayload{RevokedBefore: before}, nil
}

func (r *sellerResolver) Members(ctx context.Context, obj *store.Seller) ([]*store.SellerMember, error) {
	return load(ctx, membersLoader, obj.ID)
}

func (r *viewerResolver) Membership(ctx context.Context, _ *model.Viewer) (*model.Membership, error) {
	p := access.FromContext(ctx)
	if p.Role != access.RoleSeller || p.MemberRole == "" {
		return nil, nil
	}
	return &model.Membership{Role: store.MemberRole(p.MemberRole)}, nil
}

func membersLoader(l *loaders.Loaders) *loaders.Loader[[]*store.SellerMember] { return l.Members }
