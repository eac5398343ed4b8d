package store

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/partsmarket/gateway/internal/tagcache"
)

// The public search cache. A search over a million listings has to rank
// every match (tens of thousands for a popular term), while the same few
// searches make most of the traffic. So the store remembers for a short
// time which listings a public listing query found, in order, with their
// cursor keys and the count, and answers the same query again by reading
// those listings by id: one primary-key read instead of the search. The
// response cache (internal/respcache) keeps whole responses of anonymous
// callers; this cache serves every public query whatever the document
// asks of each listing, the sorts and pages the response cache has not
// seen, and refreshes popular searches in the background instead of on
// the request path.
//
// What a cached answer shows is always current: the listings are read
// again, and one that is no longer public (paused, removed, its seller
// suspended) is left out. Only which listings matched, their order and the
// count can be old. Answers are tagcache entries, tagged with their
// listings and the lists they answer, and purged by the process's
// tagcache.Invalidator: a purged or expired answer is stale, used while
// the query runs again in the background for at most the Invalidator's
// ListEvery more (a response being made for the response cache waits for
// the new answer instead). So a write through a gateway shows within
// ListEvery (list tags) plus that refresh; a write made outside the
// gateway (or whose announcement was lost) within the TTL plus the
// refresh.
//
// Only the public's queries are cached: sellers, admins and analysts see
// rows the public does not.

// SearchCache holds the public listing queries' recent answers. One is
// shared by all the stores of a process (WithSearchCache).
type SearchCache struct {
	answers *tagcache.Cache[searchAnswer]
	inv     *tagcache.Invalidator
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
	// observer is told of each lookup (SetObserver); nil: none.
	observer SearchCacheObserver
}

// Results of a search cache lookup, as a SearchCacheObserver is told them.
const (
	// LookupHit: a fresh answer was found.
	LookupHit = "hit"
	// LookupStale: a stale answer was found (used while it is refreshed,
	// unless the caller needs a fresh one).
	LookupStale = "stale"
	// LookupMiss: no answer was found; the query runs.
	LookupMiss = "miss"
)

// SearchCacheObserver is told of every lookup of a cacheable query (one of
// the Lookup constants). Its method must be quick and safe for concurrent
// use.
type SearchCacheObserver interface {
	SearchCacheLookup(result string)
}

// SetObserver makes c tell o of its lookups (metrics); call it before c is
// used. A nil c ignores it.
func (c *SearchCache) SetObserver(o SearchCacheObserver) {
	if c != nil {
		c.observer = o
	}
}

// searchAnswer is the page a listing query found: the ids of its rows (one
// more than the page when there is a next page) and their cursor keys.
type searchAnswer struct {
	ids      []string
	sortKeys []string
	total    *int
}

// NewSearchCache returns a cache of the answers of public listing queries,
// purged by inv, bounded by maxBytes (keys and tags included), each fresh
// for ttl (SEARCH_CACHE_TTL), that runs at most concurrency of the queries
// it misses at once (SEARCH_CONCURRENCY; not positive: no bound); nil,
// which caches nothing, when ttl or maxBytes is not positive.
func NewSearchCache(inv *tagcache.Invalidator, ttl time.Duration, maxBytes int64, concurrency int) *SearchCache {
	if ttl <= 0 || maxBytes <= 0 {
		return nil
	}
	stale := tagcache.DefaultListEvery
	if inv != nil {
		stale = inv.ListEvery()
	}
	c := &SearchCache{inv: inv, answers: tagcache.NewCache[searchAnswer](inv, tagcache.Options{TTL: ttl, MaxBytes: maxBytes, Stale: stale, StaleEntities: true})}
	if concurrency > 0 {
		c.slots = make(chan struct{}, concurrency)
	}
	return c
}

// WithSearchCache makes the store answer the public's listing queries from
// c (nil: no cache) and purge, with its writes, the answers of c's
// Invalidator (WithInvalidator).
func WithSearchCache(c *SearchCache) Option {
	return func(s *Store) {
		s.searches = c
		if c != nil {
			s.invalidator = c.inv
		}
	}
}

// Bytes returns the bytes the cache counts (answers, keys and tags); nil: 0.
func (c *SearchCache) Bytes() int64 {
	if c == nil {
		return 0
	}
	return c.answers.Bytes()
}

// searchKey is a listing query's page as the cache knows it: the hash of
// its normalised query, and the tag of the lists it answers.
type searchKey struct {
	key     tagcache.Key
	members tagcache.Tag
}

