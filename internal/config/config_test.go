package config

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the repository's root, relative to this package.
const root = "../.."

// TestGeneratedFilesAreCurrent fails when docs/configuration.md or
// .env.example differ from what the table generates.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	for path, want := range map[string][]byte{MarkdownPath: Markdown(), EnvExamplePath: EnvExample()} {
		got, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Fatalf("%s: %v (run go generate ./internal/config)", path, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./internal/config and commit it", path)
		}
	}
}

// TestTableIsWellFormed checks that every entry can be documented and read:
// unique names, a group and a line of documentation, and defaults that
// Load accepts (an empty environment is a working development setup).
func TestTableIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Vars {
		if seen[v.Name] {
			t.Errorf("%s is in Vars twice", v.Name)
		}
		seen[v.Name] = true
		if v.Group == "" || v.Doc == "" || v.Kind == "" {
			t.Errorf("%s lacks a group, kind or doc", v.Name)
		}
		if strings.Contains(v.Doc, "\n") || strings.Contains(v.Doc, "|") {
			t.Errorf("%s: the doc must be one line without |", v.Name)
		}
	}
	if _, err := Load(func(string) string { return "" }); err != nil {
		t.Fatalf("the defaults are refused: %v", err)
	}
}

// getenvCall matches a variable read by name in Go source.
var getenvCall = regexp.MustCompile(`(?:getenv|Getenv|LookupEnv)\("([A-Z0-9_]+)"\)`)

// TestEveryVariableReadIsInTheTable scans the repository's non-test Go
// source (bench/ excepted: its programs have settings of their own) for
// variables read with getenv and fails for one missing from Vars, and for
// an entry of Vars that no source outside vars.go names (a dead entry).
func TestEveryVariableReadIsInTheTable(t *testing.T) {
	known := map[string]bool{}
	for _, v := range Vars {
		known[v.Name] = true
	}
	found := 0
	var sources strings.Builder
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == ".data" || d.Name() == "bench" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if filepath.Base(path) != "vars.go" {
			sources.Write(src)
		}
		for _, m := range getenvCall.FindAllStringSubmatch(string(src), -1) {
			found++
			if !known[m[1]] {
				t.Errorf("%s reads %s, which is not in config.Vars", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 3 {
		t.Fatalf("found only %d getenv calls: the scan is broken", found)
	}
	for _, v := range Vars {
		if !strings.Contains(sources.String(), `"`+v.Name+`"`) {
			t.Errorf("%s is in Vars but no source reads it", v.Name)
		}
	}
}

// TestLoadReportsEveryProblemAtOnce gives four bad values and expects one
// error naming each.
func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	env := map[string]string{"PORT": "eighty", "LOADER_WAIT": "soon", "GRAPHIQL": "maybe", "STORAGE": "tape"}
	_, err := Load(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("bad values were accepted")
	}
	for name := range env {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error does not name %s: %v", name, err)
		}
	}
}

// TestDevDefaultsStayOutOfProduction checks that a development default
// (here JWT_SECRET's and GRAPHIQL's) is not used when ENV is production.
func TestDevDefaultsStayOutOfProduction(t *testing.T) {
	dev, err := Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if dev.JWTSecret != DevJWTSecret || !dev.GraphiQL {
		t.Fatalf("development: JWT secret default %v, GraphiQL %v", dev.JWTSecret == DevJWTSecret, dev.GraphiQL)
	}
	prod, err := Load(func(k string) string { return map[string]string{"ENV": "production"}[k] })
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Fatalf("production without JWT_SECRET: %v", err)
	}
	if prod.JWTSecret != "" || prod.GraphiQL {
		t.Fatalf("production inherited development defaults: JWT secret set %v, GraphiQL %v", prod.JWTSecret != "", prod.GraphiQL)
	}
}
