package tagcache

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

const (
	idX = "11111111-1111-4111-8111-111111111111"
	idY = "22222222-2222-4222-8222-222222222222"
	idS = "33333333-3333-4333-8333-333333333333"
)

func key(s string) Key { return NewKey([]byte(s)) }

func newTestCache(inv *Invalidator, o Options) *Cache[string] {
	if o.TTL == 0 {
		o.TTL = time.Hour
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 1 << 20
	}
	return NewCache[string](inv, o)
}

// has reports whether c holds a fresh entry under k.
func has(c *Cache[string], k string) bool {
	_, fresh, ok := c.Get(key(k))
	return ok && fresh
}

// TestPurgeByTag: a write to listing X purges the entries showing X (its
// detail, a list containing it) in every cache of the invalidator, and
// leaves the detail of an unrelated listing.
func TestPurgeByTag(t *testing.T) {
	inv := NewInvalidator(time.Hour)
	a, b := newTestCache(inv, Options{}), newTestCache(inv, Options{})
	start := a.Begin()
	a.Put(key("detail X"), "x", 10, []Tag{Listing(idX), Seller(idS)}, start)
	a.Put(key("detail Y"), "y", 10, []Tag{Listing(idY), Seller(idS)}, start)
	a.Put(key("list"), "xy", 10, []Tag{Listing(idX), Listing(idY), AllLists}, start)
	b.Put(key("search"), "x", 10, []Tag{Listing(idX), AllLists}, start)

	inv.Invalidate([]Tag{Listing(idX)})
	if has(a, "detail X") || has(a, "list") || has(b, "search") {
		t.Error("an entry showing X survived the purge of X")
	}
	if !has(a, "detail Y") {
		t.Error("the unrelated listing's entry was purged")
	}
	inv.Invalidate([]Tag{Seller(idS)})
	if has(a, "detail Y") {
		t.Error("an entry showing a listing of the seller survived the purge of the seller")
	}
	if a.Len() != 0 || a.Bytes() != 0 {
		t.Errorf("after purging everything the cache holds %d entries, %d bytes", a.Len(), a.Bytes())
	}
}

// TestPutAfterPurgeIsRefused: an entry whose reads began before a purge of
// one of its tags is not kept (it may show what the write changed); one
// whose reads began after is.
func TestPutAfterPurgeIsRefused(t *testing.T) {
	inv := NewInvalidator(time.Hour)
	c := newTestCache(inv, Options{})
	ctx, col := inv.Collect(context.Background())
	From(ctx).Add(Listing(idX))
	inv.Invalidate([]Tag{Listing(idX)})
	c.PutCollected(key("old"), "old", 10, col)
	if has(c, "old") {
		t.Error("an entry read before the purge of its tag was kept")
	}
	_, fresh := inv.Collect(context.Background())
	fresh.Add(Listing(idX))
	c.PutCollected(key("new"), "new", 10, fresh)
	if !has(c, "new") {
		t.Error("an entry read after the purge was not kept")
	}
	_, huge := inv.Collect(context.Background())
	for i := range maxTags + 1 {
		huge.Add(Listing(fmt.Sprint(i)))
	}
	if c.PutCollected(key("huge"), "h", 10, huge) || has(c, "huge") {
		t.Error("an entry with more than maxTags tags was kept")
	}
	inv.InvalidateAll()
	if c.Len() != 0 {
		t.Error("InvalidateAll left entries")
	}
	c.PutCollected(key("new"), "new", 10, fresh)
	if has(c, "new") {
		t.Error("an entry read before InvalidateAll was kept")
	}
}

