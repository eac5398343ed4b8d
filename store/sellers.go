package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// sellerColumns are the columns of Seller, read from "sellers s".
const sellerColumns = `s.id, s.slug, s.company_name, s.description, s.website, s.status, s.verified,
	s.verification_notes, s.internal_notes, s.created_at, s.updated_at`

// contactColumns are the columns of SellerContact.
const contactColumns = `id, seller_id, kind, value, label`

// locationColumns are the columns of SellerLocation.
const locationColumns = `id, seller_id, city, region, country, postal_code`

// SellerFilter narrows a list of sellers. Empty strings count as unset.
type SellerFilter struct {
	Status   *SellerStatus
	Verified *bool
	Region   *string
	// Query finds sellers by a part of their company name or slug (ignoring
	// case) or by one of their EMAIL contacts (whole, ignoring case).
	Query *string
}

// SellerQuery is a whole question about sellers, without its page.
type SellerQuery struct {
	Scope  Scope
	Filter SellerFilter
	// Sort is the order of the list; empty: by company name.
	Sort SellerSort
	// AllListings makes LISTINGS count listings of any status (an admin's
	// view); otherwise it counts public listings only.
	AllListings bool
}

// SellerSort orders a list of sellers; the GraphQL enum SellerSort is bound
// to it.
type SellerSort string

// The orders of sellers.
const (
	// SellerSortName is by company name (the default).
	SellerSortName SellerSort = "NAME"
	// SellerSortNewest is the newest sellers first.
	SellerSortNewest SellerSort = "NEWEST"
	// SellerSortListings is the sellers with the most public listings first
	// (for an admin: the most listings of any status).
	SellerSortListings SellerSort = "LISTINGS"
)

// The orderings of sellers.
var (
	sellersByName   = keyset{name: "name", key: "s.company_name", cast: "text", id: "s.id"}
	sellersNewest   = keyset{name: "newest", key: "s.created_at", cast: "timestamptz", id: "s.id", desc: true}
	sellersListings = keyset{name: "listings", cast: "bigint", id: "s.id", desc: true,
		key: "(SELECT count(*) FROM listings x WHERE x.seller_id = s.id AND x.status = 'ACTIVE')"}
	sellersAllListings = keyset{name: "all-listings", cast: "bigint", id: "s.id", desc: true,
		key: "(SELECT count(*) FROM listings x WHERE x.seller_id = s.id)"}
)

// keyset returns the ordering of sq.
func (sq SellerQuery) keyset() keyset {
	switch {
	case sq.Sort == SellerSortNewest:
		return sellersNewest
	case sq.Sort == SellerSortListings && sq.AllListings:
		return sellersAllListings
	case sq.Sort == SellerSortListings:
		return sellersListings
	}
	return sellersByName
}

// sellerRow is a seller with its cursor's sort key.
type sellerRow struct {
	Seller
	SortKey string `db:"sort_key"`
}

// Seller returns the seller with id if scope may see it; ENOTFOUND otherwise.
func (s *Store) Seller(ctx context.Context, scope Scope, id string) (*Seller, error) {
	ss, err := s.SellersByID(ctx, scope, []string{id})
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, NotFound("seller")
	}
	return ss[0], nil
}

// SellerBySlug returns the seller with slug if scope may see it; ENOTFOUND
// otherwise.
func (s *Store) SellerBySlug(ctx context.Context, scope Scope, slug string) (*Seller, error) {
	var q query
	q.and("s.slug = " + q.arg(slug))
	sellerVisible(&q, scope)
	var out Seller
	err := s.db.GetContext(ctx, &out, `SELECT `+sellerColumns+` FROM sellers s`+q.sql(), q.args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("seller")
	}
	tagSellers(ctx, out.ID)
	return &out, err
}

