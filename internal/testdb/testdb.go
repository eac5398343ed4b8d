// Package testdb gives each test package a fresh PostgreSQL database, cloned
// from a migrated template, so tests run against the real thing, isolated
// and fast. Without DATABASE_URL it starts the project's private cluster
// through scripts/db.sh: tests never skip for want of a database.
package testdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the postgres driver

	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/migrations"
)

var (
	serverOnce sync.Once
	serverURL  string
	serverErr  error
	seq        atomic.Int64
)

// ServerURL returns the URL of the PostgreSQL server tests use:
// DATABASE_URL when set, else the private cluster scripts/db.sh starts.
func ServerURL(t testing.TB) string {
	t.Helper()
	serverOnce.Do(func() {
		if serverURL = os.Getenv("DATABASE_URL"); serverURL != "" {
			return
		}
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		out, err := exec.Command(filepath.Join(root, "scripts", "db.sh")).Output()
		serverURL, serverErr = strings.TrimSpace(string(out)), err
	})
	if serverErr != nil || serverURL == "" {
		t.Fatalf("testdb: no PostgreSQL server (scripts/db.sh: %v)", serverErr)
	}
	return serverURL
}

// New returns the URL of a fresh, migrated database that is dropped when the
// test ends.
func New(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	base := ServerURL(t)
	admin, err := sqlx.Connect("postgres", withDatabase(base, "postgres"))
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	defer admin.Close()
	tmpl, err := template(ctx, admin, base)
	if err != nil {
		t.Fatalf("testdb: template: %v", err)
	}
	name := fmt.Sprintf("gw_test_%d_%d", os.Getpid(), seq.Add(1))
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE `+tmpl); err != nil {
		t.Fatalf("testdb: create %s: %v", name, err)
	}
	t.Cleanup(func() {
		admin, err := sqlx.Connect("postgres", withDatabase(base, "postgres"))
		if err != nil {
			t.Errorf("testdb: drop %s: %v", name, err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			t.Errorf("testdb: drop %s: %v", name, err)
		}
	})
	return withDatabase(base, name)
}

// template makes sure the migrated template database for the current
// migrations exists, and returns its name. Concurrent test binaries wait on
// an advisory lock while one of them builds it.
func template(ctx context.Context, admin *sqlx.DB, base string) (string, error) {
	name := "gw_template_" + migrationsHash()
	conn, err := admin.Connx(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(727272)`); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(727272)`)
	var ready bool
	err = conn.GetContext(ctx, &ready, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)`, name)
	if err != nil || ready {
		return name, err
	}
	if _, err := conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return "", err
	}
	db, err := database.Open(ctx, withDatabase(base, name), "gateway-test", 1)
	if err != nil {
		return "", err
	}
	err = database.MigrateUp(ctx, db.DB)
	db.Close()
	if err != nil {
		return "", err
	}
	_, err = conn.ExecContext(ctx, `ALTER DATABASE `+name+` WITH IS_TEMPLATE true`)
	return name, err
}

// migrationsHash names the migrations' current content.
func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := migrations.FS.ReadFile(path)
			h.Write([]byte(path))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// withDatabase returns the server URL pointing at database name.
func withDatabase(serverURL, name string) string {
	u, err := url.Parse(serverURL)
	if err != nil || u.Scheme == "" {
		return serverURL + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}
