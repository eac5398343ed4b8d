package store

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Period is a range of UTC days: From inclusive, To exclusive, both at
// midnight UTC.
type Period struct {
	From, To time.Time
}

// listingStatsRow is a listing's counts with its id.
type listingStatsRow struct {
	ListingID string `db:"listing_id"`
	ListingStats
}

// ListingStatsByID returns the rolled-up counts of the given listings over
// p, keyed by listing id. Listings without a rollup row in p are absent.
func (s *Store) ListingStatsByID(ctx context.Context, ids []string, p Period) (map[string]*ListingStats, error) {
	var rows []*listingStatsRow
	err := s.db.SelectContext(ctx, &rows, `SELECT listing_id, sum(views) AS views, sum(call_clicks) AS call_clicks,
			sum(text_clicks) AS text_clicks, sum(email_clicks) AS email_clicks, sum(leads) AS leads
		FROM daily_listing_stats
		WHERE listing_id = ANY($1::uuid[]) AND day >= $2::date AND day < $3::date
		GROUP BY listing_id`, pq.Array(validIDs(ids)), p.From.Format(time.DateOnly), p.To.Format(time.DateOnly))
	if err != nil {
		return nil, err
	}
	out := make(map[string]*ListingStats, len(rows))
	for _, r := range rows {
		out[r.ListingID] = &r.ListingStats
	}
	return out, nil
}

// sellerPerformanceRow is a seller's counts with its id.
type sellerPerformanceRow struct {
	SellerID string `db:"seller_id"`
	ListingStats
	Reports int `db:"reports"`
}

// SellerPerformanceByID returns the rolled-up counts of the given sellers
// over p (their listings' rows and their own, from daily_seller_totals),
// keyed by seller id, with the conversion rate. Sellers without a rollup row
// in p are absent.
func (s *Store) SellerPerformanceByID(ctx context.Context, ids []string, p Period) (map[string]*SellerPerformance, error) {
	var rows []*sellerPerformanceRow
	err := s.db.SelectContext(ctx, &rows, `SELECT seller_id, sum(views) AS views, sum(call_clicks) AS call_clicks,
			sum(text_clicks) AS text_clicks, sum(email_clicks) AS email_clicks, sum(leads) AS leads, sum(reports) AS reports
		FROM daily_seller_totals
		WHERE seller_id = ANY($1::uuid[]) AND day >= $2::date AND day < $3::date
		GROUP BY seller_id`, pq.Array(validIDs(ids)), p.From.Format(time.DateOnly), p.To.Format(time.DateOnly))
	if err != nil {
		return nil, err
	}
	out := make(map[string]*SellerPerformance, len(rows))
	for _, r := range rows {
		out[r.SellerID] = NewSellerPerformance(r.ListingStats, r.Reports)
	}
	return out, nil
}

// NewSellerPerformance returns the performance of counts and reports, with
// its conversion rate (leads / views, 0 without views).
func NewSellerPerformance(counts ListingStats, reports int) *SellerPerformance {
	p := &SellerPerformance{ListingStats: counts, Reports: reports}
	if counts.Views > 0 {
		p.ConversionRate = float64(counts.Leads) / float64(counts.Views)
	}
	return p
}

// MetricsQuery is a marketplaceMetrics question, already checked: GroupBy
// has no repeats and at most one of DAY, WEEK and MONTH; Limit is 1..10,000.
type MetricsQuery struct {
	Period  Period
	GroupBy []MetricDimension
	Filter  MetricFilter
	Limit   int
}

// metricDimensionSQL is the output column of each dimension but EVENT_TYPE,
// computed from the rollup rows t.
var metricDimensionSQL = map[MetricDimension]string{
	DimensionDay:      `(t.day::timestamp AT TIME ZONE 'UTC') AS day`,
	DimensionWeek:     `(date_trunc('week', t.day)::date::timestamp AT TIME ZONE 'UTC') AS day`,
	DimensionMonth:    `(date_trunc('month', t.day)::date::timestamp AT TIME ZONE 'UTC') AS day`,
	DimensionSeller:   `t.seller_id::text AS seller_id`,
	DimensionCategory: `t.category`,
	DimensionRegion:   `t.region`,
}

// metricDimensionName is the output name of each dimension's column.
var metricDimensionName = map[MetricDimension]string{
	DimensionDay: "day", DimensionWeek: "day", DimensionMonth: "day",
	DimensionSeller: "seller_id", DimensionCategory: "category", DimensionRegion: "region",
}

