// Package benchkit holds what the benchmark programs under bench share:
// their defaults from the environment, latency percentiles, a GraphQL
// request checked as the load generators check every answer, and a gateway
// binary run as a child process on a fresh, migrated database.
package benchkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// DefaultDatabaseURL is the database server the benchmarks use when neither
// -database-url nor DATABASE_URL names one.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// EnvOr returns the environment variable k, or def when it is unset or empty.
func EnvOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Percentile returns the p-th percentile (nearest rank, p from 0 to 100) of
// sorted, which must be in ascending order; 0 when sorted is empty.
func Percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// graphQLResponse is the part of a GraphQL response PostGraphQL reads.
type graphQLResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// PostGraphQL posts body, a GraphQL request in JSON, to endpoint (with a
// bearer token unless token is "") and returns the data of the answer.
// Anything but HTTP 200 with data and without errors is an error, described
// by the status and the first error's code, message and path.
func PostGraphQL(ctx context.Context, client *http.Client, endpoint string, body []byte, token string) (json.RawMessage, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("HTTP %d: reading the body: %w", resp.StatusCode, err)
	}
	var out graphQLResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("HTTP %d: not a GraphQL response: %.80q", resp.StatusCode, raw)
	}
	if len(out.Errors) > 0 {
		e := out.Errors[0]
		more := ""
		if len(out.Errors) > 1 {
			more = fmt.Sprintf(" (+%d more)", len(out.Errors)-1)
		}
		return nil, fmt.Errorf("HTTP %d: %v: %s at %v%s", resp.StatusCode, e.Extensions["code"], e.Message, e.Path, more)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d without errors", resp.StatusCode)
	}
	if len(out.Data) == 0 || string(out.Data) == "null" {
		return nil, fmt.Errorf("HTTP %d: no data", resp.StatusCode)
	}
	return out.Data, nil
}

// WithDatabase returns databaseURL (URL or key=value form) naming database
// name, in key=value form.
func WithDatabase(databaseURL, name string) (string, error) {
	dsn := databaseURL
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		var err error
		if dsn, err = pq.ParseURL(dsn); err != nil {
			return "", errors.New("-database-url is not a valid postgres:// URL")
		}
	}
	return dsn + " dbname=" + name, nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// RepoRoot returns the module root, three directories above this file's
// package (as compiled, so it holds for go run and go build without
// -trimpath).
func RepoRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "."
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Config says how to run a gateway for a benchmark.
type Config struct {
	// Name is the benchmark's name: the prefix of its temporary directory
	// and of the fresh database's name.
	Name string
	// DatabaseURL is a server on which to create the fresh database.
	DatabaseURL string
	// Bin is the gateway binary; "" builds the repository.
	Bin string
	// Keep keeps the fresh database when the gateway is closed.
	Keep bool
	// Env is more environment for the gateway's commands, after
	// DATABASE_URL, ENV=development, PORT and METRICS_ADDR=127.0.0.1:0.
	Env []string
	// Log is a file for the served gateway's log; "" discards it.
	Log string
}

// Gateway is a gateway binary with its fresh, migrated database, served
// or not yet. Close it when done.
type Gateway struct {
	// Bin is the binary, built or given.
	Bin string
	// DBName is the fresh database's name.
	DBName string
	// DBURL is the fresh database's connection string.
	DBURL string
	// Base is the served gateway's base URL (http://127.0.0.1:port).
	Base string
	// Env is the environment the gateway's commands run with.
	Env []string

	log      string
	serve    *exec.Cmd
	stopOnce sync.Once
	cleanups []func()
}

// Prepare builds the gateway (unless cfg.Bin), creates a fresh database on
// cfg.DatabaseURL's server, picks a free port and migrates the database
// with `gateway migrate up`. It cleans up after itself when it fails.
func Prepare(ctx context.Context, cfg Config) (*Gateway, error) {
	g := &Gateway{log: cfg.Log}
	tmp, err := os.MkdirTemp("", cfg.Name)
	if err != nil {
		return nil, err
	}
	g.cleanups = append(g.cleanups, func() { os.RemoveAll(tmp) })
	fail := func(err error) (*Gateway, error) { g.Close(); return nil, err }
	g.Bin = cfg.Bin
	if g.Bin == "" {
		g.Bin = filepath.Join(tmp, "gateway")
		build := exec.CommandContext(ctx, "go", "build", "-o", g.Bin, ".")
		build.Dir = RepoRoot()
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fail(fmt.Errorf("go build: %w", err))
		}
	}
	admin, err := sqlx.Connect("postgres", cfg.DatabaseURL)
	if err != nil {
		return fail(fmt.Errorf("database server: %w", err))
	}
	g.DBName = fmt.Sprintf("%s_%d", cfg.Name, time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+g.DBName); err != nil {
		admin.Close()
		return fail(err)
	}
	g.cleanups = append(g.cleanups, func() {
		if !cfg.Keep {
			_, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + g.DBName + ` WITH (FORCE)`)
		}
		admin.Close()
	})
	if g.DBURL, err = WithDatabase(cfg.DatabaseURL, g.DBName); err != nil {
		return fail(err)
	}
	port, err := FreePort()
	if err != nil {
		return fail(err)
	}
	g.Base = fmt.Sprintf("http://127.0.0.1:%d", port)
	g.Env = append(os.Environ(),
		"DATABASE_URL="+g.DBURL, "ENV=development", "PORT="+fmt.Sprint(port), "METRICS_ADDR=127.0.0.1:0")
	g.Env = append(g.Env, cfg.Env...)
	migrate := exec.CommandContext(ctx, g.Bin, "migrate", "up")
	migrate.Env, migrate.Stderr = g.Env, os.Stderr
	if err := migrate.Run(); err != nil {
		return fail(fmt.Errorf("migrate: %w", err))
	}
	return g, nil
}

// Start is Prepare, then Serve; it cleans up after itself when it fails.
func Start(ctx context.Context, cfg Config) (*Gateway, error) {
	g, err := Prepare(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := g.Serve(); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

// Serve starts `gateway serve` and waits up to 30 seconds for its /readyz
// to answer 200.
func (g *Gateway) Serve() error {
	serve := exec.Command(g.Bin, "serve")
	serve.Env = g.Env
	if g.log != "" {
		f, err := os.Create(g.log)
		if err != nil {
			return err
		}
		g.cleanups = append(g.cleanups, func() { f.Close() })
		serve.Stderr = f
	}
	if err := serve.Start(); err != nil {
		return err
	}
	g.serve = serve
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(g.Base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("the gateway did not become ready within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop interrupts the served gateway and waits for it to exit (a graceful
// shutdown, which flushes what it buffers), killing it after 30 seconds.
// It does nothing when the gateway is not served, or after the first call.
func (g *Gateway) Stop() {
	g.stopOnce.Do(func() {
		if g.serve == nil {
			return
		}
		_ = g.serve.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = g.serve.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = g.serve.Process.Kill()
			<-done
		}
	})
}

// Close stops the gateway, closes its log, drops its database (unless
// Config.Keep) and removes the built binary.
func (g *Gateway) Close() {
	g.Stop()
	for i := len(g.cleanups) - 1; i >= 0; i-- {
		g.cleanups[i]()
	}
	g.cleanups = nil
}
