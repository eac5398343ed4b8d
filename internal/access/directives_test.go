package access

import (
	"context"
	"errors"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/store"
)

const leadEmail = "john.doe@mail.example.com"

// principals of the access matrix.
var (
	anonP    = Principal{}
	ownerP   = Principal{Role: RoleSeller, Subject: "bob", SellerID: ownSeller}
	otherP   = Principal{Role: RoleSeller, Subject: "carol", SellerID: otherSeller}
	analystP = Principal{Role: RoleAnalyst, Subject: "ann"}
	adminP   = Principal{Role: RoleAdmin, Subject: "alice"}
	userP    = Principal{Role: RoleUser, Subject: "uma", Issuer: "https://id.example"}
	ownerM   = Principal{Role: RoleSeller, Subject: "olga", SellerID: ownSeller, MemberRole: "OWNER"}
	staffM   = Principal{Role: RoleSeller, Subject: "sam", SellerID: ownSeller, MemberRole: "STAFF"}
	matrix   = []struct {
		name string
		p    Principal
	}{
		{"anonymous", anonP},
		{"owning seller", ownerP},
		{"other seller", otherP},
		{"analyst", analystP},
		{"admin", adminP},
		{"user", userP},
		{"owner member", ownerM},
		{"staff member", staffM},
	}
)

// directive is one of the access directives bound to its arguments.
type directive func(ctx context.Context, obj any, next graphql.Resolver) (any, error)

// spyNext returns a resolver answering v and a pointer to whether it ran.
func spyNext(v any) (graphql.Resolver, *bool) {
	called := new(bool)
	return func(context.Context) (any, error) {
		*called = true
		return v, nil
	}, called
}

// outcome is what a directive did for one principal.
type outcome struct {
	called bool
	value  any // want value when allowed (nil when denied)
	code   string
}

func TestDirectiveMatrix(t *testing.T) {
	directives := map[string]directive{
		"hasRole[ADMIN]": func(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
			return HasRole(ctx, obj, next, []Role{RoleAdmin})
		},
		"hasRole[SELLER]": func(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
			return HasRole(ctx, obj, next, []Role{RoleSeller})
		},
		"hasRole[SELLER,ANALYST]": func(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
			return HasRole(ctx, obj, next, []Role{RoleSeller, RoleAnalyst})
		},
		"hasRole[USER]": func(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
			return HasRole(ctx, obj, next, []Role{RoleUser})
		},
		"owner": Owner,
		"pii(EMAIL)": func(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
			return Pii(ctx, obj, next, MaskEmail)
		},
	}
	allow := outcome{called: true, value: leadEmail}
	deny := outcome{code: store.EFORBIDDEN}
	signIn := outcome{code: store.EUNAUTHENTICATED}
	masked := outcome{called: true, value: "j***@***.com"}
	want := map[string]map[string]outcome{
		"hasRole[ADMIN]": {
			"anonymous": signIn, "owning seller": deny, "other seller": deny, "analyst": deny, "admin": allow,
			"user": deny, "owner member": deny, "staff member": deny,
		},
		"hasRole[SELLER]": {
			"anonymous": signIn, "owning seller": allow, "other seller": allow, "analyst": deny, "admin": allow,
			"user": deny, "owner member": allow, "staff member": allow,
		},
		"hasRole[SELLER,ANALYST]": {
			"anonymous": signIn, "owning seller": allow, "other seller": allow, "analyst": allow, "admin": allow,
			"user": deny, "owner member": allow, "staff member": allow,
		},
		"hasRole[USER]": {
			"anonymous": signIn, "owning seller": deny, "other seller": deny, "analyst": deny, "admin": allow,
			"user": allow, "owner member": deny, "staff member": deny,
		},
		"owner": {
			"anonymous": signIn, "owning seller": allow, "other seller": deny, "analyst": allow, "admin": allow,
			"user": deny, "owner member": allow, "staff member": allow,
		},
		"pii(EMAIL)": {
			"anonymous": signIn, "owning seller": allow, "other seller": deny, "analyst": masked, "admin": allow,
			"user": deny, "owner member": allow, "staff member": allow,
		},
	}
	objs := map[string]Owned{
		"lead":    &store.Lead{ID: "l1", SellerID: ownSeller, Email: leadEmail},
		"listing": &store.Listing{ID: "x1", SellerID: ownSeller},
		"seller":  &store.Seller{ID: ownSeller},
		"report":  &store.ListingReport{ID: "r1", SellerID: ownSeller},
	}
	for dname, d := range directives {
		for oname, obj := range objs {
			for _, pr := range matrix {
				t.Run(dname+"/"+oname+"/"+pr.name, func(t *testing.T) {
					w := want[dname][pr.name]
					next, called := spyNext(leadEmail)
					got, err := d(WithPrincipal(context.Background(), pr.p), obj, next)
					if gotCode := store.ErrorCode(err); gotCode != w.code {
						t.Errorf("error = %v (code %q), want code %q", err, gotCode, w.code)
					}
					if *called != w.called {
						t.Errorf("next called = %v, want %v", *called, w.called)
					}
					if got != w.value {
						t.Errorf("value = %#v, want %#v", got, w.value)
					}
					wantMsg := map[string]string{store.EFORBIDDEN: msgForbidden, store.EUNAUTHENTICATED: msgSignIn}[w.code]
					if w.code != "" && err.Error() != wantMsg {
						t.Errorf("message = %q, want %q", err.Error(), wantMsg)
					}
				})
			}
		}
	}
}

