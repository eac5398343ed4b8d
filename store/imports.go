package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// importBatchColumns are the columns of ImportBatch, read from "import_batches b".
const importBatchColumns = `b.id, b.seller_id, b.mode, b.status, b.file_key, b.file_name, b.total_rows,
	b.created_count, b.updated_count, b.unchanged_count, b.failed_count, b.failure,
	b.started_at, b.finished_at, b.created_at`

var importBatchesNewest = keyset{name: "newest", key: "b.created_at", cast: "timestamptz", id: "b.id", desc: true}

// importRowErrorsSort tags the cursors of a batch's row errors.
const importRowErrorsSort = "row_errors"

// ErrImportClaimLost says that a worker no longer holds the batch it works
// on (another worker reclaimed it, or it was finished); the worker's last
// chunk was rolled back and it must stop.
var ErrImportClaimLost = errors.New("store: import batch claim lost")

// NewImportBatch is an uploaded file waiting to be imported.
type NewImportBatch struct {
	// ID is chosen by the caller, so the file can be stored under it first.
	ID        string
	SellerID  string
	Mode      ImportMode
	FileKey   string
	FileName  *string
	CreatedBy *string
}

// CreateImportBatch stores a QUEUED batch, audits it ("import.create") and
// returns it once committed. ENOTFOUND when the seller does not exist.
func (s *Store) CreateImportBatch(ctx context.Context, n NewImportBatch) (*ImportBatch, error) {
	if !ValidID(n.SellerID) {
		return nil, NotFound("seller")
	}
	tx, err := s.db.beginScoped(ctx, scopeOf(ctx), nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := lockActingSeller(ctx, tx, sellerItself, n.SellerID); err != nil {
		return nil, err
	}
	var b ImportBatch
	err = tx.GetContext(ctx, &b, `INSERT INTO import_batches AS b (id, seller_id, mode, file_key, file_name, created_by)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+importBatchColumns,
		n.ID, n.SellerID, n.Mode, n.FileKey, n.FileName, n.CreatedBy)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Constraint == "import_batches_seller_id_fkey" {
		return nil, NotFound("seller")
	}
	if err != nil {
		return nil, err
	}
	e := AuditEntry{Action: "import.create", TargetType: "import_batch", TargetID: b.ID, Changes: diff(nil, map[string]any{
		"sellerId": b.SellerID, "mode": b.Mode, "status": b.Status, "fileName": val(b.FileName)})}
	if err := s.Audit(ctx, tx, e); err != nil {
		return nil, err
	}
	return &b, tx.Commit()
}

// ImportBatch returns batch id if scope may see it (a seller its own, admins
// and analysts all); ENOTFOUND otherwise, including for malformed ids.
func (s *Store) ImportBatch(ctx context.Context, scope Scope, id string) (*ImportBatch, error) {
	rows, err := s.ImportBatchesByID(ctx, scope, []string{id})
	return one(rows, err, "import batch")
}

type importBatchRow struct {
	ImportBatch
	SortKey string `db:"sort_key"`
}

// ImportBatches returns one page of the batches that match bq, newest first.
// EINVALID for a cursor of another list.
func (s *Store) ImportBatches(ctx context.Context, bq ImportBatchQuery, p PageArgs) (Page[*ImportBatch], error) {
	var q query
	bq.where(&q)
	order, err := importBatchesNewest.window(&q, p)
	if err != nil {
		return Page[*ImportBatch]{}, err
	}
	var rows []*importBatchRow
	err = s.db.selectScoped(ctx, bq.Scope, &rows, `SELECT `+importBatchColumns+`, `+importBatchesNewest.keyText()+
		` AS sort_key FROM import_batches b`+q.sql()+order+` LIMIT `+q.arg(p.Limit+1), q.args...)
	if err != nil {
		return Page[*ImportBatch]{}, err
	}
	return unwrap(pageOf(importBatchesNewest, rows, p, func(r *importBatchRow) (string, string) { return r.SortKey, r.ID }),
		func(r *importBatchRow) *ImportBatch { return &r.ImportBatch }), nil
}

// CountImportBatches returns how many batches match bq.
func (s *Store) CountImportBatches(ctx context.Context, bq ImportBatchQuery) (int, error) {
	var q query
	bq.where(&q)
	var n int
	err := s.db.getScoped(ctx, bq.Scope, &n, `SELECT count(*) FROM import_batches b`+q.sql(), q.args...)
	return n, err
}

func (bq ImportBatchQuery) where(q *query) {
	ownedBy(q, "b.seller_id", bq.Scope)
	if v, ok := text(bq.SellerID); ok {
		q.and("b.seller_id = " + q.arg(idOrNil(v)) + "::uuid")
	}
}

// ImportRowErrors returns one page of batch batchID's row errors in file
// order (row number, then the order they were found). The caller has
// checked that it may see the batch. EINVALID for a cursor of another list.
func (s *Store) ImportRowErrors(ctx context.Context, batchID string, p PageArgs) (Page[*ImportRowError], error) {
	if !ValidID(batchID) {
		return Page[*ImportRowError]{}, nil
	}
	var q query
	q.and("e.batch_id = " + q.arg(batchID))
	if err := rowErrorBound(&q, batchID, "after", p.After, ">"); err != nil {
		return Page[*ImportRowError]{}, err
	}
	if err := rowErrorBound(&q, batchID, "before", p.Before, "<"); err != nil {
		return Page[*ImportRowError]{}, err
	}
	order := ` ORDER BY e.row_number, e.id`
	if p.Last {
		order = ` ORDER BY e.row_number DESC, e.id DESC`
	}
	var rows []*ImportRowError
	err := s.db.selectScoped(ctx, scopeOf(ctx), &rows, `SELECT e.id, e.batch_id, e.row_number, e.column_name, e.message
		FROM import_row_errors e`+q.sql()+order+` LIMIT `+q.arg(p.Limit+1), q.args...)
	if err != nil {
		return Page[*ImportRowError]{}, err
	}
	k := keyset{name: importRowErrorsSort}
	return pageOf(k, rows, p, func(e *ImportRowError) (string, string) {
		return strconv.Itoa(e.Row) + "." + strconv.FormatInt(e.ID, 10), e.BatchID
	}), nil
}

// rowErrorBound adds the condition that keeps the row errors on side op
// ("<" or ">") of cursor c, given as argument arg; EINVALID for a cursor of
// another list or batch.
func rowErrorBound(q *query, batchID, arg string, c *Cursor, op string) error {
	if c == nil {
		return nil
	}
	row, id, ok := parseRowErrorKey(c.Key)
	if c.Sort != importRowErrorsSort || c.ID != batchID || !ok {
		return Invalid(arg, "cursor does not belong to this list and order")
	}
	q.and("(e.row_number, e.id) " + op + " (" + q.arg(row) + "::int, " + q.arg(id) + "::bigint)")
	return nil
}

// parseRowErrorKey reads a row error cursor key "row.id".
func parseRowErrorKey(key string) (row int, id int64, ok bool) {
	a, b, found := strings.Cut(key, ".")
	r, err1 := strconv.Atoi(a)
	n, err2 := strconv.ParseInt(b, 10, 64)
	return r, n, found && err1 == nil && err2 == nil
}

// CountImportRowErrors returns how many row errors batch batchID has.
func (s *Store) CountImportRowErrors(ctx context.Context, batchID string) (int, error) {
	if !ValidID(batchID) {
		return 0, nil
	}
	var n int
	err := s.db.getScoped(ctx, scopeOf(ctx), &n, `SELECT count(*) FROM import_row_errors WHERE batch_id = $1`, batchID)
	return n, err
}

// ImportClaim is a worker's hold on a RUNNING batch. StartedAt is the
// fencing token: every write of the worker checks it, so a worker whose
// batch was reclaimed cannot write any more.
type ImportClaim struct {
	BatchID   string
	SellerID  string
	StartedAt time.Time
}

// ClaimImportBatch takes the oldest QUEUED batch, or a RUNNING one whose
// worker has not written for staleAfter (it died), sets it RUNNING and
// returns it. Safe with several workers (FOR UPDATE SKIP LOCKED). ENOTFOUND
// when there is nothing to do.
func (s *Store) ClaimImportBatch(ctx context.Context, staleAfter time.Duration) (*ImportBatch, error) {
	var b ImportBatch
	err := s.db.inScope(ctx, everything, nil, func(tx *sqlx.Tx) error {
		return tx.GetContext(ctx, &b, `UPDATE import_batches b
			SET status = 'RUNNING', started_at = clock_timestamp(), finished_at = NULL, updated_at = now()
			WHERE b.id = (
				SELECT id FROM import_batches
				WHERE status = 'QUEUED' OR (status = 'RUNNING' AND updated_at < now() - make_interval(secs => $1))
				ORDER BY created_at LIMIT 1
				FOR UPDATE SKIP LOCKED)
			RETURNING `+importBatchColumns, staleAfter.Seconds())
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("import batch")
	}
	return &b, err
}

// ImportRow is one valid row of an import file, ready to upsert. Nil
// pointers are empty cells (NULL); Status nil keeps an existing listing's
// status (DRAFT for a new one).
type ImportRow struct {
	// Row is the data row number in the file, for error reports.
	Row         int
	SKU         string
	Title       string
	Description *string
	PartNumber  *string
	Brand       *string
	Category    *string
	Condition   ListingCondition
	Quantity    *int
	PriceLabel  *string
	PriceCents  *int64
	Currency    *string
	Status      *ListingStatus
}

// ImportChunk is a run of consecutive data rows of a file: the valid ones
// and the errors of the others.
type ImportChunk struct {
	// Columns are the listing columns the file has (its header), from
	// ImportColumns; columns it lacks keep their values on update.
	Columns []string
	Rows    []ImportRow
	Errors  []ImportRowError
	// Read is how many data rows the chunk covers.
	Read int
	// Failed is how many of them were refused.
	Failed int
}

// ImportColumns are the listing columns an import file may carry, in
// upsert order. sku, title and condition are always present.
var ImportColumns = []string{"sku", "title", "description", "part_number", "brand", "category",
	"condition", "quantity", "price_label", "price_cents", "currency", "status"}

// ImportCounts are what became of the rows of a chunk.
type ImportCounts struct {
	Created, Updated, Unchanged int
}

// ApplyImportChunk upserts a chunk's valid rows by (seller, SKU), stores its
// row errors and adds its counts to the batch, in one transaction.
// ErrImportClaimLost when c no longer holds the batch.
func (s *Store) ApplyImportChunk(ctx context.Context, c ImportClaim, chunk ImportChunk) (ImportCounts, error) {
	return s.ApplyImportChunkInTurn(ctx, c, chunk, nil)
}

// ApplyImportChunkInTurn is ApplyImportChunk for a worker that writes
// several chunks of a batch at once, each in its own transaction. It upserts
// the chunk's listings, then calls turn (unless nil), which returns once the
// batch's earlier chunks are committed, or an error, which rolls this chunk
// back and is returned. Only then does it lock the batch, check c, store the
// row errors, add the counts and commit. So chunks are written in parallel
// but commit in file order: the committed rows of a batch are always its
// first total_rows rows, and the batch row is locked only at the end.
// turn must not wait for anything that waits for this chunk's row locks:
// the chunks of a file have distinct SKUs.
func (s *Store) ApplyImportChunkInTurn(ctx context.Context, c ImportClaim, chunk ImportChunk, turn func(context.Context) error) (ImportCounts, error) {
	var counts ImportCounts
	err := s.importTx(ctx, c, func(tx *sqlx.Tx) error {
		var err error
		if counts, err = upsertChunk(ctx, tx, c.SellerID, chunk); err != nil || turn == nil {
			return err
		}
		return turn(ctx)
	}, func(tx *sqlx.Tx) error {
		return recordChunk(ctx, tx, c, chunk, counts)
	})
	return counts, err
}

// ImportFinish is how a batch ends.
type ImportFinish struct {
	Status  ImportStatus
	Failure *string
	// PauseMissing pauses the seller's listings (not REMOVED) whose SKU is
	// not in SKUs: REPLACE mode. The number paused is added to updated_count.
	PauseMissing bool
	SKUs         []string
}

// FinishImportBatch applies the last chunk, pauses missing listings for
// REPLACE, and sets the batch's final status, in one transaction. It returns
// the last chunk's counts and how many listings it paused.
// ErrImportClaimLost when c no longer holds the batch.
func (s *Store) FinishImportBatch(ctx context.Context, c ImportClaim, chunk ImportChunk, f ImportFinish) (ImportCounts, int, error) {
	var counts ImportCounts
	var paused int
	err := s.importTx(ctx, c, nil, func(tx *sqlx.Tx) error {
		var err error
		if counts, err = applyChunk(ctx, tx, c, chunk); err != nil {
			return err
		}
		if f.PauseMissing {
			if paused, err = pauseMissing(ctx, tx, c.SellerID, f.SKUs); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE import_batches SET status = $2, failure = $3,
			updated_count = updated_count + $4, finished_at = now(), updated_at = now() WHERE id = $1`,
			c.BatchID, f.Status, f.Failure, paused)
		return err
	})
	return counts, paused, err
}

