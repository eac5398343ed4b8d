// Command schemacheck reports the breaking changes of a schema against a
// baseline (`make schema-check`): one line each, exit status 1 when there
// is any.
//
//	schemacheck [-baseline schema/baseline.graphql | -baseline git:<tag>] [schema.graphql]
//
// A baseline git:<ref> is schema.graphql as committed at ref (a release
// tag), read with git show.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/partsmarket/gateway/internal/schemadiff"
)

func main() {
	baseline := flag.String("baseline", "schema/baseline.graphql", "the schema of the last release: a file, or git:<tag>")
	flag.Parse()
	current := "schema.graphql"
	if flag.NArg() > 0 {
		current = flag.Arg(0)
	}
	old, err := load(*baseline)
	if err != nil {
		fail(err)
	}
	cur, err := load(current)
	if err != nil {
		fail(err)
	}
	changes := schemadiff.Breaking(old, cur)
	for _, c := range changes {
		fmt.Println(c)
	}
	if len(changes) > 0 {
		fail(fmt.Errorf("%d breaking changes against %s: deprecate with @deprecated(reason: ...) instead of removing or changing", len(changes), *baseline))
	}
	fmt.Printf("schema-check: no breaking change against %s\n", *baseline)
}

// load parses a schema file, or schema.graphql at a git ref ("git:<ref>").
func load(path string) (*ast.Schema, error) {
	var b []byte
	var err error
	if ref, ok := strings.CutPrefix(path, "git:"); ok {
		b, err = exec.Command("git", "show", ref+":schema.graphql").Output()
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, gerr := gqlparser.LoadSchema(&ast.Source{Name: path, Input: string(b)})
	if gerr != nil {
		return nil, fmt.Errorf("%s: %w", path, gerr)
	}
	return s, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "schema-check:", err)
	os.Exit(1)
}
