-- +goose Up
-- Row-level security on the tables that hold buyers' and reporters'
-- personal data and sellers' private rows. Every transaction on them states
-- its scope with two transaction-local settings (store.Scope):
--   gateway.scope = 'all'      admins, analysts and background work
--   gateway.scope = 'seller'   a seller, whose id is gateway.seller_id
-- A transaction that states neither sees no row and may write none (fail
-- closed): the policies compare with current_setting(…, true), which is
-- NULL or empty then. The store's own conditions stay; the policies catch a
-- query that forgot them.
--
-- The tables' owner (the migrating role) is not bound (no FORCE): it runs
-- migrations and bulk loads, and COPY FROM is refused on a table under
-- row-level security. The serving role owns nothing, and `gateway serve`
-- refuses to start in production as an owner, a superuser or a role with
-- BYPASSRLS, which would skip the policies.

-- gateway_scope_sees reports whether the transaction's stated scope covers
-- rows of seller (NULL: no seller, never covered but under 'all').
-- +goose StatementBegin
CREATE FUNCTION gateway_scope_sees(seller uuid) RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE current_setting('gateway.scope', true)
        WHEN 'all' THEN true
        WHEN 'seller' THEN coalesce(seller = nullif(current_setting('gateway.seller_id', true), '')::uuid, false)
        ELSE false
    END
$$;
-- +goose StatementEnd

ALTER TABLE leads ENABLE ROW LEVEL SECURITY;
CREATE POLICY leads_scope ON leads USING (gateway_scope_sees(seller_id));

-- A lead's notification and status history belong to the lead's seller;
-- the lead itself is read under its own policy.
ALTER TABLE lead_notifications ENABLE ROW LEVEL SECURITY;
CREATE POLICY lead_notifications_scope ON lead_notifications
    USING (gateway_scope_sees((SELECT d.seller_id FROM leads d WHERE d.id = lead_id)));
ALTER TABLE lead_status_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY lead_status_changes_scope ON lead_status_changes
    USING (gateway_scope_sees((SELECT d.seller_id FROM leads d WHERE d.id = lead_id)));

-- A report belongs to the seller of the listing it is about.
ALTER TABLE listing_reports ENABLE ROW LEVEL SECURITY;
CREATE POLICY listing_reports_scope ON listing_reports
    USING (gateway_scope_sees((SELECT l.seller_id FROM listings l WHERE l.id = listing_id)));

ALTER TABLE import_batches ENABLE ROW LEVEL SECURITY;
CREATE POLICY import_batches_scope ON import_batches USING (gateway_scope_sees(seller_id));
ALTER TABLE import_row_errors ENABLE ROW LEVEL SECURITY;
CREATE POLICY import_row_errors_scope ON import_row_errors
    USING (gateway_scope_sees((SELECT b.seller_id FROM import_batches b WHERE b.id = batch_id)));

-- A public submission stores the lead and its notification and looks for a
-- repeat among every seller's leads: submit_leads() (what the gateway
-- calls; submit_lead() is its step) states scope 'all' for its own run and
-- puts back the caller's scope when it returns. Its body is 00014's
-- otherwise.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION submit_leads(p_dedupe_keys bytea[], p_seller_ids uuid[], p_listing_ids uuid[], p_piis bytea[],
    p_pii_key_ids text[], p_email_bidxs bytea[], p_buyer_locations text[], p_timelines text[], p_source_pages text[],
    p_statuses text[])
    RETURNS TABLE (ord integer, id uuid, created boolean) LANGUAGE plpgsql AS $$
DECLARE
    i integer;
    caller_scope text := current_setting('gateway.scope', true);
BEGIN
    PERFORM set_config('gateway.scope', 'all', true);
    FOR i IN SELECT k.ord FROM unnest(p_dedupe_keys) WITH ORDINALITY AS k(key, ord) ORDER BY k.key, k.ord LOOP
        ord := i;
        SELECT s.id, s.created INTO id, created FROM submit_lead(p_dedupe_keys[i], p_seller_ids[i], p_listing_ids[i],
            p_piis[i], p_pii_key_ids[i], p_email_bidxs[i], p_buyer_locations[i], p_timelines[i], p_source_pages[i],
            p_statuses[i]) s;
        RETURN NEXT;
    END LOOP;
    PERFORM set_config('gateway.scope', coalesce(caller_scope, ''), true);
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION submit_leads(p_dedupe_keys bytea[], p_seller_ids uuid[], p_listing_ids uuid[], p_piis bytea[],
    p_pii_key_ids text[], p_email_bidxs bytea[], p_buyer_locations text[], p_timelines text[], p_source_pages text[],
    p_statuses text[])
    RETURNS TABLE (ord integer, id uuid, created boolean) LANGUAGE plpgsql AS $$
DECLARE
    i integer;
BEGIN
    FOR i IN SELECT k.ord FROM unnest(p_dedupe_keys) WITH ORDINALITY AS k(key, ord) ORDER BY k.key, k.ord LOOP
        ord := i;
        SELECT s.id, s.created INTO id, created FROM submit_lead(p_dedupe_keys[i], p_seller_ids[i], p_listing_ids[i],
            p_piis[i], p_pii_key_ids[i], p_email_bidxs[i], p_buyer_locations[i], p_timelines[i], p_source_pages[i],
            p_statuses[i]) s;
        RETURN NEXT;
    END LOOP;
END
$$;
-- +goose StatementEnd
DROP POLICY import_row_errors_scope ON import_row_errors;
ALTER TABLE import_row_errors DISABLE ROW LEVEL SECURITY;
DROP POLICY import_batches_scope ON import_batches;
ALTER TABLE import_batches DISABLE ROW LEVEL SECURITY;
DROP POLICY listing_reports_scope ON listing_reports;
ALTER TABLE listing_reports DISABLE ROW LEVEL SECURITY;
DROP POLICY lead_status_changes_scope ON lead_status_changes;
ALTER TABLE lead_status_changes DISABLE ROW LEVEL SECURITY;
DROP POLICY lead_notifications_scope ON lead_notifications;
ALTER TABLE lead_notifications DISABLE ROW LEVEL SECURITY;
DROP POLICY leads_scope ON leads;
ALTER TABLE leads DISABLE ROW LEVEL SECURITY;
DROP FUNCTION gateway_scope_sees(uuid);
