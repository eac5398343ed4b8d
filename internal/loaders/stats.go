package loaders

import (
	"context"
	"strings"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/partsmarket/gateway/store"
)

// StatsKey returns the loader key of an id's counts over a period, for the
// ListingStats and SellerPerformance loaders.
func StatsKey(id string, p store.Period) string {
	return id + "|" + p.From.Format(time.DateOnly) + "|" + p.To.Format(time.DateOnly)
}

// parseStatsKey splits a StatsKey; ok is false for a key StatsKey did not make.
func parseStatsKey(key string) (id string, p store.Period, ok bool) {
	parts := strings.Split(key, "|")
	if len(parts) != 3 {
		return "", p, false
	}
	from, err1 := time.Parse(time.DateOnly, parts[1])
	to, err2 := time.Parse(time.DateOnly, parts[2])
	if err1 != nil || err2 != nil {
		return "", p, false
	}
	return parts[0], store.Period{From: from, To: to}, true
}

// byPeriod makes a batch function over StatsKey keys: one fetch per distinct
// period among the keys (one, on a page that asks for one period), and zero
// counts for ids without rows.
func byPeriod[V any](fetch func(context.Context, []string, store.Period) (map[string]V, error), zero func() V) dataloader.BatchFunc[string, V] {
	return func(ctx context.Context, keys []string) []*dataloader.Result[V] {
		out := make([]*dataloader.Result[V], len(keys))
		type group struct {
			ids []string
			at  []int
		}
		groups := map[store.Period]*group{}
		var order []store.Period
		for i, k := range keys {
			id, p, ok := parseStatsKey(k)
			if !ok {
				out[i] = &dataloader.Result[V]{Error: store.NotFound("stats")}
				continue
			}
			g := groups[p]
			if g == nil {
				g = &group{}
				groups[p] = g
				order = append(order, p)
			}
			g.ids, g.at = append(g.ids, id), append(g.at, i)
		}
		for _, p := range order {
			g := groups[p]
			found, err := fetch(ctx, g.ids, p)
			for j, i := range g.at {
				switch v, ok := found[g.ids[j]]; {
				case err != nil:
					out[i] = &dataloader.Result[V]{Error: err}
				case ok:
					out[i] = &dataloader.Result[V]{Data: v}
				default:
					out[i] = &dataloader.Result[V]{Data: zero()}
				}
			}
		}
		return out
	}
}
