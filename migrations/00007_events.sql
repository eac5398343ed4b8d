-- +goose Up

-- events holds every raw event recordEvent and POST /events accept: a listing
-- view or a click on a contact channel. The client IP is kept only as a keyed
-- hash. There are no foreign keys, so batches are copied in without a lookup
-- per row (the gateway checks the listing or seller before it accepts an
-- event); `gateway retention run` deletes rows older than
-- EVENT_RETENTION_DAYS by created_at.
CREATE TABLE events (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type        text NOT NULL CHECK (type IN ('LISTING_VIEW', 'CALL_CLICK', 'TEXT_CLICK', 'EMAIL_CLICK')),
    listing_id  uuid,
    seller_id   uuid NOT NULL,
    session_id  text,
    source_page text,
    user_agent  text,
    ip_hash     text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Newest first (the events query) and retention by created_at.
CREATE INDEX events_newest_idx ON events (created_at DESC, id DESC);
CREATE INDEX events_listing_idx ON events (listing_id, created_at DESC, id DESC) WHERE listing_id IS NOT NULL;
CREATE INDEX events_seller_idx ON events (seller_id, created_at DESC, id DESC);

-- daily_listing_stats is the daily rollup per listing (UTC days): events of
-- the listing, leads about it and reports about it. category and region are
-- the listing's when the row was last counted.
CREATE TABLE daily_listing_stats (
    day          date   NOT NULL,
    listing_id   uuid   NOT NULL,
    seller_id    uuid   NOT NULL,
    category     text,
    region       text,
    views        bigint NOT NULL DEFAULT 0,
    call_clicks  bigint NOT NULL DEFAULT 0,
    text_clicks  bigint NOT NULL DEFAULT 0,
    email_clicks bigint NOT NULL DEFAULT 0,
    leads        bigint NOT NULL DEFAULT 0,
    reports      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, listing_id)
);
CREATE INDEX daily_listing_stats_listing_idx ON daily_listing_stats (listing_id, day);
CREATE INDEX daily_listing_stats_seller_idx ON daily_listing_stats (seller_id, day);
-- marketplaceMetrics by seller within one category or region.
CREATE INDEX daily_listing_stats_category_idx ON daily_listing_stats (category, day);
CREATE INDEX daily_listing_stats_region_idx ON daily_listing_stats (lower(region), day);

-- daily_seller_stats is the daily rollup of what concerns a seller without a
-- listing: events recorded with a seller only and leads without a listing.
-- A seller's totals are its listings' rows plus its row here.
CREATE TABLE daily_seller_stats (
    day          date   NOT NULL,
    seller_id    uuid   NOT NULL,
    views        bigint NOT NULL DEFAULT 0,
    call_clicks  bigint NOT NULL DEFAULT 0,
    text_clicks  bigint NOT NULL DEFAULT 0,
    email_clicks bigint NOT NULL DEFAULT 0,
    leads        bigint NOT NULL DEFAULT 0,
    reports      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, seller_id)
);
CREATE INDEX daily_seller_stats_seller_idx ON daily_seller_stats (seller_id, day);

-- daily_seller_totals and daily_segment_stats are coarser rollups of the
-- same counts, so that marketplace-wide metrics read thousands of rows, not
-- millions: per seller and day (its listings' rows and its own), and per
-- category, region and day (every row; seller-level counts under a NULL
-- category and region). marketplaceMetrics reads the smallest rollup that
-- has the dimensions a question needs.
CREATE TABLE daily_seller_totals (
    day          date   NOT NULL,
    seller_id    uuid   NOT NULL,
    views        bigint NOT NULL DEFAULT 0,
    call_clicks  bigint NOT NULL DEFAULT 0,
    text_clicks  bigint NOT NULL DEFAULT 0,
    email_clicks bigint NOT NULL DEFAULT 0,
    leads        bigint NOT NULL DEFAULT 0,
    reports      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, seller_id)
);
CREATE INDEX daily_seller_totals_seller_idx ON daily_seller_totals (seller_id, day);

