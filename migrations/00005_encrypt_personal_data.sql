-- +goose Up
-- Buyers' and reporters' personal data are encrypted by the gateway
-- (internal/pii, AES-256-GCM): the plaintext columns give way to a sealed
-- JSON document, the id of the key that sealed it, and a blind index (an
-- HMAC of the lower-cased email) for lookups by email.
--
-- SQL cannot encrypt, so this migration refuses to run while leads or
-- reporter emails in plaintext exist (it never deletes them): the product is
-- pre-production, so reset such a database (make db-stop; rm -rf .data) and
-- seed it again. An anonymised row (privacy erasure, retention) keeps no
-- personal data at all: its sealed columns and blind index are NULL and
-- anonymized_at says when.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM leads) OR EXISTS (SELECT 1 FROM listing_reports WHERE reporter_email IS NOT NULL) THEN
        RAISE EXCEPTION 'leads or listing reports hold plaintext personal data, which SQL cannot encrypt; reset this pre-production database and seed it again';
    END IF;
END $$;
-- +goose StatementEnd

DROP INDEX leads_email_idx;
ALTER TABLE leads
    DROP COLUMN buyer_name,
    DROP COLUMN email,
    DROP COLUMN phone,
    DROP COLUMN company,
    DROP COLUMN message,
    ADD COLUMN pii bytea,
    ADD COLUMN pii_key_id text,
    ADD COLUMN email_bidx bytea,
    ADD COLUMN anonymized_at timestamptz,
    ADD CONSTRAINT leads_pii_or_anonymized CHECK (CASE WHEN anonymized_at IS NULL
        THEN pii IS NOT NULL AND pii_key_id IS NOT NULL AND email_bidx IS NOT NULL
        ELSE pii IS NULL AND pii_key_id IS NULL AND email_bidx IS NULL END);
CREATE INDEX leads_email_bidx_idx ON leads (email_bidx, created_at);
-- Retention looks for old rows not yet anonymised.
CREATE INDEX leads_retention_idx ON leads (created_at) WHERE anonymized_at IS NULL;

ALTER TABLE listing_reports
    DROP COLUMN reporter_email,
    ADD COLUMN reporter_pii bytea,
    ADD COLUMN reporter_key_id text,
    ADD COLUMN reporter_email_bidx bytea,
    ADD COLUMN anonymized_at timestamptz,
    ADD CONSTRAINT listing_reports_reporter_pii_whole CHECK (
        (reporter_pii IS NULL) = (reporter_key_id IS NULL) AND (reporter_pii IS NULL) = (reporter_email_bidx IS NULL)),
    ADD CONSTRAINT listing_reports_anonymized_empty CHECK (anonymized_at IS NULL OR reporter_pii IS NULL);
CREATE INDEX listing_reports_email_bidx_idx ON listing_reports (reporter_email_bidx) WHERE reporter_email_bidx IS NOT NULL;
CREATE INDEX listing_reports_retention_idx ON listing_reports (created_at) WHERE reporter_pii IS NOT NULL;

-- +goose Down
-- The sealed values cannot be decrypted in SQL either: going down refuses
-- while any exist.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM leads) OR EXISTS (SELECT 1 FROM listing_reports WHERE reporter_pii IS NOT NULL) THEN
        RAISE EXCEPTION 'leads or listing reports hold encrypted personal data, which SQL cannot decrypt; reset this pre-production database';
    END IF;
END $$;
-- +goose StatementEnd

DROP INDEX listing_reports_retention_idx;
DROP INDEX listing_reports_email_bidx_idx;
ALTER TABLE listing_reports
    DROP CONSTRAINT listing_reports_anonymized_empty,
    DROP CONSTRAINT listing_reports_reporter_pii_whole,
    DROP COLUMN anonymized_at,
    DROP COLUMN reporter_email_bidx,
    DROP COLUMN reporter_key_id,
    DROP COLUMN reporter_pii,
    ADD COLUMN reporter_email text;

DROP INDEX leads_retention_idx;
DROP INDEX leads_email_bidx_idx;
ALTER TABLE leads
    DROP CONSTRAINT leads_pii_or_anonymized,
    DROP COLUMN anonymized_at,
    DROP COLUMN email_bidx,
    DROP COLUMN pii_key_id,
    DROP COLUMN pii,
    ADD COLUMN buyer_name text NOT NULL,
    ADD COLUMN email text NOT NULL,
    ADD COLUMN phone text,
    ADD COLUMN company text,
    ADD COLUMN message text NOT NULL;
CREATE INDEX leads_email_idx ON leads (lower(email), created_at);
