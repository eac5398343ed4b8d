package abuse

import (
	"context"
	"time"

	"github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/batch"
)

// Concurrent attempts are counted together: one upsert for every attempt
// that arrived while the previous batch ran.
const (
	// maxCountBatch bounds the attempts of one batch.
	maxCountBatch = 100
	// countBatchSlots is how many batches run at once.
	countBatchSlots = 2
)

// counted is a counter after an attempt: its kind, the attempt's count in
// the window and the seconds until the window ends.
type counted struct {
	Kind  string
	Count int
	Retry float64
}

// countBatch increments the counters of a batch of attempts in one
// statement, as if the attempts had come one after another in the batch's
// order: a counter that n attempts of the batch share grows by n, and the
// k-th of them sees the count before the batch plus k.
func (l *Limiter) countBatch(ctx context.Context, attempts [][]limit) []batch.Result[[]counted] {
	type occurrence struct{ counter, rank int }
	index := map[[2]string]int{}
	var kinds, keys []string
	var secs, adds []int64
	occurrences := make([][]occurrence, len(attempts))
	for i, limits := range attempts {
		for _, li := range limits {
			k := [2]string{li.kind, li.key}
			c, ok := index[k]
			if !ok {
				c = len(kinds)
				index[k] = c
				kinds, keys = append(kinds, li.kind), append(keys, li.key)
				secs, adds = append(secs, int64(li.window/time.Second)), append(adds, 0)
			}
			adds[c]++
			occurrences[i] = append(occurrences[i], occurrence{c, int(adds[c])})
		}
	}
	var rows []struct {
		Kind  string  `db:"kind"`
		Key   string  `db:"key"`
		Count int     `db:"count"`
		Retry float64 `db:"retry"`
	}
	err := l.db.SelectContext(ctx, &rows, `
		WITH hits AS (
			SELECT kind, key, secs, n,
				to_timestamp(floor(extract(epoch FROM now()) / secs) * secs) AS window_start
			FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS h(kind, key, secs, n)
		)
		INSERT INTO abuse_counters AS c (kind, key, window_start, expires_at, count)
		SELECT kind, key, window_start, window_start + secs * interval '1 second', n FROM hits
		ON CONFLICT (kind, key, window_start) DO UPDATE SET count = c.count + excluded.count
		RETURNING c.kind, c.key, c.count, extract(epoch FROM c.expires_at - now())::float8 AS retry`,
		pq.Array(kinds), pq.Array(keys), pq.Array(secs), pq.Array(adds))
	results := make([]batch.Result[[]counted], len(attempts))
	if err != nil {
		for i := range results {
			results[i].Err = err
		}
		return results
	}
	after := make([]counted, len(kinds)) // each counter after the whole batch
	for _, r := range rows {
		c := index[[2]string{r.Kind, r.Key}]
		after[c] = counted{Kind: r.Kind, Count: r.Count, Retry: r.Retry}
	}
	for i, occ := range occurrences {
		for _, o := range occ {
			c := after[o.counter]
			c.Count -= int(adds[o.counter]) - o.rank
			results[i].Value = append(results[i].Value, c)
		}
	}
	return results
}