// ReleaseImportBatch puts a batch back in the queue (a worker shutting
// down); its progress is kept and the next worker resumes after it.
// ErrImportClaimLost when c no longer holds the batch.
func (s *Store) ReleaseImportBatch(ctx context.Context, c ImportClaim) error {
	return s.importTx(ctx, c, nil, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE import_batches SET status = 'QUEUED', updated_at = now() WHERE id = $1`, c.BatchID)
		return err
	})
}

// importTx runs before (unless nil), then locks the batch, checks that c
// still holds it and runs fn, in one transaction, which sees the private
// rows of the batch's seller only. Work done in before does not hold the
// batch row, so other chunks of the batch can commit meanwhile.
func (s *Store) importTx(ctx context.Context, c ImportClaim, before, fn func(*sqlx.Tx) error) error {
	tx, err := s.db.beginScoped(ctx, Scope{SellerID: c.SellerID}, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	// A chunk carries its own progress counters, so losing the last
	// commits in a server crash only rewinds the batch, which is then
	// resumed: no need to wait for the WAL flush.
	if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
		return err
	}
	if before != nil {
		if err := before(tx); err != nil {
			return err
		}
	}
	var held bool
	err = tx.GetContext(ctx, &held, `SELECT true FROM import_batches
		WHERE id = $1 AND status = 'RUNNING' AND started_at = $2 FOR UPDATE`, c.BatchID, c.StartedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrImportClaimLost
	}
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return s.commitPublic(ctx, tx, importWrite(c.SellerID)...)
}

// applyChunk writes one chunk inside tx.
func applyChunk(ctx context.Context, tx *sqlx.Tx, c ImportClaim, chunk ImportChunk) (ImportCounts, error) {
	counts, err := upsertChunk(ctx, tx, c.SellerID, chunk)
	if err != nil {
		return counts, err
	}
	return counts, recordChunk(ctx, tx, c, chunk, counts)
}

// upsertChunk upserts the valid rows of a chunk inside tx.
func upsertChunk(ctx context.Context, tx *sqlx.Tx, sellerID string, chunk ImportChunk) (ImportCounts, error) {
	var counts ImportCounts
	withStatus, withoutStatus := splitByStatus(chunk.Rows)
	for _, part := range []struct {
		rows []ImportRow
		cols []string
	}{{withStatus, chunk.Columns}, {withoutStatus, without(chunk.Columns, "status")}} {
		if len(part.rows) == 0 {
			continue
		}
		created, updated, err := upsertListings(ctx, tx, sellerID, part.cols, part.rows)
		if err != nil {
			return counts, err
		}
		counts.Created += created
		counts.Updated += updated
		counts.Unchanged += len(part.rows) - created - updated
	}
	return counts, nil
}

// recordChunk stores the row errors of a chunk and adds its counts to the
// batch, inside tx.
func recordChunk(ctx context.Context, tx *sqlx.Tx, c ImportClaim, chunk ImportChunk, counts ImportCounts) error {
	if err := insertRowErrors(ctx, tx, c.BatchID, chunk.Errors); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE import_batches SET total_rows = total_rows + $2,
		created_count = created_count + $3, updated_count = updated_count + $4,
		unchanged_count = unchanged_count + $5, failed_count = failed_count + $6, updated_at = now()
		WHERE id = $1`, c.BatchID, chunk.Read, counts.Created, counts.Updated, counts.Unchanged, chunk.Failed)
	return err
}

