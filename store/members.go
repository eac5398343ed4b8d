package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/pii"
)

// MemberRole is a member's role in its seller (the GraphQL enum MemberRole).
type MemberRole string

// Member roles.
const (
	// MemberOwner manages the seller's members and does what STAFF does.
	MemberOwner MemberRole = "OWNER"
	// MemberStaff does everything the seller does but manage its members.
	MemberStaff MemberRole = "STAFF"
)

// MaxInvitationsPerDay bounds the invitations one seller sends in any 24
// hours.
const MaxInvitationsPerDay = 20

// InvitationDueChannel is the PostgreSQL NOTIFY channel on which an
// invitation's id is announced when its mail is queued, so that an outbox
// worker sends it at once.
const InvitationDueChannel = "invitation_mail_due"

// Additional data binding the sealed member and invitation columns.
var (
	memberEmailAAD     = []byte("seller_members.email_pii")
	invitationEmailAAD = []byte("seller_invitations.email_pii")
	invitationMailAAD  = []byte("seller_invitations.mail_pii")
)

// Identity names a signed-in person: the issuer and subject of their tokens.
type Identity struct {
	Issuer  string `db:"issuer"`
	Subject string `db:"subject"`
}

// SellerMember is a person who acts for a seller.
type SellerMember struct {
	SellerID string     `db:"seller_id"`
	Issuer   string     `db:"issuer"`
	Subject  string     `db:"subject"`
	Role     MemberRole `db:"role"`
	// Email is the member's address: the invitation's, or the registering
	// token's; nil when unknown.
	Email    *string   `db:"-"`
	JoinedAt time.Time `db:"joined_at"`
}

// OwnerID returns the member's seller (for @pii).
func (m *SellerMember) OwnerID() string { return m.SellerID }

// SellerInvitation is an invitation to join a seller.
type SellerInvitation struct {
	ID        string     `db:"id"`
	SellerID  string     `db:"seller_id"`
	Email     string     `db:"-"`
	Role      MemberRole `db:"role"`
	ExpiresAt time.Time  `db:"expires_at"`
}

// NewInvitation is an invitation to store: TokenHash is what acceptance
// looks for, Token the secret the mail carries (kept sealed until sent).
type NewInvitation struct {
	SellerID  string
	Email     string
	Role      MemberRole
	CreatedBy string
	Token     string
	TokenHash []byte
	TTL       time.Duration
}

// invitationMail is the sealed JSON of an invitation's queued mail.
type invitationMail struct {
	Email string `json:"email"`
	Token string `json:"token"`
}

// sealJSON seals v as JSON under k's current key for the column aad names.
func sealJSON(k *pii.Keyring, v any, aad []byte) ([]byte, string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, "", err
	}
	return k.Seal(plain, aad)
}

// openJSON opens a value sealJSON sealed into v.
func openJSON(k *pii.Keyring, keyID string, blob, aad []byte, v any) error {
	plain, err := k.Open(keyID, blob, aad)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return errors.New("pii: sealed data is not JSON")
	}
	return nil
}

// Membership returns the seller identity id belongs to and its role there,
// both empty when it belongs to none. One statement.
func (s *Store) Membership(ctx context.Context, id Identity) (sellerID string, role MemberRole, err error) {
	var m struct {
		SellerID string     `db:"seller_id"`
		Role     MemberRole `db:"role"`
	}
	err = s.db.GetContext(ctx, &m, `SELECT seller_id, role FROM seller_members WHERE issuer = $1 AND subject = $2`, id.Issuer, id.Subject)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return m.SellerID, m.Role, err
}

// errAlreadyMember refuses a second membership of one identity.
var errAlreadyMember = &Error{Code: EFORBIDDEN, Message: "already a member of a seller"}

// RegisterSeller stores n as a PENDING seller with id as its OWNER (email,
// when not empty, kept sealed), audited ("seller.register"), in one
// transaction. FORBIDDEN when id already belongs to a seller; BAD_USER_INPUT
// on slug when it is taken.
func (s *Store) RegisterSeller(ctx context.Context, n NewSeller, id Identity, email string) (*Seller, error) {
	return s.createSeller(ctx, n, func(tx *sqlx.Tx, out *Seller) error {
		if err := s.insertMember(ctx, tx, out.ID, id, MemberOwner, email); err != nil {
			return err
		}
		return s.Audit(ctx, tx, AuditEntry{Action: "seller.register", TargetType: "seller", TargetID: out.ID,
			Changes: map[string]any{"role": Change(nil, MemberOwner)}})
	})
}

