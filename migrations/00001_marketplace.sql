-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- normalize_part_number keeps only lower-case letters and digits, so that
-- "ABC-12 34" and "abc1234" compare equal.
CREATE FUNCTION normalize_part_number(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN regexp_replace(lower(t), '[^a-z0-9]+', '', 'g');

CREATE TABLE sellers (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug               text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    company_name       text NOT NULL CHECK (length(company_name) BETWEEN 1 AND 200),
    description        text,
    website            text,
    status             text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'ACTIVE', 'SUSPENDED')),
    verified           boolean NOT NULL DEFAULT false,
    verification_notes text,
    internal_notes     text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sellers_name_idx ON sellers (company_name, id);
CREATE INDEX sellers_status_idx ON sellers (status);

CREATE TABLE seller_contacts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seller_id  uuid NOT NULL REFERENCES sellers (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('PHONE', 'TEXT', 'EMAIL')),
    value      text NOT NULL CHECK (length(value) BETWEEN 1 AND 254),
    label      text,
    position   int  NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX seller_contacts_seller_idx ON seller_contacts (seller_id, position);

CREATE TABLE seller_locations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seller_id   uuid NOT NULL REFERENCES sellers (id) ON DELETE CASCADE,
    city        text NOT NULL CHECK (length(city) BETWEEN 1 AND 100),
    region      text,
    country     text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    postal_code text,
    position    int  NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX seller_locations_seller_idx ON seller_locations (seller_id, position);
CREATE INDEX seller_locations_region_idx ON seller_locations (lower(region));

CREATE TABLE listings (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seller_id        uuid NOT NULL REFERENCES sellers (id),
    location_id      uuid REFERENCES seller_locations (id) ON DELETE SET NULL,
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description      text,
    part_number      text,
    sku              text,
    brand            text,
    category         text,
    condition        text NOT NULL CHECK (condition IN ('NEW', 'USED', 'REMANUFACTURED', 'FOR_PARTS')),
    quantity         int CHECK (quantity >= 0),
    price_label      text,
    price_cents      bigint CHECK (price_cents >= 0),
    currency         text CHECK (currency ~ '^[A-Z]{3}$'),
    status           text NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'ACTIVE', 'PAUSED', 'SOLD', 'REMOVED')),
    removal_reason   text,
    moderation_note  text,
    part_number_norm text GENERATED ALWAYS AS (normalize_part_number(part_number)) STORED,
    search           tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig,
            coalesce(part_number, '') || ' ' || coalesce(normalize_part_number(part_number), '')), 'A') ||
        setweight(to_tsvector('english'::regconfig, title), 'A') ||
        setweight(to_tsvector('english'::regconfig, coalesce(brand, '')), 'B') ||
        setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')
    ) STORED,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT listings_seller_sku_key UNIQUE (seller_id, sku)
);
CREATE INDEX listings_search_idx ON listings USING gin (search);
CREATE INDEX listings_part_number_idx ON listings (part_number_norm text_pattern_ops);
CREATE INDEX listings_public_newest_idx ON listings (created_at DESC, id DESC) WHERE status = 'ACTIVE';
CREATE INDEX listings_seller_newest_idx ON listings (seller_id, created_at DESC, id DESC);
CREATE INDEX listings_category_idx ON listings (category, created_at DESC) WHERE status = 'ACTIVE';
CREATE INDEX listings_brand_idx ON listings (brand) WHERE status = 'ACTIVE';
CREATE INDEX listings_location_idx ON listings (location_id);

CREATE TABLE media (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    listing_id   uuid NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    url          text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    alt_text     text,
    position     int  NOT NULL DEFAULT 0,
    content_type text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_listing_idx ON media (listing_id, position);

CREATE TABLE leads (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seller_id      uuid NOT NULL REFERENCES sellers (id),
    listing_id     uuid REFERENCES listings (id),
    buyer_name     text NOT NULL,
    email          text NOT NULL,
    phone          text,
    company        text,
    message        text NOT NULL,
    buyer_location text,
    timeline       text,
    source_page    text,
    status         text NOT NULL DEFAULT 'NEW' CHECK (status IN ('NEW', 'CONTACTED', 'QUALIFIED', 'WON', 'LOST', 'SPAM')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX leads_seller_newest_idx ON leads (seller_id, created_at DESC, id DESC);
CREATE INDEX leads_listing_idx ON leads (listing_id, created_at DESC);
CREATE INDEX leads_newest_idx ON leads (created_at DESC, id DESC);
CREATE INDEX leads_email_idx ON leads (lower(email), created_at);

CREATE TABLE listing_reports (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    listing_id      uuid NOT NULL REFERENCES listings (id),
    reason          text NOT NULL CHECK (reason IN ('SCAM', 'WRONG_INFO', 'ALREADY_SOLD', 'DUPLICATE', 'OFFENSIVE', 'OTHER')),
    details         text,
    reporter_email  text,
    status          text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'DISMISSED', 'ACTIONED')),
    resolution_note text,
    resolved_by     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz
);
CREATE INDEX listing_reports_newest_idx ON listing_reports (created_at DESC, id DESC);
CREATE INDEX listing_reports_listing_idx ON listing_reports (listing_id);
CREATE INDEX listing_reports_open_idx ON listing_reports (status, created_at DESC) WHERE status = 'OPEN';

-- search_queries records every public search with its result count, so that
-- zero-result searches can be studied. Terms that look like an email or a
-- phone number are stored redacted.
CREATE TABLE search_queries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    term         text   NOT NULL,
    filters      jsonb  NOT NULL DEFAULT '{}',
    result_count int    NOT NULL CHECK (result_count >= 0),
    session_id   text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_queries_created_idx ON search_queries (created_at);
CREATE INDEX search_queries_term_idx ON search_queries (term, created_at);

-- +goose Down
DROP TABLE search_queries;
DROP TABLE listing_reports;
DROP TABLE leads;
DROP TABLE media;
DROP TABLE listings;
DROP TABLE seller_locations;
DROP TABLE seller_contacts;
DROP TABLE sellers;
DROP FUNCTION normalize_part_number(text);
