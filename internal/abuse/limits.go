package abuse

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/partsmarket/gateway/internal/batch"
	"github.com/partsmarket/gateway/internal/pii"
	"github.com/partsmarket/gateway/store"
)

// Limit kinds: the counters of the abuse limits, separate for leads and
// reports.
const (
	KindLeadIP      = "lead-ip"
	KindLeadEmail   = "lead-email"
	KindReportIP    = "report-ip"
	KindReportEmail = "report-email"
)

// LimitOptions configure the abuse rate limits (RATE_LIMIT_* settings). A
// maximum of 0 disables that limit.
type LimitOptions struct {
	// LeadsPerIPPerHour bounds submitLead per client IP per hour.
	LeadsPerIPPerHour int
	// ReportsPerIPPerHour bounds reportListing per client IP per hour.
	ReportsPerIPPerHour int
	// LeadsPerEmailPerDay bounds submitLead per buyer email per day.
	LeadsPerEmailPerDay int
	// ReportsPerEmailPerDay bounds reportListing per reporter email per day
	// (reports without an email count per IP only).
	ReportsPerEmailPerDay int
	// HashKey keys the HMAC that stands for an IP address in the counters
	// table; every instance sharing a database must use the same key.
	HashKey []byte
	// Keys give the blind index that stands for an email in the counters
	// table: the one the leads' email lookups use (BLIND_INDEX_KEY); nil:
	// the development keyring.
	Keys *pii.Keyring
	// OnLimited is told when a request goes over a limit and how long until
	// it may retry (httpapi.MarkRateLimited: the response becomes 429 with
	// Retry-After); nil: nobody is told.
	OnLimited func(ctx context.Context, retryAfter time.Duration)
	// OnLimitedKind, when set, is told the kind (KindLeadIP, KindLeadEmail,
	// KindReportIP, KindReportEmail) of every limit a refused request went over (metrics).
	OnLimitedKind func(ctx context.Context, kind string)
}

// Limiter counts submitLead and reportListing attempts per client IP (an
// HMAC) and per email (its blind index) in PostgreSQL (table abuse_counters), so that every gateway instance
// on one database shares the counts. Windows are fixed (the clock hour, the
// UTC day), taken from the database's clock.
//
// What counts: every attempt that reaches the check, which the resolvers
// make after input validation and before the CAPTCHA, so a bot over its
// limit costs no provider call, and failed CAPTCHAs, honeypot hits and
// de-duplicated repeats of a lead all count: they are attempts all the same.
type Limiter struct {
	db      *sqlx.DB
	o       LimitOptions
	calls   atomic.Uint64
	batches *batch.Batcher[[]limit, []counted]
}

// NewLimiter returns a Limiter over db.
func NewLimiter(db *sqlx.DB, o LimitOptions) *Limiter {
	if o.Keys == nil {
		o.Keys = pii.Dev()
	}
	l := &Limiter{db: db, o: o}
	l.batches = batch.New(l.countBatch, maxCountBatch, countBatchSlots)
	return l
}

// limit is one counter to increment and its bound.
type limit struct {
	kind   string
	key    string
	max    int
	window time.Duration
}

// Lead counts a submitLead attempt from ip with email; over a limit it
// returns RATE_LIMITED (and calls OnLimited).
func (l *Limiter) Lead(ctx context.Context, ip, email string) error {
	return l.hit(ctx,
		limit{KindLeadIP, l.hash(KindLeadIP, IPUnit(ip)), l.o.LeadsPerIPPerHour, time.Hour},
		limit{KindLeadEmail, hex.EncodeToString(l.o.Keys.BlindIndex(email)), l.o.LeadsPerEmailPerDay, 24 * time.Hour},
	)
}

// Report counts a reportListing attempt from ip, and from email when the
// reporter gave one; over a limit it returns RATE_LIMITED (and calls
// OnLimited).
func (l *Limiter) Report(ctx context.Context, ip, email string) error {
	limits := []limit{{KindReportIP, l.hash(KindReportIP, IPUnit(ip)), l.o.ReportsPerIPPerHour, time.Hour}}
	if email != "" {
		limits = append(limits, limit{KindReportEmail, hex.EncodeToString(l.o.Keys.BlindIndex(email)), l.o.ReportsPerEmailPerDay, 24 * time.Hour})
	}
	return l.hit(ctx, limits...)
}

// hit increments every enabled counter and refuses when any is over its
// maximum, with the longest wait. Concurrent calls share one statement (see
// countBatch).
func (l *Limiter) hit(ctx context.Context, limits ...limit) error {
	var enabled []limit
	max := map[string]int{}
	for _, li := range limits {
		if li.max > 0 {
			enabled = append(enabled, li)
			max[li.kind] = li.max
		}
	}
	if len(enabled) == 0 {
		return nil
	}
	rows, err := l.batches.Do(ctx, enabled)
	if err != nil {
		return fmt.Errorf("abuse: count attempt: %w", err)
	}
	if l.calls.Add(1)%256 == 0 {
		l.sweep(ctx)
	}
	var retry time.Duration
	limited := false
	for _, r := range rows {
		if r.Count > max[r.Kind] {
			limited = true
			if l.o.OnLimitedKind != nil {
				l.o.OnLimitedKind(ctx, r.Kind)
			}
			if d := time.Duration(r.Retry * float64(time.Second)); d > retry {
				retry = d
			}
		}
	}
	if !limited {
		return nil
	}
	if retry < time.Second {
		retry = time.Second
	}
	if l.o.OnLimited != nil {
		l.o.OnLimited(ctx, retry)
	}
	return store.Errorf(store.ERATELIMITED, "too many attempts; retry in %d seconds", int64((retry+time.Second-1)/time.Second))
}

// sweep deletes expired counters; a failure is left for the next sweep.
func (l *Limiter) sweep(ctx context.Context) {
	_, _ = l.db.ExecContext(ctx, `DELETE FROM abuse_counters WHERE expires_at < now() - interval '1 hour'`)
}

// hash returns the HMAC that stands for value in the counters table.
func (l *Limiter) hash(kind, value string) string {
	m := hmac.New(sha256.New, l.o.HashKey)
	m.Write([]byte(kind + ":" + value))
	return hex.EncodeToString(m.Sum(nil))
}

// IPUnit is the unit a per-IP limit counts: the address for IPv4, its /64
// for IPv6 (one subscriber's usual allocation); "unknown" when there is none.
func IPUnit(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// HashKeyFrom derives the key of the counters' IP HMAC from a secret every
// instance shares (the gateway passes JWT_SECRET), so no raw IP address is
// stored and instances agree on the keys.
func HashKeyFrom(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("partsmarket abuse rate limit keys v1"))
	return m.Sum(nil)
}
