package tagcache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultListEvery is how often a list tag is purged at most, unless
// NewInvalidator is told otherwise. A cached list (a search, a page of
// listings, a seller's listings) therefore shows a new or changed listing
// at most this long after its write, plus the search cache's stale answer
// used once while it is refreshed (SearchCache, at most as long again):
// a minute at most in all.
const DefaultListEvery = 30 * time.Second

// Invalidator purges the tagged entries of the process's caches. One
// serves every cache of a process, so that one write purges them all.
// Its methods are safe for concurrent use; a nil *Invalidator does nothing.
type Invalidator struct {
	// instance tells this process's announcements from the others'.
	instance  string
	listEvery time.Duration
	// seq counts purges: an entry made from reads that began before a
	// purge of one of its tags is not kept (Put).
	seq atomic.Uint64
	// due is when the next deferred list tag is to be purged (unix
	// nanoseconds; 0: none is pending).
	due atomic.Int64

	mu     sync.Mutex
	caches []purger
	// recent holds the last purge of each recently purged tag; ring
	// remembers their order, so the oldest are forgotten first, and floor
	// is the last purge forgotten.
	recent map[Tag]uint64
	ring   []purged
	next   int
	floor  uint64
	// all is the last purge of everything.
	all uint64
	// listPurged holds when each list tag was last purged, for the list
	// tags purged within the last listEvery; pending holds those a write
	// has named since.
	listPurged map[Tag]time.Time
	pending    map[Tag]struct{}
}

// purged is one purge of a tag.
type purged struct {
	tag Tag
	seq uint64
}

// purger is a cache an Invalidator purges.
type purger interface {
	purge(tags []Tag, removal bool)
	purgeAll()
}

// Bounds of the Invalidator's own memory.
const (
	// recentPurges is how many purges Put can check an entry against; an
	// entry whose reads began before the oldest of them is not kept.
	recentPurges = 4096
	// maxListTags bounds the list tags whose purges are rate-limited;
	// past it a list tag is purged at once.
	maxListTags = 4096
)

