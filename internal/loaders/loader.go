package loaders

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"
)

// Loader is one kind of read of one request, batched two ways. Keys that a
// page announced (Expect) are read together, all of them in one batch, when
// the first of them is loaded: a page of rows thus costs one statement per
// related kind, whatever its size and however gqlgen schedules the
// resolvers of its rows, and a kind the query never loads costs nothing.
// Other keys go through a dataloader, which collects the keys loaded
// within its wait.
type Loader[V any] struct {
	dl    *dataloader.Loader[string, V]
	batch dataloader.BatchFunc[string, V]
	// variant splits a key into the id that pages announce and what else
	// the key asks (a period, for stats); nil: the key is the id.
	variant func(key string) (id, rest string)

	mu   sync.Mutex
	sets map[string]*siblings[V] // by id: the ids announced with it
}

// siblings are ids announced together, and the batches read for them: one
// per variant (one in all for a loader without variants).
type siblings[V any] struct {
	ids  []string
	mu   sync.Mutex
	runs map[string]*siblingRun[V]
}

// siblingRun is one batch over a set of siblings; done closes when results
// is filled.
type siblingRun[V any] struct {
	done    chan struct{}
	results map[string]*dataloader.Result[V]
}

// newLoader returns a loader reading through batch; a key no page
// announced waits up to wait for others to share its batch. after, when
// set, sees the rows each batch found (to announce what they point at).
func newLoader[V any](wait time.Duration, batch dataloader.BatchFunc[string, V], after func([]V)) *Loader[V] {
	if after != nil {
		inner := batch
		batch = func(ctx context.Context, keys []string) []*dataloader.Result[V] {
			results := inner(ctx, keys)
			found := make([]V, 0, len(results))
			for _, r := range results {
				if r.Error == nil {
					found = append(found, r.Data)
				}
			}
			after(found)
			return results
		}
	}
	return &Loader[V]{dl: dataloader.NewBatchedLoader(batch, dataloader.WithWait[string, V](wait)), batch: batch}
}

// withVariants makes l split its keys at the first "|": the id before it is
// what pages announce, the rest is read for all the announced ids at once.
func (l *Loader[V]) withVariants() *Loader[V] {
	l.variant = func(key string) (string, string) {
		id, rest, _ := strings.Cut(key, "|")
		return id, rest
	}
	return l
}

// Expect announces ids that are likely to be loaded together (a page's
// rows, or what they point at). Ids already announced keep their set.
func (l *Loader[V]) Expect(ids []string) {
	if len(ids) == 0 {
		return
	}
	s := &siblings[V]{ids: ids}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sets == nil {
		l.sets = make(map[string]*siblings[V], len(ids))
	}
	for _, id := range ids {
		if _, ok := l.sets[id]; !ok {
			l.sets[id] = s
		}
	}
}

// Load returns a thunk for key's value: read with key's announced siblings
// when it was announced, through the dataloader otherwise.
func (l *Loader[V]) Load(ctx context.Context, key string) dataloader.Thunk[V] {
	id, rest := key, ""
	if l.variant != nil {
		id, rest = l.variant(key)
	}
	l.mu.Lock()
	s := l.sets[id]
	l.mu.Unlock()
	if s == nil {
		return l.dl.Load(ctx, key)
	}
	v, err := s.load(ctx, l, key, rest)
	return func() (V, error) { return v, err }
}

// load returns key's result from the batch of s's variant rest, reading
// that batch if no one has yet.
func (s *siblings[V]) load(ctx context.Context, l *Loader[V], key, rest string) (V, error) {
	s.mu.Lock()
	r := s.runs[rest]
	first := r == nil
	if first {
		r = &siblingRun[V]{done: make(chan struct{})}
		if s.runs == nil {
			s.runs = map[string]*siblingRun[V]{}
		}
		s.runs[rest] = r
	}
	s.mu.Unlock()
	if first {
		r.read(ctx, l, s.ids, rest)
	} else {
		select {
		case <-r.done:
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
	if res := r.results[key]; res != nil {
		return res.Data, res.Error
	}
	// Not in the batch: only a key whose variant differs in spelling
	// from the one the batch read (none that this package makes).
	return l.dl.Load(ctx, key)()
}

// read runs the batch of ids under variant rest and keeps its results.
func (r *siblingRun[V]) read(ctx context.Context, l *Loader[V], ids []string, rest string) {
	defer close(r.done)
	keys := ids
	if l.variant != nil {
		keys = make([]string, len(ids))
		for i, id := range ids {
			keys[i] = id + "|" + rest
		}
	}
	results := l.batch(ctx, keys)
	r.results = make(map[string]*dataloader.Result[V], len(keys))
	for i, k := range keys {
		if i < len(results) {
			r.results[k] = results[i]
		}
	}
}

// Clear forgets key (and, for a loader with variants, the announced set of
// its id), so that its next Load reads it again or finds what Prime put.
func (l *Loader[V]) Clear(ctx context.Context, key string) *Loader[V] {
	id := key
	if l.variant != nil {
		id, _ = l.variant(key)
	}
	l.mu.Lock()
	delete(l.sets, id)
	l.mu.Unlock()
	l.dl.Clear(ctx, key)
	return l
}

// Prime puts value in the cache for key (a key without variants): its
// Loads answer value, and an announcement of key no longer reads it.
func (l *Loader[V]) Prime(_ context.Context, key string, value V) *Loader[V] {
	done := &siblingRun[V]{done: make(chan struct{}), results: map[string]*dataloader.Result[V]{key: {Data: value}}}
	close(done.done)
	s := &siblings[V]{ids: []string{key}, runs: map[string]*siblingRun[V]{"": done}}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sets == nil {
		l.sets = map[string]*siblings[V]{}
	}
	l.sets[key] = s
	return l
}

// ClearAll forgets every key and every announced set.
func (l *Loader[V]) ClearAll() {
	l.mu.Lock()
	l.sets = nil
	l.mu.Unlock()
	l.dl.ClearAll()
}
