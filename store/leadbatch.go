package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/batch"
)

// Lead batches: CreateLead's concurrent calls are stored together, in one
// submit_leads() statement and one commit, and announced with one NOTIFY.
const (
	// maxLeadBatch bounds a batch; its announcement (ids of 36 characters
	// and commas) stays under NOTIFY's 8,000-byte payload.
	maxLeadBatch = 100
	// leadBatchSlots is how many batches run at once. With one, the leads
	// that arrive while a batch commits all go into the next: in three
	// alternating pairs of leadbench runs, 949, 1,030 and 1,053 leads/s
	// against 938, 937 and 1,033 with two.
	leadBatchSlots = 1
)

// sealedNewLead is a lead ready to store: its personal data sealed, its
// dedupe key computed.
type sealedNewLead struct {
	NewLead
	pii       []byte
	keyID     string
	emailBidx []byte
	dedupeKey []byte
}

// newLeadBatcher returns the batcher of s's CreateLead calls. It is bound
// to s as New made it, which copies made by WithAnalystPool share: a batch
// holds several requests' leads and always writes to the primary, whatever
// pool its first caller's context would pick.
func newLeadBatcher(s *Store) *batch.Batcher[sealedNewLead, string] {
	return batch.New(s.submitLeads, maxLeadBatch, leadBatchSlots)
}

// submitLeads stores a batch of leads in one statement, then announces the
// created ones (not SPAM) in one NOTIFY: their ids joined by commas. When
// the statement fails (an unknown seller or listing fails the whole batch)
// and the batch has more than one lead, each is stored on its own, so that
// only the bad one fails.
func (s *Store) submitLeads(ctx context.Context, leads []sealedNewLead) []batch.Result[string] {
	results := make([]batch.Result[string], len(leads))
	rows, err := s.insertLeads(ctx, leads)
	if err != nil {
		if len(leads) == 1 {
			results[0].Err = leadTargetError(err)
			return results
		}
		for i := range leads {
			results[i] = s.submitLeads(ctx, leads[i:i+1])[0]
		}
		return results
	}
	var announced []string
	for _, r := range rows {
		results[r.Ord-1].Value = r.ID
		if r.Created && leads[r.Ord-1].Status != LeadSpam {
			announced = append(announced, r.ID)
		}
	}
	if len(announced) > 0 {
		// Live inboxes hear of the leads after the commit: a NOTIFY inside
		// the transaction would hold PostgreSQL's global notify lock across
		// the commit's disk flush and serialise every batch. A NOTIFY that
		// fails (or a process that dies right here) loses nothing: the
		// leads are stored and the outbox mails them; only a live inbox
		// misses them until it reloads.
		_, _ = s.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, LeadReceivedChannel, strings.Join(announced, ","))
	}
	return results
}

// submittedLead is a row of submit_leads(): the lead at position Ord of
// the batch (1-based), its id (or its repeat's) and whether it was created.
type submittedLead struct {
	Ord     int    `db:"ord"`
	ID      string `db:"id"`
	Created bool   `db:"created"`
}

// insertLeads runs submit_leads() for leads.
func (s *Store) insertLeads(ctx context.Context, leads []sealedNewLead) ([]submittedLead, error) {
	n := len(leads)
	dedupeKeys, piis, bidxs := make(pq.ByteaArray, n), make(pq.ByteaArray, n), make(pq.ByteaArray, n)
	sellers, keyIDs, statuses := make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n)
	listings, locations, timelines, pages := make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n)
	for i, l := range leads {
		dedupeKeys[i], piis[i], bidxs[i] = l.dedupeKey, l.pii, l.emailBidx
		sellers[i], keyIDs[i], statuses[i] = l.SellerID, l.keyID, string(l.Status)
		listings[i], locations[i], timelines[i], pages[i] = nullString(l.ListingID), nullString(l.BuyerLocation),
			nullString(l.Timeline), nullString(l.SourcePage)
	}
	var rows []submittedLead
	err := s.db.SelectContext(ctx, &rows, `SELECT ord, id, created FROM submit_leads($1, $2::uuid[], $3::uuid[], $4, $5,
		$6, $7::text[], $8::text[], $9::text[], $10)`, dedupeKeys, sellers, pq.Array(listings), piis, keyIDs, bidxs,
		pq.Array(locations), pq.Array(timelines), pq.Array(pages), statuses)
	return rows, err
}
