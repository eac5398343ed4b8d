package loaders

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graph-gophers/dataloader/v7"
)

// countingBatch answers every key with "v:"+key (an error for keys starting
// with "missing") and records each batch's keys.
type countingBatch struct {
	mu      sync.Mutex
	batches [][]string
}

func (c *countingBatch) fn(_ context.Context, keys []string) []*dataloader.Result[string] {
	c.mu.Lock()
	c.batches = append(c.batches, slices.Clone(keys))
	c.mu.Unlock()
	out := make([]*dataloader.Result[string], len(keys))
	for i, k := range keys {
		if len(k) >= 7 && k[:7] == "missing" {
			out[i] = &dataloader.Result[string]{Error: errors.New("not found")}
			continue
		}
		out[i] = &dataloader.Result[string]{Data: "v:" + k}
	}
	return out
}

func (c *countingBatch) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.batches)
}

// TestExpectedKeysAreReadInOneBatch: announced keys loaded from as many
// goroutines as there are keys cost one batch holding all of them, whatever
// the wait (an hour here: the dataloader's timer is never involved), and
// each gets its own result, errors included.
func TestExpectedKeysAreReadInOneBatch(t *testing.T) {
	for _, n := range []int{1, 5, 100} {
		var c countingBatch
		l := newLoader(time.Hour, c.fn, nil)
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprint("id", i)
		}
		ids[0] = "missing0"
		l.Expect(ids)
		var wg sync.WaitGroup
		var bad atomic.Int32
		for _, id := range ids {
			wg.Go(func() {
				v, err := l.Load(context.Background(), id)()
				if (id == "missing0") != (err != nil) || (err == nil && v != "v:"+id) {
					bad.Add(1)
				}
			})
		}
		wg.Wait()
		if c.count() != 1 || len(c.batches[0]) != n {
			t.Errorf("%d keys: batches %v, want one of all keys", n, c.batches)
		}
		if bad.Load() != 0 {
			t.Errorf("%d keys: %d wrong results", n, bad.Load())
		}
		// Loaded again: from the batch already read.
		if _, err := l.Load(context.Background(), ids[n-1])(); (err != nil) != (n == 1) || c.count() != 1 {
			t.Errorf("%d keys: a second load read again (%d batches, %v)", n, c.count(), err)
		}
	}
}

// TestUnloadedKindsCostNothing: announcing keys reads nothing by itself.
func TestUnloadedKindsCostNothing(t *testing.T) {
	var c countingBatch
	l := newLoader(time.Millisecond, c.fn, nil)
	l.Expect([]string{"a", "b"})
	if c.count() != 0 {
		t.Errorf("%d batches before any load, want 0", c.count())
	}
}

// TestVariantsBatchPerVariant: with variants (stats keys), each variant
// of the announced ids is one batch over all of them.
func TestVariantsBatchPerVariant(t *testing.T) {
	var c countingBatch
	l := newLoader(time.Hour, c.fn, nil).withVariants()
	l.Expect([]string{"a", "b", "c"})
	for _, id := range []string{"a", "b", "c"} {
		for _, p := range []string{"p1", "p2"} {
			if v, err := l.Load(context.Background(), id+"|"+p)(); err != nil || v != "v:"+id+"|"+p {
				t.Fatalf("%s|%s: %q, %v", id, p, v, err)
			}
		}
	}
	if c.count() != 2 {
		t.Errorf("batches %v, want one per variant", c.batches)
	}
}

// TestAfterAnnouncesRelated: a loader's after hook sees the rows found, so
// that one kind can announce the next (sellers, then their locations).
func TestAfterAnnouncesRelated(t *testing.T) {
	var parents, children countingBatch
	child := newLoader(time.Hour, children.fn, nil)
	parent := newLoader(time.Hour, parents.fn, func(found []string) {
		ids := make([]string, len(found))
		for i, v := range found {
			ids[i] = "child-of-" + v
		}
		child.Expect(ids)
	})
	parent.Expect([]string{"x", "y", "missing"})
	for _, id := range []string{"x", "y"} {
		v, err := parent.Load(context.Background(), id)()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := child.Load(context.Background(), "child-of-"+v)(); err != nil {
			t.Fatal(err)
		}
	}
	if parents.count() != 1 || children.count() != 1 || len(children.batches[0]) != 2 {
		t.Errorf("parent batches %v, child batches %v; want one each, the child's over the two found", parents.batches, children.batches)
	}
}

// TestClearThenPrime: a cleared key of an announced set answers what Prime
// put, not the set's batch.
func TestClearThenPrime(t *testing.T) {
	var c countingBatch
	l := newLoader(time.Hour, c.fn, nil)
	l.Expect([]string{"a", "b"})
	if v, _ := l.Load(context.Background(), "a")(); v != "v:a" {
		t.Fatalf("got %q", v)
	}
	l.Clear(context.Background(), "a").Prime(context.Background(), "a", "primed")
	if v, _ := l.Load(context.Background(), "a")(); v != "primed" {
		t.Errorf("after Clear and Prime: %q, want primed", v)
	}
	if c.count() != 1 {
		t.Errorf("%d batches, want 1", c.count())
	}
}