// TestListTagsAreRateLimited: a list tag is purged at once the first time,
// then at most once per ListEvery: the second write's purge waits until
// then, and the first lookup after it purges.
func TestListTagsAreRateLimited(t *testing.T) {
	const every = 100 * time.Millisecond
	inv := NewInvalidator(every)
	c := newTestCache(inv, Options{})
	put := func() { c.Put(key("list"), "l", 10, []Tag{AllLists}, c.Begin()) }
	put()
	inv.Invalidate([]Tag{AllLists})
	if has(c, "list") {
		t.Fatal("the first purge of a list tag did not purge")
	}
	put()
	written := time.Now()
	inv.Invalidate([]Tag{AllLists})
	if time.Since(written) < every/2 && !has(c, "list") {
		t.Error("a second list purge within ListEvery purged at once")
	}
	deadline := time.Now().Add(10 * every)
	for has(c, "list") {
		if time.Now().After(deadline) {
			t.Fatal("the deferred list purge never happened")
		}
		time.Sleep(every / 10)
	}
	put()
	time.Sleep(every / 5)
	if !has(c, "list") {
		t.Error("a list entry made after the deferred purge was purged without a new write")
	}
}

// TestStaleEntries: a cache with Options.Stale keeps a purged or expired
// entry as stale for that long, then drops it. Without StaleEntities the
// purge of a list tag keeps an entry as stale, an entity's drops it unless
// the entry shows AllLists and the write is no Removal.
func TestStaleEntries(t *testing.T) {
	inv := NewInvalidator(time.Hour)
	lists := newTestCache(inv, Options{Stale: time.Hour})
	lists.Put(key("list"), "l", 10, []Tag{AllLists, Listing(idY)}, lists.Begin())
	lists.Put(key("detail"), "d", 10, []Tag{Listing(idX)}, lists.Begin())
	inv.Invalidate([]Tag{AllLists, Listing(idX)})
	if _, fresh, ok := lists.Get(key("list")); !ok || fresh {
		t.Errorf("after a list purge the list is fresh %v, kept %v; want kept as stale", fresh, ok)
	}
	if _, _, ok := lists.Get(key("detail")); ok {
		t.Error("an entity purge kept the entry without StaleEntities")
	}
	inv.Invalidate([]Tag{Listing(idY)})
	if _, fresh, ok := lists.Get(key("list")); !ok || fresh {
		t.Errorf("after a change of a listing it shows the list is fresh %v, kept %v; want kept as stale", fresh, ok)
	}
	inv.Invalidate([]Tag{Listing(idY), Removal})
	if _, _, ok := lists.Get(key("list")); ok {
		t.Error("a list survived the removal of a listing it shows")
	}
	c := newTestCache(inv, Options{Stale: 50 * time.Millisecond, StaleEntities: true})
	c.Put(key("s"), "v", 10, []Tag{Listing(idX)}, c.Begin())
	inv.Invalidate([]Tag{Listing(idX)})
	if v, fresh, ok := c.Get(key("s")); !ok || fresh || v != "v" {
		t.Errorf("after a purge: %q fresh %v ok %v, want the stale value", v, fresh, ok)
	}
	time.Sleep(60 * time.Millisecond)
	if _, _, ok := c.Get(key("s")); ok {
		t.Error("a stale entry outlived Options.Stale")
	}
	c2 := newTestCache(nil, Options{TTL: time.Millisecond})
	c2.Put(key("t"), "v", 10, nil, 0)
	time.Sleep(5 * time.Millisecond)
	if _, _, ok := c2.Get(key("t")); ok {
		t.Error("an expired entry was used by a cache without Options.Stale")
	}
}

// TestByteBound: the cache's count, keys and tag index included, never
// exceeds its bound, the least recently used go first, an entry over a
// tenth of the bound is not kept, and replacing an entry counts once.
func TestByteBound(t *testing.T) {
	const bound = 20_000
	c := newTestCache(NewInvalidator(0), Options{MaxBytes: bound})
	for i := range 500 {
		tags := []Tag{Listing(fmt.Sprintf("%08d-1111-4111-8111-111111111111", i)), AllLists}
		c.Put(key(fmt.Sprint(i)), "value", 100, tags, c.Begin())
		if got := c.Bytes(); got > bound {
			t.Fatalf("after %d puts the cache counts %d bytes, over %d", i+1, got, bound)
		}
	}
	if has(c, "0") || !has(c, "499") {
		t.Error("the oldest entry survived or the newest is gone")
	}
	before := c.Bytes()
	c.Put(key("499"), "value", 100, []Tag{AllLists}, c.Begin())
	if c.Bytes() > before {
		t.Errorf("replacing an entry grew the count from %d to %d", before, c.Bytes())
	}
	c.Put(key("big"), "v", bound/10, nil, c.Begin())
	if has(c, "big") {
		t.Error("an entry over a tenth of the bound was kept")
	}
}

