// Package ratelimit keeps the per-principal query-cost budgets
// (docs/api/limits.md): each key (a principal, or an anonymous client IP) may spend
// PointsPerMinute cost points, restored continuously at PointsPerMinute/60
// points a second.
//
// # Model
//
// A budget is a token bucket kept as its deficit, the debt: the points spent
// and not yet restored. remaining = budget − debt, and the debt decays
// linearly at the restore rate (never below zero). There is no window: the
// bucket refills continuously, so a caller who spent everything may spend
// `cost` again after cost/restoreRate seconds.
//
// # Sharing between instances
//
// Every gateway instance charges its in-process buckets only: the request
// path never waits on the database. A sync loop (Start) pushes each key's
// spend since the last push to the shared table rate_limit_buckets about
// once per SyncInterval (sooner when one key's unpushed spend passes a tenth
// of the budget, when a key is seen for the first time, or when a charge is
// refused while spend is unpushed) in one statement
// that decays the shared debt with the database clock, adds the spend and
// returns the shared debt; the instance then takes that as its own debt (plus
// what it charged meanwhile). Keys are HMACs of the principal keys, never raw
// IPs or subjects.
//
// # Overspend
//
// An instance does not see what the others charged since its last sync, so
// across N instances a key may overspend by at most what the other N−1
// instances charged to it in one sync interval plus one database round trip
// (each of them bounded by the budget it saw left, and pushed early once it
// passes a tenth of the budget). A key new to an instance is charged as a
// full bucket until the first sync (kicked at once) tells it otherwise. When
// the database is unreachable, each instance enforces the budget alone and
// keeps the spend to push later.
package ratelimit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Options configure a Limiter.
type Options struct {
	// PointsPerMinute is each key's budget (RATE_LIMIT_POINTS_PER_MINUTE);
	// it is also the bucket's capacity.
	PointsPerMinute int
	// SyncInterval is how often spend is pushed to and read back from the
	// database (default 1 s).
	SyncInterval time.Duration
	// DB holds the shared table; nil keeps the budgets in this process only.
	DB *sqlx.DB
	// Table is the shared table (default rate_limit_buckets). Limiters of
	// different budgets need tables of their own: a table's rows are decayed
	// and purged at one restore rate.
	Table string
	// HashKey keys the HMAC that turns principal keys into stored keys.
	HashKey []byte
	// Log receives sync failures (never a key).
	Log *slog.Logger
	// Now is the clock (default time.Now); tests replace it.
	Now func() time.Time
}

// Decision is the outcome of a charge or a look at a budget.
type Decision struct {
	// Allowed is false when the budget cannot pay the cost: nothing was
	// charged.
	Allowed bool
	// Limit is the budget (points per minute).
	Limit int
	// Remaining is what is left after the charge, rounded down, never below 0.
	Remaining int
	// RestoreRate is the points restored per second.
	RestoreRate float64
	// RetryAfter, when not Allowed, is how long until enough points are
	// restored to pay the cost.
	RetryAfter time.Duration
}

// Limiter holds the in-process buckets of one gateway instance and syncs them
// with the others'. It is safe for concurrent use.
type Limiter struct {
	o        Options
	capacity float64
	rate     float64 // points per second

	mu   sync.Mutex
	keys map[string]*bucket

	kick      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	startOnce sync.Once
	stopOnce  sync.Once
}

// bucket is one key's budget as this instance knows it.
type bucket struct {
	debt    float64   // points owed as of at (shared debt at the last sync + local spend since)
	at      time.Time // when debt was last decayed
	pending float64   // points charged here and not yet pushed
	seen    time.Time // last charge or look
	synced  bool      // the shared debt has been read at least once
}

// defaultTable is the shared table of Options.Table's default; the
// statements below name it and table swaps it for the Limiter's own.
const defaultTable = "rate_limit_buckets"

// table returns statement q on the Limiter's table.
func (l *Limiter) table(q string) string {
	return strings.ReplaceAll(q, defaultTable, l.o.Table)
}

// window is how long an idle, fully restored key is kept (and synced).
const window = time.Minute

// kickFraction of the budget spent locally and not yet pushed triggers an
// early sync.
const kickFraction = 0.1

// minSyncGap spaces early (kicked) syncs.
const minSyncGap = 50 * time.Millisecond

