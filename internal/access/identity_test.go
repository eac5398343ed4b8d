package access

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/partsmarket/gateway/store"
)

// membersOf answers MembershipFunc from a map of subject to seller and role.
func membersOf(m map[string][2]string) MembershipFunc {
	return func(_ context.Context, _, subject string) (string, string, error) {
		if subject == "broken" {
			return "", "", errors.New("database down")
		}
		v := m[subject]
		return v[0], v[1], nil
	}
}

func TestUserTokenMembership(t *testing.T) {
	auth := NewAuthenticator(TokenConfig{Secret: testSecret}, sellerStatus, WithMembership(membersOf(map[string][2]string{
		"olga":  {activeSeller, "OWNER"},
		"sam":   {activeSeller, "STAFF"},
		"shady": {suspendedSeller, "OWNER"},
	})))
	tests := []struct {
		subject string
		want    Principal
		code    string
	}{
		{subject: "uma", want: Principal{Role: RoleUser, Subject: "uma"}},
		{subject: "olga", want: Principal{Role: RoleSeller, Subject: "olga", SellerID: activeSeller, MemberRole: "OWNER"}},
		{subject: "sam", want: Principal{Role: RoleSeller, Subject: "sam", SellerID: activeSeller, MemberRole: "STAFF"}},
		{subject: "shady", code: store.EUNAUTHENTICATED},
		{subject: "broken", code: store.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.subject, func(t *testing.T) {
			tok, err := Mint(TokenConfig{Secret: testSecret}, RoleUser, tt.subject, "", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			got, err := auth.Authenticate(context.Background(), "Bearer "+tok)
			if code := store.ErrorCode(err); code != tt.code {
				t.Fatalf("error %v (code %q), want code %q", err, code, tt.code)
			}
			if tt.code != "" {
				return
			}
			got.ExpiresAt, got.IssuedAt = time.Time{}, time.Time{}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRevokedTokenIsRefused(t *testing.T) {
	var asked struct{ issuer, subject string }
	auth := NewAuthenticator(TokenConfig{Secret: testSecret, Issuer: "https://id.test"}, sellerStatus, WithRevocations(
		func(issuer, subject string, _ time.Time) bool {
			asked.issuer, asked.subject = issuer, subject
			return subject == "mallory"
		}))
	for _, tt := range []struct {
		role    Role
		subject string
		seller  string
		code    string
	}{
		{RoleAdmin, "mallory", "", store.EUNAUTHENTICATED},
		{RoleSeller, "mallory", activeSeller, store.EUNAUTHENTICATED},
		{RoleUser, "mallory", "", store.EUNAUTHENTICATED},
		{RoleAdmin, "alice", "", ""},
	} {
		tok, err := Mint(TokenConfig{Secret: testSecret, Issuer: "https://id.test"}, tt.role, tt.subject, tt.seller, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		_, err = auth.Authenticate(context.Background(), "Bearer "+tok)
		if code := store.ErrorCode(err); code != tt.code {
			t.Errorf("%s %s: code %q, want %q", tt.role, tt.subject, code, tt.code)
		}
		if asked.issuer != "https://id.test" || asked.subject != tt.subject {
			t.Errorf("%s %s: revocation asked about %+v", tt.role, tt.subject, asked)
		}
	}
}

func TestManagesMembers(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    Principal
		want bool
	}{
		{"admin", adminP, true},
		{"owner member", Principal{Role: RoleSeller, Subject: "o", SellerID: ownSeller, MemberRole: "OWNER"}, true},
		{"owner of another seller", Principal{Role: RoleSeller, Subject: "o", SellerID: otherSeller, MemberRole: "OWNER"}, false},
		{"staff member", Principal{Role: RoleSeller, Subject: "s", SellerID: ownSeller, MemberRole: "STAFF"}, false},
		{"seller token", ownerP, false},
		{"analyst", analystP, false},
		{"user", Principal{Role: RoleUser, Subject: "u"}, false},
		{"anonymous", anonP, false},
	} {
		if got := tt.p.ManagesMembers(ownSeller); got != tt.want {
			t.Errorf("%s: ManagesMembers = %v, want %v", tt.name, got, tt.want)
		}
	}
}
