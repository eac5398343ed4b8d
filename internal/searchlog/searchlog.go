// Package searchlog records public searches off the request path: Record
// queues a search, and a background loop writes the queue to the database in
// batches, so a search never waits on an insert. Close flushes what is left.
package searchlog

import (
	"context"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/partsmarket/gateway/store"
)

// Writer stores a batch of searches (the store's RecordSearches).
type Writer func(ctx context.Context, recs []store.SearchRecord) error

// Observer is told the buffer's depth whenever it changes and how long each
// flush's write took (metrics). Its methods must be quick and safe for
// concurrent use.
type Observer interface {
	SearchBufferDepth(n int)
	SearchFlushed(d time.Duration)
}

// Recorder buffers searches and writes them every interval.
type Recorder struct {
	write    Writer
	interval time.Duration
	log      *slog.Logger
	observer Observer

	mu      sync.Mutex
	pending []store.SearchRecord

	stop chan struct{}
	done chan struct{}
}

// maxPending bounds the buffer if the database is down for long; older
// searches are dropped first and the drop is logged.
const maxPending = 100_000

// New returns a Recorder that writes with write every interval. Run it with
// Start and end it with Close.
func New(write Writer, interval time.Duration, log *slog.Logger) *Recorder {
	return &Recorder{write: write, interval: interval, log: log, stop: make(chan struct{}), done: make(chan struct{})}
}

// SetObserver sets the Recorder's observer; call it before Start and before
// the first Record.
func (r *Recorder) SetObserver(o Observer) { r.observer = o }

// depthChanged tells the observer the buffer's depth; r.mu is held.
func (r *Recorder) depthChanged() {
	if r.observer != nil {
		r.observer.SearchBufferDepth(len(r.pending))
	}
}

// Record queues one search of the request ctx belongs to; its term is
// normalised and redacted first.
func (r *Recorder) Record(ctx context.Context, rec store.SearchRecord) {
	rec.Term = Redact(rec.Term)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) >= maxPending {
		r.pending = r.pending[1:]
		r.log.WarnContext(ctx, "search log buffer full; dropping oldest search")
	}
	r.pending = append(r.pending, rec)
	r.depthChanged()
}

// Start runs the flush loop in the background until Close.
func (r *Recorder) Start() {
	go func() {
		defer close(r.done)
		t := time.NewTicker(r.interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.Flush(context.Background())
			case <-r.stop:
				return
			}
		}
	}()
}

// Flush writes every queued search now. On failure the searches stay queued
// for the next flush.
func (r *Recorder) Flush(ctx context.Context) {
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	r.depthChanged()
	r.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	start := time.Now()
	err := r.write(ctx, batch)
	if r.observer != nil {
		r.observer.SearchFlushed(time.Since(start))
	}
	if err != nil {
		r.log.Error("search log flush failed; will retry", "searches", len(batch), "error", err)
		r.mu.Lock()
		r.pending = append(batch, r.pending...)
		r.depthChanged()
		r.mu.Unlock()
	}
}

// Close stops the loop and flushes what is queued.
func (r *Recorder) Close(ctx context.Context) {
	close(r.stop)
	<-r.done
	r.Flush(ctx)
}

var (
	// emailLike matches an address written plainly or spaced out: a local
	// part, "@" (or "(at)", "[at]"), and a domain of two labels or more
	// joined by "." (or "(dot)", "[dot]", " dot "), with spaces allowed
	// around each separator ("x @ y.org", "x[at]y[dot]org").
	emailLike = regexp.MustCompile(`[^\s@()\[\]]+\s*(?:@|\(at\)|\[at\])\s*[^\s@.()\[\]]+(?:(?:\s*(?:\.|\(dot\)|\[dot\])\s*|\s+dot\s+)[^\s@.()\[\]]+)+`)
	// emailWords matches an address spelt out in words: "x at y dot org".
	emailWords = regexp.MustCompile(`[\pL\pN._+-]+ at [\pL\pN-]+(?: dot [\pL\pN-]+)+\b`)
	spaces     = regexp.MustCompile(`\s+`)
)

// Redact normalises a search term (trimmed, lower case, single spaces) and
// replaces anything that looks like an email address or a phone number with
// [email] or [phone] (see redactPhones for what counts as a phone number).
func Redact(term string) string {
	t := strings.ToLower(strings.TrimSpace(spaces.ReplaceAllString(term, " ")))
	t = emailLike.ReplaceAllString(t, "[email]")
	t = emailWords.ReplaceAllString(t, "[email]")
	return redactPhones(t)
}

// A number piece is a stretch of a term made of digits and the characters
// numbers are written with (+ ( ) . - /), holding at least one digit;
// start and end bound it without its leading and trailing separators. It
// is glued when a letter touches it, separators included: part of a word
// such as "1r-0750" or "re504836".
type numberPiece struct {
	start, end int
	glued      bool
}

// maxPhonePieces bounds the pieces one phone number may span ("00 33 6 12
// 34 56 78" has 7), and so the work per term.
const maxPhonePieces = 8

