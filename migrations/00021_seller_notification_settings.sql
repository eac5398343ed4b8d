-- +goose Up
-- Where a seller's lead mail goes: a private address (sealed like every
-- other personal data, under ENCRYPTION_KEYS, bound to this column) that takes the
-- place of the public EMAIL contacts when set, and a switch that stops the
-- mail altogether. Public reads of sellers never select these columns.
ALTER TABLE sellers
    ADD COLUMN notification_email_pii    bytea,
    ADD COLUMN notification_email_key_id text,
    ADD COLUMN notifications_muted       boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT sellers_notification_email_sealed
        CHECK ((notification_email_pii IS NULL) = (notification_email_key_id IS NULL));

-- +goose Down
ALTER TABLE sellers
    DROP CONSTRAINT sellers_notification_email_sealed,
    DROP COLUMN notifications_muted,
    DROP COLUMN notification_email_key_id,
    DROP COLUMN notification_email_pii;
