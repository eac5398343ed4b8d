package events

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/partsmarket/gateway/internal/abuse"
	"github.com/partsmarket/gateway/internal/ratelimit"
	"github.com/partsmarket/gateway/store"
)

// Input is one event as a client sends it (recordEvent's input and the JSON
// of POST /events).
type Input struct {
	Type       store.EventType `json:"type"`
	ListingID  *string         `json:"listingId"`
	SellerID   *string         `json:"sellerId"`
	SessionID  *string         `json:"sessionId"`
	SourcePage *string         `json:"sourcePage"`
	// Consent false (null: given) keeps the event out of anything that could
	// follow a person: it is counted, but stored without session id, user
	// agent or IP hash.
	Consent *bool `json:"consent"`
}

// Request is what the gateway knows of the request that carried events.
type Request struct {
	UserAgent string
	// ClientIP is hashed with the ingestor's key; it is never stored.
	ClientIP string
	At       time.Time
	// OptedOut is set when the browser asked not to be tracked (Sec-GPC: 1
	// or DNT: 1): every event of the request is stored as without consent.
	OptedOut bool
}

// OptedOut reports whether h carries a Global Privacy Control or Do Not
// Track signal (Sec-GPC: 1, DNT: 1).
func OptedOut(h http.Header) bool {
	return strings.TrimSpace(h.Get("Sec-GPC")) == "1" || strings.TrimSpace(h.Get("DNT")) == "1"
}

// Lookup reads what the public sees (the store).
type Lookup interface {
	PublicListingKeys(ctx context.Context, ids []string) ([]*store.ListingKeys, error)
	PublicSellerIDs(ctx context.Context, ids []string) ([]string, error)
}

// Limits of the free-text fields of an event.
const (
	maxSessionID  = 200
	maxSourcePage = 2048
	maxUserAgent  = 512
)

// LimitedError is Record's answer when the client's event budget cannot pay
// for the events: none of them was queued or charged.
type LimitedError struct {
	// RetryAfter is how long until the budget can pay for them.
	RetryAfter time.Duration
}

// Error says the budget is spent, without the client's address.
func (e *LimitedError) Error() string {
	return fmt.Sprintf("events: this client's event budget is spent; retry in %s", e.RetryAfter.Round(time.Second))
}

// Ingestor checks events against a cache of public listings and sellers and
// queues them in a Buffer.
type Ingestor struct {
	buf      *Buffer
	lookup   Lookup
	budget   *ratelimit.Limiter
	key      []byte
	listings *expirable.LRU[string, *store.ListingKeys] // nil value: not public
	sellers  *expirable.LRU[string, bool]
}

// IngestOptions configure NewIngestor.
type IngestOptions struct {
	Buffer *Buffer
	Lookup Lookup
	// Budget, when set, is the per-client-IP event budget
	// (RATE_LIMIT_EVENTS_PER_IP_PER_MINUTE): every event Record is given
	// costs one point of its client's, valid or not, before any lookup;
	// an IPv6 client's /64 shares one budget. Nil: no budget.
	Budget *ratelimit.Limiter
	// HashKey keys the HMAC of client IPs (see HashKeyFrom).
	HashKey []byte
	// CacheSize bounds the listing and seller caches (entries each); 0:
	// 100,000.
	CacheSize int
	// CacheTTL is how long an answer of Lookup is reused; 0: 30 seconds.
	// A listing that stops being public may still collect events for this
	// long.
	CacheTTL time.Duration
}

// NewIngestor returns an Ingestor that queues into o.Buffer.
func NewIngestor(o IngestOptions) *Ingestor {
	if o.CacheSize <= 0 {
		o.CacheSize = 100_000
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = 30 * time.Second
	}
	return &Ingestor{buf: o.Buffer, lookup: o.Lookup, budget: o.Budget, key: o.HashKey,
		listings: expirable.NewLRU[string, *store.ListingKeys](o.CacheSize, nil, o.CacheTTL),
		sellers:  expirable.NewLRU[string, bool](o.CacheSize, nil, o.CacheTTL)}
}

// HashKeyFrom derives the key of the client IP hashes from a secret every
// instance shares (the gateway passes JWT_SECRET), so instances agree and
// the stored hash cannot be reversed by trying every address without it.
func HashKeyFrom(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("partsmarket event client ip v1"))
	return m.Sum(nil)
}

