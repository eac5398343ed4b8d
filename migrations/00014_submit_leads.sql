-- +goose Up
-- submit_leads() stores many leads in one statement and one transaction
-- (store.CreateLead batches concurrent submissions): each through
-- submit_lead(), in the order of their dedupe keys, so that two batches
-- that share keys take their transaction locks in the same order and never
-- deadlock. It returns one row per lead: its position in the arrays
-- (1-based), its id (or its repeat's) and whether it was created. An
-- unknown seller or listing fails the whole batch, as in submit_lead(); the
-- gateway then stores the batch's leads one by one.
-- +goose StatementBegin
CREATE FUNCTION submit_leads(p_dedupe_keys bytea[], p_seller_ids uuid[], p_listing_ids uuid[], p_piis bytea[],
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

-- +goose Down
DROP FUNCTION submit_leads(bytea[], uuid[], uuid[], bytea[], text[], bytea[], text[], text[], text[], text[]);
