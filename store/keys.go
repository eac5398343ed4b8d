package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/pii"
)

// RotationCounts says how many rows a key rotation re-encrypted.
type RotationCounts struct {
	// Leads, Reports and Sellers are the rows re-encrypted under the current
	// key (a seller's sealed value is its notification email).
	Leads, Reports, Sellers int
}

// rotationPasses bounds how often RotateKeys walks a table again for rows
// that other transactions held locked while it passed.
const rotationPasses = 5

// RotateKeys re-encrypts under the keyring's current (first) key the
// personal data of every lead, report and seller sealed under another key,
// batchSize rows per transaction, skipping rows other transactions hold (FOR
// UPDATE SKIP LOCKED) and walking again for them. progress, when not nil, is
// told the running counts after each batch. It is idempotent: rows already
// under the current key are left alone, so an interrupted rotation is
// finished by running it again. Rows sealed under a key id missing from the
// keyring fail it (EINTERNAL-class error), as do rows still locked after a
// few walks. The blind index is not recomputed: BLIND_INDEX_KEY does not
// rotate this way.
func (s *Store) RotateKeys(ctx context.Context, batchSize int, progress func(RotationCounts)) (RotationCounts, error) {
	var c RotationCounts
	for _, t := range []struct {
		table  string
		rotate func(context.Context, string, int) (int, string, error)
		count  *int
	}{
		{"leads", s.rotateLeadBatch, &c.Leads},
		{"listing_reports", s.rotateReportBatch, &c.Reports},
		{"sellers", s.rotateSellerBatch, &c.Sellers},
	} {
		err := s.rotateTable(ctx, t.table, t.rotate, batchSize, func(n int) {
			*t.count += n
			if progress != nil {
				progress(c)
			}
		})
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

// rotateTable walks table in id order with rotate, batch by batch, telling
// done the size of each batch, and walks again while rows under an old key
// are left (other transactions held them locked).
func (s *Store) rotateTable(ctx context.Context, table string, rotate func(context.Context, string, int) (int, string, error),
	batchSize int, done func(int)) error {
	for pass := 1; ; pass++ {
		after, rotated := "", 0
		for {
			n, last, err := rotate(ctx, after, batchSize)
			if err != nil {
				return err
			}
			if last == "" {
				break
			}
			after, rotated = last, rotated+n
			done(n)
		}
		left, err := s.countOldKeys(ctx, table)
		if err != nil || left == 0 {
			return err
		}
		if pass == rotationPasses {
			return fmt.Errorf("store: key rotation: %d rows of %s were locked by other transactions; run it again", left, table)
		}
		if rotated == 0 { // every row left was locked: give their holders a moment
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}
}

// countOldKeys counts the rows of table sealed under a key other than the
// current one.
func (s *Store) countOldKeys(ctx context.Context, table string) (int, error) {
	q := map[string]string{
		"leads":           `SELECT count(*) FROM leads WHERE pii_key_id <> $1`,
		"listing_reports": `SELECT count(*) FROM listing_reports WHERE reporter_key_id <> $1`,
		"sellers":         `SELECT count(*) FROM sellers WHERE notification_email_key_id <> $1`,
	}[table]
	var n int
	err := s.db.onPrimary().getScoped(ctx, everything, &n, q, s.keys.CurrentKeyID())
	return n, err
}

// sealedRow is one row's sealed personal data, read for re-encryption.
type sealedRow struct {
	ID    string `db:"id"`
	Blob  []byte `db:"blob"`
	KeyID string `db:"key_id"`
}

// rotateLeadBatch re-encrypts, in one transaction, up to limit unlocked leads
// after id `after` (in id order) sealed under an old key. It returns how
// many it re-encrypted and the last id it looked at ("" when none was left).
func (s *Store) rotateLeadBatch(ctx context.Context, after string, limit int) (int, string, error) {
	return s.rotateBatch(ctx, after, limit,
		`SELECT id, pii AS blob, pii_key_id AS key_id FROM leads
		WHERE pii_key_id <> $1 AND id > $2::uuid ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
		`UPDATE leads d SET pii = u.blob, pii_key_id = $1
		FROM unnest($2::uuid[], $3::bytea[]) AS u(id, blob) WHERE d.id = u.id`,
		resealWith(s.keys, openLeadPII, SealLeadPII))
}

// rotateReportBatch is rotateLeadBatch for reporters' emails.
func (s *Store) rotateReportBatch(ctx context.Context, after string, limit int) (int, string, error) {
	return s.rotateBatch(ctx, after, limit,
		`SELECT id, reporter_pii AS blob, reporter_key_id AS key_id FROM listing_reports
		WHERE reporter_key_id <> $1 AND id > $2::uuid ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
		`UPDATE listing_reports r SET reporter_pii = u.blob, reporter_key_id = $1
		FROM unnest($2::uuid[], $3::bytea[]) AS u(id, blob) WHERE r.id = u.id`,
		resealWith(s.keys, openReporterEmail, SealReporterEmail))
}

// rotateSellerBatch is rotateLeadBatch for sellers' notification emails.
func (s *Store) rotateSellerBatch(ctx context.Context, after string, limit int) (int, string, error) {
	return s.rotateBatch(ctx, after, limit,
		`SELECT id, notification_email_pii AS blob, notification_email_key_id AS key_id FROM sellers
		WHERE notification_email_key_id <> $1 AND id > $2::uuid ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
		`UPDATE sellers s SET notification_email_pii = u.blob, notification_email_key_id = $1
		FROM unnest($2::uuid[], $3::bytea[]) AS u(id, blob) WHERE s.id = u.id`,
		resealWith(s.keys, openNotificationEmail, sealNotificationEmail))
}

// resealWith returns a reseal function for rotateBatch: it decrypts a value
// with open and encrypts it again with seal, under k's current key.
func resealWith[T any](k *pii.Keyring, open func(*pii.Keyring, string, []byte) (T, error),
	seal func(*pii.Keyring, T) ([]byte, string, []byte, error)) func(keyID string, blob []byte) ([]byte, error) {
	return func(keyID string, blob []byte) ([]byte, error) {
		v, err := open(k, keyID, blob)
		if err != nil {
			return nil, err
		}
		blob, _, _, err = seal(k, v)
		return blob, err
	}
}

// rotateBatch locks a batch with sel, re-seals each row with reseal and
// writes them back with upd, in one transaction.
func (s *Store) rotateBatch(ctx context.Context, after string, limit int, sel, upd string,
	reseal func(keyID string, blob []byte) ([]byte, error)) (int, string, error) {
	if after == "" {
		after = "00000000-0000-0000-0000-000000000000"
	}
	tx, err := s.db.onPrimary().beginScoped(ctx, everything, nil)
	if err != nil {
		return 0, "", err
	}
	defer tx.Rollback()
	var rows []sealedRow
	if err := tx.SelectContext(ctx, &rows, sel, s.keys.CurrentKeyID(), after, limit); err != nil {
		return 0, "", err
	}
	if len(rows) == 0 {
		return 0, "", nil
	}
	ids := make([]string, len(rows))
	blobs := make([][]byte, len(rows))
	for i, r := range rows {
		b, err := reseal(r.KeyID, r.Blob)
		if err != nil {
			return 0, "", fmt.Errorf("store: key rotation: row %s: %w", r.ID, err)
		}
		ids[i], blobs[i] = r.ID, b
	}
	if _, err := tx.ExecContext(ctx, upd, s.keys.CurrentKeyID(), pq.Array(ids), pq.Array(blobs)); err != nil {
		return 0, "", err
	}
	return len(rows), rows[len(rows)-1].ID, tx.Commit()
}
