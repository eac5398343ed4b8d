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
	// Leads and Reports are the rows re-encrypted under the current key.
	Leads, Reports int
	// Sellers counts the sellers' notification emails re-encrypted.
	Sellers int
	// Members counts the sealed values of seller members and invitations
	// (an invitation's email and its queued mail) re-encrypted.
	Members int
}

// rotationPasses bounds how often RotateKeys walks a table again for rows
// that other transactions held locked while it passed.
const rotationPasses = 5

// RotateKeys re-encrypts under the keyring's current (first) key the
// personal data of every lead, report, seller (its notification email),
// seller member and invitation sealed under another key, batchSize rows per
// transaction, skipping rows other transactions hold (FOR UPDATE
// SKIP LOCKED) and walking again for them. progress, when not nil, is told
// the running counts after each batch. It is idempotent: rows already under
// the current key are left alone, so an interrupted rotation is finished by
// running it again. Rows sealed under a key id missing from the keyring fail
// it (EINTERNAL-class error), as do rows still locked after a few walks.
// The blind index is not recomputed: BLIND_INDEX_KEY does not rotate this way.
func (s *Store) RotateKeys(ctx context.Context, batchSize int, progress func(RotationCounts)) (RotationCounts, error) {
	var c RotationCounts
	counting := func(n *int) func(int) {
		return func(k int) {
			*n += k
			if progress != nil {
				progress(c)
			}
		}
	}
	if err := s.rotateTable(ctx, "leads", s.rotateLeadBatch, batchSize, counting(&c.Leads)); err != nil {
		return c, err
	}
	if err := s.rotateTable(ctx, "listing_reports", s.rotateReportBatch, batchSize, counting(&c.Reports)); err != nil {
		return c, err
	}
	if err := s.rotateColumn(ctx, sellerSealedColumn, batchSize, counting(&c.Sellers)); err != nil {
		return c, err
	}
	for _, col := range memberSealedColumns {
		if err := s.rotateColumn(ctx, col, batchSize, counting(&c.Members)); err != nil {
			return c, err
		}
	}
	return c, nil
}

// sealedColumn is a column of sealed values and its key id column, and the
// additional data binding the values to it.
type sealedColumn struct {
	table, blob, keyID string
	aad                []byte
}

// sellerSealedColumn is the sellers' sealed notification email.
var sellerSealedColumn = sealedColumn{"sellers", "notification_email_pii", "notification_email_key_id", notificationPIIAAD}

// memberSealedColumns are the sealed columns of members and invitations.
var memberSealedColumns = []sealedColumn{
	{"seller_members", "email_pii", "email_key_id", memberEmailAAD},
	{"seller_invitations", "email_pii", "email_key_id", invitationEmailAAD},
	{"seller_invitations", "mail_pii", "mail_key_id", invitationMailAAD},
}

// rotateColumn re-encrypts col's values sealed under an old key under the
// current one, batchSize rows per transaction (locked FOR UPDATE SKIP
// LOCKED, so a row re-encrypted leaves the batch's condition), until a
// batch finds none; rows others held locked fail it, as rotateTable does
// after its walks.
func (s *Store) rotateColumn(ctx context.Context, col sealedColumn, batchSize int, done func(int)) error {
	for {
		n, err := s.rotateColumnBatch(ctx, col, batchSize)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		done(n)
	}
	var left int
	err := s.db.onPrimary().GetContext(ctx, &left, `SELECT count(*) FROM `+col.table+` WHERE `+col.keyID+` <> $1`, s.keys.CurrentKeyID())
	if err == nil && left > 0 {
		err = fmt.Errorf("store: key rotation: %d rows of %s were locked by other transactions; run it again", left, col.table)
	}
	return err
}

// rotateColumnBatch re-encrypts up to limit unlocked values of col in one
// transaction (rows named by ctid, stable while they are locked) and
// returns how many.
func (s *Store) rotateColumnBatch(ctx context.Context, col sealedColumn, limit int) (int, error) {
	tx, err := s.db.onPrimary().BeginTxx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var rows []sealedRow
	err = tx.SelectContext(ctx, &rows, `SELECT ctid::text AS id, `+col.blob+` AS blob, `+col.keyID+` AS key_id FROM `+col.table+
		` WHERE `+col.keyID+` <> $1 LIMIT $2 FOR UPDATE SKIP LOCKED`, s.keys.CurrentKeyID(), limit)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	ids := make([]string, len(rows))
	blobs := make([][]byte, len(rows))
	for i, r := range rows {
		plain, err := s.keys.Open(r.KeyID, r.Blob, col.aad)
		if err != nil {
			return 0, fmt.Errorf("store: key rotation: a row of %s: %w", col.table, err)
		}
		if blobs[i], _, err = s.keys.Seal(plain, col.aad); err != nil {
			return 0, err
		}
		ids[i] = r.ID
	}
	_, err = tx.ExecContext(ctx, `UPDATE `+col.table+` t SET `+col.blob+` = u.blob, `+col.keyID+` = $1
		FROM unnest($2::tid[], $3::bytea[]) AS u(id, blob) WHERE t.ctid = u.id`, s.keys.CurrentKeyID(), pq.Array(ids), pq.Array(blobs))
	if err != nil {
		return 0, err
	}
	return len(rows), tx.Commit()
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
	q := `SELECT count(*) FROM leads WHERE pii_key_id <> $1`
	if table == "listing_reports" {
		q = `SELECT count(*) FROM listing_reports WHERE reporter_key_id <> $1`
	}
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
