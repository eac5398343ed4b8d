-- pgbench-detail.sql: the statements the gateway runs for one detail page
-- (bench/compare's query "detail", caches off), in its order, as pgbench
-- runs them for the raw-SQL limit: one page per transaction, in prepared
-- mode. bench-compare puts two lines before these: `\set n random(1, N)`
-- draws one of the N detail ids, and a primary-key lookup in
-- bench_compare.detail_ids (which it fills) sets the variables of that
-- listing: :listing (its id as a one-element uuid array), :seller (its
-- seller's id), :sellers (the same as a one-element array) and :more (the
-- ids of the seller's newest public listings the page shows, an array).
-- The report gives the lookup's cost alone ("detail id lookup").
--
-- Refresh it when the gateway's SQL changes: `bench/compare/run.sh capture`
-- prints every statement the gateway runs for one page and one detail
-- request, with its parameters, as the benchmark cluster logs them. Copy the
-- detail's statements here in their order, each ending with a semicolon,
-- and put the variables in place of the parameters; constants such as the
-- limit stay constants. pgbench takes any colon before a name for a
-- variable, even in a string: write such colons as \x3a in an E'' string.
SELECT l.id, l.seller_id, l.location_id, l.title, l.description, l.part_number,
		l.sku, l.brand, l.category, l.condition, l.quantity, l.price_label, l.price_cents, l.currency,
		l.status, l.removal_reason, l.moderation_note, l.created_at, l.updated_at FROM listings l WHERE l.id = ANY(:listing::uuid[]) AND l.status = 'ACTIVE' AND NOT EXISTS (SELECT 1 FROM sellers s WHERE s.id = l.seller_id AND s.status <> 'ACTIVE');
SELECT s.id, s.slug, s.company_name, s.description, s.website, s.status, s.verified,
		s.verification_notes, s.internal_notes, s.created_at, s.updated_at FROM sellers s WHERE s.id = ANY(:sellers::uuid[]) AND s.status = 'ACTIVE';
SELECT l.id, l.seller_id, l.location_id, l.title, l.description, l.part_number,
		l.sku, l.brand, l.category, l.condition, l.quantity, l.price_label, l.price_cents, l.currency,
		l.status, l.removal_reason, l.moderation_note, l.created_at, l.updated_at, to_char((l.created_at) AT TIME ZONE 'UTC', E'YYYY-MM-DD"T"HH24\x3aMI\x3aSS.US"Z"') AS sort_key, s.id, s.slug, s.company_name, s.description, s.website, s.status, s.verified,
		s.verification_notes, s.internal_notes, s.created_at, s.updated_at, (s.status = 'ACTIVE') FROM listings l JOIN sellers s ON s.id = l.seller_id WHERE l.status = 'ACTIVE' AND NOT EXISTS (SELECT 1 FROM sellers s WHERE s.id = l.seller_id AND s.status <> 'ACTIVE') AND l.seller_id = :seller::uuid ORDER BY l.created_at DESC, l.id DESC LIMIT 8;
SELECT id, listing_id, url, alt_text, position, content_type, created_at FROM media
			WHERE listing_id = ANY(:listing::uuid[]) ORDER BY listing_id, position, created_at;
SELECT id, seller_id, city, region, country, postal_code FROM seller_locations
			WHERE seller_id = ANY(:sellers::uuid[]) ORDER BY seller_id, position, created_at;
SELECT id, listing_id, url, alt_text, position, content_type, created_at FROM media
			WHERE listing_id = ANY(:more::uuid[]) ORDER BY listing_id, position, created_at;
SELECT id, seller_id, kind, value, label FROM seller_contacts
			WHERE seller_id = ANY(:sellers::uuid[]) ORDER BY seller_id, position, created_at;
