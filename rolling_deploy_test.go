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

// releaseBinary returns the gateway built from commit, building it from the
// repository's history (git archive) the first time and keeping it in the
// user's cache directory, keyed by the commit, for the next runs. It also
// returns the names of that commit's migration files. The test fails, never
// skips, without the history: CI runs on a clone that has it.
func releaseBinary(t *testing.T, ctx context.Context, commit string) (bin string, files []string) {
	t.Helper()
	ls := exec.CommandContext(ctx, "git", "ls-tree", "--name-only", commit, "migrations/")
	var out, stderr bytes.Buffer
	ls.Stdout, ls.Stderr = &out, &stderr
	if err := ls.Run(); err != nil {
		t.Fatalf("git ls-tree %s: %v: %s\nThis test builds the previous release from the repository's history: "+
			"run it in a git clone that holds commit %s (a shallow clone needs `git fetch --unshallow`).",
			commit, err, strings.TrimSpace(stderr.String()), commit)
	}
	for _, f := range strings.Fields(out.String()) {
		if strings.HasSuffix(f, ".sql") {
			files = append(files, filepath.Base(f))
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin = filepath.Join(cache, "partsmarket-gateway", "releases", commit, "gateway")
	if _, err := os.Stat(bin); err == nil {
		return bin, files
	}
	dir := t.TempDir()
	archive := exec.CommandContext(ctx, "git", "archive", "--format=tar", commit)
	var tarball bytes.Buffer
	stderr.Reset()
	archive.Stdout, archive.Stderr = &tarball, &stderr
	if err := archive.Run(); err != nil {
		t.Fatalf("git archive %s: %v: %s", commit, err, strings.TrimSpace(stderr.String()))
	}
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", dir)
	untar.Stdin = &tarball
	if out, err := untar.CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	built := filepath.Join(dir, "gateway")
	// Built like the test binary (same flags and environment), so that every
	// dependency comes from the build cache and only the gateway's own
	// packages compile.
	build := exec.CommandContext(ctx, "go", "build", "-o", built, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building commit %s: %v\n%s", commit, err, out)
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	// Renamed into place whole, so a concurrent run never starts half a file.
	tmp := bin + "." + strconv.Itoa(os.Getpid())
	if err := copyFile(built, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	return bin, files
}

// copyFile copies an executable file.
func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}

// TestRollingDeployPreviousRelease: the previous release's binary, served
// against the newest schema (every migration of this tree applied), is ready
// and answers queries: migrations only expand what the previous release
// reads, and a migration newer than a binary does not make it unready.
func TestRollingDeployPreviousRelease(t *testing.T) {
	// The first run builds the previous release: minutes on a busy machine.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	commit := previousRelease(t)
	bin, oldFiles := releaseBinary(t, ctx, commit)

	// The schema is newer than the old binary: this tree has migrations
	// that commit does not (else the test would prove nothing).
	newFiles, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, f := range oldFiles {
		known[f] = true
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
