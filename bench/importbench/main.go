// Command importbench measures an inventory import: it writes a CSV (or,
// with -xlsx, an Excel workbook) of -rows listings, imports it for a new
// seller through the same worker code the gateway runs (internal/imports),
// then imports it again (every row unchanged), and prints rows per second,
// the CPU time the import cost in the PostgreSQL backends and in this
// process (less noisy than rows per second on a shared machine; PostgreSQL
// must run on the same machine), and the process's peak RSS (VmHWM).
//
//	DATABASE_URL=postgres://… go run ./bench/importbench [-rows 100000] [-writers 2] [-xlsx]
//
// -writers sets imports.Options.Writers (0: the gateway's default). -xlsx
// writes the same rows as an XLSX workbook (numbers as number cells).
//
// The database is migrated first; each run adds one seller and its
// listings.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/internal/imports"
	"github.com/partsmarket/gateway/internal/storage"
	"github.com/partsmarket/gateway/store"
)

func main() {
	rows := flag.Int("rows", 100_000, "data rows in the generated CSV")
	writers := flag.Int("writers", 0, "chunks written at once (0: the gateway's default)")
	xlsx := flag.Bool("xlsx", false, "import an XLSX workbook instead of a CSV")
	flag.Parse()
	if err := run(context.Background(), *rows, *writers, *xlsx); err != nil {
		fmt.Fprintln(os.Stderr, "importbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, rows, writers int, xlsx bool) error {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return errors.New("DATABASE_URL is required")
	}
	db, err := database.Open(ctx, url, "gateway-worker", max(2, writers))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := database.MigrateUp(ctx, db.DB); err != nil {
		return err
	}
	st := store.New(db)
	region := "TX"
	seller, err := st.CreateSeller(ctx, store.NewSeller{
		Slug: "importbench-" + uuid.NewString()[:8], CompanyName: "Import Bench",
		Locations: []store.NewLocation{{City: "Houston", Region: &region, Country: "US"}},
	})
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "importbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path, write := filepath.Join(dir, "stock.csv"), writeCSV
	if xlsx {
		path, write = filepath.Join(dir, "stock.xlsx"), writeXLSX
	}
	size, err := write(path, rows)
	if err != nil {
		return err
	}
	local, err := storage.NewLocal(filepath.Join(dir, "store"), "http://localhost:8080")
	if err != nil {
		return err
	}
	im := imports.New(imports.Options{Files: imports.Files(local), Store: st, WorkerStore: st, Writers: writers})
	fmt.Printf("rows=%d file=%s %.1f MB writers=%d\n", rows, filepath.Base(path), float64(size)/1e6, writers)
	for _, label := range []string{"first import (all created)", "second import (all unchanged)"} {
		if err := importOnce(ctx, im, st, seller.ID, path, label); err != nil {
			return err
		}
	}
	fmt.Printf("peak RSS (VmHWM): %s\n", vmHWM())
	return nil
}

// importOnce queues the file and runs the worker on it, timing the worker.
func importOnce(ctx context.Context, im *imports.Importer, st *store.Store, sellerID, path, label string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	b, err := im.Enqueue(ctx, imports.Upload{SellerID: sellerID, Mode: store.ImportUpsert, FileName: filepath.Base(path), File: f})
	f.Close()
	if err != nil {
		return err
	}
	before, goBefore := backendCPU(ctx, st), processCPU()
	start := time.Now()
	if _, err := im.RunOnce(ctx, ctx); err != nil {
		return err
	}
	elapsed := time.Since(start)
	after, goAfter := backendCPU(ctx, st), processCPU()
	var pgCPU time.Duration
	for pid, t := range after {
		pgCPU += t - before[pid]
	}
	b, err = st.ImportBatch(ctx, store.Scope{All: true}, b.ID)
	if err != nil {
		return err
	}
	fmt.Printf("%s: status=%s rows=%d created=%d updated=%d unchanged=%d failed=%d in %.2fs = %.0f rows/s (CPU: PostgreSQL %.2fs, importbench %.2fs)\n",
		label, b.Status, b.TotalRows, b.CreatedCount, b.UpdatedCount, b.UnchangedCount, b.FailedCount,
		elapsed.Seconds(), float64(b.TotalRows)/elapsed.Seconds(), pgCPU.Seconds(), (goAfter - goBefore).Seconds())
	return nil
}

// backendCPU returns the CPU time used so far by each PostgreSQL backend
// serving this benchmark's pool, by process id, read from /proc.
func backendCPU(ctx context.Context, st *store.Store) map[int]time.Duration {
	var pids []int
	if err := st.DB().SelectContext(ctx, &pids, `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'gateway-worker'`); err != nil {
		return nil
	}
	out := map[int]time.Duration{}
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis; utime and stime
		// are the 14th and 15th fields of the line, in clock ticks (100/s).
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.Atoi(f[11])
		s, _ := strconv.Atoi(f[12])
		out[pid] = time.Duration(u+s) * 10 * time.Millisecond
	}
	return out
}

// processCPU returns the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// header is the first row of the generated files.
var header = []string{"sku", "title", "description", "part_number", "brand", "category", "condition",
	"quantity", "price_label", "price_cents", "currency", "status"}

// listing returns the cells of generated row i; quantity and price_cents
// are ints.
func listing(i int) []any {
	conditions := []string{"NEW", "USED", "REMANUFACTURED", "FOR_PARTS"}
	brands := []string{"Caterpillar", "John Deere", "Komatsu", "Volvo", "Bosch"}
	brand := brands[i%len(brands)]
	return []any{fmt.Sprintf("SKU-%07d", i), fmt.Sprintf("%s hydraulic pump %d", brand, i),
		fmt.Sprintf("Rebuilt unit, tested; fits %s series %d", strings.ToUpper(brand[:3]), i%40),
		fmt.Sprintf("%dR-%04d", i%9, i%10000), brand, "Hydraulics", conditions[i%4], i % 50, "",
		1000 + i*7, "USD", "ACTIVE"}
}

// writeCSV streams a realistic file of n listings to path.
func writeCSV(path string, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriter(f)
	cw := csv.NewWriter(w)
	cw.Write(header)
	rec := make([]string, len(header))
	for i := range n {
		for j, v := range listing(i) {
			rec[j] = fmt.Sprint(v)
		}
		cw.Write(rec)
	}
	if cw.Flush(); cw.Error() != nil {
		return 0, cw.Error()
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), f.Close()
}

// writeXLSX streams the same listings as writeCSV to an XLSX workbook.
func writeXLSX(path string, n int) (int64, error) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return 0, err
	}
	row := make([]any, len(header))
	for j, h := range header {
		row[j] = h
	}
	if err := sw.SetRow("A1", row); err != nil {
		return 0, err
	}
	for i := range n {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, listing(i)); err != nil {
			return 0, err
		}
	}
	if err := sw.Flush(); err != nil {
		return 0, err
	}
	if err := f.SaveAs(path); err != nil {
		return 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// vmHWM returns the peak resident set size from /proc/self/status.
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
