package store

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// PageArgs asks for one page of a keyset-paginated list.
type PageArgs struct {
	// Limit is the page size, already checked by the caller.
	Limit int
	// After is the decoded cursor of the last row of the previous page, if any.
	After *Cursor
	// Before is the decoded cursor of the first row of the next page, if
	// any: rows from it on are left out.
	Before *Cursor
	// Last reads the page backwards: the Limit rows closest to Before (or
	// the end of the list), still returned in the list's order.
	Last bool
}

// Page is one page of rows with each row's opaque cursor.
type Page[T any] struct {
	Items       []T
	Cursors     []string
	HasNextPage bool
	// HasPreviousPage is set when rows come before the page: known for a
	// page read backwards, and assumed for one read after a cursor.
	HasPreviousPage bool
	// Total is the number of matching rows when the page query computed it
	// anyway (searches do); nil otherwise.
	Total *int
	// TotalExact is false when Total is an estimate (a search with more
	// matches than it counts exactly).
	TotalExact bool
	// Sellers are the sellers of the page's listings that the page's own
	// statement read and the caller may see (pages of listings that are
	// not searches); nil otherwise.
	Sellers []*Seller
}

// Cursor is a position in a keyset-ordered list: the sort it belongs to, the
// sort key of a row and its id. Encoded, it is opaque base64 JSON.
type Cursor struct {
	Sort string `json:"s"`
	Key  string `json:"k"`
	ID   string `json:"i"`
}

// Encode returns the opaque form of the cursor.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses an opaque cursor given as the after argument. It
// returns EINVALID for anything that is not a cursor this gateway made.
func DecodeCursor(s string) (*Cursor, error) { return DecodeCursorArg("after", s) }

// DecodeCursorArg parses an opaque cursor given as argument arg (after or
// before), which an EINVALID error names.
func DecodeCursorArg(arg, s string) (*Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c Cursor
	if err != nil || json.Unmarshal(b, &c) != nil || !ValidID(c.ID) || c.Sort == "" {
		return nil, Invalid(arg, "not a valid cursor")
	}
	return &c, nil
}

// ValidID reports whether s is a well-formed row id (a UUID). Ids that are
// not match no row, so callers answer NOT_FOUND for them.
func ValidID(s string) bool {
	return len(s) == 36 && uuid.Validate(s) == nil
}

// validIDs keeps the well-formed ids of ids.
func validIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if ValidID(id) {
			out = append(out, id)
		}
	}
	return out
}

// query builds a WHERE clause and its positional arguments. Only constant
// SQL goes into the text; every value goes through arg.
type query struct {
	where []string
	args  []any
}

// arg adds a value and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// and adds a condition.
func (q *query) and(cond string) {
	q.where = append(q.where, cond)
}

// sql returns " WHERE a AND b", or "" without conditions.
func (q *query) sql() string {
	if len(q.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.where, " AND ")
}

// keyset is an ordering on a sort key and the id column, descending or not.
type keyset struct {
	name string // cursor tag; a cursor of another ordering is refused
	key  string // SQL expression of the sort key
	cast string // SQL type the key is compared as: timestamptz, bigint, real or text
	text string // SQL expression of the key as cursor text; key::text when empty
	id   string // SQL id column
	desc bool
}

// keyText returns the SQL expression that renders the sort key for a cursor.
// Timestamps are rendered as RFC 3339 in UTC so the cursor does not depend
// on the session's DateStyle.
func (k keyset) keyText() string {
	switch {
	case k.text != "":
		return k.text
	case k.cast == "timestamptz":
		return `to_char((` + k.key + `) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
	default:
		return "(" + k.key + ")::text"
	}
}

// validKey reports whether a cursor key parses as the keyset's type, so a
// tampered cursor is refused as bad input instead of failing in SQL.
func (k keyset) validKey(key string) bool {
	var err error
	switch k.cast {
	case "timestamptz":
		var t time.Time
		t, err = time.Parse(time.RFC3339Nano, key)
		if _, off := t.Zone(); err == nil && (t.Year() < 1 || off <= -16*3600 || off >= 16*3600) {
			return false
		}
	case "bigint":
		_, err = strconv.ParseInt(key, 10, 64)
	case "real":
		_, err = strconv.ParseFloat(key, 32)
	}
	return err == nil && !strings.ContainsRune(key, 0)
}

// after adds the condition that keeps rows after cursor c.
func (k keyset) after(q *query, c *Cursor) error { return k.bound(q, "after", c, true) }

// bound adds the condition that keeps the rows after cursor c (or before it
// when !after); arg names the cursor's argument in an error.
func (k keyset) bound(q *query, arg string, c *Cursor, after bool) error {
	if c == nil {
		return nil
	}
	if c.Sort != k.name || !k.validKey(c.Key) {
		return Invalid(arg, "cursor does not belong to this list and order")
	}
	op := ">"
	if k.desc == after {
		op = "<"
	}
	q.and("(" + k.key + ", " + k.id + ") " + op + " (" + q.arg(c.Key) + "::" + k.cast + ", " + q.arg(c.ID) + "::uuid)")
	return nil
}

// window adds the conditions of p's cursors to q and returns the ORDER BY
// clause that reads p's rows: the keyset's order, or its reverse for a page
// read backwards, whose rows pageOf puts back in order.
func (k keyset) window(q *query, p PageArgs) (string, error) {
	if err := k.after(q, p.After); err != nil {
		return "", err
	}
	if err := k.bound(q, "before", p.Before, false); err != nil {
		return "", err
	}
	if p.Last {
		return k.reversed().orderBy(), nil
	}
	return k.orderBy(), nil
}

// reversed returns the keyset in the opposite direction.
func (k keyset) reversed() keyset {
	k.desc = !k.desc
	return k
}

// orderBy returns the ORDER BY clause of the keyset.
func (k keyset) orderBy() string {
	dir := " ASC"
	if k.desc {
		dir = " DESC"
	}
	return " ORDER BY " + k.key + dir + ", " + k.id + dir
}

// page trims a limit+1 row result to a page and computes each row's cursor.
func page[T any](k keyset, rows []T, limit int, keyOf func(T) (key, id string)) Page[T] {
	p := Page[T]{Items: rows}
	if len(rows) > limit {
		p.Items, p.HasNextPage = rows[:limit], true
	}
	p.Cursors = make([]string, len(p.Items))
	for i, r := range p.Items {
		key, id := keyOf(r)
		p.Cursors[i] = Cursor{Sort: k.name, Key: key, ID: id}.Encode()
	}
	return p
}

// pageOf trims a limit+1 row result read as window ordered it to a page
// of p, in the keyset's order, and computes each row's cursor.
func pageOf[T any](k keyset, rows []T, p PageArgs, keyOf func(T) (key, id string)) Page[T] {
	if !p.Last {
		out := page(k, rows, p.Limit, keyOf)
		out.HasPreviousPage = p.After != nil
		return out
	}
	out := page(k, rows, p.Limit, keyOf)
	slices.Reverse(out.Items)
	slices.Reverse(out.Cursors)
	out.HasPreviousPage, out.HasNextPage = out.HasNextPage, p.Before != nil
	return out
}

// unwrap turns a page of scan rows into a page of the items they carry.
func unwrap[R, T any](p Page[R], item func(R) T) Page[T] {
	out := Page[T]{Cursors: p.Cursors, HasNextPage: p.HasNextPage, HasPreviousPage: p.HasPreviousPage,
		Total: p.Total, TotalExact: p.TotalExact, Items: make([]T, len(p.Items))}
	for i, r := range p.Items {
		out.Items[i] = item(r)
	}
	return out
}
