-- +goose Up
-- The listing search (store/listings.go) looked its terms up in a GIN index
-- over (search, status, region, condition). Every public search asks for
-- status = 'ACTIVE', which GIN answers by reading the posting list of
-- 'ACTIVE': nearly every listing, before it found a single match, even for
-- a part number listed a few times (BENCHMARKS.md, long-tail search).
-- Without status the index finds the matches of the term (and of the
-- region and condition filters) only; the few that are not ACTIVE are
-- dropped with the seller check on the rows read anyway. Fewer keys per
-- row also make the index cheaper to keep up to date.
DROP INDEX listings_search_idx;
CREATE INDEX listings_search_idx ON listings USING gin (search, region, condition);

-- listings_search_estimate returns the planner's estimate of the ACTIVE
-- listings whose text matches q or whose part number starts with
-- part_number (NULL: none does), as a search matches them: what a search
-- reports as its count when it has more matches than it counts exactly
-- (store.SearchCountLimit): planning the query reads no rows, counting
-- reads every match. VOLATILE because PostgreSQL runs EXPLAIN only there.
-- +goose StatementBegin
CREATE FUNCTION listings_search_estimate(q tsquery, part_number text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT FROM listings l WHERE l.status = ''ACTIVE''
        AND (l.search @@ $1 OR l.part_number_norm LIKE $2 || ''%'')'
        INTO plan USING q, part_number;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION listings_search_estimate(tsquery, text);
DROP INDEX listings_search_idx;
CREATE INDEX listings_search_idx ON listings USING gin (search, status, region, condition);
