package imports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // registers the "postgres" driver for the fixtures' pool

	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/internal/storage"
	"github.com/partsmarket/gateway/internal/testdb"
	"github.com/partsmarket/gateway/store"
)

// env is a fresh database with one seller and a file store. The store
// connects as the serving role, bound by row-level security, as in
// production; db, for the tests' own statements, as the superuser.
type env struct {
	st     *store.Store
	db     *sqlx.DB
	files  FileStore
	seller string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	u := testdb.New(t)
	db, err := database.Open(ctx, testdb.ServingURL(t, u), "gateway-worker", 4)
	if err != nil {
		t.Fatal(err)
	}
	fixtures := sqlx.MustConnect("postgres", u)
	t.Cleanup(func() { db.Close(); fixtures.Close() })
	st := store.New(db)
	s, err := st.CreateSeller(ctx, store.NewSeller{Slug: "alpha", CompanyName: "Alpha",
		Locations: []store.NewLocation{{City: "Houston", Country: "US"}}})
	if err != nil {
		t.Fatal(err)
	}
	local, err := storage.NewLocal(t.TempDir(), "http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, db: fixtures, files: Files(local), seller: s.ID}
}

func (e *env) importer(o Options) *Importer {
	o.Files, o.Store, o.WorkerStore = e.files, e.st, e.st
	return New(o)
}

// csvOf writes n good rows with SKUs prefix-0 … prefix-(n-1).
func csvOf(prefix string, n int) string {
	var b strings.Builder
	b.WriteString("sku,title,condition,quantity\n")
	for i := range n {
		fmt.Fprintf(&b, "%s-%d,Part %d,USED,%d\n", prefix, i, i, i)
	}
	return b.String()
}

// sellerContext is the context of the seller's own request: its scope.
func (e *env) sellerContext() context.Context {
	return store.WithScope(context.Background(), store.Scope{SellerID: e.seller})
}

func (e *env) enqueue(t *testing.T, im *Importer, csv string) string {
	t.Helper()
	b, err := im.Enqueue(e.sellerContext(), Upload{SellerID: e.seller, Mode: store.ImportUpsert, File: strings.NewReader(csv)})
	if err != nil {
		t.Fatal(err)
	}
	return b.ID
}

func (e *env) batch(t *testing.T, id string) *store.ImportBatch {
	t.Helper()
	b, err := e.st.ImportBatch(context.Background(), store.Scope{All: true}, id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *env) listings(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM listings WHERE seller_id = $1`, e.seller); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTwoWorkersNeverShareABatch runs two workers against several queued
// batches: each batch is imported exactly once.
func TestTwoWorkersNeverShareABatch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.importer(Options{ChunkSize: 100})
	b := e.importer(Options{ChunkSize: 100})
	var ids []string
	for i := range 6 {
		ids = append(ids, e.enqueue(t, a, csvOf(fmt.Sprintf("B%d", i), 350)))
	}
	var wg sync.WaitGroup
	for _, im := range []*Importer{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ran, err := im.RunOnce(ctx, ctx)
				if err != nil {
					t.Error(err)
				}
				if !ran {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		got := e.batch(t, id)
		if got.Status != store.ImportSucceeded || got.TotalRows != 350 || got.CreatedCount != 350 || got.UnchangedCount != 0 {
			t.Errorf("batch %+v, want 350 rows created once", got)
		}
	}
	if n := e.listings(t); n != 6*350 {
		t.Errorf("%d listings, want %d", n, 6*350)
	}
}

// cancelAfter is a FileStore whose files call cancel once n bytes were read.
type cancelAfter struct {
	FileStore
	n      int
	cancel context.CancelFunc
}

func (c cancelAfter) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	f, err := c.FileStore.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return &cancelReader{ReadCloser: f, left: c.n, cancel: c.cancel}, nil
}

type cancelReader struct {
	io.ReadCloser
	left   int
	cancel context.CancelFunc
}

func (r *cancelReader) Read(p []byte) (int, error) {
	if len(p) > 512 {
		p = p[:512]
	}
	n, err := r.ReadCloser.Read(p)
	if r.left -= n; r.left <= 0 {
		r.cancel()
	}
	return n, err
}

// TestShutdownReleasesAndResumes stops a worker in the middle of a file:
// the batch goes back to QUEUED with its committed progress, and the next
// worker finishes it without counting a row twice.
func TestShutdownReleasesAndResumes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	csv := csvOf("R", 2500)
	stop, cancel := context.WithCancel(ctx)
	first := New(Options{Files: cancelAfter{FileStore: e.files, n: len(csv) / 2, cancel: cancel},
		Store: e.st, WorkerStore: e.st, ChunkSize: 500})
	id := e.enqueue(t, first, csv)
	if ran, err := first.RunOnce(stop, ctx); !ran || err != nil {
		t.Fatalf("RunOnce: %v %v", ran, err)
	}
	mid := e.batch(t, id)
	if mid.Status != store.ImportQueued || mid.TotalRows == 0 || mid.TotalRows >= 2500 || mid.CreatedCount != mid.TotalRows {
		t.Fatalf("after shutdown: %+v, want QUEUED with some progress", mid)
	}
	second := e.importer(Options{ChunkSize: 500})
	if ran, err := second.RunOnce(ctx, ctx); !ran || err != nil {
		t.Fatalf("RunOnce: %v %v", ran, err)
	}
	got := e.batch(t, id)
	if got.Status != store.ImportSucceeded || got.TotalRows != 2500 || got.CreatedCount != 2500 || got.UnchangedCount != 0 {
		t.Errorf("after resume: %+v, want 2500 created exactly once", got)
	}
	if n := e.listings(t); n != 2500 {
		t.Errorf("%d listings, want 2500", n)
	}
}

// TestDeadWorkerIsReplaced claims a batch as a worker that then dies: once
// the claim is stale another worker takes the batch over, and the dead
// worker's claim can no longer write.
func TestDeadWorkerIsReplaced(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	im := e.importer(Options{StaleAfter: time.Minute})
	id := e.enqueue(t, im, csvOf("D", 10))
	dead, err := e.st.ClaimImportBatch(ctx, time.Minute)
	if err != nil || dead.ID != id {
		t.Fatalf("claim: %v", err)
	}
	if ran, _ := im.RunOnce(ctx, ctx); ran {
		t.Fatal("a fresh RUNNING batch was taken over")
	}
	e.db.MustExec(`UPDATE import_batches SET updated_at = now() - interval '5 minutes' WHERE id = $1`, id)
	if ran, err := im.RunOnce(ctx, ctx); !ran || err != nil {
		t.Fatalf("RunOnce: %v %v", ran, err)
	}
	if got := e.batch(t, id); got.Status != store.ImportSucceeded || got.CreatedCount != 10 {
		t.Errorf("got %+v", got)
	}
	claim := store.ImportClaim{BatchID: id, SellerID: e.seller, StartedAt: *dead.StartedAt}
	_, err = e.st.ApplyImportChunk(ctx, claim, store.ImportChunk{Read: 1, Failed: 1})
	if !errors.Is(err, store.ErrImportClaimLost) {
		t.Errorf("the dead worker's write: %v, want ErrImportClaimLost", err)
	}
}

// TestWorkerWakesAndStops starts the worker: a new batch is taken at once
// (not after a poll), and Close returns promptly.
func TestWorkerWakesAndStops(t *testing.T) {
	e := newEnv(t)
	im := e.importer(Options{Poll: time.Hour})
	im.Start()
	id := e.enqueue(t, im, csvOf("W", 5))
	deadline := time.Now().Add(10 * time.Second)
	for e.batch(t, id).Status != store.ImportSucceeded {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not wake for a new batch")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	im.Close(ctx)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
}

// TestDatabaseRefusalIsARowError makes the database refuse one row that the
// checks let through: the other rows of its chunk are still stored.
func TestDatabaseRefusalIsARowError(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.db.MustExec(`ALTER TABLE listings ADD CONSTRAINT no_cursed CHECK (title <> 'Cursed')`)
	im := e.importer(Options{})
	id := e.enqueue(t, im, "sku,title,condition\nC1,Fine,NEW\nC2,Cursed,NEW\nC3,Also fine,NEW\n")
	if ran, err := im.RunOnce(ctx, ctx); !ran || err != nil {
		t.Fatalf("RunOnce: %v %v", ran, err)
	}
	got := e.batch(t, id)
	if got.Status != store.ImportPartial || got.CreatedCount != 2 || got.FailedCount != 1 || got.TotalRows != 3 {
		t.Errorf("got %+v", got)
	}
	p, err := e.st.ImportRowErrors(e.sellerContext(), id, store.PageArgs{Limit: 10})
	if err != nil || len(p.Items) != 1 || p.Items[0].Row != 2 || p.Items[0].Message != msgNotStored {
		t.Errorf("row errors %+v %v", p.Items, err)
	}
}

// TestParallelChunksCommitInFileOrder writes many small chunks three at a
// time, with refused rows in several of them and one the database refuses:
// every count is right, and the chunks committed in file order (the row
// errors were stored in row order).
func TestParallelChunksCommitInFileOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.db.MustExec(`ALTER TABLE listings ADD CONSTRAINT no_cursed CHECK (title <> 'Cursed')`)
	var b strings.Builder
	b.WriteString("sku,title,condition\n")
	bad := 0
	for i := 1; i <= 600; i++ {
		switch {
		case i == 333:
			b.WriteString("P-333,Cursed,NEW\n")
			bad++
		case i%7 == 0:
			fmt.Fprintf(&b, "P-%d,Part,BROKEN\n", i)
			bad++
		default:
			fmt.Fprintf(&b, "P-%d,Part %d,NEW\n", i, i)
		}
	}
	im := e.importer(Options{ChunkSize: 40, Writers: 3})
	id := e.enqueue(t, im, b.String())
	if ran, err := im.RunOnce(ctx, ctx); !ran || err != nil {
		t.Fatalf("RunOnce: %v %v", ran, err)
	}
	got := e.batch(t, id)
	if got.Status != store.ImportPartial || got.TotalRows != 600 || got.CreatedCount != 600-bad || got.FailedCount != bad {
		t.Errorf("got %+v, want PARTIAL with %d created and %d failed", got, 600-bad, bad)
	}
	var rows []int
	if err := e.db.Select(&rows, `SELECT row_number FROM import_row_errors WHERE batch_id = $1 ORDER BY id`, id); err != nil {
		t.Fatal(err)
	}
	if len(rows) != bad || !slices.IsSorted(rows) {
		t.Errorf("row errors in storage order: %v, want %d in row order", rows, bad)
	}
	if n := e.listings(t); n != 600-bad {
		t.Errorf("%d listings, want %d", n, 600-bad)
	}
}
