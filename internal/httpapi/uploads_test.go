package httpapi

import (
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// TestPlaceUpload: a map path puts the file only at a null value the
// variables hold; any other path is refused, never a panic.
func TestPlaceUpload(t *testing.T) {
	vars := func() map[string]any {
		return map[string]any{
			"file":  nil,
			"files": []any{nil, "set"},
			"in":    map[string]any{"file": nil, "list": []any{map[string]any{"f": nil}}},
			"n":     3,
		}
	}
	cases := map[string]bool{
		"variables.file":            true,
		"variables.absent":          true, // an object key may be absent (null)
		"variables.files.0":         true,
		"variables.in.file":         true,
		"variables.in.list.0.f":     true,
		"variables.files.1":         false, // not null
		"variables.files.2":         false,
		"variables.files.-1":        false,
		"variables.files.x":         false,
		"variables.files.0.x":       false,
		"variables.file.0":          false,
		"variables.n.0":             false,
		"variables.n":               false,
		"variables.in.list.9.f":     false,
		"variables.absent.0":        false,
		"variables":                 false,
		"file":                      false,
		"":                          false,
		"variables.files.999999999": false,
		"variables.files.99999999999999999999999": false,
	}
	for path, want := range cases {
		v := vars()
		if got := placeUpload(v, path, graphql.Upload{Filename: "f"}); got != want {
			t.Errorf("%q: placed %v, want %v", path, got, want)
		}
	}
	if placeUpload(nil, "variables.file", graphql.Upload{}) {
		t.Error("placed a file in absent variables")
	}
	v := vars()
	placeUpload(v, "variables.in.list.0.f", graphql.Upload{Filename: "deep"})
	if u, _ := v["in"].(map[string]any)["list"].([]any)[0].(map[string]any)["f"].(graphql.Upload); u.Filename != "deep" {
		t.Errorf("the file is not where the path says: %v", v["in"])
	}
}
