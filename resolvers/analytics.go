package resolvers

import (
	"context"
	"strconv"
	"time"

	"github.com/partsmarket/gateway/internal/loaders"
	"github.com/partsmarket/gateway/store"
)

// Limits of the aggregate queries.
const (
	defaultAggregateFirst = 100
	maxAggregateFirst     = 10_000
	// maxMetricsDays bounds the period of marketplaceMetrics.
	maxMetricsDays = 366
	// maxStatsDays bounds the period of Listing.stats and
	// Seller.performance, which read one listing's or seller's rows.
	maxStatsDays = 3660
	// defaultStatsDays is the default period of stats and performance.
	defaultStatsDays = 30
)

// utcDay returns the start of t's UTC day.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// period turns optional from/to arguments into whole UTC days: to defaults
// to the end of today, from to defaultStatsDays before to. BAD_USER_INPUT
// when from is not at least a day before to, or the span is over maxDays.
func period(from, to *time.Time, maxDays int) (store.Period, error) {
	end := utcDay(time.Now()).AddDate(0, 0, 1)
	if to != nil {
		end = utcDay(*to)
	}
	start := end.AddDate(0, 0, -defaultStatsDays)
	if from != nil {
		start = utcDay(*from)
	}
	if !start.Before(end) {
		return store.Period{}, store.Invalid("to", "must be at least one UTC day after from")
	}
	if end.Sub(start) > time.Duration(maxDays)*24*time.Hour {
		return store.Period{}, store.Invalid("from", "the period may span at most "+strconv.Itoa(maxDays)+" days")
	}
	return store.Period{From: start, To: end}, nil
}

// aggregateFirst checks the first argument of searchTerms and
// marketplaceMetrics.
func aggregateFirst(first *int) (int, error) {
	if first == nil {
		return defaultAggregateFirst, nil
	}
	if *first < 1 || *first > maxAggregateFirst {
		return 0, store.Invalid("first", "must be between 1 and 10000")
	}
	return *first, nil
}

// Stats returns a listing's views, clicks and leads over whole UTC days
// (@owner by the schema), batched per request by the ListingStats loader.
func (r *listingResolver) Stats(ctx context.Context, obj *store.Listing, from *time.Time, to *time.Time) (*store.ListingStats, error) {
	p, err := period(from, to, maxStatsDays)
	if err != nil {
		return nil, err
	}
	return load(ctx, func(l *loaders.Loaders) *loaders.Loader[*store.ListingStats] { return l.ListingStats },
		loaders.StatsKey(obj.ID, p))
}

// Performance returns a seller's views, clicks, leads, reports and
// conversion rate over whole UTC days (@owner by the schema), batched per
// request by the SellerPerformance loader.
func (r *sellerResolver) Performance(ctx context.Context, obj *store.Seller, from *time.Time, to *time.Time) (*store.SellerPerformance, error) {
	p, err := period(from, to, maxStatsDays)
	if err != nil {
		return nil, err
	}
	return load(ctx, func(l *loaders.Loaders) *loaders.Loader[*store.SellerPerformance] { return l.SellerPerformance },
		loaders.StatsKey(obj.ID, p))
}

// MarketplaceMetrics sums the daily rollups (ANALYST and ADMIN by the
// schema). BAD_USER_INPUT naming the argument for a period that is empty
// or over maxMetricsDays, more than one of DAY/WEEK/MONTH, or first outside
// 1..10,000.
func (r *queryResolver) MarketplaceMetrics(ctx context.Context, from time.Time, to time.Time, groupBy []store.MetricDimension, filter *store.MetricFilter, first *int) ([]*store.MetricRow, error) {
	p, err := period(&from, &to, maxMetricsDays)
	if err != nil {
		return nil, err
	}
	limit, err := aggregateFirst(first)
	if err != nil {
		return nil, err
	}
	seen := map[store.MetricDimension]bool{}
	var dims []store.MetricDimension
	times := 0
	for _, d := range groupBy {
		if seen[d] {
			continue
		}
		seen[d] = true
		dims = append(dims, d)
		if d == store.DimensionDay || d == store.DimensionWeek || d == store.DimensionMonth {
			times++
		}
	}
	if times > 1 {
		return nil, store.Invalid("groupBy", "at most one of DAY, WEEK and MONTH")
	}
	return r.Store.MarketplaceMetrics(ctx, store.MetricsQuery{Period: p, GroupBy: dims, Filter: deref(filter), Limit: limit})
}

// SearchTerms returns the public search terms, most searched first
// (ANALYST and ADMIN by the schema); from defaults to 30 days before to
// (or now).
// BAD_USER_INPUT for to not after from, or first outside 1..10,000.
func (r *queryResolver) SearchTerms(ctx context.Context, from *time.Time, to *time.Time, zeroResultsOnly *bool, first *int) ([]*store.SearchTermStat, error) {
	limit, err := aggregateFirst(first)
	if err != nil {
		return nil, err
	}
	q := store.SearchTermsQuery{From: deref(to).AddDate(0, 0, -defaultStatsDays), To: to,
		ZeroResultsOnly: deref(zeroResultsOnly), Limit: limit}
	if to == nil {
		q.From = time.Now().AddDate(0, 0, -defaultStatsDays)
	}
	if from != nil {
		q.From = *from
	}
	if to != nil && !to.After(q.From) {
		return nil, store.Invalid("to", "must be after from")
	}
	return r.Store.SearchTerms(ctx, q)
}