// key returns the key of a listing query's page, and false when the query
// is not cached (a scope other than the public's, or no cache).
func (c *SearchCache) key(lq ListingQuery, p PageArgs) (searchKey, bool) {
	if c == nil || lq.Scope != (Scope{}) {
		return searchKey{}, false
	}
	lq.Search = normalSearch(lq.Search)
	lq.Filter.Status = slices.Compact(slices.Sorted(slices.Values(lq.Filter.Status)))
	b, err := json.Marshal(struct {
		Q ListingQuery
		P PageArgs
	}{lq, p})
	if err != nil {
		return searchKey{}, false
	}
	return searchKey{tagcache.NewKey(b), listMembership(lq)}, true
}

// normalSearch returns term as the cache knows it: searches that differ
// only in the case of ASCII letters or in ASCII spacing find the same
// listings in the same order (the text search and the part-number match
// ignore both), so they share an answer. Other letters are left alone:
// whether the database folds their case depends on its locale.
func normalSearch(term string) string {
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

// get returns the answer cached under key, if the query is cacheable, and
// whether it is fresh. A stale answer (expired, or one of its tags purged)
// is still used while refresh brings a new one, so that a popular search
// is not ranked on the request path.
func (c *SearchCache) get(key searchKey, cacheable bool) (a searchAnswer, fresh, ok bool) {
	if !cacheable {
		return searchAnswer{}, false, false
	}
	a, fresh, ok = c.answers.Get(key.key)
	if c.observer != nil {
		switch {
		case !ok:
			c.observer.SearchCacheLookup(LookupMiss)
		case fresh:
			c.observer.SearchCacheLookup(LookupHit)
		default:
			c.observer.SearchCacheLookup(LookupStale)
		}
	}
	return a, fresh, ok
}

// sharedTimeout bounds a query that several callers share (fill) or that
// no caller waits for (refresh): it does not end with any one caller.
const sharedTimeout = time.Minute

// refresh runs query, the listing query of key, in the background (one
// refresh per key at a time) and caches its answer.
func (c *SearchCache) refresh(key searchKey, query func(context.Context) ([]*listingRow, *int, error)) {
	flight := string(key.key[:])
	if _, running := c.refreshing.LoadOrStore(flight, true); running {
		return
	}
	go func() {
		defer c.refreshing.Delete(flight)
		_, _, _ = c.fill(context.Background(), key, true, query)
	}()
}

// fill runs query, the listing query of key, and caches its answer when
// cacheable. Concurrent misses of one key run the query once: the others
// wait for it and get copies of its rows (a popular search that expires
// under load is not ranked once per waiting client). The shared query
// runs without the cancellation of the caller that started it, so a
// caller that leaves does not fail the others; each caller stops waiting
// when its own ctx ends. At most cap(c.slots) queries run at once.
func (c *SearchCache) fill(ctx context.Context, key searchKey, cacheable bool, query func(context.Context) ([]*listingRow, *int, error)) ([]*listingRow, *int, error) {
	if !cacheable {
		return query(ctx)
	}
	done := c.flight.DoChan(string(key.key[:]), func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedTimeout)
		defer cancel()
		if c.slots != nil {
			select {
			case c.slots <- struct{}{}:
				defer func() { <-c.slots }()
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		// The purge count is read before the query runs, so that a write
		// committed meanwhile keeps the answer out of the cache.
		start := c.answers.Begin()
		rows, total, err := query(ctx)
		if err != nil {
			return nil, err
		}
		c.put(key, start, rows, total)
		return filled{rows, total}, nil
	})
	var res singleflight.Result
	select {
	case res = <-done:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	if res.Err != nil {
		return nil, nil, res.Err
	}
	f := res.Val.(filled)
	if !res.Shared {
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

// answerOverhead estimates the bytes of an answer's slices and count, past
// its strings.
const answerOverhead = 96

// put caches rows as the answer under key, tagged with its listings and
// the lists it answers, unless one of those was purged after start. (A
// seller's write purges the lists too; and rows are read again with the
// public's rules, so a suspended seller's listings never show.)
func (c *SearchCache) put(key searchKey, start uint64, rows []*listingRow, total *int) {
	a := searchAnswer{ids: make([]string, len(rows)), sortKeys: make([]string, len(rows)), total: total}
	tags := make([]tagcache.Tag, 0, len(rows)+1)
	tags = append(tags, key.members)
	size := int64(answerOverhead)
	for i, r := range rows {
		a.ids[i], a.sortKeys[i] = r.ID, r.SortKey
		size += int64(len(r.ID)+len(r.SortKey)) + 32 // two string headers
		tags = append(tags, tagcache.Listing(r.ID))
	}
	c.answers.Put(key.key, a, size, tags, start)
}