// Record checks events and queues them, all or none. Invalid fields come
// back as store.FieldErrors named prefix+field (prefix "input." for
// recordEvent); an unknown listing or seller and one the public may not see
// get the same answer. A *LimitedError when the client's budget cannot pay
// for the events; ErrFull when the queue is full.
func (in *Ingestor) Record(ctx context.Context, prefix string, evs []Input, req Request) error {
	if in.budget != nil {
		if d := in.budget.Charge("events:"+abuse.IPUnit(req.ClientIP), len(evs)); !d.Allowed {
			return &LimitedError{RetryAfter: max(d.RetryAfter, time.Second)}
		}
	}
	var errs store.FieldErrors
	recs := make([]store.EventRecord, len(evs))
	ua := clip(req.UserAgent, maxUserAgent)
	ipHash := in.hashIP(req.ClientIP)
	for i, ev := range evs {
		p := prefix
		if len(evs) > 1 {
			p = prefix + "[" + strconv.Itoa(i) + "]."
		}
		rec := store.EventRecord{Type: ev.Type, UserAgent: ua, IPHash: ipHash, At: req.At}
		switch ev.Type {
		case store.EventListingView, store.EventCallClick, store.EventTextClick, store.EventEmailClick:
		default:
			errs.Add(p+"type", "must be LISTING_VIEW, CALL_CLICK, TEXT_CLICK or EMAIL_CLICK")
		}
		rec.SessionID = errs.Optional(p+"sessionId", ev.SessionID, maxSessionID)
		rec.SourcePage = errs.Optional(p+"sourcePage", ev.SourcePage, maxSourcePage)
		if req.OptedOut || (ev.Consent != nil && !*ev.Consent) {
			rec.SessionID, rec.UserAgent, rec.IPHash = nil, nil, nil
		}
		listingID, sellerID := trimmedID(ev.ListingID), trimmedID(ev.SellerID)
		switch {
		case listingID != nil:
			k, err := in.listing(ctx, *listingID)
			if err != nil {
				return err
			}
			if k == nil {
				errs.Add(p+"listingId", "no such listing")
				break
			}
			if sellerID != nil && *sellerID != k.SellerID {
				errs.Add(p+"sellerId", "is not the listing's seller")
			}
			rec.ListingID, rec.SellerID, rec.Category, rec.Region = &k.ListingID, k.SellerID, k.Category, k.Region
		case sellerID != nil:
			ok, err := in.seller(ctx, *sellerID)
			if err != nil {
				return err
			}
			if !ok {
				errs.Add(p+"sellerId", "no such seller")
			}
			rec.SellerID = *sellerID
		default:
			errs.Add(p+"listingId", "a listingId or a sellerId is required")
		}
		recs[i] = rec
	}
	if err := errs.Err(); err != nil {
		return err
	}
	return in.buf.Add(recs...)
}

// listing returns the rollup keys of a public listing, or nil when the
// listing does not exist or is not public.
func (in *Ingestor) listing(ctx context.Context, id string) (*store.ListingKeys, error) {
	if k, ok := in.listings.Get(id); ok {
		return k, nil
	}
	rows, err := in.lookup.PublicListingKeys(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	var k *store.ListingKeys
	if len(rows) == 1 {
		k = rows[0]
	}
	in.listings.Add(id, k)
	return k, nil
}

// seller reports whether a seller exists and is public.
func (in *Ingestor) seller(ctx context.Context, id string) (bool, error) {
	if ok, found := in.sellers.Get(id); found {
		return ok, nil
	}
	ids, err := in.lookup.PublicSellerIDs(ctx, []string{id})
	if err != nil {
		return false, err
	}
	ok := len(ids) == 1
	in.sellers.Add(id, ok)
	return ok, nil
}

// hashIP returns the keyed hash of a client IP (128 bits, hex), or nil
// without an IP.
func (in *Ingestor) hashIP(ip string) *string {
	if ip == "" {
		return nil
	}
	m := hmac.New(sha256.New, in.key)
	m.Write([]byte(ip))
	h := hex.EncodeToString(m.Sum(nil)[:16])
	return &h
}

// trimmedID trims an optional id and treats "" as null.
func trimmedID(v *string) *string {
	if v == nil || strings.TrimSpace(*v) == "" {
		return nil
	}
	t := strings.TrimSpace(*v)
	return &t
}

// clip returns s cut to at most max characters (on a rune boundary), or nil
// when empty.
func clip(s string, max int) *string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "")
	if s == "" {
		return nil
	}
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return &s
}
