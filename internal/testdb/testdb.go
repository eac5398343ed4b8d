// Package testdb gives tests a fresh PostgreSQL database each, cloned from a
// migrated template, so they run against the real thing, isolated and fast.
//
// The server is DATABASE_URL when set; otherwise the repository's
// scripts/db.sh finds or starts the private development cluster. Tests are
// never skipped for want of a database.
//
// The databases have the production split of roles (scripts/dev_roles.sql,
// created on the server when missing): gateway_owner owns every object and
// ran the migrations, gateway_app is granted what serving needs. New
// returns the server's own URL (a superuser, for fixtures that must see and
// change everything); ServingURL turns it into gateway_app's, for the code
// under test. Templates get the extensions that only a superuser can
// create and that the migrations use when present (rum), when the server
// has them installed.
package testdb

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/lib/pq" // registers the "postgres" driver for the admin pool

	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/migrations"
)

// Role names and passwords of scripts/dev_roles.sql.
const (
	ownerRole   = "gateway_owner"
	servingRole = "gateway_app"
)

// templateLockKey is the pg_advisory_lock key (on the server's postgres
// database) that test processes hold while one of them builds a template.
const templateLockKey int64 = 0x67617465_74657374 // "gatetest"

var (
	serverOnce sync.Once
	serverURL  string
	serverErr  error

	adminMu sync.Mutex
	adminDB *sql.DB

	templateMu    sync.Mutex
	templateReady string // name of the template this process has checked

	dbSeq atomic.Int64
)

// ServerURL returns the URL of the PostgreSQL server tests use: DATABASE_URL
// when set, else the URL scripts/db.sh prints after starting the private
// cluster. It is looked up once per process; the test fails when there is no
// server.
func ServerURL(t testing.TB) string {
	t.Helper()
	serverOnce.Do(func() { serverURL, serverErr = findServer() })
	if serverErr != nil {
		t.Fatalf("testdb: %v", serverErr)
	}
	return serverURL
}

// findServer returns DATABASE_URL or runs scripts/db.sh.
func findServer() (string, error) {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u, nil
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("DATABASE_URL is unset and the repository root is unknown")
	}
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "db.sh")
	// Installing PostgreSQL on a fresh machine can take minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("DATABASE_URL is unset and %s failed: %v\n%s", script, err, lastLines(stderr.String(), 20))
	}
	u := strings.TrimSpace(string(out))
	if u == "" || strings.Contains(u, "\n") {
		return "", fmt.Errorf("%s printed %d lines, want one URL", script, strings.Count(u, "\n")+1)
	}
	return u, nil
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// New creates a fresh database, a clone of the migrated template, and returns
// its URL (in the same form as ServerURL's). The database is dropped when the
// test and its subtests end, even if connections to it are still open.
func New(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	base := ServerURL(t)
	admin, err := adminPool(base)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	tmpl, err := ensureTemplate(ctx, admin, base)
	if err != nil {
		t.Fatalf("testdb: template: %v", err)
	}
	name := newName()
	// A clone keeps the template's objects with their owners and grants;
	// the database itself is owned by whoever OWNER names.
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE `+tmpl+` OWNER `+ownerRole); err != nil {
		t.Fatalf("testdb: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("testdb: drop database %s: %v", name, err)
		}
	})
	u, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return u
}

// ServingURL returns u (a URL from New) as the serving role gateway_app
// connects to it: what the gateway's DATABASE_URL is in production, a role
// that owns nothing and is bound by row-level security.
func ServingURL(t testing.TB, u string) string {
	t.Helper()
	v, err := withRole(u, servingRole)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return v
}

// OwnerURL returns u (a URL from New) as the owner of its objects,
// gateway_owner, connects to it: what MIGRATE_DATABASE_URL is.
func OwnerURL(t testing.TB, u string) string {
	t.Helper()
	v, err := withRole(u, ownerRole)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return v
}

// newName returns a database name unique across concurrent test processes:
// pid, a per-process counter and random bytes (in case processes on several
// machines share a server).
func newName() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("gateway_test_%d_%d_%s", os.Getpid(), dbSeq.Add(1), hex.EncodeToString(b))
}

// adminPool returns this process's pool on the server's postgres database.
// It is a plain lib/pq pool, so its statements are not counted by package
// database.
func adminPool(base string) (*sql.DB, error) {
	adminMu.Lock()
	defer adminMu.Unlock()
	if adminDB != nil {
		return adminDB, nil
	}
	u, err := withDatabase(base, "postgres")
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("postgres", u)
	if err != nil {
		return nil, err
	}
	db.SetMaxIdleConns(2)
	db.SetConnMaxIdleTime(30 * time.Second)
	if err := db.Ping(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to the server's postgres database: %w", err)
	}
	adminDB = db
	return db, nil
}

// templateName returns the name of the template database for the current
// migrations: it changes whenever a migration file's name or content does.
func templateName() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	// The way the template is built is part of its name too.
	fmt.Fprintf(h, "roles %s %s\x00extensions rum\x00", ownerRole, servingRole)
	return "gateway_tmpl_" + hex.EncodeToString(h.Sum(nil))[:16]
}

// ensureTemplate makes sure the migrated template exists and returns its
// name. Processes racing to build it queue on an advisory lock; the one that
// builds it marks it IS_TEMPLATE last, so a half-built template (from a
// process that died) is never used but rebuilt.
func ensureTemplate(ctx context.Context, admin *sql.DB, base string) (string, error) {
	templateMu.Lock()
	defer templateMu.Unlock()
	name := templateName()
	if templateReady == name {
		return name, nil
	}
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, templateLockKey); err != nil {
		return "", err
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, templateLockKey)
	}()

	var ready bool
	err = conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)`, name).Scan(&ready)
	if err != nil {
		return "", err
	}
	if !ready {
		if err := createRoles(ctx, conn); err != nil {
			return "", err
		}
		if err := buildTemplate(ctx, conn, base, name); err != nil {
			return "", err
		}
	}
	templateReady = name
	return name, nil
}

