package store

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// The public search cache. A search over a million listings has to rank
// every match (tens of thousands for a popular term), while the same few
// searches make most of the traffic. So the store remembers for a short
// time which listings a public listing query found, in order, with their
// cursor keys and the count, and answers the same query again by reading
// those listings by id: one primary-key read instead of the search.
//
// What a cached answer shows is always current: the listings are read
// again, and one that is no longer public (paused, removed, its seller
// suspended) is left out. Only which listings matched, their order and the
// count can be old:
//   - never older than a write made through a gateway: every write through
//     the store that can change a listing query's answer (listings,
//     sellers, their yards) starts a new generation, and answers of an
//     older generation are not used: in this process at once, in the
//     other instances a moment later (a NOTIFY on PublicChangedChannel);
//   - at most the cache's TTL (and the time a refresh takes) older than a
//     write made outside the gateway (or whose announcement was lost): an
//     answer older than the TTL is used once more while the query runs
//     again in the background.
//
// Only the public's queries are cached: sellers, admins and analysts see
// rows the public does not.

// SearchCache holds the public listing queries' recent answers. One is
// shared by all the stores of a process (WithSearchCache), so that a write
// through any of them (the import worker's, say) starts a new generation.
type SearchCache struct {
	ttl     time.Duration
	entries *lru.Cache[string, searchAnswer]
	// generation counts the writes that may change an answer.
	generation atomic.Uint64
	// flight runs one query per key at a time.
	flight singleflight.Group
	// refreshing holds the keys whose stale answers are being refreshed.
	refreshing sync.Map
	// slots bounds the queries running at once (nil: no bound). Ranking
	// a popular term's matches takes a core for tens of milliseconds; when
	// a cold cache sends dozens of them to a database with a few cores at
	// once, each gets a sliver of a core and runs into the statement
	// timeout. Waiting here for a slot, they run at full speed in turn.
	slots chan struct{}
}

// searchAnswer is the page a listing query found: the ids of its rows (one
// more than the page when there is a next page) and their cursor keys.
type searchAnswer struct {
	generation uint64
	// expires is when the answer turns stale: the TTL after it was found,
	// less up to a half at random, so that the answers a cold start
	// found together are not all refreshed together.
	expires  time.Time
	ids      []string
	sortKeys []string
	total    *int
}

// NewSearchCache returns a cache of the answers of up to size public
// listing queries, each kept for ttl (SEARCH_CACHE_TTL), that runs at most
// concurrency of the queries it misses at once (SEARCH_CONCURRENCY; not
// positive: no bound); nil, which caches nothing, when ttl or size is not
// positive.
func NewSearchCache(ttl time.Duration, size, concurrency int) *SearchCache {
	if ttl <= 0 || size <= 0 {
		return nil
	}
	entries, err := lru.New[string, searchAnswer](size)
	if err != nil {
		return nil
	}
	c := &SearchCache{ttl: ttl, entries: entries}
	if concurrency > 0 {
		c.slots = make(chan struct{}, concurrency)
	}
	return c
}

// WithSearchCache makes the store answer the public's listing queries from
// c (nil: no cache) and start a new generation of c with its writes.
func WithSearchCache(c *SearchCache) Option {
	return func(s *Store) { s.searches = c }
}

// key returns the key of a listing query's page, and false when the query
// is not cached (a scope other than the public's, or no cache).
func (c *SearchCache) key(lq ListingQuery, p PageArgs) (string, bool) {
	if c == nil || lq.Scope != (Scope{}) {
		return "", false
	}
	lq.Search = searchKey(lq.Search)
	b, err := json.Marshal(struct {
		Q ListingQuery
		P PageArgs
	}{lq, p})
	return string(b), err == nil
}

// searchKey returns term as the cache knows it: searches that differ only
// in the case of ASCII letters or in ASCII spacing find the same listings in
// the same order (the text search and the part-number match ignore both),
// so they share an answer. Other letters are left alone: whether the
// database folds their case depends on its locale.
func searchKey(term string) string {
	lower := strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, term)
	return strings.Join(strings.FieldsFunc(lower, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}), " ")
}

// get returns the answer cached under key, if the query is cacheable and
// its answer is of the current generation. An answer older than the TTL is
// stale: it is still used while refresh brings a new one, so that a popular
// search is not ranked on the request path every TTL.
func (c *SearchCache) get(key string, cacheable bool) (a searchAnswer, stale, ok bool) {
	if !cacheable {
		return searchAnswer{}, false, false
	}
	a, ok = c.entries.Get(key)
	if !ok || a.generation != c.generation.Load() {
		return searchAnswer{}, false, false
	}
	return a, time.Now().After(a.expires), true
}

// refreshTimeout bounds a background refresh of a stale answer.
const refreshTimeout = time.Minute

// refresh runs query, the listing query of key, in the background (one
// refresh per key at a time) and caches its answer.
func (c *SearchCache) refresh(key string, query func(context.Context) ([]*listingRow, *int, error)) {
	if _, running := c.refreshing.LoadOrStore(key, true); running {
		return
	}
	go func() {
		defer c.refreshing.Delete(key)
		ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
		defer cancel()
		_, _, _ = c.fill(ctx, key, true, func() ([]*listingRow, *int, error) { return query(ctx) })
	}()
}

// fill runs query, the listing query of key, and caches its answer when
// cacheable. Concurrent misses of one key run the query once: the others
// wait for it and get copies of its rows (a popular search that expires
// under load is not ranked once per waiting client). At most
// cap(c.slots) queries run at once; ctx ends the wait for a slot.
func (c *SearchCache) fill(ctx context.Context, key string, cacheable bool, query func() ([]*listingRow, *int, error)) ([]*listingRow, *int, error) {
	if !cacheable {
		return query()
	}
	v, err, shared := c.flight.Do(key, func() (any, error) {
		if c.slots != nil {
			select {
			case c.slots <- struct{}{}:
				defer func() { <-c.slots }()
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		// The generation is read before the query runs, so that a write
		// committed meanwhile leaves the answer stale, not cached as new.
		gen := c.generation.Load()
		rows, total, err := query()
		if err != nil {
			return nil, err
		}
		c.put(key, gen, rows, total)
		return filled{rows, total}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	f := v.(filled)
	if !shared {
		return f.rows, f.total, nil
	}
	rows := make([]*listingRow, len(f.rows))
	for i, r := range f.rows {
		copied := *r
		rows[i] = &copied
	}
	return rows, f.total, nil
}

// filled is a listing query's result, as fill's flight shares it.
type filled struct {
	rows  []*listingRow
	total *int
}

// put caches rows as the answer under key, found in generation gen.
func (c *SearchCache) put(key string, gen uint64, rows []*listingRow, total *int) {
	a := searchAnswer{generation: gen, expires: time.Now().Add(c.ttl - rand.N(c.ttl/2+1)), ids: make([]string, len(rows)), sortKeys: make([]string, len(rows)), total: total}
	for i, r := range rows {
		a.ids[i], a.sortKeys[i] = r.ID, r.SortKey
	}
	c.entries.Add(key, a)
}

// Invalidate starts a new generation: no answer cached before is used
// again. A nil cache does nothing.
func (c *SearchCache) Invalidate() {
	if c != nil {
		c.generation.Add(1)
	}
}
