package imports

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strings"

	"github.com/partsmarket/gateway/store"
)

// errStopped says the worker stopped between chunks and released its batch.
var errStopped = errors.New("imports: stopped")

// Messages of row 0 errors.
const (
	msgUnknownColumn = "unknown column; ignored"
	msgNotPaused     = "some rows could not be read, so listings missing from the file were not paused"
	msgUnreadable    = "the uploaded file could not be read"
	msgEmpty         = "the file is empty; expected a header row"
	msgNotCSV        = "the file is not a CSV text file"
	msgTruncated     = "the file could not be read to its end"
	msgInternal      = "the import stopped on an internal error; upload the file again"
	msgNotStored     = "the row could not be stored"
)

// run is one attempt at one batch.
type run struct {
	im    *Importer
	b     *store.ImportBatch
	claim store.ImportClaim
	// skip is how many data rows earlier attempts committed.
	skip       int
	read       int
	failed     int
	seen       map[string]int
	unreadable bool
	chunk      store.ImportChunk
	status     store.ImportStatus
}

func newRun(im *Importer, b *store.ImportBatch) *run {
	return &run{
		im: im, b: b,
		claim: store.ImportClaim{BatchID: b.ID, SellerID: b.SellerID, StartedAt: *b.StartedAt},
		skip:  b.TotalRows, failed: b.FailedCount, seen: map[string]int{},
	}
}

// execute streams the file into the store. Between chunks it returns
// errStopped (the batch released) once stop has ended.
func (r *run) execute(stop, ctx context.Context) error {
	f, err := r.im.o.Files.Open(ctx, r.b.FileKey)
	if err != nil {
		return r.fail(ctx, msgUnreadable)
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	h, err := r.header(cr)
	if err != nil {
		return r.fail(ctx, err.Error())
	}
	r.chunk.Columns = h.cols
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			return r.fail(ctx, msgTruncated)
		}
		r.read++
		if err != nil {
			r.unreadable = true
			r.add(nil, []store.ImportRowError{{Row: r.read, Message: "the row is not valid CSV: " + pe.Err.Error()}})
		} else if !blank(rec) {
			row, errs := h.parseRow(rec, r.read, r.seen)
			r.add(&row, errs)
		} else {
			r.add(nil, nil)
		}
		if r.chunk.Read >= r.im.o.ChunkSize {
			if err := r.flush(stop, ctx); err != nil {
				return err
			}
		}
	}
	return r.finish(ctx)
}

// header reads and checks the header row; its error is the batch's failure.
func (r *run) header(cr *csv.Reader) (header, error) {
	rec, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return header{}, headerError(msgEmpty)
	case err != nil:
		return header{}, headerError(msgNotCSV)
	}
	h, err := parseHeader(rec)
	if err != nil || r.skip > 0 {
		return h, err
	}
	for _, name := range h.unknown {
		col := name
		r.chunk.Errors = append(r.chunk.Errors, store.ImportRowError{Row: 0, Column: &col, Message: msgUnknownColumn})
	}
	return h, nil
}

// blank reports whether every cell of rec is empty (a spreadsheet's
// trailing ",,,," line); such rows are skipped.
func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// add puts data row r.read into the chunk: a valid row, a refused one, or
// (both nil) a skipped blank one. Rows earlier attempts committed are only
// read (to rebuild the SKUs seen).
func (r *run) add(row *store.ImportRow, errs []store.ImportRowError) {
	if r.read <= r.skip {
		return
	}
	r.chunk.Read++
	switch {
	case len(errs) > 0:
		r.chunk.Errors = append(r.chunk.Errors, errs...)
		r.chunk.Failed++
	case row != nil:
		r.chunk.Rows = append(r.chunk.Rows, *row)
	}
}

// flush commits the chunk, or releases the batch when stop has ended.
func (r *run) flush(stop, ctx context.Context) error {
	if stop.Err() != nil {
		if err := r.im.o.WorkerStore.ReleaseImportBatch(ctx, r.claim); err != nil {
			return err
		}
		return errStopped
	}
	if err := r.apply(ctx, r.chunk); err != nil {
		return err
	}
	r.chunk = store.ImportChunk{Columns: r.chunk.Columns}
	return nil
}

// apply commits a chunk. Should the database refuse a value that the checks
// let through, the chunk's rows are written one by one and each refused row
// becomes a row error, so a bad row never stops the good ones.
func (r *run) apply(ctx context.Context, chunk store.ImportChunk) error {
	st := r.im.o.WorkerStore
	_, err := st.ApplyImportChunk(ctx, r.claim, chunk)
	if err == nil || !store.IsDataError(err) {
		if err == nil {
			r.failed += chunk.Failed
		}
		return err
	}
	rest := store.ImportChunk{Columns: chunk.Columns, Errors: chunk.Errors, Read: chunk.Read, Failed: chunk.Failed}
	for _, row := range chunk.Rows {
		_, err := st.ApplyImportChunk(ctx, r.claim, store.ImportChunk{Columns: chunk.Columns, Rows: []store.ImportRow{row}})
		if store.IsDataError(err) {
			rest.Errors = append(rest.Errors, store.ImportRowError{Row: row.Row, Message: msgNotStored})
			rest.Failed++
			continue
		}
		if err != nil {
			return err
		}
	}
	if _, err := st.ApplyImportChunk(ctx, r.claim, rest); err != nil {
		return err
	}
	r.failed += rest.Failed
	return nil
}

// finish commits the last chunk, pauses missing listings for REPLACE and
// sets the final status.
func (r *run) finish(ctx context.Context) error {
	if err := r.apply(ctx, r.chunk); err != nil {
		return err
	}
	r.status = store.ImportSucceeded
	if r.failed > 0 {
		r.status = store.ImportPartial
	}
	last := store.ImportChunk{Columns: r.chunk.Columns}
	f := store.ImportFinish{Status: r.status}
	if r.b.Mode == store.ImportReplace {
		if r.unreadable {
			last.Errors = []store.ImportRowError{{Row: 0, Message: msgNotPaused}}
		} else {
			f.PauseMissing = true
			f.SKUs = make([]string, 0, len(r.seen))
			for sku := range r.seen {
				f.SKUs = append(f.SKUs, sku)
			}
		}
	}
	_, _, err := r.im.o.WorkerStore.FinishImportBatch(ctx, r.claim, last, f)
	return err
}

// fail ends the batch as FAILED with message as a row 0 error.
func (r *run) fail(ctx context.Context, message string) error {
	r.status = store.ImportFailed
	last := store.ImportChunk{Errors: []store.ImportRowError{{Row: 0, Message: message}}}
	_, _, err := r.im.o.WorkerStore.FinishImportBatch(ctx, r.claim, last,
		store.ImportFinish{Status: store.ImportFailed, Failure: &message})
	return err
}

// failInternal ends the batch as FAILED after an unexpected error, if the
// worker still holds it.
func (r *run) failInternal(ctx context.Context) {
	if err := r.fail(ctx, msgInternal); err != nil && !errors.Is(err, store.ErrImportClaimLost) {
		r.im.o.Log.Error("import batch not marked failed", "batch_id", r.b.ID, "error", err.Error())
	}
}
