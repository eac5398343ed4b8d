package store_test

import (
	"testing"

	"github.com/partsmarket/gateway/store"
)

func TestFieldErrorsOptional(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	tests := []struct {
		name    string
		v       *string
		want    *string
		invalid string
	}{
		{"nil is null", nil, nil, ""},
		{"empty is null", str(""), nil, ""},
		{"blank is null", str("  \t"), nil, ""},
		{"trimmed", str("  pump "), str("pump"), ""},
		{"at most max runes", str("éééé"), str("éééé"), ""},
		{"longer than max", str("abcde"), str("abcde"), "note: must be at most 4 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fe store.FieldErrors
			got := fe.Optional("note", tt.v, 4)
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Errorf("Optional = %v, want %v", got, tt.want)
			}
			msg := ""
			if err := fe.Err(); err != nil {
				msg = err.Error()
			}
			if msg != tt.invalid {
				t.Errorf("errors = %q, want %q", msg, tt.invalid)
			}
		})
	}
}
