-- +goose Up
-- Sellers are companies with members: people signed in through an identity
-- provider, named by the token's issuer and subject. A person belongs to at
-- most one seller (the primary key). Their email is personal data: sealed by
-- the application like a lead's (AES-256-GCM, key id per row), NULL when the
-- token that registered the seller carried none.
CREATE TABLE seller_members (
    issuer       text        NOT NULL CHECK (length(issuer) <= 1024),
    subject      text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 1024),
    seller_id    uuid        NOT NULL REFERENCES sellers (id) ON DELETE CASCADE,
    role         text        NOT NULL CHECK (role IN ('OWNER', 'STAFF')),
    email_pii    bytea,
    email_key_id text,
    joined_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject),
    CHECK ((email_pii IS NULL) = (email_key_id IS NULL))
);
CREATE INDEX seller_members_seller_idx ON seller_members (seller_id, joined_at);

-- Invitations to join a seller. Only a hash of the token is kept: the token
-- itself travels once, in the mail, whose outbox columns (mail_*) hold it
-- sealed until the mail server takes it and are cleared then. An invitation
-- is used once (accepted_at) and expires.
CREATE TABLE seller_invitations (
    id                   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    seller_id            uuid        NOT NULL REFERENCES sellers (id) ON DELETE CASCADE,
    token_hash           bytea       NOT NULL UNIQUE,
    role                 text        NOT NULL CHECK (role IN ('OWNER', 'STAFF')),
    email_pii            bytea       NOT NULL,
    email_key_id         text        NOT NULL,
    created_by           text        NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    expires_at           timestamptz NOT NULL,
    accepted_at          timestamptz,
    mail_pii             bytea,
    mail_key_id          text,
    mail_status          text        NOT NULL DEFAULT 'PENDING' CHECK (mail_status IN ('PENDING', 'SENT', 'FAILED')),
    mail_attempts        int         NOT NULL DEFAULT 0,
    mail_next_attempt_at timestamptz NOT NULL DEFAULT now(),
    mail_last_error      text
);
-- The daily limit counts a seller's recent invitations.
CREATE INDEX seller_invitations_seller_idx ON seller_invitations (seller_id, created_at);
CREATE INDEX seller_invitations_mail_due_idx ON seller_invitations (mail_next_attempt_at) WHERE mail_status = 'PENDING';

-- revokeSessions: tokens of (issuer, subject) issued before revoked_before
-- are refused. An empty issuer stands for every issuer.
CREATE TABLE revocations (
    issuer         text        NOT NULL CHECK (length(issuer) <= 1024),
    subject        text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 1024),
    revoked_before timestamptz NOT NULL,
    PRIMARY KEY (issuer, subject)
);

-- Every change of a membership or a revocation is announced on the channel
-- identity_changed when its transaction commits, whatever wrote the row:
-- each gateway instance drops its cached membership of that identity, or
-- refuses the revoked tokens, and closes the identity's websockets.
-- Payload: a JSON array ["member", issuer, subject, null] or ["revoked",
-- issuer, subject, revoked_before].
-- +goose StatementBegin
CREATE FUNCTION identity_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        r := OLD;
    ELSE
        r := NEW;
    END IF;
    PERFORM pg_notify('identity_changed', json_build_array(TG_ARGV[0], r.issuer, r.subject, to_jsonb(r) -> 'revoked_before')::text);
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER seller_members_notify AFTER INSERT OR UPDATE OR DELETE ON seller_members
    FOR EACH ROW EXECUTE FUNCTION identity_notify_changed('member');
CREATE TRIGGER revocations_notify AFTER INSERT OR UPDATE ON revocations
    FOR EACH ROW EXECUTE FUNCTION identity_notify_changed('revoked');

-- +goose Down
DROP TRIGGER revocations_notify ON revocations;
DROP TRIGGER seller_members_notify ON seller_members;
DROP FUNCTION identity_notify_changed();
DROP TABLE revocations;
DROP TABLE seller_invitations;
DROP TABLE seller_members;
