-- What PostGraphile is pointed at in the side-by-side benchmark
-- (bench/compare/run.sh applies it to the benchmark database on every run;
-- it recreates its schema). The gateway's public-listing rule
-- (store/listings.go, publicListing): a listing is public when it is ACTIVE
-- and its seller is ACTIVE. PostGraphile exposes these functions as root
-- fields (visibleListings, visibleListingsInRegion, visibleListing) and as a
-- field of Seller (visibleListings), next to the tables of the schema public
-- for the relations (seller, media, contacts, locations). They are plain
-- SQL functions, STABLE, so PostgreSQL inlines them into PostGraphile's
-- query and uses the same indexes as the gateway.
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS postgraphile_bench CASCADE;
CREATE SCHEMA postgraphile_bench;

-- The public listings, newest first (the gateway's listing page).
CREATE OR REPLACE FUNCTION postgraphile_bench.visible_listings() RETURNS SETOF public.listings
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT l.* FROM public.listings l
    WHERE l.status = 'ACTIVE'
      AND NOT EXISTS (SELECT 1 FROM public.sellers s WHERE s.id = l.seller_id AND s.status <> 'ACTIVE')
    ORDER BY l.created_at DESC, l.id DESC
$$;

-- The public listings in a region, newest first (the gateway's filter
-- {region}: the listing's yard's region, compared lower-cased).
CREATE OR REPLACE FUNCTION postgraphile_bench.visible_listings_in_region(region text) RETURNS SETOF public.listings
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT l.* FROM public.listings l
    WHERE l.status = 'ACTIVE'
      AND NOT EXISTS (SELECT 1 FROM public.sellers s WHERE s.id = l.seller_id AND s.status <> 'ACTIVE')
      AND l.region = lower(visible_listings_in_region.region)
    ORDER BY l.created_at DESC, l.id DESC
$$;

-- One listing by id when it is public (the gateway's listing(id)).
CREATE OR REPLACE FUNCTION postgraphile_bench.visible_listing(id uuid) RETURNS public.listings
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT l.* FROM public.listings l
    WHERE l.id = visible_listing.id AND l.status = 'ACTIVE'
      AND NOT EXISTS (SELECT 1 FROM public.sellers s WHERE s.id = l.seller_id AND s.status <> 'ACTIVE')
$$;

-- A seller's public listings, newest first (the gateway's
-- Seller.listings for the public).
CREATE OR REPLACE FUNCTION postgraphile_bench.sellers_visible_listings(s public.sellers) RETURNS SETOF public.listings
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT l.* FROM public.listings l
    WHERE l.seller_id = s.id AND l.status = 'ACTIVE' AND s.status = 'ACTIVE'
    ORDER BY l.created_at DESC, l.id DESC
$$;
