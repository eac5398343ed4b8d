package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// NotificationDueChannel is the PostgreSQL NOTIFY channel on which a lead id
// is announced when its notification is queued again (resendNotification),
// so that a notification worker wakes up at once. New leads are announced on
// LeadReceivedChannel instead.
const NotificationDueChannel = "lead_notification_due"

const notificationColumns = `n.lead_id, n.status, n.attempts, n.next_attempt_at, n.last_attempt_at, n.last_error, n.sent_at,
	n.created_at`

// NotificationFilter narrows the list of notifications.
type NotificationFilter struct {
	Status *NotificationStatus
}

// notificationsNewest orders notifications newest first.
var notificationsNewest = keyset{name: "notifications", key: "n.created_at", cast: "timestamptz", id: "n.lead_id", desc: true}

// notificationRow is a notification with its cursor's sort key.
type notificationRow struct {
	LeadNotification
	SortKey string `db:"sort_key"`
}

func (r *notificationRow) cursorKey() (string, string) { return r.SortKey, r.LeadID }

// where adds f's conditions to q.
func (f NotificationFilter) where(q *query) {
	if f.Status != nil {
		q.and("n.status = " + q.arg(string(*f.Status)))
	}
}

// Notifications returns one page of the lead notifications that match f,
// newest first (forwards or backwards per p); an admin's outbox view, so
// it reads every seller's. BAD_USER_INPUT for a cursor of another list.
func (s *Store) Notifications(ctx context.Context, f NotificationFilter, p PageArgs) (Page[*LeadNotification], error) {
	var q query
	f.where(&q)
	order, err := notificationsNewest.window(&q, p)
	if err != nil {
		return Page[*LeadNotification]{}, err
	}
	var rows []*notificationRow
	err = s.db.selectScoped(ctx, everything, &rows, `SELECT `+notificationColumns+`, `+notificationsNewest.keyText()+
		` AS sort_key FROM lead_notifications n`+q.sql()+order+` LIMIT `+q.arg(p.Limit+1), q.args...)
	if err != nil {
		return Page[*LeadNotification]{}, err
	}
	return unwrap(pageOf(notificationsNewest, rows, p, (*notificationRow).cursorKey),
		func(r *notificationRow) *LeadNotification { return &r.LeadNotification }), nil
}

// CountNotifications returns how many lead notifications match f.
func (s *Store) CountNotifications(ctx context.Context, f NotificationFilter) (int, error) {
	var q query
	f.where(&q)
	var n int
	err := s.db.getScoped(ctx, everything, &n, `SELECT count(*) FROM lead_notifications n`+q.sql(), q.args...)
	return n, err
}

// NotificationsByLeadID returns the notifications of the given leads, in no
// particular order; a lead without one (a SPAM lead) has no row.
func (s *Store) NotificationsByLeadID(ctx context.Context, leadIDs []string) ([]*LeadNotification, error) {
	var out []*LeadNotification
	err := s.db.selectPreparedScoped(ctx, scopeOf(ctx), &out, `SELECT `+notificationColumns+`
		FROM lead_notifications n WHERE n.lead_id = ANY($1::uuid[])`, pq.Array(validIDs(leadIDs)))
	return out, err
}

// Notification returns the notification of lead leadID; ENOTFOUND when the
// lead has none.
func (s *Store) Notification(ctx context.Context, leadID string) (*LeadNotification, error) {
	if !ValidID(leadID) {
		return nil, NotFound("notification")
	}
	var n LeadNotification
	err := s.db.getScoped(ctx, scopeOf(ctx), &n, `SELECT `+notificationColumns+` FROM lead_notifications n WHERE n.lead_id = $1`, leadID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("notification")
	}
	return &n, err
}

// ResendNotification queues lead leadID's notification again: PENDING, due
// now, its attempts reset to 0 so that it gets the whole retry budget again
// (last_attempt_at and last_error keep describing the last attempt made). A
// lead without a notification (a SPAM lead) gets one. Workers are woken on
// NotificationDueChannel. The resend is audited ("notification.resend", on
// the lead). ENOTFOUND when there is no such lead.
func (s *Store) ResendNotification(ctx context.Context, leadID string) (*LeadNotification, error) {
	if !ValidID(leadID) {
		return nil, NotFound("lead")
	}
	// Only admins resend: the transaction sees every row.
	tx, err := s.db.beginScoped(ctx, everything, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var before []*LeadNotification
	err = tx.SelectContext(ctx, &before, `SELECT `+notificationColumns+` FROM lead_notifications n WHERE n.lead_id = $1 FOR UPDATE`, leadID)
	if err != nil {
		return nil, err
	}
	var n LeadNotification
	err = tx.GetContext(ctx, &n, `INSERT INTO lead_notifications AS n (lead_id) SELECT id FROM leads WHERE id = $1
		ON CONFLICT (lead_id) DO UPDATE SET status = 'PENDING', attempts = 0, next_attempt_at = now(), sent_at = NULL
		RETURNING `+notificationColumns, leadID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("lead")
	}
	if err != nil {
		return nil, err
	}
	if _, err = tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, NotificationDueChannel, leadID); err != nil {
		return nil, err
	}
	var old map[string]any
	if len(before) == 1 {
		old = notificationAudit(before[0])
	}
	e := AuditEntry{Action: "notification.resend", TargetType: "lead", TargetID: leadID, Changes: diff(old, notificationAudit(&n))}
	if err := s.Audit(ctx, tx, e); err != nil {
		return nil, err
	}
	return &n, tx.Commit()
}

