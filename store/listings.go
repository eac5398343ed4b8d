package store

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/tagcache"
)

// listingColumns are the columns of Listing, read from "listings l".
const listingColumns = `l.id, l.seller_id, l.location_id, l.title, l.description, l.part_number,
	l.sku, l.brand, l.category, l.condition, l.quantity, l.price_label, l.price_cents, l.currency,
	l.status, l.removal_reason, l.moderation_note, l.created_at, l.updated_at`

// listingFrom is where listings are read from.
const listingFrom = ` FROM listings l`

// ListingFilter narrows a list of listings. Empty strings count as unset.
type ListingFilter struct {
	SellerID  *string
	Category  *string
	Brand     *string
	Condition *ListingCondition
	Region    *string
	Status    []ListingStatus
}

// ListingQuery is a whole question about listings, without its page.
type ListingQuery struct {
	Scope  Scope
	Search string
	Filter ListingFilter
	// Sort defaults to RELEVANCE with a search and NEWEST without;
	// RELEVANCE without a search is NEWEST.
	Sort ListingSort
}

// listingRow is a listing with its cursor key and, for searches, the count
// of its matches (see searchMatch.total); a page that is not a search also
// reads the listing's seller (see withSellers).
type listingRow struct {
	Listing
	SortKey string `db:"sort_key"`
	Total   int    `db:"total"`
	// seller is the listing's seller, read by the page's own statement,
	// when sellerVisible says the caller may see it.
	seller        *Seller
	sellerVisible bool
}

// withSellers returns fields plus the destinations of the seller columns
// a page that is not a search reads with its listings (sellerColumns and
// whether the caller may see the seller).
func withSellers(fields func(*listingRow) []any) func(*listingRow) []any {
	return func(r *listingRow) []any {
		r.seller = new(Seller)
		return append(append(fields(r), r.seller.fields()...), &r.sellerVisible)
	}
}

// fields returns the destinations of a listing page's columns.
func (r *listingRow) fields() []any { return append(r.Listing.fields(), &r.SortKey) }

// countedFields returns the destinations of a counted listing page's columns.
func (r *listingRow) countedFields() []any { return append(r.fields(), &r.Total) }

// Listing returns the listing with id if scope may see it. ENOTFOUND
// otherwise, including for malformed ids.
func (s *Store) Listing(ctx context.Context, scope Scope, id string) (*Listing, error) {
	ls, err := s.ListingsByID(ctx, scope, []string{id})
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, NotFound("listing")
	}
	return ls[0], nil
}