CREATE TABLE daily_segment_stats (
    day          date   NOT NULL,
    category     text,
    region       text,
    views        bigint NOT NULL DEFAULT 0,
    call_clicks  bigint NOT NULL DEFAULT 0,
    text_clicks  bigint NOT NULL DEFAULT 0,
    email_clicks bigint NOT NULL DEFAULT 0,
    leads        bigint NOT NULL DEFAULT 0,
    reports      bigint NOT NULL DEFAULT 0,
    CONSTRAINT daily_segment_stats_key UNIQUE NULLS NOT DISTINCT (day, category, region)
);

-- listing_rollup_keys gives the dimensions a listing's rollup rows carry.
CREATE VIEW listing_rollup_keys AS
SELECT l.id AS listing_id, l.seller_id, l.category, sl.region
FROM listings l
LEFT JOIN seller_locations sl ON sl.id = l.location_id;

-- add_rollups adds counts to every rollup table in one statement: row i
-- counts for listing_ids[i] (NULL: the seller itself) of seller_ids[i] on
-- days[i]. The event flush and the lead and report triggers all call it, so
-- the tables cannot disagree. Rows are added in key order, so concurrent
-- callers lock them in the same order.
-- +goose StatementBegin
CREATE FUNCTION add_rollups(days date[], listing_ids uuid[], seller_ids uuid[], categories text[], regions text[],
    views bigint[], call_clicks bigint[], text_clicks bigint[], email_clicks bigint[], leads bigint[], reports bigint[])
RETURNS void LANGUAGE sql AS $$
WITH b AS (
    SELECT * FROM unnest(days, listing_ids, seller_ids, categories, regions, views, call_clicks, text_clicks,
        email_clicks, leads, reports) AS b (day, listing_id, seller_id, category, region, views, call_clicks,
        text_clicks, email_clicks, leads, reports)
), l AS (
    INSERT INTO daily_listing_stats AS d (day, listing_id, seller_id, category, region, views, call_clicks,
        text_clicks, email_clicks, leads, reports)
    SELECT day, listing_id, min(seller_id::text)::uuid, max(category), max(region), sum(views), sum(call_clicks),
        sum(text_clicks), sum(email_clicks), sum(leads), sum(reports)
    FROM b WHERE listing_id IS NOT NULL GROUP BY day, listing_id ORDER BY day, listing_id
    ON CONFLICT (day, listing_id) DO UPDATE SET category = EXCLUDED.category, region = EXCLUDED.region,
        views = d.views + EXCLUDED.views, call_clicks = d.call_clicks + EXCLUDED.call_clicks,
        text_clicks = d.text_clicks + EXCLUDED.text_clicks, email_clicks = d.email_clicks + EXCLUDED.email_clicks,
        leads = d.leads + EXCLUDED.leads, reports = d.reports + EXCLUDED.reports
), s AS (
    INSERT INTO daily_seller_stats AS d (day, seller_id, views, call_clicks, text_clicks, email_clicks, leads, reports)
    SELECT day, seller_id, sum(views), sum(call_clicks), sum(text_clicks), sum(email_clicks), sum(leads), sum(reports)
    FROM b WHERE listing_id IS NULL GROUP BY day, seller_id ORDER BY day, seller_id
    ON CONFLICT (day, seller_id) DO UPDATE SET
        views = d.views + EXCLUDED.views, call_clicks = d.call_clicks + EXCLUDED.call_clicks,
        text_clicks = d.text_clicks + EXCLUDED.text_clicks, email_clicks = d.email_clicks + EXCLUDED.email_clicks,
        leads = d.leads + EXCLUDED.leads, reports = d.reports + EXCLUDED.reports
), t AS (
    INSERT INTO daily_seller_totals AS d (day, seller_id, views, call_clicks, text_clicks, email_clicks, leads, reports)
    SELECT day, seller_id, sum(views), sum(call_clicks), sum(text_clicks), sum(email_clicks), sum(leads), sum(reports)
    FROM b GROUP BY day, seller_id ORDER BY day, seller_id
    ON CONFLICT (day, seller_id) DO UPDATE SET
        views = d.views + EXCLUDED.views, call_clicks = d.call_clicks + EXCLUDED.call_clicks,
        text_clicks = d.text_clicks + EXCLUDED.text_clicks, email_clicks = d.email_clicks + EXCLUDED.email_clicks,
        leads = d.leads + EXCLUDED.leads, reports = d.reports + EXCLUDED.reports
)
INSERT INTO daily_segment_stats AS d (day, category, region, views, call_clicks, text_clicks, email_clicks, leads, reports)
SELECT day, category, region, sum(views), sum(call_clicks), sum(text_clicks), sum(email_clicks), sum(leads), sum(reports)
FROM b GROUP BY day, category, region ORDER BY day, category, region
ON CONFLICT (day, category, region) DO UPDATE SET
    views = d.views + EXCLUDED.views, call_clicks = d.call_clicks + EXCLUDED.call_clicks,
    text_clicks = d.text_clicks + EXCLUDED.text_clicks, email_clicks = d.email_clicks + EXCLUDED.email_clicks,
    leads = d.leads + EXCLUDED.leads, reports = d.reports + EXCLUDED.reports
