package main

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/partsmarket/gateway/internal/testdb"
	"github.com/partsmarket/gateway/migrations"
)

// previousRelease returns the commit named by testdata/previous-release.
func previousRelease(t *testing.T) string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "previous-release"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if line := strings.TrimSpace(s.Text()); line != "" && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	t.Fatal("testdata/previous-release names no commit")
	return ""
}

// buildRelease builds the gateway of commit into dir from the repository's
// history (git archive), and returns the binary and the migration files of
// that commit. The test fails, never skips, without the history: CI runs on
// a clone that has it.
func buildRelease(t *testing.T, ctx context.Context, commit, dir string) (bin string, files []string) {
	t.Helper()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	archive := exec.CommandContext(ctx, "git", "archive", "--format=tar", commit)
	var tarball, stderr bytes.Buffer
	archive.Stdout, archive.Stderr = &tarball, &stderr
	if err := archive.Run(); err != nil {
		t.Fatalf("git archive %s: %v: %s\nThis test builds the previous release from the repository's history: "+
			"run it in a git clone that holds commit %s (a shallow clone needs `git fetch --unshallow`).",
			commit, err, strings.TrimSpace(stderr.String()), commit)
	}
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", src)
	untar.Stdin = &tarball
	if out, err := untar.CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	bin = filepath.Join(dir, "gateway-previous")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Dir = src
	build.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building commit %s: %v\n%s", commit, err, out)
	}
	files, err := filepath.Glob(filepath.Join(src, "migrations", "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	return bin, files
}

// TestRollingDeployPreviousRelease: the previous release's binary, served
// against the newest schema (every migration of this tree applied), is ready
// and answers queries: migrations only expand what the previous release
// reads, and a migration newer than a binary does not make it unready.
func TestRollingDeployPreviousRelease(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	commit := previousRelease(t)
	bin, oldFiles := buildRelease(t, ctx, commit, t.TempDir())

	// The schema is newer than the old binary: this tree has migrations
	// that commit does not (else the test would prove nothing).
	newFiles, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, f := range oldFiles {
		known[filepath.Base(f)] = true
	}
	var newer []string
	for _, f := range newFiles {
		if !known[f] {
			newer = append(newer, f)
		}
	}
	if len(newer) == 0 {
		t.Fatalf("commit %s has every migration of this tree; move testdata/previous-release back to a release before the newest migration", commit)
	}
	t.Logf("previous release %.12s serves a schema with %d newer migration(s): %v", commit, len(newer), newer)

	dbURL := testdb.New(t) // migrated with every migration of this tree
	port, metricsPort := httpFreePort(t), httpFreePort(t)
	serve := exec.CommandContext(ctx, bin, "serve")
	serve.Env = append(os.Environ(), "DATABASE_URL="+testdb.ServingURL(t, dbURL), "MIGRATE_DATABASE_URL="+dbURL,
		"PORT="+strconv.Itoa(port), "HOST=127.0.0.1", "METRICS_ADDR=127.0.0.1:"+strconv.Itoa(metricsPort), "ENV=development")
	var logs bytes.Buffer
	serve.Stdout, serve.Stderr = &logs, &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = serve.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = serve.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = serve.Process.Kill()
			<-done
		}
	}()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	var status int
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			status = resp.StatusCode
			resp.Body.Close()
			if status == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the previous release never became ready on the newest schema (last /readyz status %d); its log:\n%s", status, logs.String())
		}
	}
	resp, err := http.Post(base+"/graphql", "application/json",
		strings.NewReader(`{"query":"{ listings(first: 5) { nodes { id title seller { companyName } } totalCount } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body.String(), `"totalCount"`) || strings.Contains(body.String(), `"errors"`) {
		t.Fatalf("a query on the previous release: status %d: %s", resp.StatusCode, body.String())
	}
}