// SellersByID returns the sellers among ids that scope may see, in no
// particular order.
func (s *Store) SellersByID(ctx context.Context, scope Scope, ids []string) ([]*Seller, error) {
	ids = validIDs(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	var q query
	q.and("s.id = ANY(" + q.arg(pq.Array(ids)) + "::uuid[])")
	sellerVisible(&q, scope)
	out, err := selectRows(ctx, s.db, (*Seller).fields, `SELECT `+sellerColumns+` FROM sellers s`+q.sql(), q.args...)
	tagSellers(ctx, ids...)
	return out, err
}

// SellerStatus returns the status of seller id, whoever asks; ENOTFOUND for
// an unknown seller. Token checks use it.
func (s *Store) SellerStatus(ctx context.Context, id string) (string, error) {
	if !ValidID(id) {
		return "", NotFound("seller")
	}
	var status string
	err := s.db.GetContext(ctx, &status, `SELECT status FROM sellers WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", NotFound("seller")
	}
	return status, err
}

// Sellers returns one page of the sellers that match sq, by company name.
func (s *Store) Sellers(ctx context.Context, sq SellerQuery, p PageArgs) (Page[*Seller], error) {
	var q query
	sq.where(&q)
	k := sq.keyset()
	order, err := k.window(&q, p)
	if err != nil {
		return Page[*Seller]{}, err
	}
	var rows []*sellerRow
	err = s.db.SelectContext(ctx, &rows, `SELECT `+sellerColumns+`, `+k.keyText()+` AS sort_key FROM sellers s`+q.sql()+
		order+` LIMIT `+q.arg(p.Limit+1), q.args...)
	if err != nil {
		return Page[*Seller]{}, err
	}
	tagAllLists(ctx)
	for _, r := range rows {
		tagSellers(ctx, r.ID)
	}
	return unwrap(pageOf(k, rows, p, func(r *sellerRow) (string, string) { return r.SortKey, r.ID }),
		func(r *sellerRow) *Seller { return &r.Seller }), nil
}

// CountSellers returns how many sellers match sq.
func (s *Store) CountSellers(ctx context.Context, sq SellerQuery) (int, error) {
	var q query
	sq.where(&q)
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM sellers s`+q.sql(), q.args...)
	tagAllLists(ctx)
	return n, err
}

func (sq SellerQuery) where(q *query) {
	sellerVisible(q, sq.Scope)
	f := sq.Filter
	if f.Status != nil {
		q.and("s.status = " + q.arg(string(*f.Status)))
	}
	if f.Verified != nil {
		q.and("s.verified = " + q.arg(*f.Verified))
	}
	if v, ok := text(f.Region); ok {
		q.and("EXISTS (SELECT 1 FROM seller_locations sl WHERE sl.seller_id = s.id AND lower(sl.region) = lower(" + q.arg(v) + "))")
	}
	if v, ok := text(f.Query); ok {
		part, whole := q.arg("%"+likeEscaper.Replace(v)+"%"), q.arg(v)
		q.and("(s.company_name ILIKE " + part + " OR s.slug ILIKE " + part +
			" OR EXISTS (SELECT 1 FROM seller_contacts sc WHERE sc.seller_id = s.id AND sc.kind = 'EMAIL' AND lower(sc.value) = lower(" + whole + ")))")
	}
}

// likeEscaper escapes LIKE's wildcards (and its escape character) so that a
// search term matches literally.
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// sellerVisible keeps the sellers scope may see: ACTIVE ones, a seller
// itself, or all.
func sellerVisible(q *query, scope Scope) {
	switch {
	case scope.All:
	case scope.SellerID != "":
		q.and("(s.id = " + q.arg(idOrNil(scope.SellerID)) + "::uuid OR s.status = 'ACTIVE')")
	default:
		q.and("s.status = 'ACTIVE'")
	}
}

// ContactsBySellerID returns the contacts of the given sellers, each
// seller's in display order.
func (s *Store) ContactsBySellerID(ctx context.Context, sellerIDs []string) ([]*SellerContact, error) {
	out, err := selectRows(ctx, s.db, (*SellerContact).fields, `SELECT `+contactColumns+` FROM seller_contacts
		WHERE seller_id = ANY($1::uuid[]) ORDER BY seller_id, position, created_at`, pq.Array(validIDs(sellerIDs)))
	tagSellers(ctx, sellerIDs...)
	return out, err
}

// LocationsBySellerID returns the locations of the given sellers, each
// seller's in display order (the first is the default of its listings).
func (s *Store) LocationsBySellerID(ctx context.Context, sellerIDs []string) ([]*SellerLocation, error) {
	out, err := selectRows(ctx, s.db, (*SellerLocation).fields, `SELECT `+locationColumns+` FROM seller_locations
		WHERE seller_id = ANY($1::uuid[]) ORDER BY seller_id, position, created_at`, pq.Array(validIDs(sellerIDs)))
	tagSellers(ctx, sellerIDs...)
	return out, err
}

// NewContact is a seller contact to store.
type NewContact struct {
	Kind  ContactKind
	Value string
	Label *string
}

// NewLocation is a seller location to store.
type NewLocation struct {
	City       string
	Region     *string
	Country    string
	PostalCode *string
}

// NewSeller is what a new seller is made of. A new seller is PENDING.
type NewSeller struct {
	Slug        string
	CompanyName string
	Description *string
	Website     *string
	Contacts    []NewContact
	Locations   []NewLocation
}

// CreateSeller stores a new seller with its contacts and locations and
// audits it ("seller.create"). EINVALID on "slug" when the slug is taken.
func (s *Store) CreateSeller(ctx context.Context, n NewSeller) (*Seller, error) {
	return s.createSeller(ctx, n, nil)
}

// createSeller stores n as CreateSeller does; then, when not nil, runs in
// the same transaction after the seller is stored (RegisterSeller's owner).
func (s *Store) createSeller(ctx context.Context, n NewSeller, then func(*sqlx.Tx, *Seller) error) (*Seller, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	out, err := s.insertSeller(ctx, tx, n)
	if err != nil {
		return nil, err
	}
	if then != nil {
		if err := then(tx, out); err != nil {
			return nil, err
		}
	}
	return out, s.commitPublic(ctx, tx, sellerWrite(out.ID, out.Status)...)
}

// insertSeller stores n (PENDING) with its contacts and locations in tx and
// audits it ("seller.create"); BAD_USER_INPUT on slug when it is taken.
func (s *Store) insertSeller(ctx context.Context, tx *sqlx.Tx, n NewSeller) (*Seller, error) {
	var out Seller
	err := tx.GetContext(ctx, &out, `INSERT INTO sellers AS s (slug, company_name, description, website)
		VALUES ($1, $2, $3, $4) RETURNING `+sellerColumns, n.Slug, n.CompanyName, n.Description, n.Website)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Constraint == "sellers_slug_key" {
		return nil, Invalid("slug", "already taken")
	}
	if err != nil {
		return nil, err
	}
	if _, err := replaceContacts(ctx, tx, out.ID, n.Contacts); err != nil {
		return nil, err
	}
	if _, err := replaceLocations(ctx, tx, out.ID, n.Locations); err != nil {
		return nil, err
	}
	changes := diff(nil, sellerAudit(&out))
	changes["contacts"], changes["locations"] = Change(nil, len(n.Contacts)), Change(nil, len(n.Locations))
	if err := s.Audit(ctx, tx, AuditEntry{Action: "seller.create", TargetType: "seller", TargetID: out.ID, Changes: changes}); err != nil {
		return nil, err
	}
	return &out, nil
}

// FreeSlug returns base, or base with the smallest numeric suffix ("-2",
// "-3", ...) that no seller has yet.
func (s *Store) FreeSlug(ctx context.Context, base string) (string, error) {
	var taken []string
	err := s.db.SelectContext(ctx, &taken, `SELECT slug FROM sellers WHERE slug = $1 OR slug LIKE $1 || '-%'`, base)
	if err != nil {
		return "", err
	}
	used := make(map[string]bool, len(taken))
	for _, t := range taken {
		used[t] = true
	}
	slug := base
	for i := 2; used[slug]; i++ {
		slug = base + "-" + strconv.Itoa(i)
	}
	return slug, nil
}

// SellerProfile is the part of a seller its owner may change; nil leaves a
// field as it is, an empty string clears an optional one, and a non-nil list
// replaces the old one.
type SellerProfile struct {
	CompanyName *string
	Description *string
	Website     *string
	Contacts    *[]NewContact
	Locations   *[]NewLocation
	// NotificationEmail is the private address lead mail goes to instead of
	// the public EMAIL contacts; stored sealed. "" clears it.
	NotificationEmail *string
	// NotificationsMuted stops (true) or resumes (false) the seller's lead
	// mail.
	NotificationsMuted *bool
}

// UpdateSellerProfile changes seller id's profile and audits the change
// ("seller.update"; replaced contacts and locations are recorded as their
// counts, since they may name a person). ENOTFOUND when there is no such
// seller. Replacing the locations resets listings that pointed at an old one
// to the seller's first location.
func (s *Store) UpdateSellerProfile(ctx context.Context, id string, p SellerProfile) (*Seller, error) {
	if !ValidID(id) {
		return nil, NotFound("seller")
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	before, err := lockSeller(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	// The seller is locked for update, not for share (two transactions
	// upgrading a shared lock would deadlock): its status is checked here.
	if err := mayAct(ctx, before.Status); err != nil {
		return nil, err
	}
	email, err := s.sealedNotificationEmail(p.NotificationEmail)
	if err != nil {
		return nil, err
	}
	var out Seller
	err = tx.GetContext(ctx, &out, `UPDATE sellers s SET
			company_name = coalesce($2, company_name),
			description = CASE WHEN $3::text IS NULL THEN description ELSE nullif($3, '') END,
			website = CASE WHEN $4::text IS NULL THEN website ELSE nullif($4, '') END,
			notification_email_pii = CASE WHEN $5 THEN $6 ELSE notification_email_pii END,
			notification_email_key_id = CASE WHEN $5 THEN $7 ELSE notification_email_key_id END,
			notifications_muted = coalesce($8, notifications_muted),
			updated_at = now()
		WHERE s.id = $1 RETURNING `+sellerColumns, id, p.CompanyName, p.Description, p.Website,
		p.NotificationEmail != nil, email.blob, email.keyID, p.NotificationsMuted)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("seller")
	}
	if err != nil {
		return nil, err
	}
	changes := diff(sellerAudit(before), sellerAudit(&out))
	if p.NotificationEmail != nil {
		// The address itself is personal data: the log says only that it changed.
		changes["notificationEmail"] = Change(nil, "[changed]")
	}
	if p.NotificationsMuted != nil {
		changes["notificationsMuted"] = Change(nil, *p.NotificationsMuted)
	}
	if p.Contacts != nil {
		old, err := replaceContacts(ctx, tx, id, *p.Contacts)
		if err != nil {
			return nil, err
		}
		changes["contacts"] = Change(old, len(*p.Contacts))
	}
	if p.Locations != nil {
		old, err := replaceLocations(ctx, tx, id, *p.Locations)
		if err != nil {
			return nil, err
		}
		changes["locations"] = Change(old, len(*p.Locations))
	}
	if err := s.Audit(ctx, tx, AuditEntry{Action: "seller.update", TargetType: "seller", TargetID: id, Changes: changes}); err != nil {
		return nil, err
	}
	return &out, s.commitPublic(ctx, tx, sellerWrite(out.ID, out.Status)...)
}

// sealedEmail is a sealed value and its key id as query arguments, both
// nil (NULL) for none.
type sealedEmail struct {
	blob, keyID any
}

// sealedNotificationEmail seals a new notification email; nil and "" seal
// nothing.
func (s *Store) sealedNotificationEmail(email *string) (sealedEmail, error) {
	if email == nil || *email == "" {
		return sealedEmail{}, nil
	}
	blob, keyID, err := sealNotificationEmail(s.keys, *email)
	return sealedEmail{blob: blob, keyID: keyID}, err
}

// NotificationSettings is where a seller's lead mail goes.
type NotificationSettings struct {
	SellerID string
	// Email is the private notification address; nil when unset.
	Email *string
	// Muted is set when the seller stopped its lead mail.
	Muted bool
}

// NotificationSettingsBySellerID returns the notification settings of the
// sellers among ids, in no particular order, whoever asks (the callers
// check access: the fields are the owning seller's and admins').
func (s *Store) NotificationSettingsBySellerID(ctx context.Context, ids []string) ([]*NotificationSettings, error) {
	return s.notificationSettings(ctx, s.db.pick(ctx), ids)
}

// notificationSettings is NotificationSettingsBySellerID through q (a pool,
// or the transaction that claims notifications, so that it needs no second
// connection).
func (s *Store) notificationSettings(ctx context.Context, q sqlx.QueryerContext, ids []string) ([]*NotificationSettings, error) {
	var rows []struct {
		ID    string  `db:"id"`
		Blob  []byte  `db:"notification_email_pii"`
		KeyID *string `db:"notification_email_key_id"`
		Muted bool    `db:"notifications_muted"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, notification_email_pii, notification_email_key_id, notifications_muted
		FROM sellers WHERE id = ANY($1::uuid[])`, pq.Array(validIDs(ids)))
	if err != nil {
		return nil, err
	}
	out := make([]*NotificationSettings, len(rows))
	for i, r := range rows {
		out[i] = &NotificationSettings{SellerID: r.ID, Muted: r.Muted}
		if r.KeyID != nil {
			e, err := openNotificationEmail(s.keys, *r.KeyID, r.Blob)
			if err != nil {
				return nil, fmt.Errorf("store: seller %s: %w", r.ID, err)
			}
			out[i].Email = &e
		}
	}
	return out, nil
}

// lockSeller reads seller id and locks it for the rest of tx; ENOTFOUND
// when there is no such seller.
func lockSeller(ctx context.Context, tx *sqlx.Tx, id string) (*Seller, error) {
	var out Seller
	err := tx.GetContext(ctx, &out, `SELECT `+sellerColumns+` FROM sellers s WHERE s.id = $1 FOR UPDATE`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("seller")
	}
	return &out, err
}

// SetSellerStatus sets seller id's status and audits it ("seller.status");
// ENOTFOUND when there is no such seller.
func (s *Store) SetSellerStatus(ctx context.Context, id string, status SellerStatus) (*Seller, error) {
	return s.updateSeller(ctx, "seller.status", `status = $2`, id, status)
}

// VerifySeller marks seller id verified with the admin's notes and audits it
// ("seller.verify"); ENOTFOUND when there is no such seller.
func (s *Store) VerifySeller(ctx context.Context, id string, notes *string) (*Seller, error) {
	return s.updateSeller(ctx, "seller.verify", `verified = true, verification_notes = coalesce($2, verification_notes)`, id, notes)
}

// SetSellerInternalNotes replaces the admins' internal notes on seller id
// ("" clears them) and audits the change ("seller.internal_notes");
// ENOTFOUND when there is no such seller.
func (s *Store) SetSellerInternalNotes(ctx context.Context, id, notes string) (*Seller, error) {
	return s.updateSeller(ctx, "seller.internal_notes", `internal_notes = nullif($2, '')`, id, notes)
}

// updateSeller runs one constant SET clause on seller id with argument v and
// audits it as action, in one transaction.
func (s *Store) updateSeller(ctx context.Context, action, set, id string, v any) (*Seller, error) {
	if !ValidID(id) {
		return nil, NotFound("seller")
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	before, err := lockSeller(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	var out Seller
	err = tx.GetContext(ctx, &out, `UPDATE sellers s SET `+set+`, updated_at = now()
		WHERE s.id = $1 RETURNING `+sellerColumns, id, v)
	if err != nil {
		return nil, err
	}
	e := AuditEntry{Action: action, TargetType: "seller", TargetID: id, Changes: diff(sellerAudit(before), sellerAudit(&out))}
	if err := s.Audit(ctx, tx, e); err != nil {
		return nil, err
	}
	return &out, s.commitPublic(ctx, tx, sellerWrite(out.ID, out.Status)...)
}

// replaceContacts replaces a seller's contacts with cs and returns how many
// it had.
func replaceContacts(ctx context.Context, tx *sqlx.Tx, sellerID string, cs []NewContact) (int, error) {
	var old int
	err := tx.GetContext(ctx, &old, `WITH gone AS (DELETE FROM seller_contacts WHERE seller_id = $1 RETURNING 1)
		SELECT count(*) FROM gone`, sellerID)
	if err != nil || len(cs) == 0 {
		return old, err
	}
	kinds, values, labels := make([]string, len(cs)), make([]string, len(cs)), make([]sql.NullString, len(cs))
	for i, c := range cs {
		kinds[i], values[i] = string(c.Kind), c.Value
		if c.Label != nil && *c.Label != "" {
			labels[i] = sql.NullString{String: *c.Label, Valid: true}
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO seller_contacts (seller_id, kind, value, label, position)
		SELECT $1, k, v, l, p - 1 FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS c(k, v, l, p)`,
		sellerID, pq.Array(kinds), pq.Array(values), pq.Array(labels))
	return old, err
}

// replaceLocations replaces a seller's locations with ls and returns how
// many it had. A listing whose location has the same address in the new list
// keeps it; the others move to the seller's (new) first location.
func replaceLocations(ctx context.Context, tx *sqlx.Tx, sellerID string, ls []NewLocation) (int, error) {
	cities, countries := make([]string, len(ls)), make([]string, len(ls))
	regions, postals := make([]sql.NullString, len(ls)), make([]sql.NullString, len(ls))
	for i, l := range ls {
		cities[i], countries[i] = l.City, l.Country
		regions[i], postals[i] = nullString(l.Region), nullString(l.PostalCode)
	}
	var old int
	err := tx.GetContext(ctx, &old, `
		WITH fresh AS (
			INSERT INTO seller_locations (seller_id, city, region, country, postal_code, position)
			SELECT $1, c, r, k, pc, p - 1 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS l(c, r, k, pc, p)
			RETURNING id, city, region, country, postal_code, position),
		moved AS (
			UPDATE listings li SET location_id = (
				SELECT f.id FROM fresh f WHERE f.city = o.city AND f.region IS NOT DISTINCT FROM o.region
					AND f.country = o.country AND f.postal_code IS NOT DISTINCT FROM o.postal_code
				ORDER BY f.position LIMIT 1)
			FROM seller_locations o WHERE o.id = li.location_id AND li.seller_id = $1),
		gone AS (DELETE FROM seller_locations WHERE seller_id = $1 AND id NOT IN (SELECT id FROM fresh) RETURNING 1)
		SELECT count(*) FROM gone`,
		sellerID, pq.Array(cities), pq.Array(regions), pq.Array(countries), pq.Array(postals))
	if err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE listings SET location_id = (SELECT id FROM seller_locations
		WHERE seller_id = $1 ORDER BY position LIMIT 1) WHERE seller_id = $1 AND location_id IS NULL`, sellerID)
	return old, err
}

// nullString returns a NULL for nil or "" and the string otherwise.
func nullString(p *string) sql.NullString {
	if p == nil || *p == "" {
		return sql.NullString{}
	}
	return sql.NullString{String: *p, Valid: true}
}

// Queries naming the seller of a row by the row's id ($1), for
// lockActingSeller.
const (
	sellerItself    = `SELECT $1::uuid`
	sellerOfListing = `SELECT seller_id FROM listings WHERE id = $1`
	sellerOfMedia   = `SELECT l.seller_id FROM media m JOIN listings l ON l.id = m.listing_id WHERE m.id = $1`
	sellerOfLead    = `SELECT seller_id FROM leads WHERE id = $1`
)

// actorSeller is the Actor role of a seller's staff.
const actorSeller = "SELLER"

// lockActingSeller, when ctx's actor is a SELLER, locks the seller that
// sellerOf names (a query of sellerItself and its kin, $1 being id) for share
// until tx ends, and refuses a SUSPENDED one with UNAUTHENTICATED, as its
// token would now be refused. The token was checked when the request began;
// this closes the race with a suspension since: one committed meanwhile is
// seen here (the lock waits for it and reads the row as it committed), and
// one that comes later waits for tx. Call it before locking the row to
// change, as a suspension and a profile change lock the seller first. A row
// that does not exist is left to the caller's own NOT_FOUND.
func lockActingSeller(ctx context.Context, tx *sqlx.Tx, sellerOf, id string) error {
	if ActorFrom(ctx).Role != actorSeller {
		return nil
	}
	var status SellerStatus
	err := tx.GetContext(ctx, &status, `SELECT s.status FROM sellers s WHERE s.id = (`+sellerOf+`) FOR SHARE OF s`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return mayAct(ctx, status)
}

// mayAct refuses, with UNAUTHENTICATED, a SELLER actor of ctx acting for a
// seller whose status (read under a lock) is SUSPENDED.
func mayAct(ctx context.Context, status SellerStatus) error {
	if ActorFrom(ctx).Role == actorSeller && status == SellerSuspended {
		return &Error{Code: EUNAUTHENTICATED, Message: "seller is not allowed"}
	}
	return nil
}
