package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lib/pq"
)

// Least privilege: the schema's objects belong to the role that migrates
// (MIGRATE_DATABASE_URL); `gateway serve` connects as another role
// (DATABASE_URL) that owns nothing and holds only the privileges serving
// needs, which GrantServing gives it.

// servingGrants are the privileges of the serving role, given anew on every
// migration run (so that tables added since are covered) in one
// transaction: everything it held is revoked first, so a privilege taken
// away here is taken away from old grants too. It reads and writes rows;
// it never owns, alters, truncates or references anything; the migrations'
// version table is read-only to it (the readiness probe reads it) and the
// audit log append-only (no UPDATE, no DELETE: the triggers that refuse
// them are a second wall, not the first).
var servingGrants = []string{
	`GRANT USAGE ON SCHEMA %[1]s TO %[2]s`,
	`REVOKE ALL ON ALL TABLES IN SCHEMA %[1]s FROM %[2]s`,
	`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %[1]s TO %[2]s`,
	`REVOKE INSERT, UPDATE, DELETE ON %[1]s.goose_db_version FROM %[2]s`,
	`REVOKE UPDATE, DELETE ON %[1]s.audit_events FROM %[2]s`,
	`REVOKE ALL ON ALL SEQUENCES IN SCHEMA %[1]s FROM %[2]s`,
	`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %[1]s TO %[2]s`,
	`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %[1]s TO %[2]s`,
}

// CurrentRole returns the role db's connections act as.
func CurrentRole(ctx context.Context, db *sql.DB) (string, error) {
	var role string
	if err := db.QueryRowContext(ctx, `SELECT current_user`).Scan(&role); err != nil {
		return "", fmt.Errorf("database: current role: %w", err)
	}
	return role, nil
}

// GrantServing gives role, through db (connected as the schema's owner),
// what `gateway serve` needs on every table, sequence and function of the
// current schema, and nothing more (see servingGrants). It is idempotent.
// Granting the owner itself is refused: an owner holds every privilege
// whatever is granted, and a serving owner skips row-level security.
func GrantServing(ctx context.Context, db *sql.DB, role string) error {
	owner, err := CurrentRole(ctx, db)
	if err != nil {
		return err
	}
	if role == owner {
		return fmt.Errorf("database: the serving role %s is the migrating role; give DATABASE_URL a role of its own", role)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var schema string
	if err := tx.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("database: grant: %w", err)
	}
	for _, g := range servingGrants {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(g, pq.QuoteIdentifier(schema), pq.QuoteIdentifier(role))); err != nil {
			return fmt.Errorf("database: grant the serving role %s: %w", role, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("database: grant the serving role %s: %w", role, err)
	}
	return nil
}

// ErrPrivilegedRole says that the serving role could skip row-level
// security or change the schema: CheckServingRole's error wraps it.
var ErrPrivilegedRole = errors.New("the database role may bypass row-level security")

// CheckServingRole returns an error wrapping ErrPrivilegedRole, naming the
// reason, when db's role is a superuser, has BYPASSRLS, or owns (itself or
// through a role it inherits) a table, view or sequence of the current
// schema: each of these skips row-level security or may undo it.
func CheckServingRole(ctx context.Context, db *sql.DB) error {
	var (
		role          string
		super, bypass bool
		owned, owner  sql.NullString
	)
	err := db.QueryRowContext(ctx, `SELECT r.rolname, r.rolsuper, r.rolbypassrls, o.relname, o.owner
		FROM pg_roles r LEFT JOIN LATERAL (
			SELECT c.relname::text, c.relowner::regrole::text AS owner FROM pg_class c
			WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
				AND pg_has_role(c.relowner, 'USAGE')
			ORDER BY c.relname LIMIT 1) o ON true
		WHERE r.rolname = current_user`).Scan(&role, &super, &bypass, &owned, &owner)
	if err != nil {
		return fmt.Errorf("database: check the serving role: %w", err)
	}
	var reason string
	switch {
	case super:
		reason = "is a superuser"
	case bypass:
		reason = "has BYPASSRLS"
	case owned.Valid:
		reason = fmt.Sprintf("owns table %s (as %s)", owned.String, owner.String)
	default:
		return nil
	}
	return fmt.Errorf("database: DATABASE_URL connects as role %s, which %s; serve needs a role that owns nothing "+
		"(migrations run as the owner, MIGRATE_DATABASE_URL): %w", role, reason, ErrPrivilegedRole)
}
