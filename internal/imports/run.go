package imports

import (
	"bufio"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"slices"
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
	// writing are the chunks being written, oldest first.
	writing []*write
	status  store.ImportStatus
}

// write is a chunk being written in the background.
type write struct {
	done chan struct{}
	// failed is how many of the chunk's rows were refused; err is why the
	// chunk was not committed. Both are set before done is closed.
	failed int
	err    error
}

// turn returns once w is committed, or its error; at once when w is nil.
func (w *write) turn(ctx context.Context) error {
	if w == nil {
		return nil
	}
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func newRun(im *Importer, b *store.ImportBatch) *run {
	return &run{
		im: im, b: b,
		claim: store.ImportClaim{BatchID: b.ID, SellerID: b.SellerID, StartedAt: *b.StartedAt},
		skip:  b.TotalRows, failed: b.FailedCount, seen: map[string]int{},
	}
}

// recordReader reads a file's records, the header row first: a
// *csv.Reader, or an *xlsxReader for an XLSX workbook. Read returns io.EOF
// after the last record, and a *csv.ParseError for a record that cannot be
// read when the later ones still can.
type recordReader interface {
	Read() ([]string, error)
}

// execute streams the file into the store: an XLSX workbook when the file
// starts like a ZIP archive (whatever its name), CSV otherwise. Between
// chunks it returns errStopped (the batch released) once stop has ended.
func (r *run) execute(stop, ctx context.Context) error {
	f, err := r.im.o.Files.Open(ctx, r.b.FileKey)
	if err != nil {
		return r.fail(ctx, msgUnreadable)
	}
	defer f.Close()
	var rr recordReader
	br := bufio.NewReaderSize(f, 64<<10)
	if magic, _ := br.Peek(len(zipMagic)); string(magic) == zipMagic {
		x, err := openXLSX(br)
		var he headerError
		if errors.As(err, &he) {
			return r.fail(ctx, he.Error())
		} else if err != nil {
			return err
		}
		defer x.Close()
		rr = x
	} else {
		cr := csv.NewReader(br)
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = true
		rr = cr
	}
	h, err := r.header(rr)
	if err != nil {
		return r.fail(ctx, err.Error())
	}
	r.chunk.Columns = h.cols
	for {
		rec, err := rr.Read()
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
func (r *run) header(rr recordReader) (header, error) {
	rec, err := rr.Read()
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

// flush starts writing the chunk, or, when stop has ended, lets the chunks
// being written commit and releases the batch.
func (r *run) flush(stop, ctx context.Context) error {
	if stop.Err() != nil {
		if err := r.wait(0); err != nil {
			return err
		}
		if err := r.im.o.WorkerStore.ReleaseImportBatch(ctx, r.claim); err != nil {
			return err
		}
		return errStopped
	}
	if err := r.write(ctx, r.chunk); err != nil {
		return err
	}
	r.chunk = store.ImportChunk{Columns: r.chunk.Columns}
	return nil
}

// write starts writing chunk in the background once fewer than Writers
// chunks are being written; it commits after the chunk started before it.
func (r *run) write(ctx context.Context, chunk store.ImportChunk) error {
	if err := r.wait(r.im.o.Writers - 1); err != nil {
		return err
	}
	var prev *write
	if len(r.writing) > 0 {
		prev = r.writing[len(r.writing)-1]
	}
	w := &write{done: make(chan struct{})}
	r.writing = append(r.writing, w)
	go func() {
		defer close(w.done)
		w.failed, w.err = r.apply(ctx, chunk, prev.turn)
	}()
	return nil
}

// wait lets the oldest chunks being written finish until at most n are
// left. After an error it waits for all of them (the later ones then roll
// back) and returns the first error.
func (r *run) wait(n int) error {
	var err error
	for len(r.writing) > n || err != nil && len(r.writing) > 0 {
		w := r.writing[0]
		<-w.done
		r.writing = r.writing[1:]
		if err == nil {
			err = w.err
			r.failed += w.failed
		}
	}
	return err
}

// apply commits a chunk once turn has returned, and returns how many of its
// rows were refused. Should the database refuse a value that the checks let
// through, the chunk's rows are written one by one and each refused row
// becomes a row error (stored in row order with the chunk's others), so a
// bad row never stops the good ones.
func (r *run) apply(ctx context.Context, chunk store.ImportChunk, turn func(context.Context) error) (int, error) {
	st := r.im.o.WorkerStore
	_, err := st.ApplyImportChunkInTurn(ctx, r.claim, chunk, turn)
	if err == nil {
		return chunk.Failed, nil
	}
	if !store.IsDataError(err) {
		return 0, err
	}
	if err := turn(ctx); err != nil {
		return 0, err
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
			return 0, err
		}
	}
	slices.SortStableFunc(rest.Errors, func(a, b store.ImportRowError) int { return cmp.Compare(a.Row, b.Row) })
	if _, err := st.ApplyImportChunk(ctx, r.claim, rest); err != nil {
		return 0, err
	}
	return rest.Failed, nil
}

// finish commits the last chunk, pauses missing listings for REPLACE and
// sets the final status.
func (r *run) finish(ctx context.Context) error {
	if err := r.write(ctx, r.chunk); err != nil {
		return err
	}
	if err := r.wait(0); err != nil {
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

// fail lets the chunks being written commit, then ends the batch as FAILED
// with message as a row 0 error.
func (r *run) fail(ctx context.Context, message string) error {
	if err := r.wait(0); err != nil {
		return err
	}
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
