// Package docs holds the project's documentation; its test keeps the
// examples in it valid against the schema.
package docs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

var (
	// graphqlBlock is a fenced GraphQL example.
	graphqlBlock = regexp.MustCompile("(?s)```graphql\n(.*?)```")
	// curlBody is the JSON body of a curl example: -d '…' or the
	// operations part of a multipart upload.
	curlBody = regexp.MustCompile(`(?s)(?:-d |-F operations=)'(\{.*?\})'`)
)

// broken are the examples that show an error on purpose.
var broken = map[string]bool{
	"{ listings( }": true, // errors.md: a parse error
}

// TestExamplesMatchTheSchema validates every GraphQL document of the guide
// (fenced graphql blocks and the query of every curl body) against
// schema.graphql, so that a schema change cannot leave a stale example.
func TestExamplesMatchTheSchema(t *testing.T) {
	src, err := os.ReadFile("../schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "schema.graphql", Input: string(src)})
	files, _ := filepath.Glob("*.md")
	more, _ := filepath.Glob("api/*.md")
	files = append(append(files, more...), "../README.md")
	checked := 0
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var docs []string
		for _, m := range graphqlBlock.FindAllStringSubmatch(string(text), -1) {
			docs = append(docs, m[1])
		}
		for _, m := range curlBody.FindAllStringSubmatch(string(text), -1) {
			var body struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal([]byte(m[1]), &body); err != nil {
				t.Errorf("%s: a curl body is not JSON (%v): %.80s", f, err, m[1])
				continue
			}
			if body.Query != "" {
				docs = append(docs, body.Query)
			}
		}
		for _, d := range docs {
			if broken[d] {
				continue
			}
			checked++
			if _, errs := gqlparser.LoadQuery(schema, d); errs != nil {
				t.Errorf("%s: %v\n%s", f, errs, strings.TrimSpace(d))
			}
		}
	}
	if checked < 30 {
		t.Fatalf("checked only %d examples: the extraction is broken", checked)
	}
}
