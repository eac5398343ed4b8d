package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/lib/pq"
)

// MaxMediaPerListing is how many images one listing may have.
const MaxMediaPerListing = 20

const mediaColumns = `id, listing_id, url, alt_text, position, content_type, created_at`

// MediaByListingID returns the media of the given listings, each listing's
// in display order.
func (s *Store) MediaByListingID(ctx context.Context, listingIDs []string) ([]*Media, error) {
	out, err := selectRows(ctx, s.db, (*Media).fields, `SELECT `+mediaColumns+` FROM media
		WHERE listing_id = ANY($1::uuid[]) ORDER BY listing_id, position, created_at`, pq.Array(validIDs(listingIDs)))
	tagListingIDs(ctx, listingIDs)
	return out, err
}

// Media returns the media item id, whoever asks; ENOTFOUND when there is
// none. Callers check the listing's ownership.
func (s *Store) Media(ctx context.Context, id string) (*Media, error) {
	if !ValidID(id) {
		return nil, NotFound("media")
	}
	var m Media
	err := s.db.GetContext(ctx, &m, `SELECT `+mediaColumns+` FROM media WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("media")
	}
	return &m, err
}

// NewMedia is an image to add to a listing.
type NewMedia struct {
	ListingID   string
	URL         string
	AltText     *string
	Position    *int
	ContentType *string
	// StorageKey is the key of an uploaded file in the media storage; nil
	// for an image that lives at an outside URL.
	StorageKey *string
}

// AddMedia adds an image to a listing, after its last one unless a position
// is given, and audits it ("media.add"). EINVALID when the listing already
// has MaxMediaPerListing images.
func (s *Store) AddMedia(ctx context.Context, n NewMedia) (*Media, error) {
	if !ValidID(n.ListingID) {
		return nil, NotFound("listing")
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := lockActingSeller(ctx, tx, sellerOfListing, n.ListingID); err != nil {
		return nil, err
	}
	// Lock the listing, so that additions to it run one at a time; the
	// INSERT, a statement after the lock with a snapshot of its own, counts
	// the images committed meanwhile. (A count taken by the locking
	// statement itself would be as old as that statement's snapshot.)
	var locked bool
	err = tx.GetContext(ctx, &locked, `SELECT true FROM listings WHERE id = $1 FOR UPDATE`, n.ListingID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("listing")
	}
	if err != nil {
		return nil, err
	}
	var m Media
	err = tx.GetContext(ctx, &m, `INSERT INTO media (listing_id, url, alt_text, position, content_type, storage_key)
		SELECT $1, $2, $3, coalesce($4, (SELECT coalesce(max(position) + 1, 0) FROM media WHERE listing_id = $1)), $5, $6
		WHERE (SELECT count(*) FROM media WHERE listing_id = $1) < $7
		RETURNING `+mediaColumns, n.ListingID, n.URL, n.AltText, n.Position, n.ContentType, n.StorageKey, MaxMediaPerListing)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Invalid("listingId", "a listing has at most 20 media")
	}
	if err != nil {
		return nil, err
	}
	e := AuditEntry{Action: "media.add", TargetType: "media", TargetID: m.ID, Changes: diff(nil, mediaAudit(&m))}
	if err := s.Audit(ctx, tx, e); err != nil {
		return nil, err
	}
	return &m, s.commitPublic(ctx, tx, mediaWrite(m.ListingID)...)
}

// RemoveMedia deletes media item id and audits it; ENOTFOUND when there is
// none.
func (s *Store) RemoveMedia(ctx context.Context, id string) error {
	_, err := s.RemoveStoredMedia(ctx, id)
	return err
}

// RemoveStoredMedia deletes media item id, audits it ("media.remove") and
// returns the storage key of its uploaded file ("" for an image at an outside
// URL), so the caller can delete the file once the row is gone. ENOTFOUND
// when there is none.
func (s *Store) RemoveStoredMedia(ctx context.Context, id string) (string, error) {
	if !ValidID(id) {
		return "", NotFound("media")
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if err := lockActingSeller(ctx, tx, sellerOfMedia, id); err != nil {
		return "", err
	}
	var gone struct {
		Media
		StorageKey sql.NullString `db:"storage_key"`
	}
	err = tx.GetContext(ctx, &gone, `DELETE FROM media WHERE id = $1 RETURNING `+mediaColumns+`, storage_key`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", NotFound("media")
	}
	if err != nil {
		return "", err
	}
	e := AuditEntry{Action: "media.remove", TargetType: "media", TargetID: id, Changes: diff(mediaAudit(&gone.Media), nil)}
	if err := s.Audit(ctx, tx, e); err != nil {
		return "", err
	}
	return gone.StorageKey.String, s.commitPublic(ctx, tx, mediaWrite(gone.ListingID)...)
}

// mediaAudit is the snapshot of a media item's audited fields.
func mediaAudit(m *Media) map[string]any {
	return map[string]any{"listingId": m.ListingID, "url": m.URL, "altText": val(m.AltText), "position": m.Position,
		"contentType": val(m.ContentType)}
}

// MediaCount returns how many images listing listingID has.
func (s *Store) MediaCount(ctx context.Context, listingID string) (int, error) {
	var n int
	if !ValidID(listingID) {
		return 0, nil
	}
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM media WHERE listing_id = $1`, listingID)
	return n, err
}