// TestMessages: an announcement carries the tags to another instance,
// which purges them; its own announcement is ignored; one it cannot read
// purges everything.
func TestMessages(t *testing.T) {
	sender, receiver := NewInvalidator(time.Hour), NewInvalidator(time.Hour)
	s, r := newTestCache(sender, Options{}), newTestCache(receiver, Options{})
	for _, c := range []*Cache[string]{s, r} {
		c.Put(key("x"), "x", 10, []Tag{Listing(idX)}, c.Begin())
		c.Put(key("y"), "y", 10, []Tag{Seller(idS), SellerLists(idS)}, c.Begin())
	}
	msg := sender.Message([]Tag{Listing(idX), SellerLists(idY), AllLists})
	sender.Receive(msg)
	if !has(s, "x") {
		t.Error("the sender purged on its own announcement")
	}
	receiver.Receive(msg)
	if has(r, "x") || !has(r, "y") {
		t.Errorf("after the announcement: x %v (want purged), y %v (want kept)", has(r, "x"), has(r, "y"))
	}
	receiver.Receive("garbage")
	if has(r, "y") {
		t.Error("an unreadable announcement did not purge everything")
	}
	for _, tag := range []Tag{Listing(idX), Seller("not-a-uuid"), SellerLists(idS), AllLists, Removal} {
		if got, ok := parseTag(tag.text()); !ok || got != tag {
			t.Errorf("tag %q does not survive its text %q: %q", tag, tag.text(), got)
		}
	}
	many := make([]Tag, 1000)
	for i := range many {
		many[i] = Listing(idX)
	}
	if m := sender.Message(many); len(m) > maxMessage {
		t.Errorf("a message of %d bytes exceeds the NOTIFY limit", len(m))
	}
}

// TestHeapStaysBounded: a stream of distinct entries, each with its own
// tags, keeps the live heap near the cache's bound: the bytes it counts
// (keys, values, tags and index) are the bytes it holds, and the
// invalidator's own records stay bounded too.
func TestHeapStaysBounded(t *testing.T) {
	const bound = 2 << 20
	inv := NewInvalidator(time.Hour)
	c := NewCache[[]byte](inv, Options{TTL: time.Hour, MaxBytes: bound})
	live := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := live()
	for i := range 20_000 {
		tags := make([]Tag, 0, 21)
		for j := range 20 {
			tags = append(tags, Listing(fmt.Sprintf("%08x-%04x-4111-8111-111111111111", i, j)))
		}
		tags = append(tags, AllLists)
		c.Put(NewKey([]byte(fmt.Sprint("query ", i))), make([]byte, 300), 300, tags, c.Begin())
		if i%7 == 0 {
			inv.Invalidate([]Tag{Seller(fmt.Sprintf("%08x-1111-4111-8111-111111111111", i))})
		}
		if c.Bytes() > bound {
			t.Fatalf("after %d entries the cache counts %d bytes, over its %d", i+1, c.Bytes(), bound)
		}
	}
	grown := int64(live()) - int64(before)
	if grown > 2*bound {
		t.Errorf("the live heap grew by %d bytes for a cache bounded at %d", grown, bound)
	}
	t.Logf("live heap grew by %d bytes; the cache counts %d in %d entries", grown, c.Bytes(), c.Len())
	runtime.KeepAlive(c)
}
