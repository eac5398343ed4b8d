package store

import (
	"context"
	"strconv"
	"sync/atomic"
)

// searchMatch is the SQL of a search, as where added it to a query: its
// term's placeholder, tsquery and rank ("" without a search).
type searchMatch struct {
	term, tsq, rank string
	// partNumber is the placeholder of the term as a part number when it
	// may be one (at least three letters and digits): matched as a prefix
	// word of the text, and ranked first when equal.
	partNumber string
	// unmatched is the question's WHERE clause without the search's match.
	unmatched string
	// filtered is set when anything narrows the search besides the
	// public's rule (a filter, or a scope that sees more).
	filtered bool
	// ordered is set when the database has the ordered search index
	// (orderedSearchIndex): the newest matches are then read in order
	// from it instead of sorted.
	ordered bool
}

// searchTsquery returns the SQL of a search's tsquery: the term as a web
// search in English and, when the term may be a part number (partNumber,
// the placeholder of its normalized form, not ""), every word of the text
// that starts with that normalized form. The text holds each listing's
// normalized part number as one word (migration 00001), so this finds the
// listings whose part number starts with the term inside the text's own
// index condition, which the ordered index needs (migration 00023).
func searchTsquery(term, partNumber string) string {
	tsq := "websearch_to_tsquery('english', " + term + ")"
	if partNumber == "" {
		return tsq
	}
	return "(" + tsq + " || to_tsquery('simple', " + partNumber + " || ':*'))"
}

// ranked reports whether a page in order k ranks the search's candidates.
func (m searchMatch) ranked(k keyset) bool { return m.rank != "" && k.name == "relevance" }

// newest returns the SQL of a search's newest searchCandidates matches
// among the listings matching cond (id and created_at, newest first).
// Without the ordered index PostgreSQL finds them in the newest-first
// index (a common term) or among all matches (a rarer one), as its
// estimate says. The ordered index reads every entry of the term's words
// before its first row, which costs more than the newest-first index
// for a term the planner knows to be common but less than fetching and
// sorting every match of a term it thinks rare and is not (words that
// always occur together): with it, a search whose planner estimate is
// under searchOrderedBelow reads the ordered index (distance of
// created_at below a date after every listing, so PostgreSQL stops after
// the LIMIT's rows; equal dates in the index's order), any other the
// newest-first way. Only the branch whose condition holds runs.
func (m searchMatch) newest(cond string) string {
	limit := ` LIMIT ` + strconv.Itoa(searchCandidates)
	plain := `SELECT l.id, l.created_at` + listingFrom + cond
	byDate := ` ORDER BY l.created_at DESC, l.id DESC` + limit
	if !m.ordered {
		return plain + byDate
	}
	below := strconv.Itoa(searchOrderedBelow)
	estimate := `(SELECT ` + m.estimate() + `)`
	return `(` + plain + ` AND ` + estimate + ` < ` + below + ` ORDER BY l.created_at <=| '9999-12-31'::timestamptz` + limit +
		`) UNION ALL (` + plain + ` AND ` + estimate + ` >= ` + below + byDate + `)`
}

// searchOrderedBelow is the planner's estimate of a search's matches under
// which it reads its newest matches from the ordered index (see newest).
const searchOrderedBelow = 5000

// candidates returns the WITH clause of the ids a search sorted by
// relevance ranks (c) among the listings matching cond (the question's
// WHERE clause): the newest searchCandidates (n), and as many whose part
// number is the term (any of them: the part-number index finds them
// without sorting), so that those come first however many listings
// mention the term. It also returns the count of the search: with fewer
// matches than searchCandidates they are all among the newest, counted
// already; otherwise, for a search without filters, the density estimate
// (densityEstimate) when it is above searchEstimateAbove, else total, the
// SQL of the search's count.
func (m searchMatch) candidates(cond, total string) (with, count string) {
	limit := ` LIMIT ` + strconv.Itoa(searchCandidates)
	with = `WITH n AS (` + m.newest(cond) + `), c AS (SELECT id FROM n`
	if m.partNumber != "" {
		equal := "l.part_number_norm = " + m.partNumber
		if m.unmatched == "" {
			equal = " WHERE " + equal
		} else {
			equal = m.unmatched + " AND " + equal
		}
		with += ` UNION SELECT id FROM (SELECT l.id` + listingFrom + equal + limit + `) p`
	}
	with += `) `
	if m.filtered {
		count = `(SELECT CASE WHEN k.n < ` + strconv.Itoa(searchCandidates) + ` THEN k.n ELSE ` + total + ` END FROM (SELECT count(*) AS n FROM n) k)`
		return with, count
	}
	count = `(SELECT CASE WHEN k.n < ` + strconv.Itoa(searchCandidates) + ` THEN k.n WHEN k.e > ` + strconv.Itoa(searchEstimateAbove) +
		` THEN k.e ELSE ` + m.counted(cond) + ` END FROM (SELECT n, ` + densityEstimate + ` AS e FROM (SELECT count(*) AS n, min(created_at) AS oldest FROM n) d) k)`
	return with, count
}

