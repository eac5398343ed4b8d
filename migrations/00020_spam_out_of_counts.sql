-- +goose Up
-- SPAM leads (a filled honeypot, or a lead a seller marks as SPAM) are not
-- demand: they are left out of the lead counts of stats, performance and
-- marketplaceMetrics. A lead stored as SPAM is never counted, and a status
-- change into or out of SPAM takes its count out or puts it back, on the
-- day the lead arrived, through pending_rollups like every other lead
-- count (fold_pending_rollups moves it into the rollups).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rollup_leads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pending_rollups (day, listing_id, seller_id, category, region, leads)
    SELECT (n.created_at AT TIME ZONE 'UTC')::date, k.listing_id, n.seller_id, k.category, k.region, 1
    FROM new_rows n LEFT JOIN listing_rollup_keys k ON k.listing_id = n.listing_id
    WHERE n.status <> 'SPAM';
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- A statement-level trigger with transition tables cannot name columns, so
-- it sees every update of leads and counts only the moves across SPAM.
-- +goose StatementBegin
CREATE FUNCTION rollup_lead_spam_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pending_rollups (day, listing_id, seller_id, category, region, leads)
    SELECT (n.created_at AT TIME ZONE 'UTC')::date, k.listing_id, n.seller_id, k.category, k.region,
        CASE WHEN n.status = 'SPAM' THEN -1 ELSE 1 END
    FROM new_rows n
    JOIN old_rows o ON o.id = n.id
    LEFT JOIN listing_rollup_keys k ON k.listing_id = n.listing_id
    WHERE (o.status = 'SPAM') <> (n.status = 'SPAM');
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER leads_spam_rollup AFTER UPDATE ON leads
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rollup_lead_spam_moves();

-- The SPAM leads stored before this migration were counted: take them out.
INSERT INTO pending_rollups (day, listing_id, seller_id, category, region, leads)
SELECT (n.created_at AT TIME ZONE 'UTC')::date, k.listing_id, n.seller_id, k.category, k.region, -1
FROM leads n LEFT JOIN listing_rollup_keys k ON k.listing_id = n.listing_id
WHERE n.status = 'SPAM';

-- +goose Down
INSERT INTO pending_rollups (day, listing_id, seller_id, category, region, leads)
SELECT (n.created_at AT TIME ZONE 'UTC')::date, k.listing_id, n.seller_id, k.category, k.region, 1
FROM leads n LEFT JOIN listing_rollup_keys k ON k.listing_id = n.listing_id
WHERE n.status = 'SPAM';

DROP TRIGGER leads_spam_rollup ON leads;
DROP FUNCTION rollup_lead_spam_moves();

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
