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
	var running, maxRunning, taken atomic.Int32
	var mu sync.Mutex
	var sizes []int
	b := New(func(_ context.Context, ins []int) []Result[int] {
		n := running.Add(1)
		for m := maxRunning.Load(); n > m && !maxRunning.CompareAndSwap(m, n); m = maxRunning.Load() {
		}
		taken.Add(int32(len(ins)))
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
		if running.Load() == 2 && int(taken.Load())+queued == calls { // two batches hold the slots; the rest wait
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued, %d in batches, %d batches running; want every call placed", queued, taken.Load(), running.Load())
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
	if total != calls || slices.Max(sizes) != 8 || len(sizes) > 2+(calls+7)/8 {
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

type ctxKey struct{}

// TestFirstCallerLeavingFailsNobody: the caller whose call started a batch
// disconnects while the batch runs. It stops waiting at once; the batch
// runs on with its context's values but not its cancellation, its work is
// committed, and the callers queued behind it get their results.
func TestFirstCallerLeavingFailsNobody(t *testing.T) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	var mu sync.Mutex
	var committed []int
	var batchErrs []error
	var values []any
	b := New(func(ctx context.Context, ins []int) []Result[int] {
		started <- struct{}{}
		<-release
		mu.Lock()
		defer mu.Unlock()
		batchErrs = append(batchErrs, ctx.Err())
		values = append(values, ctx.Value(ctxKey{}))
		committed = append(committed, ins...)
		out := make([]Result[int], len(ins))
		for i, in := range ins {
			out[i].Value = in
		}
		return out
	}, 8, 1)

	first, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "first"))
	firstErr := make(chan error, 1)
	go func() {
		_, err := b.Do(first, 1)
		firstErr <- err
	}()
	<-started // the first call's batch runs
	var wg sync.WaitGroup
	others := make([]error, 4)
	for i := range others {
		wg.Go(func() {
			v, err := b.Do(context.WithValue(context.Background(), ctxKey{}, "other"), 10+i)
			if err == nil && v != 10+i {
				err = errors.New("wrong value")
			}
			others[i] = err
		})
	}
	waitQueued(t, b, len(others))
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("the first caller got %v after its context ended, want context.Canceled at once", err)
	}
	close(release) // the batch was still running: let it finish
	<-started      // the second batch, of the others
	wg.Wait()
	for i, err := range others {
		if err != nil {
			t.Errorf("caller %d behind the one that left: %v", i, err)
		}
	}
	slices.Sort(committed)
	if !slices.Equal(committed, []int{1, 10, 11, 12, 13}) {
		t.Errorf("committed %v, want the first call and the 4 others", committed)
	}
	if len(batchErrs) != 2 || batchErrs[0] != nil || batchErrs[1] != nil {
		t.Errorf("batch contexts ended with %v, want neither cancelled", batchErrs)
	}
	if len(values) != 2 || values[0] != "first" || values[1] != "other" {
		t.Errorf("batch contexts carried %v, want their first callers' values", values)
	}
}

// TestLeftCallsAreDropped: a call whose caller left while it was queued is
// not run; its caller gets its context's error.
func TestLeftCallsAreDropped(t *testing.T) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	var mu sync.Mutex
	var committed []int
	b := New(func(_ context.Context, ins []int) []Result[int] {
		started <- struct{}{}
		<-release
		mu.Lock()
		committed = append(committed, ins...)
		mu.Unlock()
		return make([]Result[int], len(ins))
	}, 8, 1)
	done := make(chan error, 3)
	go func() { _, err := b.Do(context.Background(), 1); done <- err }()
	<-started
	left, cancel := context.WithCancel(context.Background())
	go func() { _, err := b.Do(left, 2); done <- err }()
	go func() { _, err := b.Do(context.Background(), 3); done <- err }()
	waitQueued(t, b, 2)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the queued caller that left got %v, want context.Canceled", err)
	}
	close(release)
	<-started
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if slices.Sort(committed); !slices.Equal(committed, []int{1, 3}) {
		t.Errorf("committed %v, want 1 and 3 (2 left before its batch)", committed)
	}
}

// TestBatchTimeout: a batch's context has a deadline of its own, though
// none of its callers has one.
func TestBatchTimeout(t *testing.T) {
	b := New(func(ctx context.Context, ins []int) []Result[int] {
		<-ctx.Done()
		return failAll[int](len(ins), ctx.Err())
	}, 8, 1)
	b.timeout = time.Millisecond
	if _, err := b.Do(context.Background(), 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a batch that never ends returned %v, want its own deadline", err)
	}
}

// waitQueued waits until n calls are queued.
func waitQueued[In, Out any](t *testing.T, b *Batcher[In, Out], n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		queued := len(b.pending)
		b.mu.Unlock()
		if queued == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued, want %d", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}