func TestPiiKeepsGoType(t *testing.T) {
	type email string
	phone := "+1 (555) 010-1234"
	var nilStr *string
	obj := &store.Lead{SellerID: ownSeller}
	tests := []struct {
		name  string
		mask  PiiMask
		value any
		check func(t *testing.T, got any)
	}{
		{name: "string", mask: MaskEmail, value: leadEmail, check: func(t *testing.T, got any) {
			if s, ok := got.(string); !ok || s != "j***@***.com" {
				t.Errorf("got %#v, want string %q", got, "j***@***.com")
			}
		}},
		{name: "*string", mask: MaskPhone, value: &phone, check: func(t *testing.T, got any) {
			p, ok := got.(*string)
			if !ok || p == nil || *p != "*** **34" {
				t.Errorf("got %#v, want *string to %q", got, "*** **34")
			}
			if phone != "+1 (555) 010-1234" {
				t.Errorf("original value changed to %q", phone)
			}
		}},
		{name: "nil *string stays nil *string", mask: MaskPhone, value: nilStr, check: func(t *testing.T, got any) {
			if p, ok := got.(*string); !ok || p != nil {
				t.Errorf("got %#v, want (*string)(nil)", got)
			}
		}},
		{name: "nil stays nil", mask: MaskText, value: nil, check: func(t *testing.T, got any) {
			if got != nil {
				t.Errorf("got %#v, want nil", got)
			}
		}},
		{name: "named string type", mask: MaskName, value: email("jane"), check: func(t *testing.T, got any) {
			if s, ok := got.(email); !ok || s != "J." {
				t.Errorf("got %#v, want email(%q)", got, "J.")
			}
		}},
	}
	ctx := WithPrincipal(context.Background(), analystP)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, _ := spyNext(tt.value)
			got, err := Pii(ctx, obj, next, tt.mask)
			if err != nil {
				t.Fatalf("Pii() error = %v", err)
			}
			tt.check(t, got)
		})
	}
}

func TestPiiAnalystUnmaskableIsInternal(t *testing.T) {
	next, _ := spyNext(42)
	got, err := Pii(WithPrincipal(context.Background(), analystP), &store.Lead{SellerID: ownSeller}, next, MaskText)
	if gotCode, wantCode := store.ErrorCode(err), store.EINTERNAL; gotCode != wantCode {
		t.Errorf("code = %q, want %q", gotCode, wantCode)
	}
	if got != nil {
		t.Errorf("value = %#v, want nil", got)
	}
}

func TestPiiAnalystResolverErrorHidesValue(t *testing.T) {
	boom := errors.New("boom")
	next := func(context.Context) (any, error) { return leadEmail, boom }
	got, err := Pii(WithPrincipal(context.Background(), analystP), &store.Lead{SellerID: ownSeller}, next, MaskEmail)
	if !errors.Is(err, boom) {
		t.Errorf("error = %v, want %v", err, boom)
	}
	if got != nil {
		t.Errorf("value = %#v, want nil", got)
	}
}