// createRoles runs scripts/dev_roles.sql: the owner and serving roles,
// created when missing.
func createRoles(ctx context.Context, conn *sql.Conn) error {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return errors.New("the repository root is unknown")
	}
	script, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "scripts", "dev_roles.sql"))
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, string(script)); err != nil {
		return fmt.Errorf("create the roles %s and %s (does DATABASE_URL's role have CREATEROLE?): %w", ownerRole, servingRole, err)
	}
	return nil
}

// buildTemplate (re)creates database name, owned by the owner role, migrates
// it as that role, grants the serving role what serving needs, and marks it
// a template that accepts no connections, so cloning it never finds it busy.
func buildTemplate(ctx context.Context, conn *sql.Conn, base, name string) error {
	if _, err := conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+name+` OWNER `+ownerRole); err != nil {
		return err
	}
	u, err := withDatabase(base, name)
	if err != nil {
		return err
	}
	if err := createExtensions(ctx, u); err != nil {
		return err
	}
	u, err = withRole(u, ownerRole)
	if err != nil {
		return err
	}
	db, err := sql.Open("postgres", u)
	if err != nil {
		return err
	}
	err = database.MigrateUp(ctx, db)
	if err == nil {
		err = database.GrantServing(ctx, db, servingRole)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `ALTER DATABASE `+name+` WITH ALLOW_CONNECTIONS false IS_TEMPLATE true`)
	return err
}

// createExtensions creates, as the server URL's role, the extensions the
// migrations use when present but cannot create themselves (they run as
// the owner role and these are not trusted): rum, for the ordered search
// index (migration 00023), when the server has it installed. scripts/db.sh
// installs it with the private cluster; a server without it gives
// templates without it, and the tests of the ordered search then fail
// saying so.
func createExtensions(ctx context.Context, u string) error {
	db, err := sql.Open("postgres", u)
	if err != nil {
		return err
	}
	defer db.Close()
	var available bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'rum')`).Scan(&available); err != nil {
		return err
	}
	if !available {
		return nil
	}
	if _, err := db.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS rum`); err != nil {
		return fmt.Errorf("create extension rum (is DATABASE_URL's role a superuser?): %w", err)
	}
	return nil
}

// withRole returns u (URL or key=value form) signing in as role, whose
// password is its name (scripts/dev_roles.sql). Errors never quote u.
func withRole(u, role string) (string, error) {
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		p, err := url.Parse(u)
		if err != nil {
			return "", errors.New("the database URL is not a valid URL")
		}
		p.User = url.UserPassword(role, role)
		return p.String(), nil
	}
	// In key=value form a later key wins.
	return strings.TrimSpace(u + " user=" + role + " password=" + role), nil
}

// withDatabase returns serverURL (URL or key=value form) naming database
// name instead of its own. Errors never quote serverURL.
func withDatabase(serverURL, name string) (string, error) {
	if strings.HasPrefix(serverURL, "postgres://") || strings.HasPrefix(serverURL, "postgresql://") {
		u, err := url.Parse(serverURL)
		if err != nil {
			return "", errors.New("the database server URL is not a valid URL")
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In key=value form a later key wins.
	return strings.TrimSpace(serverURL + " dbname=" + name), nil
}
