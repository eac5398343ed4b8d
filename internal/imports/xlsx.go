package imports

import (
	"archive/zip"
	"io"
	"os"
	"strings"

	"github.com/xuri/excelize/v2"
)

// zipMagic starts every ZIP archive, so every XLSX workbook.
const zipMagic = "PK\x03\x04"

// Limits on an unzipped workbook. archive/zip refuses a part that inflates
// past the size its directory declares, so the declared sizes checked here
// bound what is really unzipped.
const (
	// xlsxXMLLimit is excelize's UnzipXMLSizeLimit: a worksheet or shared
	// string table larger than this is unzipped to a temporary file and
	// streamed from there; a smaller one is held (and its shared strings
	// parsed) in memory.
	xlsxXMLLimit = 4 << 20
	// xlsxMemoryLimit bounds the parts excelize holds in memory: the small
	// worksheets and shared strings, and every other part (styles, theme,
	// …), which it always reads whole. A real workbook's other parts take
	// well under 1 MB.
	xlsxMemoryLimit = 32 << 20
	// xlsxUnzipLimit is excelize's UnzipSizeLimit: all parts together, so
	// the temporary disk a batch may use. 100,000 rows of 12 columns take
	// about 70 MB unzipped; 1 GB allows some 1.5 million, more than a
	// worksheet holds (1,048,576 rows), while the 50 MB upload limit at
	// the usual 10 to 20 times XML compression stays under it.
	xlsxUnzipLimit = 1 << 30
)

// Messages of an XLSX file that cannot be read (the batch FAILS).
const (
	msgNotXLSX   = "the file is a ZIP archive but not a readable Excel workbook (.xlsx)"
	msgXLSXLarge = "the Excel workbook is too large once unzipped"
)

// xlsxReader reads the rows of a workbook's first worksheet as records.
// Cells are the values the file holds, never evaluated: a formula cell is
// the result the spreadsheet saved with it (what its "Save as CSV" writes),
// a number is its stored digits ("12", not a formatted "12.00" or date).
type xlsxReader struct {
	f    *excelize.File
	rows *excelize.Rows
	tmp  *os.File
}

// openXLSX unzips the workbook r within the limits above and opens its
// first worksheet; its error is the batch's failure. The compressed file is
// spooled to a temporary file, and held in memory once, by excelize.
func openXLSX(r io.Reader) (_ *xlsxReader, err error) {
	x := &xlsxReader{}
	defer func() {
		if err != nil {
			x.Close()
		}
	}()
	if x.tmp, err = os.CreateTemp("", "import-*.xlsx"); err != nil {
		return nil, err
	}
	size, err := io.Copy(x.tmp, r)
	if err != nil {
		return nil, headerError(msgTruncated)
	}
	zr, err := zip.NewReader(x.tmp, size)
	if err != nil {
		return nil, headerError(msgNotXLSX)
	}
	if !withinLimits(zr) {
		return nil, headerError(msgXLSXLarge)
	}
	if _, err := x.tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	x.f, err = excelize.OpenReader(x.tmp, excelize.Options{
		RawCellValue: true, UnzipXMLSizeLimit: xlsxXMLLimit, UnzipSizeLimit: xlsxUnzipLimit,
	})
	if err != nil {
		return nil, headerError(msgNotXLSX)
	}
	sheets := x.f.GetSheetList()
	if len(sheets) == 0 {
		return nil, headerError(msgNotXLSX)
	}
	if x.rows, err = x.f.Rows(sheets[0]); err != nil {
		return nil, headerError(msgNotXLSX)
	}
	return x, nil
}

// withinLimits reports whether the parts of zr, by their declared sizes,
// fit xlsxUnzipLimit, and those excelize would hold in memory (see
// excelize's ReadZipReader) fit xlsxMemoryLimit.
func withinLimits(zr *zip.Reader) bool {
	var total, memory uint64
	for _, p := range zr.File {
		name := strings.ToLower(strings.ReplaceAll(p.Name, `\`, "/"))
		streamed := strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml"
		if p.UncompressedSize64 > xlsxUnzipLimit {
			return false
		}
		total += p.UncompressedSize64
		if !streamed || p.UncompressedSize64 <= xlsxXMLLimit {
			memory += p.UncompressedSize64
		}
	}
	return total <= xlsxUnzipLimit && memory <= xlsxMemoryLimit
}

// Read returns the next row's cells, io.EOF after the last row. A row the
// worksheet skips is returned as an empty record.
func (x *xlsxReader) Read() ([]string, error) {
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	return x.rows.Columns()
}

// Close removes the temporary files.
func (x *xlsxReader) Close() {
	if x.rows != nil {
		x.rows.Close()
	}
	if x.f != nil {
		x.f.Close()
	}
	if x.tmp != nil {
		x.tmp.Close()
		os.Remove(x.tmp.Name())
	}
}
