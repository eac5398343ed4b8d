// Package imports runs inventory imports: it keeps an uploaded CSV or XLSX
// file in a FileStore, queues a batch, and a background worker in the
// gateway process streams the file into the seller's listings.
//
// # The file
//
// The format is told by content, never by name: a file that starts like a
// ZIP archive is an Excel workbook (XLSX), whose first worksheet is read
// row by row like CSV records (a ZIP that is not a workbook, or unzips too
// large, FAILS); anything else is CSV. A workbook cell is the value the
// file holds: a formula's saved result, a number's stored digits.
//
// A header row names the columns, in any order and any case:
// sku,title,description,part_number,brand,category,condition,quantity,
// price_label,price_cents,currency,status. sku, title and condition are
// required columns; a file without them (or that is not text) FAILS. A
// column the gateway does not know is ignored and reported once as a row 0
// error, which does not make the batch PARTIAL. Blank lines are skipped.
// Each data row is checked like createListing: title required (at most 200
// characters), condition one of the enum, quantity and price_cents
// non-negative whole numbers, currency an ISO 4217 code (upper-cased),
// status DRAFT, ACTIVE, PAUSED or SOLD (never REMOVED), sku required; a SKU
// already seen earlier in the file refuses the later row. Every invalid
// column of a row is one ImportRowError; the row counts once as failed and
// never stops the others.
//
// A cell is stored as the text it is: "=HYPERLINK(...)" stays that string.
// Nothing here evaluates it, but anything that exports listings to a
// spreadsheet must escape cells starting with = + - @ (tab, CR).
//
// # Upsert
//
// Rows are matched to the seller's listings by SKU and written 1,000 per
// statement. A column missing from the header keeps its stored value; an
// empty cell clears an optional column (an empty status keeps the stored
// status, DRAFT for a new listing). A listing whose values all equal the
// row's is left untouched (unchanged_count; updated_at too), so importing
// the same file again changes nothing. A REMOVED listing stays REMOVED.
// REPLACE then sets the seller's listings that are neither REMOVED nor
// PAUSED and whose SKU is not in the file to PAUSED (never deleted); they
// are counted in updated_count. If some rows could not be read as CSV,
// REPLACE pauses nothing (their SKUs are unknown) and says so in a row 0
// error.
//
// # The worker
//
// Batches are claimed with FOR UPDATE SKIP LOCKED, so any number of gateway
// instances can run workers. Each chunk commits its upserts, row errors and
// the batch's counts together, so a seller watches progress, and a batch
// whose worker died (RUNNING, not written for StaleAfter) is reclaimed and
// resumed after its last committed chunk. Writers chunks are written at
// once (PostgreSQL's work per new listing, its search vector and indexes,
// then runs on several cores), but they commit in file order, so the
// committed rows are always the file's first total_rows rows. The claim time is a fencing
// token: a worker that lost its batch cannot write to it any more. On
// shutdown the worker stops between chunks and puts its batch back in the
// queue. The file is deleted once the batch is finished.
package imports

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/partsmarket/gateway/store"
)

// Options configure an Importer.
type Options struct {
	// Files keeps the uploaded files.
	Files FileStore
	// Store takes new batches (the request pool).
	Store *store.Store
	// WorkerStore runs the imports (the gateway-worker pool).
	WorkerStore *store.Store
	// Log gets one line per batch; never row contents.
	Log *slog.Logger
	// Poll is how often the worker looks for batches queued by other
	// instances (default 1s); batches of this instance wake it at once.
	Poll time.Duration
	// StaleAfter is how long a RUNNING batch may go without a write before
	// another worker takes it over (default 2 minutes).
	StaleAfter time.Duration
	// ChunkSize is how many rows go into one statement (default 1,000).
	ChunkSize int
	// Writers is how many chunks of a batch are written at once, each in
	// its own transaction on its own connection of WorkerStore (default 2,
	// at most WorkerStore's connection limit). They commit in file order.
	Writers int
}

// Importer queues uploaded files and runs the background worker.
type Importer struct {
	o      Options
	wake   chan struct{}
	stop   context.CancelFunc
	hard   context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	closed bool
}

// New returns an Importer; Start runs its worker.
func New(o Options) *Importer {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = 2 * time.Minute
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = 1000
	}
	if o.Writers <= 0 {
		o.Writers = 2
	}
	if o.WorkerStore != nil {
		// A writer waiting for its turn holds a connection; the one it
		// waits for may need another (to store a refused chunk row by row).
		if n := o.WorkerStore.DB().Stats().MaxOpenConnections; n > 0 && o.Writers > n {
			o.Writers = n
		}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Importer{o: o, wake: make(chan struct{}, 1)}
}

