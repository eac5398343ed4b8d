package imports

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/partsmarket/gateway/store"
)

// requiredColumns must be in every header: rows are matched by SKU, and a
// new listing needs a title and a condition.
var requiredColumns = []string{"sku", "title", "condition"}

// textLimits are the longest values of the text columns, in characters: the
// same limits as createListing.
var textLimits = map[string]int{
	"sku": 100, "title": 200, "description": 10000, "part_number": 100, "brand": 100,
	"category": 100, "price_label": 100, "currency": 3,
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// maxInt32 bounds quantity, a GraphQL Int.
const maxInt32 = 1<<31 - 1

// header maps the listing columns to their positions in a file's records.
type header struct {
	index   map[string]int
	cols    []string // present listing columns, in store.ImportColumns order
	unknown []string // header cells that name no column; ignored
}

// headerError is why a header row is refused (the batch FAILS).
type headerError string

func (e headerError) Error() string { return string(e) }

// parseHeader reads the header row: column names in any order, any case,
// surrounding spaces and a UTF-8 byte order mark ignored. Unknown columns are
// ignored (and reported once, as row 0 errors); a missing required column, a
// column named twice, or a row that is not text refuses the file.
func parseHeader(rec []string) (header, error) {
	h := header{index: map[string]int{}}
	for i, cell := range rec {
		if i == 0 {
			cell = strings.TrimPrefix(cell, "\ufeff")
		}
		if !cleanText(cell) {
			return h, headerError("the file is not a CSV text file")
		}
		name := strings.ToLower(strings.TrimSpace(cell))
		switch {
		case name == "":
			continue
		case !slices.Contains(store.ImportColumns, name):
			h.unknown = append(h.unknown, name)
		case hasKey(h.index, name):
			return h, headerError("the header row names column " + name + " twice")
		default:
			h.index[name] = i
		}
	}
	var missing []string
	for _, col := range requiredColumns {
		if !hasKey(h.index, col) {
			missing = append(missing, col)
		}
	}
	if len(missing) > 0 {
		return h, headerError("the header row lacks the column(s) " + strings.Join(missing, ", ") +
			"; expected " + strings.Join(store.ImportColumns, ","))
	}
	for _, col := range store.ImportColumns {
		if hasKey(h.index, col) {
			h.cols = append(h.cols, col)
		}
	}
	return h, nil
}

func hasKey(m map[string]int, k string) bool { _, ok := m[k]; return ok }

// cleanText reports whether s can be stored as text: valid UTF-8 without NUL.
func cleanText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// rowCheck collects the errors of one data row, one per column.
type rowCheck struct {
	row  int
	errs []store.ImportRowError
}

func (c *rowCheck) add(col, message string) {
	for _, e := range c.errs {
		if e.Column != nil && *e.Column == col {
			return
		}
	}
	column := col
	c.errs = append(c.errs, store.ImportRowError{Row: c.row, Column: &column, Message: message})
}

// parseRow validates data row number row of the file. seen holds the SKUs
// of earlier rows (and their row numbers); a SKU seen before refuses the
// row. Cells are trimmed; an empty cell is null. Text is stored verbatim:
// a cell such as =HYPERLINK(...) is data and is never evaluated, so exports
// of listings must escape it.
func (h header) parseRow(rec []string, row int, seen map[string]int) (store.ImportRow, []store.ImportRowError) {
	c := rowCheck{row: row}
	r := store.ImportRow{Row: row}
	r.SKU = h.required(&c, rec, "sku")
	if r.SKU != "" {
		if first, dup := seen[r.SKU]; dup {
			c.add("sku", "SKU "+strconv.Quote(r.SKU)+" already appears at row "+strconv.Itoa(first))
		} else {
			seen[r.SKU] = row
		}
	}
	r.Title = h.required(&c, rec, "title")
	r.Description = h.optional(&c, rec, "description")
	r.PartNumber = h.optional(&c, rec, "part_number")
	r.Brand = h.optional(&c, rec, "brand")
	r.Category = h.optional(&c, rec, "category")
	r.PriceLabel = h.optional(&c, rec, "price_label")
	r.Condition = h.condition(&c, rec)
	r.Quantity = h.quantity(&c, rec)
	r.PriceCents = h.priceCents(&c, rec)
	r.Currency = h.currency(&c, rec)
	r.Status = h.status(&c, rec)
	return r, c.errs
}

// cell returns the trimmed cell of col, "" when the column or cell is
// missing; text that cannot be stored is reported.
func (h header) cell(c *rowCheck, rec []string, col string) string {
	i, ok := h.index[col]
	if !ok || i >= len(rec) {
		return ""
	}
	v := strings.TrimSpace(rec[i])
	if !cleanText(v) {
		c.add(col, "is not valid UTF-8 text")
		return ""
	}
	if max := textLimits[col]; max > 0 && utf8.RuneCountInString(v) > max {
		c.add(col, "must be at most "+strconv.Itoa(max)+" characters")
	}
	return v
}

func (h header) required(c *rowCheck, rec []string, col string) string {
	v := h.cell(c, rec, col)
	if v == "" {
		c.add(col, "is required")
	}
	return v
}

func (h header) optional(c *rowCheck, rec []string, col string) *string {
	if v := h.cell(c, rec, col); v != "" {
		return &v
	}
	return nil
}

func (h header) condition(c *rowCheck, rec []string) store.ListingCondition {
	v := store.ListingCondition(strings.ToUpper(h.required(c, rec, "condition")))
	switch v {
	case store.ConditionNew, store.ConditionUsed, store.ConditionRemanufactured, store.ConditionForParts, "":
	default:
		c.add("condition", "must be one of NEW, USED, REMANUFACTURED, FOR_PARTS")
	}
	return v
}

// whole reads a non-negative whole number of at most max.
func (h header) whole(c *rowCheck, rec []string, col string, max int64) *int64 {
	v := h.cell(c, rec, col)
	if v == "" {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > max || strings.HasPrefix(v, "+") {
		c.add(col, "must be a whole number from 0 to "+strconv.FormatInt(max, 10))
		return nil
	}
	return &n
}

func (h header) quantity(c *rowCheck, rec []string) *int {
	n := h.whole(c, rec, "quantity", maxInt32)
	if n == nil {
		return nil
	}
	q := int(*n)
	return &q
}

func (h header) priceCents(c *rowCheck, rec []string) *int64 {
	return h.whole(c, rec, "price_cents", 1<<63-1)
}

func (h header) currency(c *rowCheck, rec []string) *string {
	v := strings.ToUpper(h.cell(c, rec, "currency"))
	if v == "" {
		return nil
	}
	if !currencyCode.MatchString(v) {
		c.add("currency", "must be an ISO 4217 currency code")
	}
	return &v
}

func (h header) status(c *rowCheck, rec []string) *store.ListingStatus {
	v := store.ListingStatus(strings.ToUpper(h.cell(c, rec, "status")))
	switch v {
	case "":
		return nil
	case store.ListingDraft, store.ListingActive, store.ListingPaused, store.ListingSold:
		return &v
	case store.ListingRemoved:
		c.add("status", "only an admin removes listings")
	default:
		c.add("status", "must be one of DRAFT, ACTIVE, PAUSED, SOLD")
	}
	return nil
}
