package imports

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/partsmarket/gateway/store"
)

// xlsxOf writes a workbook whose first worksheet holds rows (row 1 first);
// a nil row is left out of the sheet, as a spreadsheet stores an empty row.
func xlsxOf(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	return writeXLSX(t, f, rows)
}

// writeXLSX streams rows into f's first worksheet and returns the file.
func writeXLSX(t *testing.T, f *excelize.File, rows [][]any) []byte {
	t.Helper()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		if row == nil {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, row); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// importFile queues data under name and runs the worker on it.
func (e *env) importFile(t *testing.T, name string, data []byte) *store.ImportBatch {
	t.Helper()
	ctx := context.Background()
	im := e.importer(Options{})
	b, err := im.Enqueue(e.sellerContext(), Upload{SellerID: e.seller, Mode: store.ImportUpsert, FileName: name, File: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if ran, err := im.RunOnce(ctx, ctx); !ran || err != nil {
		t.Fatalf("RunOnce: %v %v", ran, err)
	}
	return e.batch(t, b.ID)
}

// rowErrors returns a batch's row errors as "row column: message".
func (e *env) rowErrors(t *testing.T, id string) []string {
	t.Helper()
	p, err := e.st.ImportRowErrors(e.sellerContext(), id, store.PageArgs{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, re := range p.Items {
		col := ""
		if re.Column != nil {
			col = *re.Column
		}
		out = append(out, fmt.Sprintf("%d %s: %s", re.Row, col, re.Message))
	}
	return out
}

// listing returns the stored title, quantity and price_cents of a SKU.
func (e *env) listing(t *testing.T, sku string) (title string, quantity, priceCents *int64) {
	t.Helper()
	var l struct {
		Title      string `db:"title"`
		Quantity   *int64 `db:"quantity"`
		PriceCents *int64 `db:"price_cents"`
	}
	if err := e.st.DB().Get(&l, `SELECT title, quantity, price_cents FROM listings WHERE seller_id = $1 AND sku = $2`, e.seller, sku); err != nil {
		t.Fatalf("listing %s: %v", sku, err)
	}
	return l.Title, l.Quantity, l.PriceCents
}

func deref(n *int64) any {
	if n == nil {
		return nil
	}
	return *n
}

// TestXLSXMatchesCSV imports the same rows as CSV and as XLSX, each under
// the other's file name: the counts and row errors are the same, and so are
// the stored values.
func TestXLSXMatchesCSV(t *testing.T) {
	records := [][]string{
		{"sku", "title", "condition", "quantity", "price_cents"},
		{"A1", "Pump", "NEW", "12", "1500"},
		{"A2", "", "USED", "1", ""},
		{"A3", "Valve", "NEW", "-1", ""},
		{"A4", "Hose", "MINT", "", ""},
		{"A1", "Duplicate", "NEW", "", ""},
		{"A5", `=HYPERLINK("http://x")`, "NEW", "", ""},
		{"", "", "", "", ""},
		{"A6", "Gear", "REMANUFACTURED", "3", "250"},
	}
	var csvFile bytes.Buffer
	w := csv.NewWriter(&csvFile)
	if err := w.WriteAll(records); err != nil {
		t.Fatal(err)
	}
	var rows [][]any
	for _, rec := range records {
		if slices.Equal(rec, []string{"", "", "", "", ""}) {
			rows = append(rows, nil)
			continue
		}
		var row []any
		for _, cell := range rec {
			if n, err := strconv.Atoi(cell); err == nil {
				row = append(row, n) // a number cell
			} else {
				row = append(row, cell)
			}
		}
		rows = append(rows, row)
	}

	fromCSV, fromXLSX := newEnv(t), newEnv(t)
	c := fromCSV.importFile(t, "stock.xlsx", csvFile.Bytes())
	x := fromXLSX.importFile(t, "stock.csv", xlsxOf(t, rows))
	if c.Status != store.ImportPartial || c.TotalRows != 8 || c.CreatedCount != 3 || c.FailedCount != 4 {
		t.Fatalf("CSV batch %+v, want PARTIAL, 8 rows, 3 created, 4 failed", c)
	}
	if x.Status != c.Status || x.TotalRows != c.TotalRows || x.CreatedCount != c.CreatedCount ||
		x.UpdatedCount != c.UpdatedCount || x.UnchangedCount != c.UnchangedCount || x.FailedCount != c.FailedCount {
		t.Errorf("XLSX batch %+v, want the CSV's %+v", x, c)
	}
	if ce, xe := fromCSV.rowErrors(t, c.ID), fromXLSX.rowErrors(t, x.ID); !slices.Equal(ce, xe) {
		t.Errorf("XLSX row errors\n%q\nwant the CSV's\n%q", xe, ce)
	}
	for _, sku := range []string{"A1", "A5", "A6"} {
		ct, cq, cp := fromCSV.listing(t, sku)
		xt, xq, xp := fromXLSX.listing(t, sku)
		if xs, cs := fmt.Sprint(xt, deref(xq), deref(xp)), fmt.Sprint(ct, deref(cq), deref(cp)); xs != cs {
			t.Errorf("%s: XLSX stored %s, CSV %s", sku, xs, cs)
		}
	}
	if title, _, _ := fromXLSX.listing(t, "A5"); title != `=HYPERLINK("http://x")` {
		t.Errorf("A5 title %q, want the text as it is", title)
	}

	// The same workbook again changes nothing.
	again := fromXLSX.importFile(t, "stock.xlsx", xlsxOf(t, rows))
	if again.UnchangedCount != 3 || again.CreatedCount != 0 || again.UpdatedCount != 0 {
		t.Errorf("re-import %+v, want 3 unchanged", again)
	}
}

// TestXLSXCellValues reads formula and formatted number cells as the values
// the file holds.
func TestXLSXCellValues(t *testing.T) {
	e := newEnv(t)
	f := excelize.NewFile()
	money, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		t.Fatal(err)
	}
	date, err := f.NewStyle(&excelize.Style{NumFmt: 14}) // m/d/yy
	if err != nil {
		t.Fatal(err)
	}
	file := writeXLSX(t, f, [][]any{
		{"sku", "title", "condition", "quantity", "price_cents"},
		// A formula is never evaluated: its saved result is the cell's value.
		{"F1", excelize.Cell{Formula: `HYPERLINK("http://x","Pump")`, Value: "Pump"}, "NEW",
			excelize.Cell{StyleID: money, Value: 12.0}, excelize.Cell{StyleID: money, Value: 1500}},
		{"F2", "Date-formatted", "USED", excelize.Cell{StyleID: date, Value: 45000}},
	})
	got := e.importFile(t, "", file)
	if got.Status != store.ImportSucceeded || got.CreatedCount != 2 {
		t.Fatalf("batch %+v, row errors %q", got, e.rowErrors(t, got.ID))
	}
	if title, q, p := e.listing(t, "F1"); title != "Pump" || q == nil || *q != 12 || p == nil || *p != 1500 {
		t.Errorf("F1: %q %v %v, want Pump 12 1500", title, q, p)
	}
	if _, q, _ := e.listing(t, "F2"); q == nil || *q != 45000 {
		t.Errorf("F2 quantity %v, want 45000", q)
	}
}

// TestXLSXUnreadable fails a batch whose file starts like a ZIP archive but
// is no workbook, or one that unzips too large.
func TestXLSXUnreadable(t *testing.T) {
	zipOf := func(name string, size int) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(make([]byte, size)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"a ZIP of text", zipOf("readme.txt", 100), msgNotXLSX},
		{"a corrupt ZIP", []byte("PK\x03\x04 not really a zip archive"), msgNotXLSX},
		{"a zip bomb", zipOf("xl/styles.xml", xlsxMemoryLimit+1), msgXLSXLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.importFile(t, "stock.xlsx", tc.file)
			if got.Status != store.ImportFailed || got.Failure == nil || *got.Failure != tc.want {
				t.Errorf("batch %+v, want FAILED: %s", got, tc.want)
			}
			if errs := e.rowErrors(t, got.ID); !slices.Equal(errs, []string{"0 : " + tc.want}) {
				t.Errorf("row errors %q", errs)
			}
		})
	}
}
