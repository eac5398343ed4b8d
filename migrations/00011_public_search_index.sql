-- +goose Up
-- The public search (BENCHMARKS.md, issue 6) filters on the text, the
-- region of the listing's yard and the condition. With only the text in an
-- index, a popular term over a million listings sent PostgreSQL to some
-- 90,000 heap rows, most of them then dropped by the region and condition
-- filters: over a second per search. One GIN index over all three (btree_gin
-- lets GIN index the plain text columns) finds only the rows that match
-- them all.
--
-- The region lives on seller_locations, so listings keep a copy, lower-cased
-- as the filter compares it, which triggers keep up to date: a listing
-- takes its yard's region when it is stored or moved to another yard (a
-- deleted yard sets location_id to NULL and so the region too), and a yard
-- whose region changes passes it on to its listings.
CREATE EXTENSION IF NOT EXISTS btree_gin;

ALTER TABLE listings ADD COLUMN region text;

UPDATE listings l SET region = lower(sl.region)
FROM seller_locations sl WHERE sl.id = l.location_id;

-- +goose StatementBegin
CREATE FUNCTION listing_region() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.region := (SELECT lower(region) FROM seller_locations WHERE id = NEW.location_id);
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER listings_region BEFORE INSERT OR UPDATE OF location_id ON listings
    FOR EACH ROW EXECUTE FUNCTION listing_region();

-- +goose StatementBegin
CREATE FUNCTION location_region_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE listings SET region = lower(NEW.region) WHERE location_id = NEW.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER seller_locations_region AFTER UPDATE OF region ON seller_locations
    FOR EACH ROW WHEN (OLD.region IS DISTINCT FROM NEW.region) EXECUTE FUNCTION location_region_changed();

CREATE INDEX listings_public_search_idx ON listings USING gin (search, region, condition) WHERE status = 'ACTIVE';

-- A search also matches listings whose part number starts with the term;
-- this index answers that half of it with the same filters (a popular part
-- number has tens of thousands of listings, a few of them in one region
-- and condition).
CREATE INDEX listings_public_part_number_idx ON listings (part_number_norm text_pattern_ops, region, condition)
    WHERE status = 'ACTIVE';

-- A public listing is one whose seller is ACTIVE; the few sellers that are
-- not are found here, so searches drop their listings with a hashed anti
-- join instead of looking up the seller of every match.
CREATE INDEX sellers_hidden_idx ON sellers (id) WHERE status <> 'ACTIVE';

-- +goose Down
DROP INDEX sellers_hidden_idx;
DROP INDEX listings_public_part_number_idx;
DROP INDEX listings_public_search_idx;
DROP TRIGGER seller_locations_region ON seller_locations;
DROP FUNCTION location_region_changed();
DROP TRIGGER listings_region ON listings;
DROP FUNCTION listing_region();
ALTER TABLE listings DROP COLUMN region;
