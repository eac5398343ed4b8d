-- +goose Up
-- A public search sorted by relevance ranks its newest matches (store,
-- searchCandidates). The GIN index finds every match of a term, so the
-- newest hundred of a common term come from reading and sorting all of its
-- matches: tens of thousands of rows for the head of the search
-- distribution. The RUM index access method (extension rum, Debian package
-- postgresql-15-rum) can keep each term's posting list in the order of an
-- attached column and return matches in that order, so a search reads its
-- newest matches and stops (ORDER BY created_at <=| <far future> LIMIT n).
--
-- rum is not a trusted extension: the migration owner cannot create it.
-- An operator creates it as a superuser before migrating (scripts/db.sh
-- does so for development and tests; README, "Search index"). Without it
-- this migration creates nothing and the gateway searches with the GIN
-- index, slower for common terms. The store looks for this index by name
-- (store/searchsql.go).
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'rum') THEN
        EXECUTE 'CREATE INDEX IF NOT EXISTS listings_search_rum_idx ON listings
            USING rum (search rum_tsvector_addon_ops, created_at)
            WITH (attach = ''created_at'', to = ''search'', order_by_attach = ''t'')
            WHERE status = ''ACTIVE''';
    END IF;
END
$$;
-- +goose StatementEnd

-- A search matched listings whose text matches its term or whose part
-- number starts with it (LIKE on part_number_norm, migration 00017). The
-- text already holds the normalized part number as one word ('simple'
-- configuration, migration 00001), so a prefix word in the query
-- (to_tsquery('simple', '<part number>:*')) finds the same listings and
-- keeps the whole match in one index condition, which an ordered scan
-- needs. The estimate follows the new condition.
DROP FUNCTION listings_search_estimate(tsquery, text);

-- listings_search_estimate returns the planner's estimate of the ACTIVE
-- listings whose text matches q: what a search reports as its count when
-- the estimate shows that it has far more matches than it counts exactly.
-- VOLATILE because PostgreSQL runs EXPLAIN only there.
-- +goose StatementBegin
CREATE FUNCTION listings_search_estimate(q tsquery) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT FROM listings l WHERE l.status = ''ACTIVE'' AND l.search @@ $1'
        INTO plan USING q;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END
$$;
-- +goose StatementEnd

-- listings_search_density estimates how many public listings a search
-- matches from its newest matches, which a search sorted by relevance reads
-- anyway: n of them, the oldest created at oldest, are n of the ACTIVE
-- listings created since oldest, so the search matches that share of all
-- ACTIVE listings (the planner's count of them). The listings since oldest
-- are counted in the newest-first index, but only as far as it takes to
-- tell whether the estimate is above above (a sparser search's estimate
-- comes out at most above). This holds for words that always occur
-- together (a brand and its models), where the planner's estimate of the
-- text match is far too low (store, searchMatch.candidates).
-- +goose StatementBegin
CREATE FUNCTION listings_search_density(n bigint, oldest timestamptz, above bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    plan json;
    active bigint;
    newer bigint;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT FROM listings l WHERE l.status = ''ACTIVE''' INTO plan;
    active := (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
    SELECT count(*) INTO newer FROM (SELECT FROM listings l WHERE l.status = 'ACTIVE' AND l.created_at >= oldest
        LIMIT n * active / greatest(above, 1) + 1) s;
    RETURN n * active / greatest(newer, n, 1);
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION listings_search_density(bigint, timestamptz, bigint);
DROP FUNCTION listings_search_estimate(tsquery);
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
DROP INDEX IF EXISTS listings_search_rum_idx;
