package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// RetentionPolicy says what a retention run removes.
type RetentionPolicy struct {
	// LeadDays: leads and reports older than this many days are anonymised
	// (LEAD_RETENTION_DAYS).
	LeadDays int
	// EventDays: raw events older than this many days are deleted
	// (EVENT_RETENTION_DAYS); their counts live on in the daily rollups.
	EventDays int
	// BatchSize is how many rows one transaction changes.
	BatchSize int
}

// RetentionCounts says what a retention run did.
type RetentionCounts struct {
	// Leads and Reports are the rows anonymised (a report only when it had
	// a reporter email).
	Leads, Reports int
	// Events is the number of raw events deleted.
	Events int
	// Invitations is the number of expired seller invitations deleted
	// (with the invited email they hold).
	Invitations int
}

// RunRetention anonymises, as ErasePersonalData does, the leads and reports
// created more than p.LeadDays days ago that still hold personal data, and
// deletes the raw events older than p.EventDays days and the seller
// invitations that have expired, p.BatchSize rows per
// transaction, skipping rows that other transactions hold (the next run
// takes them). progress, when not nil, is told the running counts after
// each batch. Nothing is done twice, so runs are idempotent. One
// privacy.retention audit event (no actor: the system) records the counts
// and the policy, also when the run fails half-way, since what it did stays
// done. EINTERNAL-class errors only.
func (s *Store) RunRetention(ctx context.Context, p RetentionPolicy, progress func(RetentionCounts)) (c RetentionCounts, err error) {
	now := time.Now()
	leadCutoff, eventCutoff := now.AddDate(0, 0, -p.LeadDays), now.AddDate(0, 0, -p.EventDays)
	defer func() {
		auditErr := s.Audit(context.WithoutCancel(ctx), s.db.primary, AuditEntry{Action: AuditPrivacyRetention, TargetType: "retention",
			Changes: map[string]any{"anonymizedLeads": c.Leads, "anonymizedReports": c.Reports, "deletedEvents": c.Events, "deletedInvitations": c.Invitations,
				"leadRetentionDays": p.LeadDays, "eventRetentionDays": p.EventDays, "completed": err == nil}})
		if err == nil {
			err = auditErr
		}
	}()
	tell := func() {
		if progress != nil {
			progress(c)
		}
	}
	steps := []struct {
		count *int
		batch string
		arg   time.Time
	}{
		{&c.Leads, `WITH batch AS (SELECT id FROM leads WHERE created_at < $1 AND anonymized_at IS NULL
			ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
			UPDATE leads d SET ` + anonymizeLead + ` FROM batch WHERE d.id = batch.id`, leadCutoff},
		{&c.Reports, `WITH batch AS (SELECT id FROM listing_reports WHERE created_at < $1 AND reporter_pii IS NOT NULL
			ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
			UPDATE listing_reports r SET ` + anonymizeReport + ` FROM batch WHERE r.id = batch.id`, leadCutoff},
		{&c.Invitations, `DELETE FROM seller_invitations WHERE id IN (SELECT id FROM seller_invitations
			WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, now},
	}
	for _, st := range steps {
		for {
			n, err := s.execBatch(ctx, st.batch, st.arg, p.BatchSize)
			if err != nil {
				return c, err
			}
			if n == 0 {
				break
			}
			*st.count += n
			tell()
		}
	}
	err = s.deleteRawEvents(ctx, eventCutoff, p.BatchSize, func(n int) {
		c.Events += n
		tell()
	})
	return c, err
}

// deleteRawEvents deletes the raw events created before cutoff, batchSize
// per statement, telling deleted the size of each batch. The daily rollups
// already count them, so no figure changes. Without an events table there is
// nothing to do.
func (s *Store) deleteRawEvents(ctx context.Context, cutoff time.Time, batchSize int, deleted func(int)) error {
	var exists bool
	if err := s.db.primary.GetContext(ctx, &exists, `SELECT to_regclass('events') IS NOT NULL`); err != nil || !exists {
		return err
	}
	for {
		n, err := s.execBatch(ctx, `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE created_at < $1 LIMIT $2)`,
			cutoff, batchSize)
		if err != nil || n == 0 {
			return err
		}
		deleted(n)
	}
}

// execBatch runs one batch statement (arguments: a cutoff and a batch size)
// in a transaction of its own that sees every row, and returns how many rows
// it changed.
func (s *Store) execBatch(ctx context.Context, q string, cutoff time.Time, batchSize int) (int, error) {
	var n int64
	err := s.db.onPrimary().inScope(ctx, everything, nil, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, q, cutoff, batchSize)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