// MarketplaceMetrics sums the rollups over mq's period (from the smallest
// rollup table with the dimensions mq needs), one row per combination of
// its dimensions (one total row without any; groups whose counts are all
// zero are left out), time first and then most views first. A question by
// seller that is not grouped by DAY or MONTH reads the whole weeks of the
// period from the weekly rollups and only the days at its edges from the
// daily ones. Rows of seller-level events and leads without a listing have
// no category or region. Grouped by EVENT_TYPE, each row counts one type in
// its column and leads (not events) are left out, as they are when the
// filter names an event type.
func (s *Store) MarketplaceMetrics(ctx context.Context, mq MetricsQuery) ([]*MetricRow, error) {
	var q query
	from, to := q.arg(mq.Period.From.Format(time.DateOnly)), q.arg(mq.Period.To.Format(time.DateOnly))
	days, weeks := "day >= "+from+"::date AND day < "+to+"::date", ""
	f := mq.Filter
	needSeller, needSegment, byDayOrMonth := f.SellerID != nil, f.Category != nil || f.Region != nil, false
	for _, d := range mq.GroupBy {
		needSeller = needSeller || d == DimensionSeller
		needSegment = needSegment || d == DimensionCategory || d == DimensionRegion
		byDayOrMonth = byDayOrMonth || d == DimensionDay || d == DimensionMonth
	}
	if wFrom, wTo := wholeWeeks(mq.Period); needSeller && !byDayOrMonth && wFrom.Before(wTo) {
		wf, wt := q.arg(wFrom.Format(time.DateOnly)), q.arg(wTo.Format(time.DateOnly))
		days = "(day >= " + from + "::date AND day < " + wf + "::date OR day >= " + wt + "::date AND day < " + to + "::date)"
		weeks = "week >= " + wf + "::date AND week < " + wt + "::date"
	}
	var sellerWhere, segmentWhere []string
	if f.SellerID != nil {
		sellerWhere = append(sellerWhere, "seller_id = "+q.arg(idOrNil(*f.SellerID))+"::uuid")
	}
	if f.Category != nil {
		segmentWhere = append(segmentWhere, "category = "+q.arg(*f.Category))
	}
	if f.Region != nil {
		segmentWhere = append(segmentWhere, "lower(region) = lower("+q.arg(*f.Region)+")")
	}
	// where is the condition on a rollup table's rows: in period (days or
	// weeks), of the seller and, for a table with segments, of the category
	// and region.
	where := func(period string, segment bool) string {
		conds := append([]string{period}, sellerWhere...)
		if segment {
			conds = append(conds, segmentWhere...)
		}
		return strings.Join(conds, " AND ")
	}
	const counts = `views, call_clicks, text_clicks, email_clicks, leads`
	var parts []string
	switch {
	case needSeller && needSegment: // the listings' rows, and the sellers' own when no segment is asked for
		parts = append(parts, `SELECT day, seller_id, category, region, `+counts+`
			FROM daily_listing_stats WHERE `+where(days, true))
		if f.Category == nil && f.Region == nil {
			parts = append(parts, `SELECT day, seller_id, NULL, NULL, `+counts+`
				FROM daily_seller_stats WHERE `+where(days, false))
		}
		if weeks != "" {
			parts = append(parts, `SELECT week, seller_id, category, region, `+counts+`
				FROM weekly_seller_segment_stats WHERE `+where(weeks, true))
		}
	case needSeller:
		parts = append(parts, `SELECT day, seller_id, NULL::text AS category, NULL::text AS region, `+counts+`
			FROM daily_seller_totals WHERE `+where(days, false))
		if weeks != "" {
			parts = append(parts, `SELECT week, seller_id, NULL, NULL, `+counts+`
				FROM weekly_seller_totals WHERE `+where(weeks, false))
		}
	default:
		parts = append(parts, `SELECT day, NULL::uuid AS seller_id, category, region, `+counts+`
			FROM daily_segment_stats WHERE `+where(days, true))
	}
	src := `(` + strings.Join(parts, ` UNION ALL `) + `) t`

	// Groups go by position: an output name such as day would mean the
	// input column in GROUP BY.
	var dims, group, names []string
	byType, timeName := f.EventType != nil, ""
	for _, d := range mq.GroupBy {
		switch d {
		case DimensionEventType:
			byType = true
			continue
		case DimensionDay, DimensionWeek, DimensionMonth:
			timeName = "day"
		}
		dims = append(dims, metricDimensionSQL[d])
		group = append(group, strconv.Itoa(len(dims)))
		names = append(names, metricDimensionName[d])
	}
	stmt := `SELECT ` + strings.Join(append(dims, `coalesce(sum(t.views), 0) AS views,
		coalesce(sum(t.call_clicks), 0) AS call_clicks, coalesce(sum(t.text_clicks), 0) AS text_clicks,
		coalesce(sum(t.email_clicks), 0) AS email_clicks, coalesce(sum(t.leads), 0) AS leads`), ", ") + ` FROM ` + src
	if len(group) > 0 {
		stmt += ` GROUP BY ` + strings.Join(group, ", ")
	}
	grouped := len(mq.GroupBy) > 0
	switch {
	case byType:
		// Each group's sums, one row per event type with that type's count
		// in its column; leads are no event.
		cols := make([]string, 0, len(names)+1)
		for _, n := range names {
			cols = append(cols, "g."+n)
		}
		cols = append(cols, "x.event_type, x.views, x.call_clicks, x.text_clicks, x.email_clicks, 0 AS leads")
		stmt = `SELECT ` + strings.Join(cols, ", ") + ` FROM (` + stmt + `) g
			CROSS JOIN LATERAL (VALUES ('LISTING_VIEW', g.views, 0, 0, 0), ('CALL_CLICK', 0, g.call_clicks, 0, 0),
				('TEXT_CLICK', 0, 0, g.text_clicks, 0), ('EMAIL_CLICK', 0, 0, 0, g.email_clicks))
			AS x (event_type, views, call_clicks, text_clicks, email_clicks)`
		var conds []string
		if f.EventType != nil {
			conds = append(conds, "x.event_type = "+q.arg(string(*f.EventType)))
		}
		if grouped {
			conds = append(conds, "x.views + x.call_clicks + x.text_clicks + x.email_clicks > 0")
		}
		if len(conds) > 0 {
			stmt += ` WHERE ` + strings.Join(conds, " AND ")
		}
		if slices.Contains(mq.GroupBy, DimensionEventType) {
			names = append(names, "event_type")
		}
	case grouped:
		// Groups with nothing to show (a listing's day with reports only)
		// are left out.
		stmt += ` HAVING sum(t.views + t.call_clicks + t.text_clicks + t.email_clicks + t.leads) > 0`
	}
	var order []string
	if timeName != "" {
		order = append(order, timeName)
	}
	order = append(order, "views DESC")
	for _, n := range names {
		if n != timeName {
			order = append(order, n+" NULLS LAST")
		}
	}
	stmt += ` ORDER BY ` + strings.Join(order, ", ") + ` LIMIT ` + q.arg(mq.Limit)
	rows := []*MetricRow{}
	if err := s.db.SelectContext(ctx, &rows, stmt, q.args...); err != nil {
		return nil, err
	}
	return rows, nil
}