func TestNotOwnedIsInternal(t *testing.T) {
	var nilLead *store.Lead
	objs := map[string]any{
		"nil":             nil,
		"value not ptr":   store.Lead{SellerID: ownSeller},
		"media":           &store.Media{},
		"nil *store.Lead": nilLead,
	}
	pii := func(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
		return Pii(ctx, obj, next, MaskEmail)
	}
	tests := []struct {
		name string
		d    directive
		p    Principal
	}{
		{"owner/admin", Owner, adminP},
		{"owner/analyst", Owner, analystP},
		{"owner/seller", Owner, ownerP},
		{"owner/anonymous", Owner, anonP},
		{"pii/seller", pii, ownerP},
	}
	for _, tt := range tests {
		for oname, obj := range objs {
			t.Run(tt.name+"/"+oname, func(t *testing.T) {
				next, called := spyNext(leadEmail)
				got, err := tt.d(WithPrincipal(context.Background(), tt.p), obj, next)
				if gotCode, wantCode := store.ErrorCode(err), store.EINTERNAL; gotCode != wantCode {
					t.Errorf("code = %q (%v), want %q", gotCode, err, wantCode)
				}
				if *called {
					t.Errorf("next called = true, want false")
				}
				if got != nil {
					t.Errorf("value = %#v, want nil", got)
				}
			})
		}
	}
}

// inputField runs HasRole(roles) as gqlgen runs it on an input field: inside
// the field context of fieldName (a root field), with the path of the
// argument (e.g. "filter", "email"), obj the raw input object and next the
// unmarshalling of value.
func inputField(p Principal, roles []Role, fieldName string, arg []string, value any) (any, bool, error) {
	ctx := WithPrincipal(context.Background(), p)
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "Query", Field: graphql.CollectedField{Field: &ast.Field{Alias: fieldName, Name: fieldName}}})
	for _, a := range arg {
		ctx = graphql.WithPathContext(ctx, graphql.NewPathWithField(a))
	}
	next, called := spyNext(value)
	v, err := HasRole(ctx, map[string]any{arg[len(arg)-1]: value}, next, roles)
	return v, *called, err
}

func TestHasRoleOnInputField(t *testing.T) {
	email := leadEmail
	empty := ""
	var none *string
	sellers := []Role{RoleSeller}
	for _, pr := range matrix {
		t.Run(pr.name, func(t *testing.T) {
			allowed := pr.p.Role == RoleAdmin || pr.p.Role == RoleSeller
			got, _, err := inputField(pr.p, sellers, "leads", []string{"filter", "email"}, &email)
			if allowed {
				if err != nil || got != &email {
					t.Fatalf("got %v, %v; want the value", got, err)
				}
				return
			}
			if got != nil {
				t.Errorf("value = %v, want nil", got)
			}
			var ge *gqlerror.Error
			if !errors.As(err, &ge) {
				t.Fatalf("error = %#v, want a *gqlerror.Error", err)
			}
			var se *store.Error
			if !errors.As(err, &se) {
				t.Fatalf("error = %#v, want a *store.Error inside", err)
			}
			wantCode, wantMsg := store.EFORBIDDEN, msgForbiddenArg
			if pr.p.Anonymous() {
				wantCode, wantMsg = store.EUNAUTHENTICATED, msgSignInForArg
			}
			if se.Code != wantCode || se.Message != wantMsg || se.Field != "filter.email" {
				t.Errorf("error = %+v, want code %s, message %q, field filter.email", se, wantCode, wantMsg)
			}
			if got := ge.Path.String(); got != "leads" {
				t.Errorf("path = %q, want the field's path, leads", got)
			}
			// Leaving the argument unset tells nothing: anyone may.
			for name, v := range map[string]any{"null": nil, "nil *string": none, "empty": &empty} {
				got, called, err := inputField(pr.p, sellers, "leads", []string{"filter", "email"}, v)
				if err != nil || !called || got != v {
					t.Errorf("%s: got %v, %v (next called %v); want the unset value", name, got, err, called)
				}
			}
		})
	}
}

func TestRefuse(t *testing.T) {
	for _, pr := range matrix {
		want := store.EFORBIDDEN
		if pr.p.Anonymous() {
			want = store.EUNAUTHENTICATED
		}
		if got := Refuse(pr.p).Code; got != want {
			t.Errorf("Refuse(%s) = %s, want %s", pr.name, got, want)
		}
	}
}