// notificationAudit is the snapshot of a notification's audited fields.
func notificationAudit(n *LeadNotification) map[string]any {
	return map[string]any{"notificationStatus": n.Status, "attempts": n.Attempts}
}

// NotificationJob is a claimed notification and what its email needs: the
// lead, its listing's title and its seller's email addresses.
type NotificationJob struct {
	// Lead is the lead the seller is told about.
	Lead *Lead
	// Attempts is how many attempts were made before this one.
	Attempts int
	// ListingTitle is the title of the lead's listing; nil for a lead sent to
	// the seller in general.
	ListingTitle *string
	// SellerName is the seller's company name.
	SellerName string
	// Recipients are the seller's notification email when set, else the
	// values of its EMAIL contacts, in order.
	Recipients []string
	// Muted is set when the seller stopped its lead mail.
	Muted bool
}

// NotificationOutcome is what one delivery attempt came to.
type NotificationOutcome struct {
	// Sent is set when the mail server accepted the message.
	Sent bool
	// Error is a short text without personal data saying why it was not
	// sent; ignored when Sent.
	Error string
	// RetryIn is how long to wait before the next attempt; zero or negative
	// gives up and marks the notification FAILED. Ignored when Sent.
	RetryIn time.Duration
}

// DeliverNotifications claims up to limit PENDING notifications that are due,
// oldest due first, skipping rows another worker holds (FOR UPDATE SKIP
// LOCKED), calls deliver with them, and records deliver's outcomes (one per
// job, in order) in the same transaction: SENT with sent_at, or attempts+1,
// last_attempt_at, last_error and next_attempt_at now+RetryIn (FAILED when
// RetryIn is not positive). Because the rows stay locked while deliver runs,
// two workers never deliver the same notification at once; a crash after the
// mail server accepted a message but before the commit sends it again later
// (at least once). It returns how many notifications it claimed; deliver is
// not called when none is due.
func (s *Store) DeliverNotifications(ctx context.Context, limit int, deliver func(context.Context, []*NotificationJob) []NotificationOutcome) (int, error) {
	tx, err := s.db.beginScoped(ctx, everything, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	jobs, err := s.claimNotifications(ctx, tx, limit)
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	outcomes := deliver(ctx, jobs)
	if len(outcomes) != len(jobs) {
		return 0, Errorf(EINTERNAL, "notifications: %d outcomes for %d jobs", len(outcomes), len(jobs))
	}
	ids, statuses, errs, retry := outcomeColumns(outcomes, func(i int) string { return jobs[i].Lead.ID })
	// The recorded time is the transaction's, so one batch shares it.
	_, err = tx.ExecContext(ctx, `UPDATE lead_notifications n SET status = u.status, attempts = n.attempts + 1,
			last_attempt_at = now(), last_error = nullif(u.error, ''),
			next_attempt_at = CASE WHEN u.status = 'PENDING' THEN now() + u.retry * interval '1 second' ELSE n.next_attempt_at END,
			sent_at = CASE WHEN u.status = 'SENT' THEN now() END
		FROM unnest($1::uuid[], $2::text[], $3::text[], $4::float8[]) AS u(lead_id, status, error, retry)
		WHERE n.lead_id = u.lead_id`, pq.Array(ids), pq.Array(statuses), pq.Array(errs), pq.Array(retry))
	if err != nil {
		return 0, err
	}
	return len(jobs), tx.Commit()
}

// outcomeColumns returns delivery outcomes as the columns of the update
// that records them: the row ids (idOf(i) for outcome i), the statuses, the
// errors and the seconds until a retry.
func outcomeColumns(outcomes []NotificationOutcome, idOf func(i int) string) (ids, statuses, errs []string, retry []float64) {
	ids, statuses, errs = make([]string, len(outcomes)), make([]string, len(outcomes)), make([]string, len(outcomes))
	retry = make([]float64, len(outcomes))
	for i, o := range outcomes {
		ids[i] = idOf(i)
		switch {
		case o.Sent:
			statuses[i] = string(NotificationSent)
		case o.RetryIn > 0:
			statuses[i], errs[i], retry[i] = string(NotificationPending), o.Error, o.RetryIn.Seconds()
		default:
			statuses[i], errs[i] = string(NotificationFailed), o.Error
		}
	}
	return ids, statuses, errs, retry
}

// claimNotifications locks up to limit due notifications in tx and reads what
// their emails need.
func (s *Store) claimNotifications(ctx context.Context, tx *sqlx.Tx, limit int) ([]*NotificationJob, error) {
	var claimed []struct {
		LeadID   string `db:"lead_id"`
		Attempts int    `db:"attempts"`
	}
	err := tx.SelectContext(ctx, &claimed, `SELECT n.lead_id, n.attempts FROM lead_notifications n
		WHERE n.status = 'PENDING' AND n.next_attempt_at <= now()
		ORDER BY n.next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED`, limit)
	if err != nil || len(claimed) == 0 {
		return nil, err
	}
	ids := make([]string, len(claimed))
	for i, c := range claimed {
		ids[i] = c.LeadID
	}
	var leads []*struct {
		sealedLead
		ListingTitle *string `db:"listing_title"`
		SellerName   string  `db:"seller_name"`
	}
	err = tx.SelectContext(ctx, &leads, `SELECT `+leadColumns+`, l.title AS listing_title, s.company_name AS seller_name
		FROM leads d JOIN sellers s ON s.id = d.seller_id LEFT JOIN listings l ON l.id = d.listing_id
		WHERE d.id = ANY($1::uuid[])`, pq.Array(ids))
	if err != nil {
		return nil, err
	}
	sellerIDs := make([]string, 0, len(leads))
	for _, l := range leads {
		sellerIDs = append(sellerIDs, l.SellerID)
	}
	settings, err := s.notificationSettings(ctx, tx, sellerIDs)
	if err != nil {
		return nil, err
	}
	private := make(map[string]*NotificationSettings, len(settings))
	for _, n := range settings {
		private[n.SellerID] = n
	}
	var contacts []struct {
		SellerID string `db:"seller_id"`
		Value    string `db:"value"`
	}
	err = tx.SelectContext(ctx, &contacts, `SELECT seller_id, value FROM seller_contacts
		WHERE kind = 'EMAIL' AND seller_id = ANY($1::uuid[]) ORDER BY seller_id, position, created_at, id`, pq.Array(sellerIDs))
	if err != nil {
		return nil, err
	}
	recipients := make(map[string][]string)
	for _, c := range contacts {
		recipients[c.SellerID] = append(recipients[c.SellerID], c.Value)
	}
	byID := make(map[string]*NotificationJob, len(leads))
	for _, l := range leads {
		lead, err := l.open(s.keys)
		if err != nil {
			return nil, err
		}
		job := &NotificationJob{Lead: lead, ListingTitle: l.ListingTitle, SellerName: l.SellerName, Recipients: recipients[l.SellerID]}
		if n := private[l.SellerID]; n != nil {
			job.Muted = n.Muted
			if n.Email != nil {
				job.Recipients = []string{*n.Email}
			}
		}
		byID[l.ID] = job
	}
	jobs := make([]*NotificationJob, 0, len(claimed))
	for _, c := range claimed {
		// The lead row is referenced with ON DELETE CASCADE, so it exists.
		if j := byID[c.LeadID]; j != nil {
			j.Attempts = c.Attempts
			jobs = append(jobs, j)
		}
	}
	return jobs, nil
}

// OutboxBacklog is what waits in the lead notification outbox.
type OutboxBacklog struct {
	// Pending is how many notifications are PENDING; Due, how many of
	// them are due now (the others wait for a retry).
	Pending, Due int64
	// OldestPending is how long the oldest PENDING notification has
	// waited since its lead came in (0: none pending).
	OldestPending time.Duration
}

// Backlog reads the outbox's backlog, every seller's (through the index of
// PENDING rows: the SENT and FAILED ones are not read).
func (s *Store) Backlog(ctx context.Context) (OutboxBacklog, error) {
	var row struct {
		Pending int64   `db:"pending"`
		Due     int64   `db:"due"`
		Oldest  float64 `db:"oldest"`
	}
	err := s.db.inScope(ctx, everything, readOnly, func(tx *sqlx.Tx) error {
		return tx.GetContext(ctx, &row, `SELECT count(*) AS pending,
				count(*) FILTER (WHERE next_attempt_at <= now()) AS due,
				coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest
			FROM lead_notifications WHERE status = 'PENDING'`)
	})
	if err != nil {
		return OutboxBacklog{}, err
	}
	return OutboxBacklog{Pending: row.Pending, Due: row.Due, OldestPending: time.Duration(row.Oldest * float64(time.Second))}, nil
}