// SealMemberEmail returns the values of a member's sealed columns for email
// under k: email_pii (sealed JSON) and email_key_id; both NULL (nil) for an
// empty email. Bulk loaders (seed data) write them as they are. It fails
// only when the system's random source does.
func SealMemberEmail(k *pii.Keyring, email string) (blob []byte, keyID *string, err error) {
	if email == "" {
		return nil, nil, nil
	}
	b, id, err := sealJSON(k, emailPII{Email: email}, memberEmailAAD)
	if err != nil {
		return nil, nil, err
	}
	return b, &id, nil
}

// insertMember adds id to sellerID's members as role; FORBIDDEN when id
// belongs to a seller already (the primary key decides, whatever races).
func (s *Store) insertMember(ctx context.Context, tx *sqlx.Tx, sellerID string, id Identity, role MemberRole, email string) error {
	blob, keyID, err := SealMemberEmail(s.keys, email)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO seller_members (issuer, subject, seller_id, role, email_pii, email_key_id)
		VALUES ($1, $2, $3, $4, nullif($5::bytea, ''::bytea), $6)`, id.Issuer, id.Subject, sellerID, role, blob, keyID)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		return errAlreadyMember
	}
	return err
}

// lockSellerForMembers locks seller id against concurrent changes of its
// members and invitations (FOR NO KEY UPDATE) until tx ends; NOT_FOUND when
// there is no such seller. The statements that follow read what committed
// before the lock was granted, so their conditions (the last OWNER, the
// daily limit) hold whatever runs at the same time.
func lockSellerForMembers(ctx context.Context, tx *sqlx.Tx, id string) error {
	if !ValidID(id) {
		return NotFound("seller")
	}
	var status SellerStatus
	err := tx.GetContext(ctx, &status, `SELECT status FROM sellers WHERE id = $1 FOR NO KEY UPDATE`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return NotFound("seller")
	}
	if err != nil {
		return err
	}
	return mayAct(ctx, status)
}

// InviteSellerMember stores an invitation of n.Email to n.SellerID as n.Role,
// expiring after n.TTL, with its mail queued (the token sealed) and the
// outbox woken on InvitationDueChannel, audited ("seller.invite", without
// the email). NOT_FOUND for an unknown seller; RATE_LIMITED when the seller
// sent MaxInvitationsPerDay invitations in the last 24 hours (the insert's
// own condition, under the seller's lock).
func (s *Store) InviteSellerMember(ctx context.Context, n NewInvitation) (*SellerInvitation, error) {
	emailBlob, emailKey, err := sealJSON(s.keys, emailPII{Email: n.Email}, invitationEmailAAD)
	if err != nil {
		return nil, err
	}
	mailBlob, mailKey, err := sealJSON(s.keys, invitationMail{Email: n.Email, Token: n.Token}, invitationMailAAD)
	if err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := lockSellerForMembers(ctx, tx, n.SellerID); err != nil {
		return nil, err
	}
	out := SellerInvitation{Email: n.Email}
	err = tx.GetContext(ctx, &out, `INSERT INTO seller_invitations
			(seller_id, token_hash, role, email_pii, email_key_id, created_by, expires_at, mail_pii, mail_key_id)
		SELECT $1, $2, $3, $4, $5, $6, now() + $7 * interval '1 second', $8, $9
		WHERE (SELECT count(*) FROM seller_invitations
			WHERE seller_id = $1 AND created_at > now() - interval '1 day') < $10
		RETURNING id, seller_id, role, expires_at`,
		n.SellerID, n.TokenHash, n.Role, emailBlob, emailKey, n.CreatedBy, n.TTL.Seconds(), mailBlob, mailKey, MaxInvitationsPerDay)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ERATELIMITED, "at most %d invitations a day per seller", MaxInvitationsPerDay)
	}
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, InvitationDueChannel, out.ID); err != nil {
		return nil, err
	}
	e := AuditEntry{Action: "seller.invite", TargetType: "seller", TargetID: n.SellerID,
		Changes: map[string]any{"invitation": Change(nil, out.ID), "role": Change(nil, n.Role)}}
	if err := s.Audit(ctx, tx, e); err != nil {
		return nil, err
	}
	return &out, tx.Commit()
}

// errBadInvitation is every refusal of an invitation token: unknown, used,
// expired, or of a seller that is suspended, told apart to nobody.
var errBadInvitation = Invalid("token", "invalid or expired invitation")

// AcceptSellerInvitation uses the invitation whose token hashes to
// tokenHash: id joins its seller with the invitation's role and email, and
// the invitation is spent (one conditional update: a token is used once),
// audited ("seller.join"). BAD_USER_INPUT on token when no unused,
// unexpired invitation of a seller that is not SUSPENDED has that hash;
// FORBIDDEN when id belongs to a seller already (the invitation stays
// unused).
func (s *Store) AcceptSellerInvitation(ctx context.Context, tokenHash []byte, id Identity) (*Seller, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var inv struct {
		ID       string     `db:"id"`
		SellerID string     `db:"seller_id"`
		Role     MemberRole `db:"role"`
		Blob     []byte     `db:"email_pii"`
		KeyID    string     `db:"email_key_id"`
	}
	err = tx.GetContext(ctx, &inv, `UPDATE seller_invitations i SET accepted_at = now()
		FROM sellers s
		WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.expires_at > now()
			AND s.id = i.seller_id AND s.status <> 'SUSPENDED'
		RETURNING i.id, i.seller_id, i.role, i.email_pii, i.email_key_id`, tokenHash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errBadInvitation
	}
	if err != nil {
		return nil, err
	}
	var e emailPII
	if err := openJSON(s.keys, inv.KeyID, inv.Blob, invitationEmailAAD, &e); err != nil {
		return nil, fmt.Errorf("store: invitation %s: %w", inv.ID, err)
	}
	if err := s.insertMember(ctx, tx, inv.SellerID, id, inv.Role, e.Email); err != nil {
		return nil, err
	}
	ae := AuditEntry{Action: "seller.join", TargetType: "seller", TargetID: inv.SellerID,
		Changes: map[string]any{"invitation": Change(nil, inv.ID), "role": Change(nil, inv.Role)}}
	if err := s.Audit(ctx, tx, ae); err != nil {
		return nil, err
	}
	var out Seller
	if err := tx.GetContext(ctx, &out, `SELECT `+sellerColumns+` FROM sellers s WHERE s.id = $1`, inv.SellerID); err != nil {
		return nil, err
	}
	return &out, tx.Commit()
}

// RemoveSellerMember removes subject (under any issuer) from sellerID's
// members, audited ("seller.remove_member"), and returns the seller and the
// identities removed. The delete's own condition
// keeps the last OWNER, under the seller's lock. NOT_FOUND for an unknown
// seller or a subject that is no member of it; BAD_USER_INPUT on subject
// when it is the seller's last OWNER.
func (s *Store) RemoveSellerMember(ctx context.Context, sellerID, subject string) (*Seller, []Identity, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	if err := lockSellerForMembers(ctx, tx, sellerID); err != nil {
		return nil, nil, err
	}
	var removed []struct {
		Identity
		Role MemberRole `db:"role"`
	}
	err = tx.SelectContext(ctx, &removed, `DELETE FROM seller_members m
		WHERE m.seller_id = $1 AND m.subject = $2
			AND (m.role <> 'OWNER' OR EXISTS (SELECT 1 FROM seller_members o
				WHERE o.seller_id = $1 AND o.role = 'OWNER' AND o.subject <> $2))
		RETURNING m.issuer, m.subject, m.role`, sellerID, subject)
	if err != nil {
		return nil, nil, err
	}
	if len(removed) == 0 {
		var member bool
		if err := tx.GetContext(ctx, &member, `SELECT EXISTS (SELECT 1 FROM seller_members WHERE seller_id = $1 AND subject = $2)`,
			sellerID, subject); err != nil {
			return nil, nil, err
		}
		if member {
			return nil, nil, Invalid("subject", "the last OWNER of a seller cannot be removed")
		}
		return nil, nil, NotFound("member")
	}
	e := AuditEntry{Action: "seller.remove_member", TargetType: "seller", TargetID: sellerID,
		Changes: map[string]any{"member": Change(subject, nil), "role": Change(removed[0].Role, nil)}}
	if err := s.Audit(ctx, tx, e); err != nil {
		return nil, nil, err
	}
	var out Seller
	if err := tx.GetContext(ctx, &out, `SELECT `+sellerColumns+` FROM sellers s WHERE s.id = $1`, sellerID); err != nil {
		return nil, nil, err
	}
	ids := make([]Identity, len(removed))
	for i, r := range removed {
		ids[i] = r.Identity
	}
	return &out, ids, tx.Commit()
}

// MaxMembersListed bounds the members SellerMembers returns.
const MaxMembersListed = 500

// MembersBySellerID returns the first MaxMembersListed members of each of
// the given sellers, earliest first within a seller, in one statement.
func (s *Store) MembersBySellerID(ctx context.Context, sellerIDs []string) ([]*SellerMember, error) {
	var rows []*struct {
		SellerMember
		Blob  []byte  `db:"email_pii"`
		KeyID *string `db:"email_key_id"`
	}
	err := s.db.SelectContext(ctx, &rows, `SELECT seller_id, issuer, subject, role, joined_at, email_pii, email_key_id
		FROM (SELECT m.*, row_number() OVER (PARTITION BY seller_id ORDER BY joined_at, subject) AS n
			FROM seller_members m WHERE seller_id = ANY($1::uuid[])) m
		WHERE n <= $2 ORDER BY seller_id, joined_at, subject`, pq.Array(validIDs(sellerIDs)), MaxMembersListed)
	if err != nil {
		return nil, err
	}
	out := make([]*SellerMember, len(rows))
	for i, r := range rows {
		m := r.SellerMember
		if r.Blob != nil && r.KeyID != nil {
			e, err := openEmail(s.keys, *r.KeyID, r.Blob, memberEmailAAD)
			if err != nil {
				return nil, fmt.Errorf("store: member of seller %s: %w", m.SellerID, err)
			}
			m.Email = &e
		}
		out[i] = &m
	}
	return out, nil
}

// InvitationMailJob is a claimed invitation mail and what it needs.
type InvitationMailJob struct {
	InvitationID string
	SellerName   string
	Role         MemberRole
	Email        string
	Token        string
	ExpiresAt    time.Time
	// Attempts is how many attempts were made before this one.
	Attempts int
}

// DeliverInvitationMails claims up to limit queued mails of invitations
// that are due and still usable (unexpired, unaccepted; FOR UPDATE SKIP
// LOCKED, as DeliverNotifications does), calls
// deliver with them and records its outcomes in the same transaction: a
// sent or abandoned mail's sealed token is erased, so the token then exists
// only in the mailbox. It returns how many it claimed.
func (s *Store) DeliverInvitationMails(ctx context.Context, limit int, deliver func(context.Context, []*InvitationMailJob) []NotificationOutcome) (int, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var rows []struct {
		ID         string     `db:"id"`
		SellerName string     `db:"company_name"`
		Role       MemberRole `db:"role"`
		ExpiresAt  time.Time  `db:"expires_at"`
		Attempts   int        `db:"mail_attempts"`
		Blob       []byte     `db:"mail_pii"`
		KeyID      string     `db:"mail_key_id"`
	}
	err = tx.SelectContext(ctx, &rows, `SELECT i.id, s.company_name, i.role, i.expires_at, i.mail_attempts, i.mail_pii, i.mail_key_id
		FROM seller_invitations i JOIN sellers s ON s.id = i.seller_id
		WHERE i.mail_status = 'PENDING' AND i.mail_next_attempt_at <= now() AND i.mail_pii IS NOT NULL
			AND i.expires_at > now() AND i.accepted_at IS NULL
		ORDER BY i.mail_next_attempt_at LIMIT $1 FOR UPDATE OF i SKIP LOCKED`, limit)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	jobs := make([]*InvitationMailJob, len(rows))
	for i, r := range rows {
		var m invitationMail
		if err := openJSON(s.keys, r.KeyID, r.Blob, invitationMailAAD, &m); err != nil {
			return 0, fmt.Errorf("store: invitation %s: %w", r.ID, err)
		}
		jobs[i] = &InvitationMailJob{InvitationID: r.ID, SellerName: r.SellerName, Role: r.Role, Email: m.Email, Token: m.Token,
			ExpiresAt: r.ExpiresAt, Attempts: r.Attempts}
	}
	outcomes := deliver(ctx, jobs)
	if len(outcomes) != len(jobs) {
		return 0, Errorf(EINTERNAL, "invitation mails: %d outcomes for %d jobs", len(outcomes), len(jobs))
	}
	ids, statuses, errs, retry := outcomeColumns(outcomes, func(i int) string { return jobs[i].InvitationID })
	_, err = tx.ExecContext(ctx, `UPDATE seller_invitations i SET mail_status = u.status, mail_attempts = i.mail_attempts + 1,
			mail_last_error = nullif(u.error, ''),
			mail_next_attempt_at = CASE WHEN u.status = 'PENDING' THEN now() + u.retry * interval '1 second' ELSE i.mail_next_attempt_at END,
			mail_pii = CASE WHEN u.status = 'PENDING' THEN i.mail_pii END,
			mail_key_id = CASE WHEN u.status = 'PENDING' THEN i.mail_key_id END
		FROM unnest($1::uuid[], $2::text[], $3::text[], $4::float8[]) AS u(id, status, error, retry)
		WHERE i.id = u.id`, pq.Array(ids), pq.Array(statuses), pq.Array(errs), pq.Array(retry))
	if err != nil {
		return 0, err
	}
	return len(jobs), tx.Commit()
}
