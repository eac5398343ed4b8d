// Package respcache answers the public's repeated queries from memory. The
// anonymous public sends most of the traffic (search pages, listing pages),
// and the same few queries again and again: the popular searches, the
// popular listings. Their answers are the same for every anonymous caller,
// so the gateway keeps each whole response for a short time and sends it
// again, instead of running the query.
//
// A response is a tagcache entry: while it is made, the store tags it with
// the listings and sellers it reads and the lists it shows, and a write
// through a gateway purges the responses it can change and no other (see
// internal/tagcache for what shows when). A response whose list was purged
// or that expired is used for up to the invalidator's ListEvery more while
// one request makes it again. A write made outside the gateway shows after
// the TTL and that time at most.
//
// Only anonymous queries without errors are cached: callers with a token
// see rows and fields the public does not. Everything around the execution
// still runs for a cached response: the parsing, the limits, the cost
// charged to the caller's budget (extensions.cost) and the search log.
package respcache

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/tagcache"
)

// Observer is told of every lookup: whether the cache answered. Its method
// must be quick and safe for concurrent use.
type Observer interface {
	ResponseCacheLookup(hit bool)
}

// Cache holds recent responses to the public's queries. It is a gqlgen
// extension (register it with handler.Server.Use after the limits, so that
// a cached response is still measured and charged). A nil *Cache caches
// nothing.
type Cache struct {
	entries  *tagcache.Cache[json.RawMessage]
	inv      *tagcache.Invalidator
	observer Observer
	// refreshing holds the keys of stale responses being made again (the
	// zero time) or made again without being kept (when: see claim).
	refreshing sync.Map
}

// retryStale is how long a stale response is still sent after it was made
// again without being kept (it showed a stale search answer, whose
// refresh is under way), before a request makes it again.
const retryStale = time.Second

// Options configure New.
type Options struct {
	// TTL is how long a response is used at most (RESPONSE_CACHE_TTL);
	// not positive: nothing is cached.
	TTL time.Duration
	// MaxBytes bounds the bytes of the responses held, with their keys and
	// tags; the least recently used go first.
	MaxBytes int64
	// Invalidator purges the responses a write changes.
	Invalidator *tagcache.Invalidator
	// Observer, when set, is told of every lookup (metrics).
	Observer Observer
}

// New returns a response cache, or nil (which caches nothing) when o.TTL or
// o.MaxBytes is not positive.
func New(o Options) *Cache {
	if o.TTL <= 0 || o.MaxBytes <= 0 {
		return nil
	}
	stale := tagcache.DefaultListEvery
	if o.Invalidator != nil {
		stale = o.Invalidator.ListEvery()
	}
	return &Cache{entries: tagcache.NewCache[json.RawMessage](o.Invalidator, tagcache.Options{TTL: o.TTL, MaxBytes: o.MaxBytes, Stale: stale}),
		inv: o.Invalidator, observer: o.Observer}
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
// and keeps its response, with the tags its reads gathered, when it has no
// errors. A stale response (expired, or a list it shows purged) is made
// again by one request while the others still get it.
func (c *Cache) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	k, ok := c.key(ctx)
	if !ok {
		return next(ctx)
	}
	data, fresh, ok := c.entries.Get(k)
	if ok && (fresh || !c.claim(k)) {
		c.observe(true)
		return &graphql.Response{Data: data}
	}
	c.observe(false)
	ctx, col := c.inv.Collect(ctx)
	resp := next(ctx)
	kept := resp != nil && len(resp.Errors) == 0 && len(resp.Data) > 0 &&
		c.entries.PutCollected(k, bytes.Clone(resp.Data), int64(len(resp.Data)), col)
	if kept || !ok {
		c.refreshing.Delete(k)
	} else {
		c.refreshing.Store(k, time.Now())
	}
	return resp
}

// claim reports whether this request is to make the stale response under
// k again: no other request is making it, nor made it without keeping it
// within retryStale.
func (c *Cache) claim(k tagcache.Key) bool {
	v, loaded := c.refreshing.LoadOrStore(k, time.Time{})
	if !loaded {
		return true
	}
	if at := v.(time.Time); at.IsZero() || time.Since(at) < retryStale {
		return false
	}
	return c.refreshing.CompareAndSwap(k, v, time.Time{})
}

// key returns the key of the operation ctx carries, and false when its
// response is not to be cached: a cache that is off, a caller with a token,
// an operation that is not a query, or one refused before it ran (by a
// limit or the budget: gqlgen then runs the interceptors with its errors).
// The key is a hash of the document, the operation name and the variables.
func (c *Cache) key(ctx context.Context) (tagcache.Key, bool) {
	if c == nil || !graphql.HasOperationContext(ctx) || !access.FromContext(ctx).Anonymous() || len(graphql.GetErrors(ctx)) > 0 {
		return tagcache.Key{}, false
	}
	op := graphql.GetOperationContext(ctx)
	if op.Operation == nil || op.Operation.Operation != ast.Query {
		return tagcache.Key{}, false
	}
	vars, err := json.Marshal(op.Variables) // map keys sorted: one encoding per value
	if err != nil {
		return tagcache.Key{}, false
	}
	return tagcache.NewKey([]byte(op.RawQuery), []byte(op.OperationName), vars), true
}

// observe tells the observer, if any, of a lookup.
func (c *Cache) observe(hit bool) {
	if c.observer != nil {
		c.observer.ResponseCacheLookup(hit)
	}
}

// Bytes returns the bytes the cache counts (responses, keys and tags); nil:
// 0.
func (c *Cache) Bytes() int64 {
	if c == nil {
		return 0
	}
	return c.entries.Bytes()
}
