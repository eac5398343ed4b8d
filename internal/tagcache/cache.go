package tagcache

import (
	"container/list"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Estimated bytes of the bookkeeping around an entry, counted with it so
// that a cache of many small entries stays within its bound too.
const (
	// entryOverhead: the entry, its LRU element, its map slot and key.
	entryOverhead = 256
	// tagOverhead: a tag in the entry's list (a string header; its bytes
	// are counted once, with its index slot) and its key in the tag's
	// index list (with room to grow).
	tagOverhead = 16 + 48
	// tagSetOverhead: a tag's slot in the index, past the tag's bytes,
	// counted while it has entries.
	tagSetOverhead = 128
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
	// Stale, when positive, keeps a stale entry for that long (Get says
	// it is stale) instead of dropping it: the caller uses it while it
	// makes a new one. An entry turns stale when it expires or when one
	// of its list tags is purged (a list may then miss a listing that
	// entered it: allowed for a while); the purge of an entity tag drops
	// it (it may show a listing that must not show any more), unless
	// StaleEntities is set.
	Stale time.Duration
	// StaleEntities makes the purge of an entity tag turn the entry stale
	// too: for entries whose entities are read again when used.
	StaleEntities bool
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
	// index lists the keys of the entries carrying each tag.
	index map[Tag][]Key
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
	c := &Cache[V]{inv: inv, o: o, entries: map[Key]*list.Element{}, lru: list.New(), index: map[Tag][]Key{}}
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
// unless col says not to or one of them was purged since col began; it
// reports whether it kept v.
func (c *Cache[V]) PutCollected(k Key, v V, size int64, col *Collector) bool {
	tags, ok := col.result()
	return ok && c.Put(k, v, size, tags, col.start)
}

// Put keeps v (of size bytes) under k with tags, unless one of them was
// purged after start (Begin's token when its reads began): it may show
// what that write changed. It reports whether it kept v.
func (c *Cache[V]) Put(k Key, v V, size int64, tags []Tag, start uint64) bool {
	tags = slices.Compact(slices.Sorted(slices.Values(tags)))
	size += entryOverhead + int64(len(tags))*tagOverhead
	if size > c.o.MaxBytes/10 {
		return false
	}
	e := &entry[V]{key: k, value: v, tags: tags, size: size, expires: time.Now().Add(c.o.TTL - rand.N(c.o.TTL/2+1))}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inv.purgedSince(tags, start) || size+c.newTagsLocked(tags) > c.o.MaxBytes/10 {
		return false
	}
	if old, ok := c.entries[k]; ok {
		c.removeLocked(old)
	}
	c.entries[k] = c.lru.PushFront(e)
	c.bytes += size
	for _, t := range tags {
		keys, ok := c.index[t]
		if !ok {
			c.bytes += tagSetOverhead + int64(len(t))
		}
		c.index[t] = append(keys, k)
	}
	for c.bytes > c.o.MaxBytes {
		c.removeLocked(c.lru.Back())
	}
	return true
}

// newTagsLocked returns the bytes the index would grow by for the tags it
// does not hold yet; c.mu is held.
func (c *Cache[V]) newTagsLocked(tags []Tag) int64 {
	var n int64
	for _, t := range tags {
		if _, ok := c.index[t]; !ok {
			n += tagSetOverhead + int64(len(t))
		}
	}
	return n
}

// removeLocked drops the entry of el; c.mu is held.
func (c *Cache[V]) removeLocked(el *list.Element) {
	e := c.lru.Remove(el).(*entry[V])
	delete(c.entries, e.key)
	c.bytes -= e.size
	for _, t := range e.tags {
		keys, ok := c.index[t]
		if !ok {
			continue // being purged: see purge
		}
		if i := slices.Index(keys, e.key); i >= 0 {
			keys[i] = keys[len(keys)-1]
			keys = keys[:len(keys)-1]
		}
		if len(keys) == 0 {
			delete(c.index, t)
			c.bytes -= tagSetOverhead + int64(len(t))
		} else {
			c.index[t] = keys
		}
	}
}

// purge drops the entries tagged with any of tags, or marks them stale
// (see Options.Stale and Removal).
func (c *Cache[V]) purge(tags []Tag, removal bool) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range tags {
		keys, ok := c.index[t]
		if !ok {
			continue
		}
		// Entries showing a list whose membership may change are made
		// again within the lists' staleness; so are those showing a
		// changed entity in a list of all listings, unless the write
		// took it out of view.
		stale := c.o.Stale > 0 && (t.list() || c.o.StaleEntities)
		listed := c.o.Stale > 0 && !stale && !removal
		if !stale && !listed {
			// Out of the index first, so that dropping its entries does
			// not search its list once per entry.
			delete(c.index, t)
			c.bytes -= tagSetOverhead + int64(len(t))
		} else if listed {
			keys = slices.Clone(keys) // removeLocked edits the index's list
		}
		for _, k := range keys {
			el, ok := c.entries[k]
			if !ok {
				continue // dropped by an earlier tag of this purge
			}
			e := el.Value.(*entry[V])
			if stale || listed && slices.Contains(e.tags, AllLists) {
				if e.expires.After(now) {
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
