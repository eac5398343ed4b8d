package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/partsmarket/gateway/migrations"
)

// provider returns a goose provider over the embedded migrations, with no
// global state. Up and Down hold a session advisory lock, so gateway
// instances starting together migrate one at a time.
func provider(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("database: migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithDisableGlobalRegistry(true),
		goose.WithSessionLocker(locker),
	)
	if err != nil {
		return nil, fmt.Errorf("database: migrations: %w", err)
	}
	return p, nil
}

// MigrateUp applies every pending migration, each in its own transaction.
func MigrateUp(ctx context.Context, db *sql.DB) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("database: migrate up: %w", err)
	}
	return nil
}

// MigrateDown rolls back the most recently applied migration. It returns an
// error wrapping goose.ErrNoNextVersion when none is applied.
func MigrateDown(ctx context.Context, db *sql.DB) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	if _, err := p.Down(ctx); err != nil {
		if errors.Is(err, goose.ErrNoNextVersion) {
			return fmt.Errorf("database: migrate down: no migration is applied: %w", err)
		}
		return fmt.Errorf("database: migrate down: %w", err)
	}
	return nil
}

// MigrationStatus writes one line per known migration, oldest first: its
// version, its name, and when it was applied (UTC, RFC 3339) or "pending".
// It creates goose's version table if it is missing.
func MigrationStatus(ctx context.Context, db *sql.DB, w io.Writer) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	statuses, err := p.Status(ctx)
	if err != nil {
		return fmt.Errorf("database: migration status: %w", err)
	}
	for _, s := range statuses {
		applied := "pending"
		if s.State == goose.StateApplied {
			applied = s.AppliedAt.UTC().Format(time.RFC3339)
		}
		if _, err := fmt.Fprintf(w, "%05d  %-32s  %s\n", s.Source.Version, migrationName(s.Source.Path), applied); err != nil {
			return err
		}
	}
	return nil
}

// migrationName turns "00001_marketplace.sql" into "marketplace".
func migrationName(file string) string {
	name := strings.TrimSuffix(path.Base(file), path.Ext(file))
	if _, rest, ok := strings.Cut(name, "_"); ok {
		return rest
	}
	return name
}

// MigrationsCurrent reports whether the database holds every embedded
// migration: the schema this binary needs. Migrations the database has and
// the binary does not know (a newer release's) do not count against it, so
// during a rolling deploy an older instance stays ready next to the newer
// ones (migrations are written expand-then-contract: see migrations/README.md).
// It only reads: on a database goose never touched it answers false without
// creating the version table, so it suits a readiness probe.
func MigrationsCurrent(ctx context.Context, db *sql.DB) (bool, error) {
	p, err := provider(db)
	if err != nil {
		return false, err
	}
	var tracked bool
	err = db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_tables
		WHERE schemaname = current_schema() AND tablename = $1)`, goose.DefaultTablename).Scan(&tracked)
	if err != nil {
		return false, fmt.Errorf("database: migration status: %w", err)
	}
	if !tracked {
		return len(p.ListSources()) == 0, nil
	}
	// goose appends a row per up and down; a version's last row says
	// whether it is applied now.
	var applied []int64
	err = sqlx.NewDb(db, "postgres").SelectContext(ctx, &applied, `SELECT version_id FROM (
		SELECT DISTINCT ON (version_id) version_id, is_applied FROM `+goose.DefaultTablename+`
		ORDER BY version_id, id DESC) v WHERE is_applied`)
	if err != nil {
		return false, fmt.Errorf("database: migration status: %w", err)
	}
	have := make(map[int64]bool, len(applied))
	for _, v := range applied {
		have[v] = true
	}
	for _, src := range p.ListSources() {
		if !have[src.Version] {
			return false, nil
		}
	}
	return true, nil
}