$$;
-- +goose StatementEnd

-- rebuild_metric_rollups recomputes daily_seller_totals and
-- daily_segment_stats from daily_listing_stats and daily_seller_stats, for
-- bulk loads that fill those two directly (bench/gen, metricsbench).
-- +goose StatementBegin
CREATE FUNCTION rebuild_metric_rollups() RETURNS void LANGUAGE sql AS $$
TRUNCATE daily_seller_totals, daily_segment_stats;
INSERT INTO daily_seller_totals (day, seller_id, views, call_clicks, text_clicks, email_clicks, leads, reports)
SELECT day, seller_id, sum(views), sum(call_clicks), sum(text_clicks), sum(email_clicks), sum(leads), sum(reports)
FROM (SELECT day, seller_id, views, call_clicks, text_clicks, email_clicks, leads, reports FROM daily_listing_stats
      UNION ALL
      SELECT day, seller_id, views, call_clicks, text_clicks, email_clicks, leads, reports FROM daily_seller_stats) r
GROUP BY day, seller_id;
INSERT INTO daily_segment_stats (day, category, region, views, call_clicks, text_clicks, email_clicks, leads, reports)
SELECT day, category, region, sum(views), sum(call_clicks), sum(text_clicks), sum(email_clicks), sum(leads), sum(reports)
FROM (SELECT day, category, region, views, call_clicks, text_clicks, email_clicks, leads, reports FROM daily_listing_stats
      UNION ALL
      SELECT day, NULL, NULL, views, call_clicks, text_clicks, email_clicks, leads, reports FROM daily_seller_stats) r
GROUP BY day, category, region;
$$;
-- +goose StatementEnd

-- Leads and reports are counted by statement-level triggers, so a bulk
-- insert costs one call per statement, not one per row.
-- +goose StatementBegin
CREATE FUNCTION rollup_leads() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE FUNCTION rollup_reports() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER leads_rollup AFTER INSERT ON leads
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rollup_leads();
CREATE TRIGGER listing_reports_rollup AFTER INSERT ON listing_reports
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rollup_reports();

-- +goose Down
DROP TRIGGER listing_reports_rollup ON listing_reports;
DROP TRIGGER leads_rollup ON leads;
DROP FUNCTION rollup_reports();
DROP FUNCTION rollup_leads();
DROP FUNCTION rebuild_metric_rollups();
DROP FUNCTION add_rollups(date[], uuid[], uuid[], text[], text[], bigint[], bigint[], bigint[], bigint[], bigint[], bigint[]);
DROP VIEW listing_rollup_keys;
DROP TABLE daily_segment_stats;
DROP TABLE daily_seller_totals;
DROP TABLE daily_seller_stats;
DROP TABLE daily_listing_stats;
DROP TABLE events;
