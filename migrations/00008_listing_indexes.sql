-- +goose Up

-- listings_brand_idx served no query: the brand filter of a listing search
-- compares lower(l.brand) = lower($1) (store/listings.go), which an index on
-- brand cannot answer, so such searches walk listings_public_newest_idx
-- with or without it. Keeping it up to date cost about 12 % of the
-- database's CPU time per imported listing (BENCHMARKS.md, inventory
-- import).
DROP INDEX listings_brand_idx;

-- +goose Down
CREATE INDEX listings_brand_idx ON listings (brand) WHERE status = 'ACTIVE';
