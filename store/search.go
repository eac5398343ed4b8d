package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/lib/pq"
)

// SearchRecord is one public search: its (already redacted) term, the
// filters it ran with, how many listings it found, and when.
type SearchRecord struct {
	Term        string
	Filters     map[string]string
	ResultCount int
	SessionID   *string
	At          time.Time
}

// RecordSearches stores many searches in one statement.
func (s *Store) RecordSearches(ctx context.Context, recs []SearchRecord) error {
	if len(recs) == 0 {
		return nil
	}
	terms, filters, counts := make([]string, len(recs)), make([]string, len(recs)), make([]int64, len(recs))
	sessions, ats := make([]*string, len(recs)), make([]time.Time, len(recs))
	for i, r := range recs {
		fm := r.Filters
		if fm == nil {
			fm = map[string]string{}
		}
		f, err := json.Marshal(fm)
		if err != nil {
			return err
		}
		terms[i], filters[i], counts[i], sessions[i], ats[i] = r.Term, string(f), int64(r.ResultCount), r.SessionID, r.At
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO search_queries (term, filters, result_count, session_id, created_at)
		SELECT * FROM unnest($1::text[], $2::jsonb[], $3::int[], $4::text[], $5::timestamptz[])`,
		pq.Array(terms), pq.Array(filters), pq.Array(counts), pq.Array(sessions), pq.Array(ats))
	return err
}
