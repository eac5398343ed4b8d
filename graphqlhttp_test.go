package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGraphQLOverHTTPAudit runs the graphql-http audit suite (serverAudits,
// see audit/run.mjs) against the whole gateway on a fresh database: all
// auditsOfGraphQLHTTP audits of the GraphQL over HTTP specification pass,
// the SHOULD and MAY ones as well as the MUST ones. It needs node and npm;
// the audit's dependencies are installed from audit/package-lock.json on
// the first run.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("the GraphQL over HTTP audit needs Node.js (node on PATH): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	if _, err := os.Stat(filepath.Join("audit", "node_modules", "graphql-http")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("audit/node_modules is missing and npm is not on PATH: %v", err)
		}
		cmd := exec.CommandContext(ctx, npm, "ci", "--prefix", "audit", "--no-audit", "--no-fund")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci --prefix audit: %v\n%s", err, out)
		}
	}

	api := newTestAPI(t, nil)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, node, filepath.Join("audit", "run.mjs"), api.URL+"/graphql")
	cmd.Stdout = &out
	cmd.Stderr = &out
	runErr := cmd.Run()

	// Every line with -v; otherwise the failures.
	passed := 0
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[2] == "ok":
			passed++
			if testing.Verbose() {
				t.Logf("%s", line)
			}
		case len(f) >= 3 && f[2] == "fail":
			t.Errorf("%s", line)
		}
	}
	if runErr != nil {
		t.Errorf("graphql-http audit: %v (a MUST audit failed)", runErr)
	}
	if passed != auditsOfGraphQLHTTP {
		t.Errorf("graphql-http audit: %d audits passed, want all %d\n%s", passed, auditsOfGraphQLHTTP, out.String())
	}
}

// auditsOfGraphQLHTTP is how many server audits graphql-http 1.23.1 (the
// version audit/package-lock.json pins) runs.
const auditsOfGraphQLHTTP = 61
