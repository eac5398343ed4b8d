package httpapi

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/partsmarket/gateway/store"
)

func TestOriginAllowed(t *testing.T) {
	allowed := []string{"https://app.example.com", "http://localhost:3000/"}
	for origin, want := range map[string]bool{
		"":                             true, // not a browser
		"https://app.example.com":      true,
		"HTTPS://APP.EXAMPLE.COM":      true,
		"http://localhost:3000":        true,
		"http://gateway.test":          true, // same origin
		"https://evil.example.com":     false,
		"http://app.example.com":       false, // other scheme
		"https://app.example.com:8443": false,
		"null":                         false,
		"::bad":                        false,
	} {
		r := httptest.NewRequest("GET", "http://gateway.test/graphql", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if got := originAllowed(r, allowed); got != want {
			t.Errorf("origin %q: allowed = %v, want %v", origin, got, want)
		}
	}
	r := httptest.NewRequest("GET", "http://gateway.test/graphql", nil)
	r.Header.Set("Origin", "https://anything.example")
	if !originAllowed(r, []string{"*"}) {
		t.Error(`"*" does not allow every origin`)
	}
}

func TestInitAuthorization(t *testing.T) {
	for _, tc := range []struct {
		payload transport.InitPayload
		want    string
		ok      bool
	}{
		{nil, "", true},
		{transport.InitPayload{"other": "x"}, "", true},
		{transport.InitPayload{"Authorization": "Bearer a"}, "Bearer a", true},
		{transport.InitPayload{"authorization": "Bearer b"}, "Bearer b", true},
		{transport.InitPayload{"AUTHORIZATION": "Bearer c"}, "Bearer c", true},
		{transport.InitPayload{"Authorization": 42}, "", false},
	} {
		got, ok := initAuthorization(tc.payload)
		if got != tc.want || ok != tc.ok {
			t.Errorf("initAuthorization(%v) = %q, %v; want %q, %v", tc.payload, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCloseWebsocketOutsideAConnection(t *testing.T) {
	if err := CloseWebsocket(context.Background(), CloseForbidden, "Forbidden"); store.ErrorCode(err) != store.EINTERNAL {
		t.Fatalf("CloseWebsocket without a connection: %v", err)
	}
	ctx := context.WithValue(context.Background(), wsControlKey{}, &wsControl{})
	if err := CloseWebsocket(ctx, CloseForbidden, "Forbidden"); err == nil {
		t.Fatal("CloseWebsocket before the upgrade succeeded")
	}
}