// splitByStatus separates rows that set a status from rows that keep it.
func splitByStatus(rows []ImportRow) (with, without []ImportRow) {
	for _, r := range rows {
		if r.Status != nil {
			with = append(with, r)
		} else {
			without = append(without, r)
		}
	}
	return with, without
}

// without returns cols minus col.
func without(cols []string, col string) []string {
	out := make([]string, 0, len(cols))
	for _, c := range cols {
		if c != col {
			out = append(out, c)
		}
	}
	return out
}

// importColumnTypes are the SQL array types the rows are sent as.
var importColumnTypes = map[string]string{"quantity": "bigint", "price_cents": "bigint"}

// upsertListings inserts or updates rows by (seller, SKU) in one statement
// and returns how many it created and how many it changed; rows whose
// columns all equal the stored ones are left untouched (updated_at too).
// cols are constant column names from ImportColumns, never user input.
func upsertListings(ctx context.Context, tx *sqlx.Tx, sellerID string, cols []string, rows []ImportRow) (created, updated int, err error) {
	args := []any{sellerID}
	var unnest, sets, olds, news []string
	for _, col := range cols {
		typ := importColumnTypes[col]
		if typ == "" {
			typ = "text"
		}
		args = append(args, columnArray(col, rows))
		unnest = append(unnest, "$"+strconv.Itoa(len(args))+"::"+typ+"[]")
		if col == "sku" {
			continue
		}
		newVal := "excluded." + col
		if col == "status" {
			newVal = "CASE WHEN l.status = 'REMOVED' THEN l.status ELSE excluded.status END"
		}
		sets = append(sets, col+" = "+newVal)
		olds = append(olds, "l."+col)
		news = append(news, newVal)
	}
	selects := make([]string, len(cols))
	for i, col := range cols {
		selects[i] = "t." + col
		if col == "quantity" {
			selects[i] = "t.quantity::int"
		}
	}
	stmt := `INSERT INTO listings AS l (seller_id, location_id, ` + strings.Join(cols, ", ") + `)
		SELECT $1, (SELECT id FROM seller_locations WHERE seller_id = $1 ORDER BY position, created_at LIMIT 1), ` +
		strings.Join(selects, ", ") + `
		FROM unnest(` + strings.Join(unnest, ", ") + `) AS t(` + strings.Join(cols, ", ") + `)
		ON CONFLICT (seller_id, sku) DO UPDATE SET ` + strings.Join(sets, ", ") + `, updated_at = now()
		WHERE (` + strings.Join(olds, ", ") + `) IS DISTINCT FROM (` + strings.Join(news, ", ") + `)
		RETURNING (xmax = 0) AS inserted`
	var inserted []bool
	if err := tx.SelectContext(ctx, &inserted, stmt, args...); err != nil {
		return 0, 0, err
	}
	for _, ins := range inserted {
		if ins {
			created++
		} else {
			updated++
		}
	}
	return created, updated, nil
}