// wholeWeeks returns the whole UTC weeks (Monday to Monday) within p as
// [from, to); from is not before to when p holds no whole week.
func wholeWeeks(p Period) (from, to time.Time) {
	from = p.From.AddDate(0, 0, (8-int(p.From.Weekday()))%7)
	to = p.To.AddDate(0, 0, -(int(p.To.Weekday())+6)%7)
	return from, to
}

// SearchTermsQuery is a searchTerms question, already checked: Limit is
// 1..10,000.
type SearchTermsQuery struct {
	From            time.Time
	To              *time.Time
	ZeroResultsOnly bool
	Limit           int
}

// SearchTerms returns the recorded public search terms (normalised, and
// redacted when they looked like an email or phone number) searched in the
// query's period, most searched first. With ZeroResultsOnly, only terms
// that found nothing at least once.
func (s *Store) SearchTerms(ctx context.Context, sq SearchTermsQuery) ([]*SearchTermStat, error) {
	var q query
	q.and("created_at >= " + q.arg(sq.From))
	if sq.To != nil {
		q.and("created_at < " + q.arg(*sq.To))
	}
	q.and("term <> ''")
	having := ""
	if sq.ZeroResultsOnly {
		having = ` HAVING count(*) FILTER (WHERE result_count = 0) > 0`
	}
	out := []*SearchTermStat{}
	err := s.db.SelectContext(ctx, &out, `SELECT term, count(*) AS count,
			count(*) FILTER (WHERE result_count = 0) AS zero_result_count, max(created_at) AS last_seen_at
		FROM search_queries`+q.sql()+` GROUP BY term`+having+`
		ORDER BY count DESC, term LIMIT `+q.arg(sq.Limit), q.args...)
	return out, err
}
