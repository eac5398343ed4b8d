// Package respcache answers the public's repeated queries from memory. The
// anonymous public sends most of the traffic (search pages, listing pages),
// and the same few queries again and again: the popular searches, the
// popular listings. Their answers are the same for every anonymous caller,
// so the gateway keeps each whole response for a short time and sends it
// again, instead of running the query.
//
// What a cached response shows is never older than a write made through a
// gateway: every write that may change what the public sees (listings,
// sellers, their contacts, yards and media) starts a new generation, and
// responses of an older generation are not used: in this process at once
// (store.OnPublicWrite), in the other instances a moment later (a NOTIFY on
// store.PublicChangedChannel). A write made outside the gateway shows after
// the TTL at most.
//
// Only anonymous queries without errors are cached: callers with a token
// see rows and fields the public does not. Everything around the execution
// still runs for a cached response: the parsing, the limits and the cost
// charged to the caller's budget (extensions.cost); and the searches it
// recorded for the search log (see Searches) are recorded again.
package respcache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/store"
)

// SearchRecorder queues a public search for the search log.
type SearchRecorder interface {
	Record(ctx context.Context, rec store.SearchRecord)
}

// Observer is told of every lookup: whether the cache answered. Its method
// must be quick and safe for concurrent use.
type Observer interface {
	ResponseCacheLookup(hit bool)
}

// maxEntries bounds the number of responses held, whatever their size.
const maxEntries = 100_000

// Cache holds recent responses to the public's queries. It is a gqlgen
// extension (register it with handler.Server.Use after the limits, so that
// a cached response is still measured and charged). A nil *Cache caches
// nothing.
type Cache struct {
	ttl      time.Duration
	maxBytes int64
	searches SearchRecorder
	observer Observer

	entries *lru.Cache[key, *entry]
	// putting serialises put's size accounting.
	putting sync.Mutex
	// bytes is the size of the responses held.
	bytes atomic.Int64
	// generation counts the writes that may change a response.
	generation atomic.Uint64
}

// key identifies a query: a hash of its document, operation name and
// variables.
type key [sha256.Size]byte

// entry is a cached response: its data and the searches its execution
// recorded.
type entry struct {
	generation uint64
	// expires is the TTL after the response was made, less up to half
	// of it at random, so that the responses a cold start made together
	// do not all expire together.
	expires  time.Time
	data     json.RawMessage
	searches []store.SearchRecord
}

// Options configure New.
type Options struct {
	// TTL is how long a response is used at most (RESPONSE_CACHE_TTL);
	// not positive: nothing is cached.
	TTL time.Duration
	// MaxBytes bounds the size of the responses held; the least recently
	// used go first.
	MaxBytes int64
	// Searches receives the searches of cached responses again, each time
	// one is used (nil: they are not recorded again).
	Searches SearchRecorder
	// Observer, when set, is told of every lookup (metrics).
	Observer Observer
}

// New returns a response cache, or nil (which caches nothing) when o.TTL or
// o.MaxBytes is not positive.
func New(o Options) *Cache {
	if o.TTL <= 0 || o.MaxBytes <= 0 {
		return nil
	}
	c := &Cache{ttl: o.TTL, maxBytes: o.MaxBytes, searches: o.Searches, observer: o.Observer}
	c.entries, _ = lru.NewWithEvict(maxEntries, func(_ key, e *entry) { c.bytes.Add(-int64(len(e.data))) })
	return c
}

