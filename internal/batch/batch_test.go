package batch

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var errOdd = errors.New("odd")

// TestConcurrentCallsShareBatches: calls that arrive while the slots are
// busy wait and then run together, in batches of at most max, never more
// than slots at once; each gets its own result or error.
func TestConcurrentCallsShareBatches(t *testing.T) {
	release := make(chan struct{})
	var running, maxRunning atomic.Int32
	var mu sync.Mutex
	var sizes []int
	b := New(func(_ context.Context, ins []int) []Result[int] {
		n := running.Add(1)
		for m := maxRunning.Load(); n > m && !maxRunning.CompareAndSwap(m, n); m = maxRunning.Load() {
		}
		<-release
		mu.Lock()
		sizes = append(sizes, len(ins))
		mu.Unlock()
		out := make([]Result[int], len(ins))
		for i, in := range ins {
			if in%2 == 1 {
				out[i].Err = errOdd
			} else {
				out[i].Value = in * 10
			}
		}
		running.Add(-1)
		return out
	}, 8, 2)

	const calls = 50
	var wg sync.WaitGroup
	failures := make([]string, calls)
	for i := range calls {
		wg.Go(func() {
			v, err := b.Do(context.Background(), i)
			switch {
			case i%2 == 1 && !errors.Is(err, errOdd):
				failures[i] = "want its error"
			case i%2 == 0 && (err != nil || v != i*10):
				failures[i] = "want its value"
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		queued := len(b.pending)
		b.mu.Unlock()
		if queued == calls-2 { // two callers hold the slots; the rest wait
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued, want %d", queued, calls-2)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i, f := range failures {
		if f != "" {
			t.Errorf("call %d: %s", i, f)
		}
	}
	if maxRunning.Load() > 2 {
		t.Errorf("%d batches ran at once, want at most 2", maxRunning.Load())
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	if total != calls || slices.Max(sizes) != 8 || len(sizes) > 2+(calls-2+7)/8+1 {
		t.Errorf("batch sizes %v: want every call once, in batches of up to 8", sizes)
	}
	// The last goroutine gives its slot back once it finds nothing waiting.
	for {
		b.mu.Lock()
		running, pending := b.running, len(b.pending)
		b.mu.Unlock()
		if running == 0 && pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the calls: %d slots held, %d calls pending", running, pending)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPanicFailsTheBatch: a batch that panics fails its calls instead of
// leaving them waiting, and the batcher goes on.
func TestPanicFailsTheBatch(t *testing.T) {
	b := New(func(_ context.Context, ins []int) []Result[int] {
		if ins[0] < 0 {
			panic("boom")
		}
		return []Result[int]{{Value: ins[0]}}
	}, 1, 1)
	if _, err := b.Do(context.Background(), -1); err == nil {
		t.Fatal("a panicking batch returned no error")
	}
	if v, err := b.Do(context.Background(), 7); err != nil || v != 7 {
		t.Fatalf("after a panic: %v, %v", v, err)
	}
}