// New returns a Limiter; call Start to sync it with the other instances and
// Close to stop.
func New(o Options) *Limiter {
	if o.PointsPerMinute <= 0 {
		o.PointsPerMinute = 20000
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Table == "" {
		o.Table = defaultTable
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Limiter{
		o:        o,
		capacity: float64(o.PointsPerMinute),
		rate:     float64(o.PointsPerMinute) / 60,
		keys:     map[string]*bucket{},
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// Limit returns the budget in points per minute.
func (l *Limiter) Limit() int { return l.o.PointsPerMinute }

// RestoreRate returns the points restored per second.
func (l *Limiter) RestoreRate() float64 { return l.rate }

// Charge takes cost points from key's budget, or nothing when the budget
// cannot pay them (Allowed false, RetryAfter set). A cost above the whole
// budget is paid by a full bucket (the debt then exceeds the budget and is
// restored like any other). It never touches the database.
func (l *Limiter) Charge(key string, cost int) Decision {
	return l.charge(key, cost, false)
}

// Peek reports key's budget without charging it.
func (l *Limiter) Peek(key string) Decision {
	return l.charge(key, 0, true)
}

// Refund gives back points charged to key: the part of an operation's
// requested cost that its execution did not use. It never gives back more
// than key owes, and it never touches the database (the next sync pushes
// it). It returns key's budget after the refund.
func (l *Limiter) Refund(key string, points int) Decision {
	h := l.hash(key)
	now := l.o.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.keys[h]
	if b == nil {
		return l.decision(true, l.capacity, 0)
	}
	l.decay(b, now)
	give := math.Min(float64(max(points, 0)), b.debt)
	b.debt -= give
	b.pending -= give
	return l.decision(true, l.capacity-b.debt, 0)
}

func (l *Limiter) charge(key string, cost int, peek bool) Decision {
	if cost < 0 {
		cost = 0
	}
	h := l.hash(key)
	now := l.o.Now()
	l.mu.Lock()
	b := l.keys[h]
	if b == nil {
		if peek {
			l.mu.Unlock()
			return l.decision(true, l.capacity, 0)
		}
		b = &bucket{at: now}
		l.keys[h] = b
		l.kickSync()
	}
	b.seen = now
	l.decay(b, now)
	remaining := l.capacity - b.debt
	need := math.Min(float64(cost), l.capacity)
	// A hair of tolerance so that float rounding never refuses a charge
	// that exactly fits.
	if !peek && remaining+1e-9 < need {
		if b.pending > 0 {
			// A spent budget is a hot key: let the other instances know
			// now rather than at the next tick.
			l.kickSync()
		}
		l.mu.Unlock()
		return l.decision(false, remaining, time.Duration((need-remaining)/l.rate*float64(time.Second)))
	}
	if !peek && cost > 0 {
		b.debt += float64(cost)
		b.pending += float64(cost)
		if b.pending >= kickFraction*l.capacity {
			l.kickSync()
		}
	}
	remaining = l.capacity - b.debt
	l.mu.Unlock()
	return l.decision(true, remaining, 0)
}

func (l *Limiter) decision(allowed bool, remaining float64, retry time.Duration) Decision {
	r := int(math.Floor(remaining + 1e-9))
	if r < 0 {
		r = 0
	}
	return Decision{Allowed: allowed, Limit: l.o.PointsPerMinute, Remaining: r, RestoreRate: l.rate, RetryAfter: retry}
}

// decay restores the points due since b.at; l.mu is held.
func (l *Limiter) decay(b *bucket, now time.Time) {
	if dt := now.Sub(b.at); dt > 0 {
		b.debt = math.Max(0, b.debt-l.rate*dt.Seconds())
		b.at = now
	}
}

// hash is the stored form of a key: an HMAC, so that no raw IP or subject
// reaches the table or a log.
func (l *Limiter) hash(key string) string {
	m := hmac.New(sha256.New, l.o.HashKey)
	m.Write([]byte("budget:" + key))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// kickSync asks the sync loop for an early sync; it never blocks.
func (l *Limiter) kickSync() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Start runs the sync loop until Close. Without a DB it does nothing.
func (l *Limiter) Start() {
	l.startOnce.Do(func() {
		if l.o.DB == nil {
			close(l.done)
			return
		}
		go l.loop()
	})
}

// Close stops the sync loop and pushes the spend not yet pushed, so that the
// other instances see it; ctx bounds that last push.
func (l *Limiter) Close(ctx context.Context) {
	l.stopOnce.Do(func() { close(l.stop) })
	l.startOnce.Do(func() { close(l.done) }) // never started: no loop to wait for
	<-l.done
	if l.o.DB != nil {
		if err := l.Sync(ctx); err != nil {
			l.o.Log.WarnContext(ctx, "rate limit: final sync failed", "error", err.Error())
		}
	}
}

func (l *Limiter) loop() {
	defer close(l.done)
	t := time.NewTicker(l.o.SyncInterval)
	defer t.Stop()
	var last time.Time
	fulls := 0
	for {
		full := false
		select {
		case <-l.stop:
			return
		case <-t.C:
			full = true
		case <-l.kick:
			if wait := minSyncGap - time.Since(last); wait > 0 {
				select {
				case <-l.stop:
					return
				case <-time.After(wait):
				}
			}
		}
		last = time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := l.sync(ctx, full); err != nil {
			l.o.Log.Warn("rate limit: sync failed; budgets enforced per instance until it recovers", "error", err.Error())
		}
		if full {
			fulls++
		}
		if full && fulls%60 == 0 {
			if err := l.purge(ctx); err != nil {
				l.o.Log.Warn("rate limit: purge failed", "error", err.Error())
			}
		}
		cancel()
	}
}

// syncSQL decays each key's shared debt with the database clock, adds this
// instance's spend (negative after refunds; the debt stays at least 0) and
// returns the new shared debt.
const syncSQL = `
WITH t AS (SELECT k, s FROM unnest($1::text[], $2::float8[]) AS t(k, s))
INSERT INTO rate_limit_buckets AS b (key, debt, updated_at)
SELECT k, GREATEST(0, s), now() FROM t
ON CONFLICT (key) DO UPDATE SET
    debt = GREATEST(0, GREATEST(0, b.debt - $3 * GREATEST(0, EXTRACT(EPOCH FROM now() - b.updated_at)))
        + (SELECT t.s FROM t WHERE t.k = EXCLUDED.key)),
    updated_at = GREATEST(b.updated_at, now())
RETURNING key, debt`

// readSQL returns the shared debt of keys, decayed to the database clock.
const readSQL = `
SELECT key, GREATEST(0, debt - $2 * GREATEST(0, EXTRACT(EPOCH FROM now() - updated_at)))
FROM rate_limit_buckets WHERE key = ANY($1::text[])`

// Sync pushes the spend of every key charged since the last sync, and reads
// back the shared debt of those and of every other live key (seen in the
// last minute, or not yet restored). The sync loop calls it once per
// SyncInterval; tests may call it directly.
func (l *Limiter) Sync(ctx context.Context) error { return l.sync(ctx, true) }

// sync pushes the dirty keys (unpushed spend, or never synced) and, when
// full, reads the other live keys too. Kicked syncs are not full, so that a
// hot key does not make the loop rewrite every key.
func (l *Limiter) sync(ctx context.Context, full bool) error {
	if l.o.DB == nil {
		return nil
	}
	now := l.o.Now()
	var dirty, clean []string
	var spend []float64
	pushed := map[string]float64{}
	l.mu.Lock()
	for k, b := range l.keys {
		l.decay(b, now)
		switch {
		case b.pending != 0 || !b.synced: // a refund leaves a negative spend to push
			dirty = append(dirty, k)
			spend = append(spend, b.pending)
			pushed[k] = b.pending
		case b.debt == 0 && now.Sub(b.seen) > window:
			delete(l.keys, k) // idle and restored: forget it
		case full:
			clean = append(clean, k)
		}
	}
	l.mu.Unlock()
	// The pushed spend is settled as soon as its statement succeeds, so a
	// failure of the read below cannot push it twice.
	if len(dirty) > 0 {
		shared := make(map[string]float64, len(dirty))
		if err := l.query(ctx, shared, l.table(syncSQL), pq.Array(dirty), pq.Array(spend), l.rate); err != nil {
			return err
		}
		l.apply(dirty, shared, pushed, now)
	}
	if len(clean) > 0 {
		shared := make(map[string]float64, len(clean))
		if err := l.query(ctx, shared, l.table(readSQL), pq.Array(clean), l.rate); err != nil {
			return err
		}
		l.apply(clean, shared, nil, now) // no row: nobody owes anything (purged)
	}
	return nil
}

// apply takes the shared debts read at now as the keys' debts, settling the
// spend pushed.
func (l *Limiter) apply(keys []string, shared, pushed map[string]float64, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		b := l.keys[k]
		if b == nil {
			continue
		}
		// What was charged (or refunded) here while the statement ran
		// stays to push.
		b.pending -= pushed[k]
		// The shared debt as of the statement, plus what was charged here
		// while it ran; it decays from when the statement was sent.
		b.debt = math.Max(0, shared[k]+b.pending)
		b.at = now
		b.synced = true
	}
}

// query runs a statement returning (key, debt) rows into out.
func (l *Limiter) query(ctx context.Context, out map[string]float64, query string, args ...any) error {
	rows, err := l.o.DB.QueryxContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var d float64
		if err := rows.Scan(&k, &d); err != nil {
			return err
		}
		out[k] = d
	}
	return rows.Err()
}

// purge deletes shared rows whose debt is fully restored.
func (l *Limiter) purge(ctx context.Context) error {
	_, err := l.o.DB.ExecContext(ctx,
		l.table(`DELETE FROM rate_limit_buckets WHERE debt - $1 * EXTRACT(EPOCH FROM now() - updated_at) <= 0`), l.rate)
	return err
}

// HashKeyFrom derives the Options.HashKey from a server secret (JWT_SECRET),
// so stored keys cannot be reversed by guessing IPs without it.
func HashKeyFrom(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("partsmarket cost budget keys v1"))
	return m.Sum(nil)
}
