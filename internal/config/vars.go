package config

import (
	"strconv"

	"github.com/partsmarket/gateway/internal/pii"
)

//go:generate go run ./cmd/envdoc -root ../..

// Kind is how a variable's text is parsed; Load refuses a value its kind
// cannot read and names the variable.
type Kind string

// The kinds of variables.
const (
	// String is taken as it is.
	String Kind = "string"
	// Int is a positive integer.
	Int Kind = "integer"
	// Duration is a Go duration such as 5s, 2m or 1h30m, not negative.
	Duration Kind = "duration"
	// Flag is on/off (also true/false, 1/0).
	Flag Kind = "on/off"
	// List is comma-separated; blanks around items are dropped.
	List Kind = "list"
	// Float is a decimal number.
	Float Kind = "number"
)

// Var is one environment variable: the single place its name, default,
// parser and documentation are written. Load reads every variable through
// this table, and `go generate ./internal/config` writes
// docs/configuration.md and .env.example from it.
type Var struct {
	// Name is the environment variable.
	Name string
	// Group is the heading it is listed under in the documentation.
	Group string
	// Kind is its parser.
	Kind Kind
	// Default is the value when unset, in every environment; empty: unset.
	Default string
	// DevDefault, when set, replaces Default outside production (a
	// development secret or convenience production must not inherit).
	DevDefault string
	// DefaultDoc, when set, is what the documentation shows instead of
	// Default: a default computed at start (the number of CPUs, another
	// variable's value).
	DefaultDoc string
	// Secret marks a value that must not be printed, logged or committed;
	// .env.example leaves it empty.
	Secret bool
	// Production is what ENV=production requires of it, as one phrase
	// (empty: nothing beyond its kind).
	Production string
	// Doc says what it does, in one line.
	Doc string
}

// Documentation groups, in the order the documentation lists them.
const (
	groupServer   = "Server"
	groupDatabase = "Database"
	groupTokens   = "Tokens"
	groupLimits   = "Query limits and budgets"
	groupCaches   = "Public caches"
	groupMedia    = "Media and uploads"
	groupMail     = "Lead mail"
	groupAbuse    = "Abuse protection (submitLead, reportListing)"
	groupPrivacy  = "Personal data"
	groupEvents   = "Events and analytics"
	groupFaults   = "Faults and overload"
	groupTracing  = "Tracing (OpenTelemetry)"
	groupRuntime  = "Go runtime (read by `gateway serve`)"
)

// devAbuseLimit is DevAbuseLimit as a default's text.
var devAbuseLimit = strconv.Itoa(DevAbuseLimit)

