-- +goose Up

-- Inventory imports: one row per uploaded file, processed in the background.
CREATE TABLE import_batches (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seller_id       uuid NOT NULL REFERENCES sellers (id),
    mode            text NOT NULL CHECK (mode IN ('UPSERT', 'REPLACE')),
    status          text NOT NULL DEFAULT 'QUEUED' CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'PARTIAL', 'FAILED')),
    file_key        text NOT NULL,
    file_name       text,
    total_rows      int  NOT NULL DEFAULT 0,
    created_count   int  NOT NULL DEFAULT 0,
    updated_count   int  NOT NULL DEFAULT 0,
    unchanged_count int  NOT NULL DEFAULT 0,
    failed_count    int  NOT NULL DEFAULT 0,
    failure         text,
    created_by      text,
    started_at      timestamptz,
    finished_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_batches_seller_idx ON import_batches (seller_id, created_at DESC, id DESC);
CREATE INDEX import_batches_newest_idx ON import_batches (created_at DESC, id DESC);
CREATE INDEX import_batches_queued_idx ON import_batches (created_at) WHERE status IN ('QUEUED', 'RUNNING');

CREATE TABLE import_row_errors (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id   uuid NOT NULL REFERENCES import_batches (id) ON DELETE CASCADE,
    row_number int  NOT NULL,
    column_name text,
    message    text NOT NULL
);
CREATE INDEX import_row_errors_batch_idx ON import_row_errors (batch_id, row_number, id);

-- Uploaded media live in the storage; url stays the public address.
ALTER TABLE media ADD COLUMN storage_key text;

-- The lead notification outbox: one row per lead, written in the lead's
-- transaction, delivered by a worker that claims rows with SKIP LOCKED.
CREATE TABLE lead_notifications (
    lead_id         uuid PRIMARY KEY REFERENCES leads (id) ON DELETE CASCADE,
    status          text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
    attempts        int  NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    last_error      text,
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lead_notifications_due_idx ON lead_notifications (next_attempt_at) WHERE status = 'PENDING';

-- Every change of a lead's status: who and when.
CREATE TABLE lead_status_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id     uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    from_status text NOT NULL,
    to_status   text NOT NULL,
    actor_id    text,
    actor_role  text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lead_status_changes_lead_idx ON lead_status_changes (lead_id, created_at);

-- +goose Down
DROP TABLE lead_status_changes;
DROP TABLE lead_notifications;
ALTER TABLE media DROP COLUMN storage_key;
DROP TABLE import_row_errors;
DROP TABLE import_batches;
