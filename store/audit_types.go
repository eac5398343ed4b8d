package store

import "time"

// AuditEvent is one entry of the append-only audit log. Changes holds
// before/after values of non-personal fields only.
type AuditEvent struct {
	ID         string    `db:"id"`
	ActorID    *string   `db:"actor_id"`
	ActorRole  *string   `db:"actor_role"`
	Action     string    `db:"action"`
	TargetType string    `db:"target_type"`
	TargetID   *string   `db:"target_id"`
	Changes    JSON      `db:"changes"`
	RequestID  *string   `db:"request_id"`
	IP         *string   `db:"ip"`
	CreatedAt  time.Time `db:"created_at"`
}

// AuditEventFilter narrows the audit log.
type AuditEventFilter struct {
	ActorID    *string
	Action     *string
	TargetType *string
	TargetID   *string
	From       *time.Time
	To         *time.Time
}

// AuditQuery is a whole question about the audit log, without its page.
type AuditQuery struct {
	Filter AuditEventFilter
}
