-- +goose Up

-- weekly_seller_totals and weekly_seller_segment_stats are rollups of the
-- daily rollups per UTC week (week: its Monday), so that marketplaceMetrics
-- by seller over a long period reads one row per seller and week for the
-- whole weeks of the period and daily rows only for the days at its edges
-- (BENCHMARKS.md, marketplace metrics): per seller (as daily_seller_totals),
-- and per seller, category and region (as daily_listing_stats summed over a
-- seller's listings, plus daily_seller_stats under a NULL category and
-- region).
CREATE TABLE weekly_seller_totals (
    week         date   NOT NULL CHECK (extract(isodow FROM week) = 1),
    seller_id    uuid   NOT NULL,
    views        bigint NOT NULL DEFAULT 0,
    call_clicks  bigint NOT NULL DEFAULT 0,
    text_clicks  bigint NOT NULL DEFAULT 0,
    email_clicks bigint NOT NULL DEFAULT 0,
    leads        bigint NOT NULL DEFAULT 0,
    reports      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (week, seller_id)
);
CREATE INDEX weekly_seller_totals_seller_idx ON weekly_seller_totals (seller_id, week);

CREATE TABLE weekly_seller_segment_stats (
    week         date   NOT NULL CHECK (extract(isodow FROM week) = 1),
    seller_id    uuid   NOT NULL,
    category     text,
    region       text,
    views        bigint NOT NULL DEFAULT 0,
    call_clicks  bigint NOT NULL DEFAULT 0,
    text_clicks  bigint NOT NULL DEFAULT 0,
    email_clicks bigint NOT NULL DEFAULT 0,
    leads        bigint NOT NULL DEFAULT 0,
    reports      bigint NOT NULL DEFAULT 0,
    CONSTRAINT weekly_seller_segment_stats_key UNIQUE NULLS NOT DISTINCT (week, seller_id, category, region)
);
CREATE INDEX weekly_seller_segment_stats_seller_idx ON weekly_seller_segment_stats (seller_id, week);
CREATE INDEX weekly_seller_segment_stats_category_idx ON weekly_seller_segment_stats (category, week);
CREATE INDEX weekly_seller_segment_stats_region_idx ON weekly_seller_segment_stats (lower(region), week);

-- add_rollups as in 00007_events.sql, adding to the weekly tables too.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION add_rollups(days date[], listing_ids uuid[], seller_ids uuid[], categories text[], regions text[],
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
), wt AS (
    INSERT INTO weekly_seller_totals AS d (week, seller_id, views, call_clicks, text_clicks, email_clicks, leads, reports)
    SELECT date_trunc('week', day)::date AS week, seller_id, sum(views), sum(call_clicks), sum(text_clicks),
        sum(email_clicks), sum(leads), sum(reports)
    FROM b GROUP BY 1, seller_id ORDER BY 1, seller_id
    ON CONFLICT (week, seller_id) DO UPDATE SET
        views = d.views + EXCLUDED.views, call_clicks = d.call_clicks + EXCLUDED.call_clicks,
        text_clicks = d.text_clicks + EXCLUDED.text_clicks, email_clicks = d.email_clicks + EXCLUDED.email_clicks,
        leads = d.leads + EXCLUDED.leads, reports = d.reports + EXCLUDED.reports
), ws AS (
    INSERT INTO weekly_seller_segment_stats AS d (week, seller_id, category, region, views, call_clicks, text_clicks,
        email_clicks, leads, reports)
    SELECT date_trunc('week', day)::date AS week, seller_id, category, region, sum(views), sum(call_clicks),
        sum(text_clicks), sum(email_clicks), sum(leads), sum(reports)
    FROM b GROUP BY 1, seller_id, category, region ORDER BY 1, seller_id, category, region
    ON CONFLICT (week, seller_id, category, region) DO UPDATE SET
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

-- rebuild_metric_rollups as in 00007_events.sql, rebuilding the weekly
-- tables too.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rebuild_metric_rollups() RETURNS void LANGUAGE sql AS $$
TRUNCATE daily_seller_totals, daily_segment_stats, weekly_seller_totals, weekly_seller_segment_stats;
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
INSERT INTO weekly_seller_totals (week, seller_id, views, call_clicks, text_clicks, email_clicks, leads, reports)
SELECT date_trunc('week', day)::date, seller_id, sum(views), sum(call_clicks), sum(text_clicks), sum(email_clicks),
    sum(leads), sum(reports)
FROM daily_seller_totals
GROUP BY 1, seller_id;
INSERT INTO weekly_seller_segment_stats (week, seller_id, category, region, views, call_clicks, text_clicks,
    email_clicks, leads, reports)
SELECT date_trunc('week', day)::date, seller_id, category, region, sum(views), sum(call_clicks), sum(text_clicks),
    sum(email_clicks), sum(leads), sum(reports)
FROM (SELECT day, seller_id, category, region, views, call_clicks, text_clicks, email_clicks, leads, reports
      FROM daily_listing_stats
      UNION ALL
      SELECT day, seller_id, NULL, NULL, views, call_clicks, text_clicks, email_clicks, leads, reports
      FROM daily_seller_stats) r
GROUP BY 1, seller_id, category, region;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rebuild_metric_rollups() RETURNS void LANGUAGE sql AS $$
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

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION add_rollups(days date[], listing_ids uuid[], seller_ids uuid[], categories text[], regions text[],
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

DROP TABLE weekly_seller_segment_stats;
DROP TABLE weekly_seller_totals;