// Invalidate starts a new generation: no response cached before is used
// again. A nil cache does nothing.
func (c *Cache) Invalidate() {
	if c != nil {
		c.generation.Add(1)
	}
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = (*Cache)(nil)

// ExtensionName names the extension for gqlgen.
func (*Cache) ExtensionName() string { return "ResponseCache" }

// Validate accepts any schema.
func (*Cache) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse answers a cacheable query from the cache, or runs it
// and keeps its response when it has no errors.
func (c *Cache) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	k, ok := c.key(ctx)
	if !ok {
		return next(ctx)
	}
	if e, ok := c.get(k); ok {
		c.observe(true)
		now := time.Now()
		for _, rec := range e.searches {
			rec.At = now
			if c.searches != nil {
				c.searches.Record(ctx, rec)
			}
		}
		return &graphql.Response{Data: e.data}
	}
	c.observe(false)
	// The generation is read before the query runs, so that a write
	// committed meanwhile leaves the response stale, not cached as new.
	gen := c.generation.Load()
	rec := &recorded{}
	resp := next(context.WithValue(ctx, recordedKey{}, rec))
	if resp != nil && len(resp.Errors) == 0 && len(resp.Data) > 0 {
		c.put(k, &entry{generation: gen, expires: time.Now().Add(c.ttl - rand.N(c.ttl/2+1)), data: bytes.Clone(resp.Data), searches: rec.list()})
	}
	return resp
}

// key returns the key of the operation ctx carries, and false when its
// response is not to be cached: a cache that is off, a caller with a token,
// an operation that is not a query, or one refused before it ran (by a
// limit or the budget: gqlgen then runs the interceptors with its errors).
func (c *Cache) key(ctx context.Context) (key, bool) {
	if c == nil || !graphql.HasOperationContext(ctx) || !access.FromContext(ctx).Anonymous() || len(graphql.GetErrors(ctx)) > 0 {
		return key{}, false
	}
	op := graphql.GetOperationContext(ctx)
	if op.Operation == nil || op.Operation.Operation != ast.Query {
		return key{}, false
	}
	vars, err := json.Marshal(op.Variables) // map keys sorted: one encoding per value
	if err != nil {
		return key{}, false
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(op.RawQuery), []byte(op.OperationName), vars} {
		// Each part is preceded by its length, so no two queries hash the
		// same bytes.
		_, _ = h.Write([]byte{byte(len(part) >> 24), byte(len(part) >> 16), byte(len(part) >> 8), byte(len(part))})
		_, _ = h.Write(part)
	}
	var k key
	h.Sum(k[:0])
	return k, true
}

// get returns the response cached under k when it is of the current
// generation and younger than the TTL.
func (c *Cache) get(k key) (*entry, bool) {
	e, ok := c.entries.Get(k)
	if !ok || e.generation != c.generation.Load() || time.Now().After(e.expires) {
		return nil, false
	}
	return e, true
}

// put caches e under k, then drops the least recently used responses until
// the cache is within its size. A response larger than a tenth of the size
// is not kept.
func (c *Cache) put(k key, e *entry) {
	size := int64(len(e.data))
	if size > c.maxBytes/10 {
		return
	}
	c.putting.Lock()
	defer c.putting.Unlock()
	if old, ok := c.entries.Peek(k); ok {
		c.bytes.Add(-int64(len(old.data))) // Add replaces without evicting
	}
	c.bytes.Add(size)
	c.entries.Add(k, e)
	for c.bytes.Load() > c.maxBytes {
		if _, _, ok := c.entries.RemoveOldest(); !ok {
			break
		}
	}
}

// observe tells the observer, if any, of a lookup.
func (c *Cache) observe(hit bool) {
	if c.observer != nil {
		c.observer.ResponseCacheLookup(hit)
	}
}

// recorded collects the searches one query's execution records.
type recorded struct {
	mu       sync.Mutex
	searches []store.SearchRecord
}

func (r *recorded) add(rec store.SearchRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.searches = append(r.searches, rec)
}

func (r *recorded) list() []store.SearchRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.searches
}

type recordedKey struct{}

// Searches returns the recorder resolvers record public searches with: it
// passes each search to next and, while a response that may be cached is
// being made, keeps it with that response, to be recorded again whenever
// the response is used.
func Searches(next SearchRecorder) SearchRecorder {
	return recordingSearches{next}
}

type recordingSearches struct{ next SearchRecorder }

func (s recordingSearches) Record(ctx context.Context, rec store.SearchRecord) {
	if r, ok := ctx.Value(recordedKey{}).(*recorded); ok {
		r.add(rec)
	}
	s.next.Record(ctx, rec)
}
