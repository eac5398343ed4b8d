package database

import (
	"strings"
	"testing"
)

func TestWithApplicationName(t *testing.T) {
	tests := []struct{ name, in, app, want string }{
		{"URL", "postgres://u@h:5/db?sslmode=disable", "gateway-http",
			"dbname='db' host='h' port='5' sslmode='disable' user='u' application_name='gateway-http'"},
		{"URL replacing application_name", "postgresql://h/db?application_name=x", "gateway-worker",
			"application_name='x' dbname='db' host='h' application_name='gateway-worker'"},
		{"key=value", "host=h dbname=db", `it's \`, `host=h dbname=db application_name='it\'s \\'`},
		{"empty", "", "a", "application_name='a'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := WithApplicationName(tt.in, tt.app)
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	_, err := WithApplicationName("postgres://u:s3cret-pw@%zz/db", "a")
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("bad URL: got error %v, want one without the password", err)
	}
}