// columnArray returns the values of one column of rows as a SQL array.
func columnArray(col string, rows []ImportRow) any {
	switch col {
	case "quantity":
		return intArray(rows, func(r *ImportRow) *int64 {
			if r.Quantity == nil {
				return nil
			}
			v := int64(*r.Quantity)
			return &v
		})
	case "price_cents":
		return intArray(rows, func(r *ImportRow) *int64 { return r.PriceCents })
	}
	out := make([]sql.NullString, len(rows))
	for i := range rows {
		if v := textColumn(col, &rows[i]); v != nil {
			out[i] = sql.NullString{String: *v, Valid: true}
		}
	}
	return pq.Array(out)
}

func intArray(rows []ImportRow, get func(*ImportRow) *int64) any {
	out := make([]sql.NullInt64, len(rows))
	for i := range rows {
		if v := get(&rows[i]); v != nil {
			out[i] = sql.NullInt64{Int64: *v, Valid: true}
		}
	}
	return pq.Array(out)
}

// textColumn returns a text column of r.
func textColumn(col string, r *ImportRow) *string {
	switch col {
	case "sku":
		return &r.SKU
	case "title":
		return &r.Title
	case "description":
		return r.Description
	case "part_number":
		return r.PartNumber
	case "brand":
		return r.Brand
	case "category":
		return r.Category
	case "condition":
		v := string(r.Condition)
		return &v
	case "price_label":
		return r.PriceLabel
	case "currency":
		return r.Currency
	case "status":
		if r.Status == nil {
			return nil
		}
		v := string(*r.Status)
		return &v
	}
	return nil
}

