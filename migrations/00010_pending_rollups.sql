-- +goose Up
-- Leads and reports used to reach the daily rollups inside their own
-- transaction (00007's triggers called add_rollups), so every lead of a
-- listing, seller or segment on one day locked the same rollup rows until
-- it committed: concurrent leads queued behind each other (221 leads/s on
-- two cores, against 520 before the rollups). The triggers now only append
-- to pending_rollups, which no two transactions contend for, and
-- fold_pending_rollups(), run by every gateway after each event flush (at
-- most EVENT_FLUSH_INTERVAL later), moves the counts into the rollups.
CREATE TABLE pending_rollups (
    id         bigserial PRIMARY KEY,
    day        date   NOT NULL,
    listing_id uuid,
    seller_id  uuid   NOT NULL,
    category   text,
    region     text,
    leads      bigint NOT NULL DEFAULT 0,
    reports    bigint NOT NULL DEFAULT 0
);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rollup_leads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pending_rollups (day, listing_id, seller_id, category, region, leads)
    SELECT (n.created_at AT TIME ZONE 'UTC')::date, k.listing_id, n.seller_id, k.category, k.region, 1
    FROM new_rows n LEFT JOIN listing_rollup_keys k ON k.listing_id = n.listing_id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rollup_reports() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pending_rollups (day, listing_id, seller_id, category, region, reports)
    SELECT (n.created_at AT TIME ZONE 'UTC')::date, k.listing_id, k.seller_id, k.category, k.region, 1
    FROM new_rows n JOIN listing_rollup_keys k ON k.listing_id = n.listing_id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- fold_pending_rollups moves every pending count into the rollups, in one
-- statement; gateways running it at once each move different rows.
-- +goose StatementBegin
CREATE FUNCTION fold_pending_rollups() RETURNS void LANGUAGE sql AS $$
WITH moved AS (
    DELETE FROM pending_rollups RETURNING day, listing_id, seller_id, category, region, leads, reports
), g AS (
    SELECT day, listing_id, seller_id, max(category) AS category, max(region) AS region,
        sum(leads)::bigint AS leads, sum(reports)::bigint AS reports
    FROM moved GROUP BY day, listing_id, seller_id
)
SELECT add_rollups(array_agg(day), array_agg(listing_id), array_agg(seller_id), array_agg(category),
    array_agg(region), array_agg(0::bigint), array_agg(0::bigint), array_agg(0::bigint), array_agg(0::bigint),
    array_agg(leads), array_agg(reports))
FROM g HAVING count(*) > 0;
$$;
-- +goose StatementEnd

-- +goose Down
SELECT fold_pending_rollups();
DROP FUNCTION fold_pending_rollups();

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rollup_leads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM add_rollups(array_agg(day), array_agg(listing_id), array_agg(seller_id), array_agg(category),
        array_agg(region), array_agg(0::bigint), array_agg(0::bigint), array_agg(0::bigint), array_agg(0::bigint),
        array_agg(1::bigint), array_agg(0::bigint))
    FROM (SELECT (n.created_at AT TIME ZONE 'UTC')::date AS day, k.listing_id, n.seller_id, k.category, k.region
          FROM new_rows n LEFT JOIN listing_rollup_keys k ON k.listing_id = n.listing_id) r
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rollup_reports() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM add_rollups(array_agg(day), array_agg(listing_id), array_agg(seller_id), array_agg(category),
        array_agg(region), array_agg(0::bigint), array_agg(0::bigint), array_agg(0::bigint), array_agg(0::bigint),
        array_agg(0::bigint), array_agg(1::bigint))
    FROM (SELECT (n.created_at AT TIME ZONE 'UTC')::date AS day, k.listing_id, k.seller_id, k.category, k.region
          FROM new_rows n JOIN listing_rollup_keys k ON k.listing_id = n.listing_id) r
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

DROP TABLE pending_rollups;