// ListingsByID returns the listings among ids that scope may see, in no
// particular order.
func (s *Store) ListingsByID(ctx context.Context, scope Scope, ids []string) ([]*Listing, error) {
	ids = validIDs(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	var q query
	q.and("l.id = ANY(" + q.arg(pq.Array(ids)) + "::uuid[])")
	listingVisible(&q, scope)
	out, err := selectRows(ctx, s.db, (*Listing).fields, `SELECT `+listingColumns+listingFrom+q.sql(), q.args...)
	tagListings(ctx, ids, out)
	return out, err
}

// SearchCountLimit is how many matches a search counts exactly: beyond, its
// count is an estimate (Page.TotalExact false).
const SearchCountLimit = 10000

// searchCandidates is how many matches a search sorted by relevance ranks:
// its newest matches, and as many listings whose part number is the term.
// A common term matches a good part of the marketplace, and ranking every
// match reads and scores each of them; ranking a hundred costs the same
// whatever the term, and a search with fewer matches ranks them all. So a
// relevance-sorted search pages through these candidates only, while its
// count covers every match (BENCHMARKS.md, long-tail search).
const searchCandidates = 100

// searchEstimateAbove is the estimate of matches above which a search
// without filters does not count them but reports the estimate: counting
// reads every match up to the limit. Estimates err both ways; twice the
// limit keeps a search with fewer matches than the limit from reporting an
// estimate unless the estimate is more than twice too high, while one with
// somewhat more matches may count up to the limit first.
const searchEstimateAbove = 2 * SearchCountLimit

// Listings returns one page of the listings that match q, forwards or (with
// p.Last) backwards. A search also returns the count of its matches, exact
// up to SearchCountLimit; on a search, p.Last needs p.Before. The public's
// pages come from the search cache when it holds them (see searchcache.go).
func (s *Store) Listings(ctx context.Context, lq ListingQuery, p PageArgs) (Page[*Listing], error) {
	var q query
	m := lq.where(&q)
	if m.rank != "" && p.Last && p.Before == nil {
		return Page[*Listing]{}, Invalid("last", "needs before on a search")
	}
	if m.term != "" {
		m.ordered = s.searchIndex.ordered(ctx, s.db)
	}
	k := lq.keyset(m.rank)
	run, err := s.listingQuery(q, m, k, p, lq.Scope)
	if err != nil {
		return Page[*Listing]{}, err
	}
	key, cacheable := s.searches.key(lq, p)
	var rows []*listingRow
	var total *int
	// A response being made for the response cache waits for a fresh
	// answer (one request per cached response does; the others get the
	// stale response meanwhile); other callers use a stale one.
	if a, fresh, ok := s.searches.get(key, cacheable); ok && (fresh || tagcache.From(ctx) == nil) {
		if !fresh {
			s.searches.refresh(key, run)
		}
		rows, err = s.readAnswer(ctx, a)
		total = a.total
	} else {
		rows, total, err = s.searches.fill(ctx, key, cacheable, run)
	}
	if err != nil {
		return Page[*Listing]{}, err
	}
	tagListingList(ctx, lq, rows)
	out := unwrap(pageOf(k, rows, p, func(r *listingRow) (string, string) { return r.SortKey, r.ID }),
		func(r *listingRow) *Listing { return &r.Listing })
	out.Sellers = joinedSellers(rows)
	out.Total = total
	out.TotalExact = total == nil || *total <= SearchCountLimit
	return out, nil
}

// listingQuery builds the statement of a page of listings (q holding the
// question's conditions, m its search) and returns the function that runs
// it for up to p.Limit+1 rows and, for a search, the count of its matches.
// A search sorted by relevance ranks its candidates only (searchCandidates).
func (s *Store) listingQuery(q query, m searchMatch, k keyset, p PageArgs, scope Scope) (func(context.Context) ([]*listingRow, *int, error), error) {
	cond := q.sql()
	// The page's own conditions (its cursors) go after the question's, in
	// the page's WHERE clause only: the candidates and the count must not
	// see them.
	pg := query{args: q.args, where: q.where}
	with, from, total := "", listingFrom, ""
	if m.term != "" {
		total = m.total(cond)
	}
	if m.ranked(k) {
		pg.where = nil
		with, total = m.candidates(cond, total)
		from = ` FROM c JOIN listings l ON l.id = c.id`
	}
	order, err := k.window(&pg, p)
	if err != nil {
		return nil, err
	}
	cols := `SELECT ` + listingColumns + `, ` + k.keyText() + ` AS sort_key`
	fields := (*listingRow).fields
	if total != "" {
		cols += `, ` + total + ` AS total`
		fields = (*listingRow).countedFields
	}
	if m.term == "" {
		// A page that is not a search reads its listings' sellers in the
		// same statement (a listing has one, by primary key), with whether
		// the caller may see each: the Seller loader then has them.
		visible := query{args: pg.args}
		sellerVisible(&visible, scope)
		pg.args = visible.args
		cols += `, ` + sellerColumns + `, ` + visibleExpr(visible)
		from += ` JOIN sellers s ON s.id = l.seller_id`
		fields = withSellers(fields)
	}
	// A prepared page's limit is part of its text (at most 101 texts per
	// question's shape, and the statement cache is bounded): with the limit
	// a parameter, PostgreSQL's generic plan looks costlier than a custom
	// one, so it planned the statement again at every call.
	limit := ` LIMIT ` + strconv.Itoa(p.Limit+1)
	if m.term != "" {
		limit = ` LIMIT ` + pg.arg(p.Limit+1)
	}
	stmt := with + cols + from + pg.sql() + order + limit
	args, countArgs := pg.args, q.args
	paged := p.After != nil || p.Before != nil
	db := s.db
	if m.term != "" {
		// A search's plan depends on its term: a generic plan of a
		// prepared statement could read every listing.
		db = db.unprepared()
	}
	return func(ctx context.Context) ([]*listingRow, *int, error) {
		rows, err := selectRows(ctx, db, fields, stmt, args...)
		if err != nil || m.term == "" {
			return rows, nil, err
		}
		total := 0
		switch {
		case len(rows) > 0:
			total = rows[0].Total
		case paged:
			// A page past the last match has no row to carry the
			// count: only then does it take a statement of its own.
			err = s.db.GetContext(ctx, &total, `SELECT `+m.total(cond), countArgs...)
		}
		return rows, &total, err
	}, nil
}

// visibleExpr returns the SQL of q's conditions as one boolean column
// (true without conditions).
func visibleExpr(q query) string {
	if len(q.where) == 0 {
		return "true"
	}
	return "(" + strings.Join(q.where, " AND ") + ")"
}

// joinedSellers returns the distinct sellers that a page's statement read
// with its rows and that the caller may see.
func joinedSellers(rows []*listingRow) []*Seller {
	var out []*Seller
	seen := map[string]bool{}
	for _, r := range rows {
		if r.seller != nil && r.sellerVisible && !seen[r.seller.ID] {
			seen[r.seller.ID] = true
			out = append(out, r.seller)
		}
	}
	return out
}

// readAnswer reads the listings of a cached answer, in its order, leaving
// out those that are no longer public.
func (s *Store) readAnswer(ctx context.Context, a searchAnswer) ([]*listingRow, error) {
	listings, err := s.ListingsByID(ctx, Scope{}, a.ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*Listing, len(listings))
	for _, l := range listings {
		byID[l.ID] = l
	}
	rows := make([]*listingRow, 0, len(a.ids))
	for i, id := range a.ids {
		if l, ok := byID[id]; ok {
			rows = append(rows, &listingRow{Listing: *l, SortKey: a.sortKeys[i]})
		}
	}
	return rows, nil
}

// CountListings returns how many listings match q.
func (s *Store) CountListings(ctx context.Context, lq ListingQuery) (int, error) {
	var q query
	lq.where(&q)
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*)`+listingFrom+q.sql(), q.args...)
	tagcache.From(ctx).Add(listMembership(lq))
	return n, err
}

// where adds q's conditions and returns its search.
func (lq ListingQuery) where(q *query) searchMatch {
	listingVisible(q, lq.Scope)
	f := lq.Filter
	m := searchMatch{filtered: lq.Scope != (Scope{})}
	narrow := func(cond string) {
		q.and(cond)
		m.filtered = true
	}
	if v, ok := text(f.SellerID); ok {
		narrow("l.seller_id = " + q.arg(idOrNil(v)) + "::uuid")
	}
	if v, ok := text(f.Category); ok {
		narrow("l.category = " + q.arg(v))
	}
	if v, ok := text(f.Brand); ok {
		narrow("lower(l.brand) = lower(" + q.arg(v) + ")")
	}
	if f.Condition != nil {
		narrow("l.condition = " + q.arg(string(*f.Condition)))
	}
	if v, ok := text(f.Region); ok {
		// l.region is the yard's region, lower-cased (migration 00011).
		narrow("l.region = lower(" + q.arg(v) + ")")
	}
	if len(f.Status) > 0 {
		narrow("l.status = ANY(" + q.arg(pq.Array(f.Status)) + "::text[])")
	}
	term := strings.TrimSpace(lq.Search)
	if term == "" {
		return m
	}
	m.unmatched = q.sql()
	m.term = q.arg(term)
	exact := "0"
	if norm := NormalizePartNumber(term); len(norm) >= 3 {
		m.partNumber = q.arg(norm)
		exact = "CASE WHEN l.part_number_norm = " + m.partNumber + " THEN 1 ELSE 0 END"
	}
	m.tsq = searchTsquery(m.term, m.partNumber)
	q.and("l.search @@ " + m.tsq)
	m.rank = "(ts_rank_cd(l.search, " + m.tsq + ", 32) + " + exact + ")::real"
	return m
}

// keyset returns the ordering of q.
func (lq ListingQuery) keyset(rank string) keyset {
	switch {
	case lq.Sort == SortPriceAsc:
		return keyset{name: "price_asc", key: "coalesce(l.price_cents, 9223372036854775807)", cast: "bigint", id: "l.id"}
	case lq.Sort == SortPriceDesc:
		return keyset{name: "price_desc", key: "coalesce(l.price_cents, -1)", cast: "bigint", id: "l.id", desc: true}
	case rank != "" && (lq.Sort == "" || lq.Sort == SortRelevance):
		return keyset{name: "relevance", key: rank, cast: "real", id: "l.id", desc: true}
	default:
		return keyset{name: "newest", key: "l.created_at", cast: "timestamptz", id: "l.id", desc: true}
	}
}

// listingVisible keeps the listings scope may see: public ones (ACTIVE, of
// an ACTIVE seller), a seller's own, or all.
func listingVisible(q *query, scope Scope) {
	switch {
	case scope.All:
	case scope.SellerID != "":
		q.and("(l.seller_id = " + q.arg(idOrNil(scope.SellerID)) + "::uuid OR (" + publicListing + "))")
	default:
		q.and(publicListing)
	}
}

// publicListing is true of a public listing of "listings l". Its seller's
// status is asked the other way round, whether it is one of the few sellers
// that are not ACTIVE (sellers_hidden_idx), so that PostgreSQL drops their
// listings with one hashed anti join instead of reading the seller of every
// match.
const publicListing = `l.status = 'ACTIVE' AND NOT EXISTS (SELECT 1 FROM sellers s WHERE s.id = l.seller_id AND s.status <> 'ACTIVE')`

var partNumberJunk = regexp.MustCompile(`[^a-z0-9]+`)

// NormalizePartNumber keeps the lower-case letters and digits of a part
// number, as the database's normalize_part_number does.
func NormalizePartNumber(s string) string {
	return partNumberJunk.ReplaceAllString(strings.ToLower(s), "")
}

// text returns the value of an optional string, treating "" as unset.
func text(p *string) (string, bool) {
	if p == nil || *p == "" {
		return "", false
	}
	return *p, true
}

// idOrNil returns id when it is well-formed and nil otherwise, so a
// malformed id in a filter matches no row instead of failing the query.
func idOrNil(id string) any {
	if ValidID(id) {
		return id
	}
	return nil
}

// ListingText are the optional text fields of a new or changed listing.
type ListingText struct {
	Description *string
	PartNumber  *string
	SKU         *string
	Brand       *string
	Category    *string
	PriceLabel  *string
	Currency    *string
	LocationID  *string
}

// NewListing is what a new listing is made of.
type NewListing struct {
	ListingText
	SellerID   string
	Title      string
	Condition  ListingCondition
	Quantity   *int
	PriceCents *int
	Status     ListingStatus
}

// CreateListing stores a new listing and audits it ("listing.create"). Its
// location defaults to the seller's first. EINVALID when the SKU is taken or
// the location is not the seller's.
func (s *Store) CreateListing(ctx context.Context, n NewListing) (*Listing, error) {
	if !ValidID(n.SellerID) {
		return nil, NotFound("seller")
	}
	if n.LocationID != nil && !ValidID(*n.LocationID) {
		return nil, Invalid("locationId", "not a location of this seller")
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := lockActingSeller(ctx, tx, sellerItself, n.SellerID); err != nil {
		return nil, err
	}
	var l Listing
	err = tx.GetContext(ctx, &l, `
		INSERT INTO listings AS l (seller_id, location_id, title, description, part_number, sku, brand,
			category, condition, quantity, price_label, price_cents, currency, status)
		SELECT $1, coalesce($2::uuid, (SELECT id FROM seller_locations WHERE seller_id = $1 ORDER BY position, created_at LIMIT 1)),
			$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14
		WHERE $2::uuid IS NULL OR EXISTS (SELECT 1 FROM seller_locations WHERE id = $2 AND seller_id = $1)
		RETURNING `+listingColumns,
		n.SellerID, n.LocationID, n.Title, n.Description, n.PartNumber, n.SKU, n.Brand,
		n.Category, n.Condition, n.Quantity, n.PriceLabel, n.PriceCents, n.Currency, n.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Invalid("locationId", "not a location of this seller")
	}
	if err != nil {
		return nil, listingConflict(err)
	}
	e := AuditEntry{Action: "listing.create", TargetType: "listing", TargetID: l.ID, Changes: diff(nil, listingAudit(&l))}
	if err := s.Audit(ctx, tx, e); err != nil {
		return nil, err
	}
	return &l, s.commitPublic(ctx, tx, listingWrite(l.ID, l.SellerID, l.Status)...)
}

// ListingChanges are the fields of a listing to change; nil leaves a field
// as it is, and an empty string clears an optional text field.
type ListingChanges struct {
	ListingText
	Title      *string
	Condition  *ListingCondition
	Quantity   *int
	PriceCents *int
}

// UpdateListing changes the given fields of listing id and audits the change
// ("listing.update"). ENOTFOUND when it does not exist; EINVALID when the SKU
// is taken or the location is not the seller's.
func (s *Store) UpdateListing(ctx context.Context, id string, c ListingChanges) (*Listing, error) {
	if !ValidID(id) {
		return nil, NotFound("listing")
	}
	var q query
	var sets []string
	set := func(col string, v any) { sets = append(sets, col+" = "+q.arg(v)) }
	setText := func(col string, v *string) {
		if v != nil {
			set(col, nullIfEmpty(*v))
		}
	}
	if c.Title != nil {
		set("title", *c.Title)
	}
	setText("description", c.Description)
	setText("part_number", c.PartNumber)
	setText("sku", c.SKU)
	setText("brand", c.Brand)
	setText("category", c.Category)
	setText("price_label", c.PriceLabel)
	setText("currency", c.Currency)
	if c.Condition != nil {
		set("condition", string(*c.Condition))
	}
	if c.Quantity != nil {
		set("quantity", *c.Quantity)
	}
	if c.PriceCents != nil {
		set("price_cents", *c.PriceCents)
	}
	location := "NULL"
	if c.LocationID != nil {
		if *c.LocationID != "" && !ValidID(*c.LocationID) {
			return nil, Invalid("locationId", "not a location of this seller")
		}
		location = q.arg(idOrNil(*c.LocationID)) + "::uuid"
		sets = append(sets, "location_id = "+location)
	}
	sets = append(sets, "updated_at = now()")
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := lockActingSeller(ctx, tx, sellerOfListing, id); err != nil {
		return nil, err
	}
	before, err := lockListing(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	var l Listing
	err = tx.GetContext(ctx, &l, `UPDATE listings l SET `+strings.Join(sets, ", ")+`
		WHERE l.id = `+q.arg(id)+` AND (`+location+` IS NULL OR EXISTS (
			SELECT 1 FROM seller_locations WHERE id = `+location+` AND seller_id = l.seller_id))
		RETURNING `+listingColumns, q.args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Invalid("locationId", "not a location of this seller")
	}
	if err != nil {
		return nil, listingConflict(err)
	}
	e := AuditEntry{Action: "listing.update", TargetType: "listing", TargetID: id, Changes: diff(listingAudit(before), listingAudit(&l))}
	if err := s.Audit(ctx, tx, e); err != nil {
		return nil, err
	}
	return &l, s.commitPublic(ctx, tx, listingWrite(l.ID, l.SellerID, l.Status)...)
}

// lockListing reads listing id and locks it for the rest of tx; ENOTFOUND
// when there is no such listing.
func lockListing(ctx context.Context, tx *sqlx.Tx, id string) (*Listing, error) {
	var l Listing
	err := tx.GetContext(ctx, &l, `SELECT `+listingColumns+` FROM listings l WHERE l.id = $1 FOR UPDATE`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("listing")
	}
	return &l, err
}

// StatusRule decides whether a row may move from one status to another,
// returning the refusal (a *Error) or nil. Methods that take one ask it about
// the row they have locked, in the transaction that changes it, so that the
// move it allows is the move made, whatever runs concurrently.
type StatusRule[S ~string] func(from, to S) error

// SetListingStatus sets listing id's status and audits it ("listing.status"),
// once rule (unless nil) allows the move from the locked row's status.
// Setting REMOVED keeps the listing's removal reason; any other status clears
// it. ENOTFOUND when the listing does not exist.
func (s *Store) SetListingStatus(ctx context.Context, id string, status ListingStatus, rule StatusRule[ListingStatus]) (*Listing, error) {
	return s.setListingStatus(ctx, "listing.status", id, status, nil, rule)
}

// RemoveListing sets listing id REMOVED with reason, which its seller sees,
// and audits it ("listing.remove"). ENOTFOUND when the listing does not
// exist.
func (s *Store) RemoveListing(ctx context.Context, id, reason string) (*Listing, error) {
	return s.setListingStatus(ctx, "listing.remove", id, ListingRemoved, &reason, nil)
}

// setListingStatus is SetListingStatus audited as action, with reason (when
// not nil) as the removal reason of a REMOVED listing.
func (s *Store) setListingStatus(ctx context.Context, action, id string, status ListingStatus, reason *string, rule StatusRule[ListingStatus]) (*Listing, error) {
	if !ValidID(id) {
		return nil, NotFound("listing")
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := lockActingSeller(ctx, tx, sellerOfListing, id); err != nil {
		return nil, err
	}
	before, err := lockListing(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if rule != nil {
		if err := rule(before.Status, status); err != nil {
			return nil, err
		}
	}
	var l Listing
	err = tx.GetContext(ctx, &l, `UPDATE listings l
		SET status = $2, removal_reason = CASE WHEN $2 = 'REMOVED' THEN coalesce($3, l.removal_reason) END, updated_at = now()
		WHERE l.id = $1 RETURNING `+listingColumns, id, status, reason)
	if err != nil {
		return nil, err
	}
	e := AuditEntry{Action: action, TargetType: "listing", TargetID: id, Changes: diff(listingAudit(before), listingAudit(&l))}
	if err := s.Audit(ctx, tx, e); err != nil {
		return nil, err
	}
	return &l, s.commitPublic(ctx, tx, listingWrite(l.ID, l.SellerID, l.Status)...)
}

// listingConflict turns the duplicate-SKU violation into EINVALID on "sku".
func listingConflict(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Constraint == "listings_seller_sku_key" {
		return Invalid("sku", "another listing of this seller has this SKU")
	}
	if errors.As(err, &pqErr) && pqErr.Constraint == "listings_seller_id_fkey" {
		return NotFound("seller")
	}
	return err
}

// nullIfEmpty returns nil for "" and s otherwise.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
