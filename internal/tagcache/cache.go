package tagcache

import (
	"container/list"
	"math/rand/v2"
	"sync"
	"time"
)

// Estimated bytes of the bookkeeping around an entry, counted with it so
// that a cache of many small entries stays within its bound too.
const (
	// entryOverhead: the entry, its LRU element, its map slot and key.
	entryOverhead = 192
	// tagOverhead: a tag in the entry's list and in the index's set, past
	// the tag's own bytes.
	tagOverhead = 96
	// tagSetOverhead: a tag's set in the index, counted while it has
	// entries.
	tagSetOverhead = 160
)

// Options configure NewCache.
type Options struct {
	// TTL is how long an entry is fresh, less up to half of it at
	// random, so that the entries a cold start made together do not all
	// expire together.
	TTL time.Duration
	// MaxBytes bounds the cache's bytes: values, keys, tags and index.
	// The least recently used entries go first; an entry over a tenth of
	// it is not kept.
	MaxBytes int64
	// Stale, when positive, keeps an entry that expired or whose tag was
	// purged for that long as stale (Get says so) instead of dropping it:
	// the caller uses it while it makes a new one.
	Stale time.Duration
}

// Cache holds entries of type V under Keys, tagged, purged by its
// Invalidator. Its methods are safe for concurrent use.
type Cache[V any] struct {
	inv *Invalidator
	o   Options

	mu      sync.Mutex
	bytes   int64
	entries map[Key]*list.Element
	lru     *list.List // of *entry[V], most recently used first
	index   map[Tag]map[Key]struct{}
}

// entry is one cached value.
type entry[V any] struct {
	key   Key
	value V
	tags  []Tag
	size  int64
	// expires is when the value turns stale; it is dropped Options.Stale
	// later.
	expires time.Time
}

// NewCache returns a cache purged by inv (which may be nil: no purges).
func NewCache[V any](inv *Invalidator, o Options) *Cache[V] {
	c := &Cache[V]{inv: inv, o: o, entries: map[Key]*list.Element{}, lru: list.New(), index: map[Tag]map[Key]struct{}{}}
	inv.register(c)
	return c
}

// Begin returns the token of reads for a new entry that start now, for Put
// when the entry is not made under a Collector.
func (c *Cache[V]) Begin() uint64 { return c.inv.begin() }

// Get returns the value under k, and whether it is still fresh (false: it
// is stale; see Options.Stale).
func (c *Cache[V]) Get(k Key) (v V, fresh, ok bool) {
	c.inv.flushDue()
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		return v, false, false
	}
	e := el.Value.(*entry[V])
	if now.After(e.expires.Add(c.o.Stale)) {
		c.removeLocked(el)
		return v, false, false
	}
	c.lru.MoveToFront(el)
	return e.value, !now.After(e.expires), true
}

// PutCollected keeps v (of size bytes) under k with the tags col gathered,
// unless col says not to or one of them was purged since col began.
func (c *Cache[V]) PutCollected(k Key, v V, size int64, col *Collector) {
	if tags, ok := col.result(); ok {
		c.Put(k, v, size, tags, col.start)
	}
}

// Put keeps v (of size bytes) under k with tags, unless one of them was
// purged after start (Begin's token when its reads began): it may show
// what that write changed.
func (c *Cache[V]) Put(k Key, v V, size int64, tags []Tag, start uint64) {
	size += entryOverhead
	for _, t := range tags {
		size += 2*int64(len(t)) + tagOverhead
	}
	if size > c.o.MaxBytes/10 {
		return
	}
	e := &entry[V]{key: k, value: v, tags: tags, size: size, expires: time.Now().Add(c.o.TTL - rand.N(c.o.TTL/2+1))}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inv.purgedSince(tags, start) {
		return
	}
	if old, ok := c.entries[k]; ok {
		c.removeLocked(old)
	}
	c.entries[k] = c.lru.PushFront(e)
	c.bytes += size
	for _, t := range tags {
		set := c.index[t]
		if set == nil {
			set = map[Key]struct{}{}
			c.index[t] = set
			c.bytes += tagSetOverhead
		}
		set[k] = struct{}{}
	}
	for c.bytes > c.o.MaxBytes {
		c.removeLocked(c.lru.Back())
	}
}

// removeLocked drops the entry of el; c.mu is held.
func (c *Cache[V]) removeLocked(el *list.Element) {
	e := c.lru.Remove(el).(*entry[V])
	delete(c.entries, e.key)
	c.bytes -= e.size
	for _, t := range e.tags {
		set := c.index[t]
		delete(set, e.key)
		if len(set) == 0 {
			delete(c.index, t)
			c.bytes -= tagSetOverhead
		}
	}
}

// purge drops the entries tagged with any of tags, or marks them stale
// when the cache keeps stale entries.
func (c *Cache[V]) purge(tags []Tag) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range tags {
		for k := range c.index[t] {
			el := c.entries[k]
			if c.o.Stale > 0 {
				if e := el.Value.(*entry[V]); e.expires.After(now) {
					e.expires = now
				}
				continue
			}
			c.removeLocked(el)
		}
	}
}

// purgeAll drops every entry.
func (c *Cache[V]) purgeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	clear(c.index)
	c.lru.Init()
	c.bytes = 0
}

// Bytes returns the bytes the cache counts: never more than its
// Options.MaxBytes.
func (c *Cache[V]) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Len returns the number of entries held.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