// densityEstimate is the SQL of a search's density estimate, over d (n:
// how many of its newest matches it read, searchCandidates; oldest: the
// oldest of them): listings_search_density (migration 00023), which counts
// at most the listings it needs to tell whether the estimate is above
// searchEstimateAbove. It is too high for a term whose listings are all
// recent, hence the margin of searchEstimateAbove over the exact limit.
var densityEstimate = `listings_search_density(d.n, d.oldest, ` + strconv.Itoa(searchEstimateAbove) + `)`

// total returns the SQL of a search's count of the listings matching cond
// (the question's WHERE clause): exact up to SearchCountLimit, and beyond
// it the larger of the count and the planner's estimate of the term's
// public matches (listings_search_estimate, migration 00023). A search
// without filters whose estimate is above searchEstimateAbove is not
// counted: the estimate is its count.
func (m searchMatch) total(cond string) string {
	if m.filtered {
		return m.counted(cond)
	}
	return `(SELECT CASE WHEN e.n > ` + strconv.Itoa(searchEstimateAbove) + ` THEN e.n ELSE ` + m.counted(cond) + ` END FROM (SELECT ` + m.estimate() + ` AS n) e)`
}

// estimate is the SQL of the planner's estimate of the search's public
// matches (listings_search_estimate, migration 00023).
func (m searchMatch) estimate() string { return `listings_search_estimate(` + m.tsq + `)` }

// counted is the SQL of a search's count of the listings matching cond:
// exact up to SearchCountLimit, and beyond it the larger of the count and
// the planner's estimate.
func (m searchMatch) counted(cond string) string {
	count := `(SELECT count(*) AS n FROM (SELECT` + listingFrom + cond + ` LIMIT ` + strconv.Itoa(SearchCountLimit+1) + `) m)`
	return `(SELECT CASE WHEN c.n <= ` + strconv.Itoa(SearchCountLimit) + ` THEN c.n ELSE greatest(c.n, ` + m.estimate() + `) END FROM ` + count + ` c)`
}

// orderedSearchIndex is the name of the ordered search index, a RUM index
// created by migration 00023 only where the rum extension exists.
const orderedSearchIndex = "listings_search_rum_idx"

// searchIndex remembers whether a store's database has the ordered search
// index, looked up at the first search: 0 not yet known, 1 absent, 2
// present. Adding the index later takes a restart to be used.
type searchIndex struct{ state atomic.Int32 }

// LookForSearchIndex finds out now whether the database has the ordered
// search index (done at start, so that no request pays the lookup); a
// failed lookup is left to the first search. It returns no error.
func (s *Store) LookForSearchIndex(ctx context.Context) { s.searchIndex.ordered(ctx, s.db) }

// ordered reports whether the database behind db has a valid ordered
// search index. A failed lookup counts as absent and is tried again at the
// next search.
func (x *searchIndex) ordered(ctx context.Context, db routedDB) bool {
	switch x.state.Load() {
	case 1:
		return false
	case 2:
		return true
	}
	var present bool
	err := db.GetContext(ctx, &present, `SELECT EXISTS (SELECT 1 FROM pg_index
		WHERE indexrelid = to_regclass($1) AND indisvalid)`, orderedSearchIndex)
	if err != nil {
		return false
	}
	if present {
		x.state.Store(2)
	} else {
		x.state.Store(1)
	}
	return present
}