// NewInvalidator returns an Invalidator that purges a list tag at most once
// per listEvery (not positive: DefaultListEvery).
func NewInvalidator(listEvery time.Duration) *Invalidator {
	if listEvery <= 0 {
		listEvery = DefaultListEvery
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	return &Invalidator{instance: hex.EncodeToString(id[:]), listEvery: listEvery,
		recent: map[Tag]uint64{}, ring: make([]purged, recentPurges),
		listPurged: map[Tag]time.Time{}, pending: map[Tag]struct{}{}}
}

// ListEvery returns how often a list tag is purged at most.
func (v *Invalidator) ListEvery() time.Duration { return v.listEvery }

// register adds c to the caches v purges.
func (v *Invalidator) register(c purger) {
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.caches = append(v.caches, c)
}

// begin returns the purge count before reads for a new entry start.
func (v *Invalidator) begin() uint64 {
	if v == nil {
		return 0
	}
	return v.seq.Load()
}

// Invalidate purges the entries tagged with any of tags: entity tags at
// once (see Removal), a list tag at once unless it was purged within
// ListEvery, else when ListEvery has passed since (the first lookup after
// that time purges it). It returns once the entries to purge at once are
// gone or stale.
func (v *Invalidator) Invalidate(tags []Tag) {
	if v == nil || len(tags) == 0 {
		return
	}
	now := time.Now()
	removal := slices.Contains(tags, Removal)
	v.mu.Lock()
	var purge []Tag
	for _, t := range tags {
		if t == Removal {
			continue
		}
		if t.list() {
			if last, ok := v.listPurged[t]; ok && now.Sub(last) < v.listEvery {
				v.pending[t] = struct{}{}
				v.setDueLocked(last.Add(v.listEvery))
				continue
			}
			if len(v.listPurged) >= maxListTags {
				v.pruneLocked(now)
			}
			if len(v.listPurged) < maxListTags {
				v.listPurged[t] = now
			}
		}
		purge = append(purge, t)
		v.recordLocked(t)
	}
	caches := v.caches
	v.mu.Unlock()
	for _, c := range caches {
		c.purge(purge, removal)
	}
}

// InvalidateAll purges every entry: after announcements may have been lost.
func (v *Invalidator) InvalidateAll() {
	if v == nil {
		return
	}
	v.mu.Lock()
	v.all = v.seq.Add(1)
	clear(v.pending)
	v.due.Store(0)
	caches := v.caches
	v.mu.Unlock()
	for _, c := range caches {
		c.purgeAll()
	}
}

// flushDue purges the deferred list tags whose time has come. It is cheap
// when none has: caches call it before every lookup.
func (v *Invalidator) flushDue() {
	if v == nil {
		return
	}
	due := v.due.Load()
	if due == 0 || time.Now().UnixNano() < due {
		return
	}
	now := time.Now()
	v.mu.Lock()
	v.due.Store(0)
	var purge []Tag
	for t := range v.pending {
		last := v.listPurged[t]
		if now.Sub(last) < v.listEvery {
			v.setDueLocked(last.Add(v.listEvery))
			continue
		}
		delete(v.pending, t)
		v.listPurged[t] = now
		purge = append(purge, t)
		v.recordLocked(t)
	}
	caches := v.caches
	v.mu.Unlock()
	if len(purge) > 0 {
		for _, c := range caches {
			c.purge(purge, false)
		}
	}
}

// setDueLocked moves the next deferred purge to at, if that is sooner;
// v.mu is held.
func (v *Invalidator) setDueLocked(at time.Time) {
	if due := v.due.Load(); due == 0 || at.UnixNano() < due {
		v.due.Store(at.UnixNano())
	}
}

// pruneLocked forgets the list tags purged more than listEvery ago that no
// write named since; v.mu is held.
func (v *Invalidator) pruneLocked(now time.Time) {
	for t, last := range v.listPurged {
		if _, pending := v.pending[t]; !pending && now.Sub(last) >= v.listEvery {
			delete(v.listPurged, t)
		}
	}
}

// recordLocked records a purge of t; v.mu is held.
func (v *Invalidator) recordLocked(t Tag) {
	seq := v.seq.Add(1)
	old := v.ring[v.next]
	if old.seq != 0 {
		if v.recent[old.tag] == old.seq {
			delete(v.recent, old.tag)
		}
		v.floor = old.seq
	}
	v.ring[v.next] = purged{t, seq}
	v.next = (v.next + 1) % len(v.ring)
	v.recent[t] = seq
}

// purgedSince reports whether one of tags may have been purged after
// purge count start (the reads of an entry began then).
func (v *Invalidator) purgedSince(tags []Tag, start uint64) bool {
	if v == nil {
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.all > start || v.floor > start {
		return true
	}
	for _, t := range tags {
		if v.recent[t] > start {
			return true
		}
	}
	return false
}

// Message returns the NOTIFY payload announcing a write of tags to the
// other instances: "1 <instance> <tag>,<tag>…". A payload over the
// NOTIFY limit announces a change of everything instead.
func (v *Invalidator) Message(tags []Tag) string {
	parts := make([]string, 0, len(tags))
	for _, t := range tags {
		parts = append(parts, t.text())
	}
	instance := ""
	if v != nil {
		instance = v.instance
	}
	msg := "1 " + instance + " " + strings.Join(parts, ",")
	if len(msg) > maxMessage {
		return "1 " + instance + " *"
	}
	return msg
}

// maxMessage keeps a payload under PostgreSQL's NOTIFY limit (8000 bytes).
const maxMessage = 7000

// Receive purges what another instance's announcement (Message) names. It
// ignores this instance's own; a payload it cannot read purges everything.
func (v *Invalidator) Receive(payload string) {
	if v == nil {
		return
	}
	version, rest, ok1 := strings.Cut(payload, " ")
	instance, list, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || version != "1" || list == "*" {
		v.InvalidateAll()
		return
	}
	if instance == v.instance {
		return
	}
	var tags []Tag
	for s := range strings.SplitSeq(list, ",") {
		t, ok := parseTag(s)
		if !ok {
			v.InvalidateAll()
			return
		}
		tags = append(tags, t)
	}
	v.Invalidate(tags)
}

// Collector gathers the tags of one entry while it is made: the store adds
// the listings and sellers it reads for it. An entry with more than
// maxTags tags is not kept. Its methods are safe for
// concurrent use (resolvers run concurrently); a nil *Collector does
// nothing.
type Collector struct {
	start uint64
	mu    sync.Mutex
	tags  map[Tag]struct{}
	skip  bool
}

// maxTags bounds the tags of one entry; an entry with more is not kept.
const maxTags = 4096

type collectorKey struct{}

// Collect returns ctx carrying a new Collector, and the Collector. The
// reads it tags begin after this call.
func (v *Invalidator) Collect(ctx context.Context) (context.Context, *Collector) {
	c := &Collector{start: v.begin(), tags: map[Tag]struct{}{}}
	return context.WithValue(ctx, collectorKey{}, c), c
}

// From returns the Collector ctx carries, or nil.
func From(ctx context.Context) *Collector {
	c, _ := ctx.Value(collectorKey{}).(*Collector)
	return c
}

// Add tags the entry with tags.
func (c *Collector) Add(tags ...Tag) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range tags {
		if len(c.tags) >= maxTags {
			c.skip = true
			return
		}
		c.tags[t] = struct{}{}
	}
}

// result returns the entry's tags, and false when it must not be kept.
func (c *Collector) result() ([]Tag, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.skip {
		return nil, false
	}
	tags := make([]Tag, 0, len(c.tags))
	for t := range c.tags {
		tags = append(tags, t)
	}
	return tags, true
}
