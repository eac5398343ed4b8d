-- +goose Up
-- A lead sent again within 24 hours (same email ignoring case, seller,
-- listing and message) is not stored twice. The gateway used to find such a
-- repeat by reading the recent leads of the email's blind index and
-- decrypting each to compare messages, in a transaction of five statements.
-- Each lead now carries a dedupe key: an HMAC-SHA-256 under the blind index
-- key of its normalised email, seller, listing and exact message
-- (pii.Keyring.LeadDedupeKey), and submit_lead() stores a lead, or finds its
-- repeat, in one statement.
--
-- Leads stored before this migration (and leads bulk-loaded without one)
-- have no dedupe key: a repeat of one of them is stored as a new lead.
-- The key is personal data like the blind index: anonymising a lead
-- (privacy erasure, retention) clears it too.
ALTER TABLE leads
    ADD COLUMN dedupe_key bytea,
    ADD CONSTRAINT leads_dedupe_key_anonymized CHECK (anonymized_at IS NULL OR dedupe_key IS NULL);
CREATE INDEX leads_dedupe_key_idx ON leads (dedupe_key, created_at) WHERE dedupe_key IS NOT NULL;

-- submit_lead stores a lead and, unless it is SPAM, its seller notification
-- (the outbox), and returns its id with created true; when a lead with the
-- same dedupe key was stored in the last 24 hours it stores nothing and
-- returns the first such lead's id with created false. Concurrent calls with
-- one key are serialised by a transaction lock, so they store one lead. An
-- unknown seller or listing fails with leads_seller_id_fkey or
-- leads_listing_id_fkey.
-- +goose StatementBegin
CREATE FUNCTION submit_lead(p_dedupe_key bytea, p_seller_id uuid, p_listing_id uuid, p_pii bytea, p_pii_key_id text,
    p_email_bidx bytea, p_buyer_location text, p_timeline text, p_source_page text, p_status text,
    OUT id uuid, OUT created boolean) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(encode(p_dedupe_key, 'hex'), 0));
    -- A fresh snapshot after the lock: a repeat committed meanwhile is seen.
    SELECT l.id INTO submit_lead.id FROM leads l
    WHERE l.dedupe_key = p_dedupe_key AND l.created_at > now() - interval '24 hours'
    ORDER BY l.created_at, l.id LIMIT 1;
    IF FOUND THEN
        created := false;
        RETURN;
    END IF;
    INSERT INTO leads (seller_id, listing_id, pii, pii_key_id, email_bidx, dedupe_key, buyer_location, timeline,
        source_page, status)
    VALUES (p_seller_id, p_listing_id, p_pii, p_pii_key_id, p_email_bidx, p_dedupe_key, p_buyer_location, p_timeline,
        p_source_page, p_status)
    RETURNING leads.id INTO submit_lead.id;
    IF p_status <> 'SPAM' THEN
        INSERT INTO lead_notifications (lead_id) VALUES (submit_lead.id);
    END IF;
    created := true;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION submit_lead(bytea, uuid, uuid, bytea, text, bytea, text, text, text, text);
DROP INDEX leads_dedupe_key_idx;
ALTER TABLE leads
    DROP CONSTRAINT leads_dedupe_key_anonymized,
    DROP COLUMN dedupe_key;