// Upload is an uploaded file to import.
type Upload struct {
	SellerID  string
	Mode      store.ImportMode
	FileName  string
	CreatedBy string
	File      io.Reader
}

// Enqueue copies the file to the FileStore and commits a QUEUED batch, then
// wakes the worker. ENOTFOUND when the seller does not exist; other errors
// are internal.
func (im *Importer) Enqueue(ctx context.Context, u Upload) (*store.ImportBatch, error) {
	id := uuid.NewString()
	key := id + ".csv"
	if err := im.o.Files.Put(ctx, key, u.File); err != nil {
		return nil, err
	}
	b, err := im.o.Store.CreateImportBatch(ctx, store.NewImportBatch{
		ID: id, SellerID: u.SellerID, Mode: u.Mode, FileKey: key,
		FileName: cleanFileName(u.FileName), CreatedBy: nonEmpty(u.CreatedBy),
	})
	if err != nil {
		if derr := im.o.Files.Delete(context.WithoutCancel(ctx), key); derr != nil {
			im.o.Log.Error("import file left behind", "error", derr.Error())
		}
		return nil, err
	}
	im.Wake()
	return b, nil
}

// cleanFileName keeps the base name of an uploaded file, at most 255
// characters of valid text; nil when nothing is left.
func cleanFileName(name string) *string {
	name = strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), "")
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" {
		return nil
	}
	for utf8.RuneCountInString(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return nonEmpty(name)
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Wake makes the worker look for a batch now.
func (im *Importer) Wake() {
	select {
	case im.wake <- struct{}{}:
	default:
	}
}

// Start runs the worker in the background until Close.
func (im *Importer) Start() {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.done != nil || im.closed {
		return
	}
	stopCtx, stop := context.WithCancel(context.Background())
	hardCtx, hard := context.WithCancel(context.Background())
	im.stop, im.hard, im.done = stop, hard, make(chan struct{})
	go func() {
		defer close(im.done)
		im.loop(stopCtx, hardCtx)
	}()
}

// Close stops the worker: it finishes the chunk in hand, puts its batch
// back in the queue, and returns. When ctx ends first, the database work in
// flight is cancelled (the batch is then reclaimed after StaleAfter). Files
// is closed too when it is an io.Closer.
func (im *Importer) Close(ctx context.Context) {
	im.mu.Lock()
	already := im.closed
	im.closed = true
	stop, hard, done := im.stop, im.hard, im.done
	im.mu.Unlock()
	if c, ok := im.o.Files.(io.Closer); ok && !already {
		defer c.Close()
	}
	if done == nil {
		return
	}
	stop()
	select {
	case <-done:
	case <-ctx.Done():
		hard()
		<-done
	}
	hard()
}

// loop claims and runs batches until stop ends.
func (im *Importer) loop(stop, ctx context.Context) {
	t := time.NewTicker(im.o.Poll)
	defer t.Stop()
	for {
		for stop.Err() == nil {
			ran, err := im.RunOnce(stop, ctx)
			if err != nil {
				im.o.Log.Error("import worker", "error", err.Error())
			}
			if !ran || err != nil {
				break
			}
		}
		select {
		case <-stop.Done():
			return
		case <-t.C:
		case <-im.wake:
		}
	}
}

// RunOnce claims one batch and runs it to its end (or until stop ends,
// when it puts the batch back in the queue); database work uses ctx. It
// reports whether there was a batch.
func (im *Importer) RunOnce(stop, ctx context.Context) (bool, error) {
	b, err := im.o.WorkerStore.ClaimImportBatch(ctx, im.o.StaleAfter)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	start := time.Now()
	r := newRun(im, b)
	err = r.execute(stop, ctx)
	switch {
	case errors.Is(err, store.ErrImportClaimLost):
		im.o.Log.Warn("import batch taken over by another worker", "batch_id", b.ID)
		return true, nil
	case errors.Is(err, errStopped):
		im.o.Log.Info("import batch released on shutdown", "batch_id", b.ID, "rows", r.read)
		return true, nil
	case err != nil:
		im.o.Log.Error("import batch failed", "batch_id", b.ID, "error", err.Error())
		r.failInternal(ctx)
		return true, nil
	}
	if derr := im.o.Files.Delete(ctx, b.FileKey); derr != nil {
		im.o.Log.Warn("import file not deleted", "batch_id", b.ID, "error", derr.Error())
	}
	im.o.Log.Info("import batch finished", "batch_id", b.ID, "status", string(r.status), "rows", r.read,
		"duration_ms", time.Since(start).Milliseconds())
	return true, nil
}