// insertRowErrors stores row errors of batchID in one statement.
func insertRowErrors(ctx context.Context, tx *sqlx.Tx, batchID string, errs []ImportRowError) error {
	if len(errs) == 0 {
		return nil
	}
	rowNums := make([]int64, len(errs))
	cols := make([]sql.NullString, len(errs))
	msgs := make([]string, len(errs))
	for i, e := range errs {
		rowNums[i], msgs[i] = int64(e.Row), e.Message
		if e.Column != nil {
			cols[i] = sql.NullString{String: *e.Column, Valid: true}
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO import_row_errors (batch_id, row_number, column_name, message)
		SELECT $1, t.r, t.c, t.m FROM unnest($2::int[], $3::text[], $4::text[]) AS t(r, c, m)`,
		batchID, pq.Array(rowNums), pq.Array(cols), pq.Array(msgs))
	return err
}

// IsDataError reports whether err is the database refusing a value (a
// check, a range, a constraint) rather than failing: the row is at fault.
func IsDataError(err error) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) {
		return false
	}
	class := pqErr.Code.Class()
	return class == "22" || class == "23"
}

// pauseMissing sets sellerID's listings that are neither REMOVED nor PAUSED
// and whose SKU is not among skus (or that have no SKU) to PAUSED, and
// returns how many it changed.
func pauseMissing(ctx context.Context, tx *sqlx.Tx, sellerID string, skus []string) (int, error) {
	res, err := tx.ExecContext(ctx, `UPDATE listings l SET status = 'PAUSED', updated_at = now()
		WHERE l.seller_id = $1 AND l.status NOT IN ('REMOVED', 'PAUSED')
		AND (l.sku IS NULL OR NOT EXISTS (SELECT 1 FROM unnest($2::text[]) AS f(sku) WHERE f.sku = l.sku))`,
		sellerID, pq.StringArray(skus))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