// redactPhones replaces phone numbers in a normalised term with [phone].
// Pieces that are not glued and follow each other with one space between
// them are read together ("06 12 34 56 78"); glued pieces are read alone,
// so a part number's digits never join a neighbour's. From each piece on,
// the longest span of pieces that phoneNumber reads as a phone number is
// replaced, or as a part number kept. Numbers with an international or
// trunk prefix are looked for first, so that a part number before one
// ("326-1644 0049 30 9018207") does not lend it its digits.
func redactPhones(t string) string {
	pieces := numberPieces(t)
	// cover[i] is 0 for a piece not read yet, -1 for one kept as a part
	// number, and k > 0 for one in the k-th phone number.
	cover := make([]int, len(pieces))
	spans := 0
	for _, prefixed := range []bool{true, false} {
		for i := 0; i < len(pieces); i++ {
			if cover[i] != 0 {
				continue
			}
			j := i
			for !pieces[j].glued && j+1 < len(pieces) && j+1-i < maxPhonePieces && cover[j+1] == 0 &&
				!pieces[j+1].glued && t[pieces[j].end:pieces[j+1].start] == " " {
				j++
			}
			for ; j >= i; j-- {
				s := t[pieces[i].start:pieces[j].end]
				phone, part := phoneNumber(s)
				if part {
					fill(cover[i:j+1], -1)
					break
				}
				if phone && (!prefixed || prefix(s)) {
					spans++
					fill(cover[i:j+1], spans)
					break
				}
			}
		}
	}
	if spans == 0 {
		return t
	}
	var b strings.Builder
	last := 0
	for i, p := range pieces {
		if cover[i] <= 0 || i > 0 && cover[i-1] == cover[i] {
			continue
		}
		b.WriteString(t[last:p.start])
		b.WriteString("[phone]")
		for last = p.end; i+1 < len(pieces) && cover[i+1] == cover[i]; i++ {
			last = pieces[i+1].end
		}
	}
	b.WriteString(t[last:])
	return b.String()
}

// fill sets every element of s to v.
func fill(s []int, v int) {
	for i := range s {
		s[i] = v
	}
}

// prefix reports whether s starts with an international (+, 00) or trunk
// (0) prefix.
func prefix(s string) bool {
	s = strings.TrimLeft(s, "(")
	return strings.HasPrefix(s, "+") || strings.HasPrefix(s, "0")
}

// numberPieces returns the number pieces of t in order.
func numberPieces(t string) []numberPiece {
	var pieces []numberPiece
	for i := 0; i < len(t); {
		if !numberChar(t[i]) {
			i++
			continue
		}
		j, digit := i, false
		for j < len(t) && numberChar(t[j]) {
			digit = digit || isDigit(t[j])
			j++
		}
		if digit {
			before, _ := utf8.DecodeLastRuneInString(t[:i])
			after, _ := utf8.DecodeRuneInString(t[j:])
			p := numberPiece{start: i, end: j, glued: unicode.IsLetter(before) || unicode.IsLetter(after)}
			for !isDigit(t[p.start]) && t[p.start] != '+' && t[p.start] != '(' {
				p.start++
			}
			for !isDigit(t[p.end-1]) && t[p.end-1] != ')' {
				p.end--
			}
			pieces = append(pieces, p)
		}
		i = j
	}
	return pieces
}

func numberChar(c byte) bool {
	return isDigit(c) || strings.IndexByte("+().-/", c) >= 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// phoneNumber reports whether s, a span of number pieces, reads as a phone
// number, or else whether it reads as a part number of a shape that a
// shorter span could mistake for a phone number's (part). Its digits (d of them) fall into groups, split by any other
// character. It is one when it has
//
//   - a leading + and 7 to 15 digits (international);
//   - a leading 0 and 9 to 12 digits (a national number with its trunk
//     prefix: "07946 095812", "06 12 34 56 78", "030 9018207"), or up to
//     17 after 00 and 18 after 011 (international call prefixes);
//   - 9 to 15 digits in one group ("5550101234");
//   - 4 groups or more of 2 to 4 digits each, 8 to 13 digits in all
//     ("612 34 56 78");
//   - 3 groups of 2 or 3, any, then 4 digits, 9 to 12 in all
//     ("(555) 010-1234", "138 1234 5678"), or groups 3-3-3 ("512 345
//     678"), 3-7 or 5-5 ("98765 43210"), or 1-3-3-4 after a leading 1.
//
// Part numbers keep their shape: anything glued to letters is only ever
// read alone ("1r-0750", "re504836", "3406e"), and the all-digit shapes
// of makers' part numbers are left alone (7 or 8 digits, "326-1644",
// "104-1028-006", "6754-71-5310", "294000-0618", and Bosch's "0 986 435
// 505": a lone leading 0 then groups of three), except where a shape is
// also a phone number's: 10 digits in one group, or a leading 0 with 9 to
// 12 digits. Then privacy wins: the term is stored redacted (the search
// itself is not affected). Numbers of 7 digits without an area code
// ("555-1234") cannot be told from part numbers and are kept.
func phoneNumber(s string) (phone, part bool) {
	var digits []byte
	var groups []int
	n := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isDigit(s[i]) {
			digits = append(digits, s[i])
			n++
			continue
		}
		if n > 0 {
			groups = append(groups, n)
			n = 0
		}
	}
	d := len(digits)
	plus := strings.HasPrefix(strings.TrimLeft(s, "("), "+")
	shape := func(want ...int) bool { return slices.Equal(groups, want) }
	switch {
	case plus:
		return d >= 7 && d <= 15, false
	case digits[0] == '0' && shape(1, 3, 3, 3):
		return false, true // Bosch
	case digits[0] == '0':
		return d >= 9 && (d <= 12 || d <= 17 && digits[1] == '0' || d <= 18 && strings.HasPrefix(string(digits), "011")), false
	case len(groups) == 1:
		return d >= 9 && d <= 15, false
	case digits[0] == '1' && shape(1, 3, 3, 4):
		return true, false
	case len(groups) >= 4:
		return d >= 8 && d <= 13 && !slices.ContainsFunc(groups, func(g int) bool { return g < 2 || g > 4 }), false
	case len(groups) == 3:
		return d >= 9 && d <= 12 && groups[2] == 4 && groups[0] >= 2 && groups[0] <= 3 || shape(3, 3, 3), false
	}
	return shape(3, 7) || shape(5, 5), false
}
