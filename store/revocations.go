package store

import (
	"context"
	"time"
)

// IdentityChangedChannel is the PostgreSQL NOTIFY channel on which every
// change of a membership or a revocation is announced when it commits
// (migration 00024's triggers; see internal/identity).
const IdentityChangedChannel = "identity_changed"

// Revocation refuses the tokens of an identity issued before a time; an
// empty Issuer stands for every issuer.
type Revocation struct {
	Issuer        string    `db:"issuer"`
	Subject       string    `db:"subject"`
	RevokedBefore time.Time `db:"revoked_before"`
}

// RevokeSessions revokes every token of id issued before now (the
// database's clock), audited ("sessions.revoke", the subject as target),
// and returns that time; the change is announced on identity_changed by
// the table's trigger. A revocation never moves back in time. It returns
// EINTERNAL-class errors only.
func (s *Store) RevokeSessions(ctx context.Context, id Identity) (time.Time, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return time.Time{}, err
	}
	defer tx.Rollback()
	var before time.Time
	err = tx.GetContext(ctx, &before, `INSERT INTO revocations AS r (issuer, subject, revoked_before) VALUES ($1, $2, now())
		ON CONFLICT (issuer, subject) DO UPDATE SET revoked_before = greatest(r.revoked_before, excluded.revoked_before)
		RETURNING r.revoked_before`, id.Issuer, id.Subject)
	if err != nil {
		return time.Time{}, err
	}
	e := AuditEntry{Action: "sessions.revoke", TargetType: "subject", TargetID: id.Subject,
		Changes: map[string]any{"issuer": Change(nil, id.Issuer)}}
	if err := s.Audit(ctx, tx, e); err != nil {
		return time.Time{}, err
	}
	return before, tx.Commit()
}

// Revocations returns every revocation, for an instance's in-memory set.
func (s *Store) Revocations(ctx context.Context) ([]Revocation, error) {
	var out []Revocation
	err := s.db.SelectContext(ctx, &out, `SELECT issuer, subject, revoked_before FROM revocations`)
	return out, err
}

// RevocationsOf returns the revocations of subject (under any issuer).
func (s *Store) RevocationsOf(ctx context.Context, subject string) ([]Revocation, error) {
	var out []Revocation
	err := s.db.SelectContext(ctx, &out, `SELECT issuer, subject, revoked_before FROM revocations WHERE subject = $1`, subject)
	return out, err
}