// Vars is every environment variable the gateway reads, grouped for the
// documentation. Adding a variable is one entry here and its use in Load.
var Vars = []Var{
	{Name: "ENV", Group: groupServer, Kind: String, Default: "development", Doc: "`development` or `production`; production refuses development secrets and defaults."},
	{Name: "HOST", Group: groupServer, Kind: String, DevDefault: DevHost, DefaultDoc: "`127.0.0.1` in development, every interface in production", Doc: "The address the public HTTP port listens on (an IP address or host name, no port)."},
	{Name: "PORT", Group: groupServer, Kind: Int, Default: "8080", Doc: "The public HTTP port: GraphQL, websockets, `/events`, `/media/`, health checks."},
	{Name: "METRICS_ADDR", Group: groupServer, Kind: String, Default: "127.0.0.1:9090", Production: "keep it on an internal address", Doc: "Listener of Prometheus `/metrics` and the Go profiler, never on the public port."},
	{Name: "PUBLIC_BASE_URL", Group: groupServer, Kind: String, Default: "http://localhost:8080", Doc: "The gateway's public address (http or https); local media URLs start with it."},
	{Name: "CORS_ALLOWED_ORIGINS", Group: groupServer, Kind: List, Default: "http://localhost:3000", Production: "no `*`", Doc: "Browser origins allowed to call the API."},
	{Name: "TRUSTED_PROXIES", Group: groupServer, Kind: List, Doc: "CIDRs of proxies whose `X-Forwarded-For` is believed; unset: the socket peer is the client."},
	{Name: "GRAPHIQL", Group: groupServer, Kind: Flag, Default: "off", DevDefault: "on", Doc: "Serve GraphiQL at `/`."},
	{Name: "INTROSPECTION", Group: groupServer, Kind: Flag, Default: "off", DevDefault: "on", Doc: "Answer introspection queries and serve the SDL at `GET /schema.graphql`."},
	{Name: "LOADER_WAIT", Group: groupServer, Kind: Duration, Default: "1ms", Doc: "How long a dataloader waits to batch the keys of one level of a query."},

	{Name: "DATABASE_URL", Group: groupDatabase, Kind: String, DevDefault: DevDatabaseURL, DefaultDoc: "in development, the private cluster of `scripts/db.sh`", Secret: true, Production: "required; TLS unless on loopback or a unix socket", Doc: "PostgreSQL the API is served from, as a role that owns nothing (row-level security applies)."},
	{Name: "MIGRATE_DATABASE_URL", Group: groupDatabase, Kind: String, DefaultDoc: "`DATABASE_URL`", Secret: true, Production: "TLS unless on loopback or a unix socket", Doc: "Where `migrate` and `seed` connect: the role that owns the schema."},
	{Name: "DATABASE_READ_URL", Group: groupDatabase, Kind: String, Secret: true, Production: "TLS unless on loopback or a unix socket", Doc: "A read replica for analysts; unset: the primary through read-only connections."},
	{Name: "DATABASE_MAX_CONNS", Group: groupDatabase, Kind: Int, Default: "20", Doc: "Connections of the request pool at most."},
	{Name: "PGSSLMODE", Group: groupDatabase, Kind: String, DefaultDoc: "`require` (the driver's)", Doc: "sslmode of connection strings that name none (libpq's variable)."},
	{Name: "STATEMENT_TIMEOUT", Group: groupDatabase, Kind: Duration, Default: "5s", Doc: "One SQL statement of a request at most."},
	{Name: "STATEMENT_TIMEOUT_ANALYST", Group: groupDatabase, Kind: Duration, Default: "30s", Doc: "One SQL statement of an analyst's request at most."},

	{Name: "JWT_SECRET", Group: groupTokens, Kind: String, DevDefault: DevJWTSecret, Secret: true, Production: "required, at least 32 bytes, not the development value", Doc: "HMAC key of bearer tokens (HS256)."},
	{Name: "JWT_ISSUER", Group: groupTokens, Kind: String, Doc: "Required `iss` of tokens; unset: not checked."},
	{Name: "JWT_AUDIENCE", Group: groupTokens, Kind: String, Production: "required with an identity provider", Doc: "Required `aud` of tokens; unset: not checked."},
	{Name: "JWT_LEEWAY", Group: groupTokens, Kind: Duration, Default: "30s", Doc: "Clock skew allowed on `exp`, `nbf` and `iat` (at most 5m)."},
	{Name: "OIDC_ISSUER_URL", Group: groupTokens, Kind: String, Production: "https", Doc: "An OpenID Connect provider's issuer; its discovery document names the key set. Not with `JWKS_URL`."},
	{Name: "JWKS_URL", Group: groupTokens, Kind: String, Production: "https; `JWT_ISSUER` required", Doc: "A provider's JSON Web Key Set, named directly instead of through discovery."},
	{Name: "JWT_ROLES_CLAIM", Group: groupTokens, Kind: String, Default: "roles", Doc: "Dot path of the provider tokens' role list (Keycloak: `realm_access.roles`)."},
	{Name: "JWT_ROLE_MAP", Group: groupTokens, Kind: List, Doc: "`provider-role:ADMIN` or `provider-role:ANALYST` pairs; other provider roles are ignored."},

	{Name: "LIMIT_DEPTH", Group: groupLimits, Kind: Int, Default: "12", Doc: "Deepest selection an operation may have."},
	{Name: "LIMIT_COST", Group: groupLimits, Kind: Int, Default: "10000", Doc: "Highest cost of one operation."},
	{Name: "LIMIT_COST_ANALYST", Group: groupLimits, Kind: Int, Default: "50000", Doc: "Highest cost of one analyst's operation."},
	{Name: "LIMIT_ALIASES", Group: groupLimits, Kind: Int, Default: "30", Doc: "Aliases in one operation at most."},
	{Name: "LIMIT_TOKENS", Group: groupLimits, Kind: Int, Default: "5000", Doc: "Lexical tokens in one document at most."},
	{Name: "RATE_LIMIT_POINTS_PER_MINUTE", Group: groupLimits, Kind: Int, Default: "20000", Doc: "Cost budget of each principal but analysts (anonymous: each client IP), restored continuously; never below `LIMIT_COST`."},
	{Name: "RATE_LIMIT_POINTS_PER_MINUTE_ANALYST", Group: groupLimits, Kind: Int, Default: "100000", Doc: "Cost budget of each analyst, restored continuously; never below `LIMIT_COST_ANALYST`."},
	{Name: "RATE_LIMIT_SYNC_INTERVAL", Group: groupLimits, Kind: Duration, Default: "1s", Doc: "How often instances share their budgets through PostgreSQL (positive)."},

	{Name: "RESPONSE_CACHE_TTL", Group: groupCaches, Kind: Duration, Default: "60s", Doc: "How long an anonymous query's whole response is reused at most; 0 turns the cache off."},
	{Name: "SEARCH_CACHE_TTL", Group: groupCaches, Kind: Duration, Default: "5m", Doc: "How long the public's listing pages are reused at most; 0 turns the cache off."},
	{Name: "SEARCH_CONCURRENCY", Group: groupCaches, Kind: Int, DefaultDoc: "the number of CPUs", Doc: "Search-cache misses run at once at most; the others wait for a slot."},
	{Name: "CACHE_LIST_STALENESS", Group: groupCaches, Kind: Duration, Default: "30s", Doc: "How often cached lists are purged at most while writes come in (positive, at most 30s)."},

	{Name: "STORAGE", Group: groupMedia, Kind: String, Default: "local", Doc: "Where media and import files live: `local` or `s3`."},
	{Name: "MEDIA_DIR", Group: groupMedia, Kind: String, Default: ".data/media", Doc: "Directory of the local storage."},
	{Name: "MEDIA_MAX_BYTES", Group: groupMedia, Kind: Int, Default: "10485760", Doc: "One uploaded image at most."},
	{Name: "UPLOAD_MAX_BYTES", Group: groupMedia, Kind: Int, Default: "52428800", Doc: "One multipart request (imports, media) at most."},
	{Name: "S3_ENDPOINT", Group: groupMedia, Kind: String, Doc: "S3-compatible endpoint (`https://host` or `host:port`)."},
	{Name: "S3_BUCKET", Group: groupMedia, Kind: String, Doc: "Bucket; required when `STORAGE` is `s3`."},
	{Name: "S3_REGION", Group: groupMedia, Kind: String, Doc: "Bucket region."},
	{Name: "S3_ACCESS_KEY_ID", Group: groupMedia, Kind: String, Doc: "Static access key, set together with the secret; unset: the AWS environment or instance role."},
	{Name: "S3_SECRET_ACCESS_KEY", Group: groupMedia, Kind: String, Secret: true, Doc: "Static secret key, set together with the access key id."},
	{Name: "S3_PUBLIC_BASE_URL", Group: groupMedia, Kind: String, Doc: "Where clients fetch S3 media (a CDN); unset: through the gateway's `/media/`."},

	{Name: "SMTP_URL", Group: groupMail, Kind: String, Secret: true, Doc: "`smtp://user:pass@host:port` (STARTTLS when offered) or `smtps://…`; unset: notifications stay PENDING."},
	{Name: "MAIL_FROM", Group: groupMail, Kind: String, DevDefault: "PartsMarket <no-reply@localhost>", Production: "required when `SMTP_URL` is set", Doc: "Sender of seller notifications."},
	{Name: "NOTIFY_POLL_INTERVAL", Group: groupMail, Kind: Duration, Default: "5s", Doc: "How often the outbox worker looks for due notifications."},
	{Name: "NOTIFY_RETRY_BASE", Group: groupMail, Kind: Duration, Default: "30s", Doc: "First retry delay of a failed notification; doubles each attempt."},
	{Name: "NOTIFY_RETRY_MAX", Group: groupMail, Kind: Duration, Default: "1h", Doc: "Longest retry delay."},
	{Name: "NOTIFY_MAX_ATTEMPTS", Group: groupMail, Kind: Int, Default: "10", Doc: "Attempts before a notification is FAILED."},

	{Name: "CAPTCHA_PROVIDER", Group: groupAbuse, Kind: String, Default: "test", Production: "not `test`", Doc: "`turnstile`, `hcaptcha`, `recaptcha` or `test` (accepts any non-empty token but `fail`)."},
	{Name: "CAPTCHA_SECRET", Group: groupAbuse, Kind: String, Secret: true, Doc: "The provider's secret key; required for every provider but `test`."},
	{Name: "CAPTCHA_VERIFY_URL", Group: groupAbuse, Kind: String, Doc: "Overrides the provider's siteverify URL (tests use a local fake)."},
	{Name: "CAPTCHA_HOSTNAME", Group: groupAbuse, Kind: String, Doc: "Hostname a CAPTCHA answer must carry; unset: not checked."},
	{Name: "CAPTCHA_ACTION", Group: groupAbuse, Kind: String, Doc: "Action a Turnstile or reCAPTCHA answer must carry; unset: not checked."},
	{Name: "CAPTCHA_MIN_SCORE", Group: groupAbuse, Kind: Float, Default: "0.5", Doc: "Lowest reCAPTCHA v3 score accepted, from 0 to 1."},
	{Name: "CAPTCHA_TIMEOUT", Group: groupAbuse, Kind: Duration, Default: "5s", Doc: "One siteverify call at most; a timeout is CAPTCHA_FAILED."},
	{Name: "RATE_LIMIT_LEADS_PER_IP_PER_HOUR", Group: groupAbuse, Kind: Int, Default: "20", DevDefault: devAbuseLimit, Doc: "submitLead attempts per client IP (IPv6: /64) and clock hour."},
	{Name: "RATE_LIMIT_REPORTS_PER_IP_PER_HOUR", Group: groupAbuse, Kind: Int, Default: "10", DevDefault: devAbuseLimit, Doc: "reportListing attempts per client IP and clock hour."},
	{Name: "RATE_LIMIT_LEADS_PER_EMAIL_PER_DAY", Group: groupAbuse, Kind: Int, Default: "10", DevDefault: devAbuseLimit, Doc: "submitLead attempts per buyer email and UTC day."},
	{Name: "RATE_LIMIT_REPORTS_PER_EMAIL_PER_DAY", Group: groupAbuse, Kind: Int, Default: "10", DevDefault: devAbuseLimit, Doc: "reportListing attempts per reporter email and UTC day."},

	{Name: "ENCRYPTION_KEYS", Group: groupPrivacy, Kind: String, DevDefault: pii.DevEncryptionKeys, Secret: true, Production: "required, without the development key", Doc: "`id:base64key,…` of 32-byte AES-256 keys; the first encrypts, all decrypt."},
	{Name: "BLIND_INDEX_KEY", Group: groupPrivacy, Kind: String, DevDefault: pii.DevBlindIndexKey, Secret: true, Production: "required, not the development key", Doc: "Base64 32-byte HMAC key of email lookups; it does not rotate."},
	{Name: "LEAD_RETENTION_DAYS", Group: groupPrivacy, Kind: Int, Default: "730", Doc: "Age at which `gateway retention run` anonymises leads and reports."},
	{Name: "EVENT_RETENTION_DAYS", Group: groupPrivacy, Kind: Int, Default: "400", Doc: "Age at which `gateway retention run` deletes raw events (rollups stay)."},

	{Name: "EVENT_FLUSH_INTERVAL", Group: groupEvents, Kind: Duration, Default: "1s", Doc: "How often buffered events and searches are written."},
	{Name: "EVENT_BUFFER_MAX", Group: groupEvents, Kind: Int, Default: "100000", Doc: "Events held in memory at most; beyond, new ones are RATE_LIMITED until a flush."},
	{Name: "RATE_LIMIT_EVENTS_PER_IP_PER_MINUTE", Group: groupEvents, Kind: Int, Default: "600", Doc: "Events per client IP through `POST /events` and recordEvent together."},

	{Name: "REQUEST_TIMEOUT", Group: groupFaults, Kind: Duration, Default: "10s", Doc: "Every request's deadline (positive); past it, SERVICE_UNAVAILABLE."},
	{Name: "UPLOAD_TIMEOUT", Group: groupFaults, Kind: Duration, Default: "2m", Doc: "A multipart upload's deadline instead (positive)."},
	{Name: "READ_HEADER_TIMEOUT", Group: groupFaults, Kind: Duration, Default: "5s", Doc: "Time a client has to send its headers (positive)."},
	{Name: "MAX_IN_FLIGHT", Group: groupFaults, Kind: Int, Default: "256", Doc: "Requests served at once; beyond, SERVICE_UNAVAILABLE at once."},
	{Name: "REPLICA_MAX_LAG", Group: groupFaults, Kind: Duration, Default: "30s", Doc: "Replica lag beyond which analysts get SERVICE_UNAVAILABLE."},

	{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Group: groupTracing, Kind: String, Doc: "OTLP/HTTP collector that receives the spans; unset (with the next one): tracing is off and costs nothing."},
	{Name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", Group: groupTracing, Kind: String, Doc: "The collector's traces URL, instead of the endpoint above."},
	{Name: "OTEL_SDK_DISABLED", Group: groupTracing, Kind: String, Doc: "`true` turns tracing off whatever the endpoint; the SDK reads the other `OTEL_*` variables (service name, headers, sampler) itself."},
	{Name: "OTEL_TRACES_EXPORTER", Group: groupTracing, Kind: String, Doc: "`none` turns tracing off."},

	{Name: "GOGC", Group: groupRuntime, Kind: String, DefaultDoc: "`400` under `serve`", Doc: "Go's collector target; `serve` sets 400 unless given."},
	{Name: "GOMEMLIMIT", Group: groupRuntime, Kind: String, DefaultDoc: "`100MiB` under `serve`", Doc: "Go's soft heap limit; `serve` sets 100 MiB unless given."},
}

// lookup returns the table's entry of name. Reading a variable that is not
// in the table, or as another kind, is a programming error caught by any
// test that calls Load, so it panics.
func lookup(name string, kind Kind) Var {
	for _, v := range Vars {
		if v.Name == name {
			if v.Kind != kind {
				panic("config: " + name + " is a " + string(v.Kind) + " in Vars, read as a " + string(kind))
			}
			return v
		}
	}
	panic("config: " + name + " is not in Vars")
}

// fallback is v's value when unset: DevDefault outside production when it
// has one, else Default.
func (v Var) fallback(production bool) string {
	if v.DevDefault != "" && !production {
		return v.DevDefault
	}
	return v.Default
}
