package httpapi

import (
	"bytes"
	"net/http"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
)

// schemaSDL serves the schema as SDL (GET /schema.graphql), descriptions
// and access directives included, for tools that read a schema file
// (code generators, schema registries, diff tools). New routes it only when
// introspection is on: it tells exactly what introspection would.
func schemaSDL(s *ast.Schema) http.Handler {
	var b bytes.Buffer
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(s)
	body := b.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(body)
	})
}
