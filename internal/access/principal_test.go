package access

import (
	"context"
	"testing"

	"github.com/partsmarket/gateway/store"
)

const (
	ownSeller   = "11111111-1111-4111-8111-111111111111"
	otherSeller = "22222222-2222-4222-8222-222222222222"
)

func TestPrincipal(t *testing.T) {
	tests := []struct {
		name        string
		p           Principal
		wantAnon    bool
		wantScope   store.Scope
		wantManages bool // of ownSeller
	}{
		{name: "anonymous", p: Principal{}, wantAnon: true},
		{name: "admin", p: Principal{Role: RoleAdmin, Subject: "alice"}, wantScope: store.Scope{All: true}, wantManages: true},
		{name: "analyst", p: Principal{Role: RoleAnalyst, Subject: "ann"}, wantScope: store.Scope{All: true}},
		{name: "owning seller", p: Principal{Role: RoleSeller, SellerID: ownSeller}, wantScope: store.Scope{SellerID: ownSeller}, wantManages: true},
		{name: "other seller", p: Principal{Role: RoleSeller, SellerID: otherSeller}, wantScope: store.Scope{SellerID: otherSeller}},
		{name: "analyst with a seller id", p: Principal{Role: RoleAnalyst, SellerID: ownSeller}, wantScope: store.Scope{All: true}},
		{name: "no role with a seller id", p: Principal{SellerID: ownSeller}, wantAnon: true},
		{name: "user sees what the public sees", p: Principal{Role: RoleUser, Subject: "uma"}},
		{name: "user with a seller id manages nothing", p: Principal{Role: RoleUser, Subject: "uma", SellerID: ownSeller}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := tt.p.Anonymous(), tt.wantAnon; got != want {
				t.Errorf("Anonymous() = %v, want %v", got, want)
			}
			if got, want := tt.p.Scope(), tt.wantScope; got != want {
				t.Errorf("Scope() = %+v, want %+v", got, want)
			}
			if got, want := tt.p.Manages(ownSeller), tt.wantManages; got != want {
				t.Errorf("Manages(own) = %v, want %v", got, want)
			}
		})
	}
}

func TestSellerWithoutIDManagesNothing(t *testing.T) {
	p := Principal{Role: RoleSeller}
	if got, want := p.Manages(""), false; got != want {
		t.Errorf("Manages(\"\") = %v, want %v", got, want)
	}
}

func TestContext(t *testing.T) {
	tests := []struct {
		name string
		ctx  context.Context
		want Principal
	}{
		{name: "none is anonymous", ctx: context.Background(), want: Principal{}},
		{name: "set", ctx: WithPrincipal(context.Background(), Principal{Role: RoleSeller, Subject: "bob", SellerID: ownSeller}),
			want: Principal{Role: RoleSeller, Subject: "bob", SellerID: ownSeller}},
		{name: "innermost wins", ctx: WithPrincipal(WithPrincipal(context.Background(), Principal{Role: RoleAdmin}), Principal{Role: RoleAnalyst}),
			want: Principal{Role: RoleAnalyst}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FromContext(tt.ctx); got != tt.want {
				t.Errorf("FromContext() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
