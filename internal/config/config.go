// Package config reads the gateway's settings from the environment. Each
// setting has a development default; production refuses the defaults of
// secrets.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/partsmarket/gateway/internal/pii"
	"github.com/partsmarket/gateway/internal/tagcache"
)

// DevJWTSecret is the development default of JWT_SECRET; production
// refuses it.
const DevJWTSecret = "development-only-jwt-secret-do-not-use-in-production"

// DevDatabaseURL is the development default of DATABASE_URL: the private
// cluster that scripts/db.sh starts for make run.
const DevDatabaseURL = "postgres://postgres@127.0.0.1:54329/gateway?sslmode=disable"

// Config is every setting of the gateway.
type Config struct {
	Env         string
	DatabaseURL string
	// MigrateDatabaseURL is where `gateway migrate` and `gateway seed`
	// connect (MIGRATE_DATABASE_URL, default DATABASE_URL): as the role
	// that owns the schema. DATABASE_URL's role serves and owns nothing;
	// migrate up grants it what serving needs when the two differ.
	MigrateDatabaseURL string
	// Host is the address the API listens on (HOST): by default 127.0.0.1
	// in development, where the development JWT secret lets anyone mint
	// tokens, so that they reach no one else; every interface in
	// production.
	Host      string
	Port      int
	JWTSecret string
	// JWTIssuer is the `iss` required of HS256 tokens (JWT_ISSUER), and of
	// the provider's tokens when the provider is given by JWKS_URL.
	JWTIssuer string
	// JWTAudience is the `aud` every token must carry (JWT_AUDIENCE);
	// required in production with an identity provider.
	JWTAudience string
	// OIDCIssuerURL is the identity provider's issuer (OIDC_ISSUER_URL): its
	// discovery document names its key set, and its tokens must carry it as
	// `iss`. JWKSURL names a key set directly instead (JWKS_URL); at most
	// one of the two is set, and neither means HS256 tokens only.
	OIDCIssuerURL, JWKSURL string
	// JWTLeeway is the clock skew allowed on exp, nbf and iat (JWT_LEEWAY,
	// default 30s, at most 5m).
	JWTLeeway time.Duration
	// JWTRolesClaim is the dot path of the provider tokens' roles claim
	// (JWT_ROLES_CLAIM, default roles; Keycloak: realm_access.roles).
	JWTRolesClaim string
	// JWTRoleMap maps provider role names to ADMIN or ANALYST
	// (JWT_ROLE_MAP, "market-admin:ADMIN,market-analyst:ANALYST").
	JWTRoleMap      map[string]string
	CORSOrigins     []string
	CaptchaProvider string
	CaptchaSecret   string
	GraphiQL        bool
	Introspection   bool
	MaxBodyBytes    int64
	LoaderWait      time.Duration
	ShutdownGrace   time.Duration
	DBMaxConns      int
	// SMTPURL is where lead notifications are sent (SMTP_URL,
	// smtp://user:pass@host:port or smtps://…); empty: the outbox worker
	// does not run and notifications stay PENDING.
	SMTPURL string
	// MailFrom is the sender of lead notifications (MAIL_FROM).
	MailFrom string
	// NotifyPollInterval, NotifyRetryBase, NotifyRetryMax and
	// NotifyMaxAttempts tune the outbox worker (NOTIFY_POLL_INTERVAL,
	// NOTIFY_RETRY_BASE, NOTIFY_RETRY_MAX, NOTIFY_MAX_ATTEMPTS).
	NotifyPollInterval time.Duration
	NotifyRetryBase    time.Duration
	NotifyRetryMax     time.Duration
	NotifyMaxAttempts  int
	// UploadMaxBytes bounds a multipart upload request (UPLOAD_MAX_BYTES,
	// default 50 MiB).
	UploadMaxBytes int64
	// Storage chooses where uploaded media live (STORAGE): "local" (the
	// default, a directory served at /media/…) or "s3".
	Storage string
	// MediaDir is the local storage's directory (MEDIA_DIR, default
	// .data/media).
	MediaDir string
	// PublicBaseURL is the gateway's public address (PUBLIC_BASE_URL, default
	// http://localhost:8080); local media URLs start with it.
	PublicBaseURL string
	// MediaMaxBytes bounds one uploaded image (MEDIA_MAX_BYTES, default
	// 10 MiB).
	MediaMaxBytes int64
	// S3Endpoint, S3Bucket, S3Region, S3AccessKeyID, S3SecretAccessKey and
	// S3PublicBaseURL set up the S3-compatible storage (S3_ENDPOINT, …).
	// Without keys the AWS environment or instance role is used; without a
	// public base URL media are served through the gateway.
	S3Endpoint, S3Bucket, S3Region                    string
	S3AccessKeyID, S3SecretAccessKey, S3PublicBaseURL string
	// CaptchaVerifyURL overrides the provider's siteverify URL
	// (CAPTCHA_VERIFY_URL; tests point it at a local fake).
	CaptchaVerifyURL string
	// CaptchaHostname and CaptchaAction, when set, are the hostname and
	// action a CAPTCHA answer must carry (CAPTCHA_HOSTNAME, CAPTCHA_ACTION).
	CaptchaHostname, CaptchaAction string
	// CaptchaMinScore is the lowest reCAPTCHA v3 score accepted
	// (CAPTCHA_MIN_SCORE, default 0.5).
	CaptchaMinScore float64
	// CaptchaTimeout bounds one siteverify call (CAPTCHA_TIMEOUT, default
	// 5s); a timeout is CAPTCHA_FAILED.
	CaptchaTimeout time.Duration
	// TrustedProxies are the CIDRs of proxies whose X-Forwarded-For is
	// believed (TRUSTED_PROXIES, comma-separated; default none).
	TrustedProxies []string
	// RateLimitLeadsPerIPPerHour, RateLimitReportsPerIPPerHour and
	// RateLimitLeadsPerEmailPerDay bound submitLead and reportListing
	// (RATE_LIMIT_LEADS_PER_IP_PER_HOUR 20, RATE_LIMIT_REPORTS_PER_IP_PER_HOUR
	// 10, RATE_LIMIT_LEADS_PER_EMAIL_PER_DAY 10).
	RateLimitLeadsPerIPPerHour   int
	RateLimitReportsPerIPPerHour int
	RateLimitLeadsPerEmailPerDay int
	// RateLimitReportsPerEmailPerDay bounds reportListing per reporter
	// email (RATE_LIMIT_REPORTS_PER_EMAIL_PER_DAY, default 10).
	RateLimitReportsPerEmailPerDay int
	// RateLimitPointsPerMinute is each principal's query-cost budget
	// (RATE_LIMIT_POINTS_PER_MINUTE, default 20000), restored continuously
	// at a sixtieth of it per second; anonymous callers have one per client
	// IP. It may not be below LimitCost: a query within the cost limit must
	// fit an unspent budget.
	RateLimitPointsPerMinute int
	// RateLimitPointsPerMinuteAnalyst is each ANALYST's budget
	// (RATE_LIMIT_POINTS_PER_MINUTE_ANALYST, default 100000); it may not be
	// below LimitCostAnalyst.
	RateLimitPointsPerMinuteAnalyst int
	// RateLimitEventsPerIPPerMinute is each client IP's budget of events,
	// through POST /events and recordEvent alike
	// (RATE_LIMIT_EVENTS_PER_IP_PER_MINUTE, default 600), restored
	// continuously like the query budget.
	RateLimitEventsPerIPPerMinute int
	// RateLimitSync is how often the budgets are synchronised between
	// gateway instances through PostgreSQL (RATE_LIMIT_SYNC_INTERVAL,
	// default 1s).
	RateLimitSync time.Duration
	// LimitDepth, LimitCost, LimitCostAnalyst, LimitAliases and LimitTokens
	// bound one operation (LIMIT_DEPTH 12, LIMIT_COST 10000,
	// LIMIT_COST_ANALYST 50000, LIMIT_ALIASES 30, LIMIT_TOKENS 5000; see
	// internal/limits).
	LimitDepth, LimitCost, LimitCostAnalyst, LimitAliases, LimitTokens int
	// MetricsAddr is the address of the Prometheus /metrics listener
	// (METRICS_ADDR, default 127.0.0.1:9090), apart from the public port.
	MetricsAddr string
	// EncryptionKeys is ENCRYPTION_KEYS ("id:base64key,…", 32-byte AES
	// keys; the first encrypts, all decrypt) and BlindIndexKey is
	// BLIND_INDEX_KEY (base64, 32 bytes; the HMAC key of email lookups), as
	// set; unset in development they are pii.DevEncryptionKeys and
	// pii.DevBlindIndexKey. Keyring is the keyring they make.
	EncryptionKeys, BlindIndexKey string
	Keyring                       *pii.Keyring
	// LeadRetentionDays is how long leads and reports keep their personal
	// data before `gateway retention run` anonymises them
	// (LEAD_RETENTION_DAYS, default 730); EventRetentionDays is how long raw
	// events are kept (EVENT_RETENTION_DAYS, default 400).
	LeadRetentionDays, EventRetentionDays int
	// DatabaseReadURL is a read replica for analysts' queries
	// (DATABASE_READ_URL); empty: the primary, through read-only
	// connections.
	DatabaseReadURL string
	// StatementTimeout and StatementTimeoutAnalyst bound one SQL statement
	// of a request (STATEMENT_TIMEOUT, default 5s) and of an analyst's
	// request (STATEMENT_TIMEOUT_ANALYST, default 30s); each role's pool
	// carries its own.
	StatementTimeout, StatementTimeoutAnalyst time.Duration
	// EventFlush is how often buffered events and searches are written
	// (EVENT_FLUSH_INTERVAL, default 1s); EventBufferMax bounds the buffer
	// (EVENT_BUFFER_MAX, default 100000): when it is full, new events are
	// refused until a flush makes room.
	EventFlush     time.Duration
	EventBufferMax int
	// SearchCacheTTL is how long the public's listing pages are answered
	// from the search cache at most (SEARCH_CACHE_TTL, default 5m; 0
	// turns it off): how late a listing write made outside the gateway
	// can show in them.
	SearchCacheTTL time.Duration
	// CacheListStaleness is how often the cached lists (searches, pages of
	// listings, a seller's listings) are purged at most while writes come
	// in (CACHE_LIST_STALENESS, default 30s, at most 30s): a new or changed
	// listing shows in them within twice that (the search cache uses its
	// stale answer once more while it refreshes it). Removals and
	// suspensions show at once.
	CacheListStaleness time.Duration
	// SearchConcurrency is how many public listing queries the search
	// cache misses run at once at most (SEARCH_CONCURRENCY, default the
	// number of CPUs the gateway may use: on one machine with the
	// database, one ranking per core); the others wait for a slot.
	SearchConcurrency int
	// ResponseCacheTTL is how long an anonymous query's whole response is
	// answered from the response cache at most (RESPONSE_CACHE_TTL,
	// default 60s; 0 turns it off): how late a write made outside the
	// gateway can show to the public (the gateways' own writes purge the
	// responses they change).
	ResponseCacheTTL time.Duration
	// RequestTimeout is every HTTP request's deadline (REQUEST_TIMEOUT,
	// default 10s): past it the request's database work is cancelled and
	// it answers SERVICE_UNAVAILABLE (503, Retry-After). UploadTimeout is
	// a multipart upload's instead (UPLOAD_TIMEOUT, default 2m): its body
	// may take longer to arrive. Websockets have none.
	RequestTimeout, UploadTimeout time.Duration
	// MaxInFlight bounds the HTTP requests served at once (MAX_IN_FLIGHT,
	// default 256); beyond, a request is answered at once with
	// SERVICE_UNAVAILABLE (503, Retry-After) instead of waiting. /healthz,
	// /readyz and websocket connections are not counted.
	MaxInFlight int
	// ReplicaMaxLag is how far the read replica (DATABASE_READ_URL) may
	// be behind the primary before analysts' requests are answered
	// SERVICE_UNAVAILABLE (REPLICA_MAX_LAG, default 30s).
	ReplicaMaxLag time.Duration
	// ReadHeaderTimeout is how long a client has to send a request's
	// headers (READ_HEADER_TIMEOUT, default 5s); a connection that takes
	// longer is closed.
	ReadHeaderTimeout time.Duration
	// Tracing is whether spans are exported over OTLP/HTTP: on when
	// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
	// set, unless OTEL_SDK_DISABLED is true or OTEL_TRACES_EXPORTER is none.
	// The exporter reads those and the other OTEL_* variables itself (see
	// internal/tracing).
	Tracing bool
}

// DevAbuseLimit is the development default of the limits on submitLead and
// reportListing per IP and per email: generous enough that trying the forms
// never hits them, while a test that sets a small limit still can.
const DevAbuseLimit = 1000

// DevHost is HOST's default in development.
const DevHost = "127.0.0.1"

// Production reports whether ENV is production.
func (c Config) Production() bool { return c.Env == "production" }

// ListenAddr is the API's listen address: HOST and PORT.
func (c Config) ListenAddr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// Load reads the configuration from getenv (os.Getenv in the binary),
// every variable through its entry in Vars, and checks it. It reports every
// problem at once: the error joins one error per offending variable, each
// naming it (and never quoting a secret).
func Load(getenv func(string) string) (Config, error) {
	r := &reader{getenv: getenv, production: getenv("ENV") == "production"}
	env := r.str("ENV")
	c := Config{
		Env:                env,
		DatabaseURL:        r.str("DATABASE_URL"),
		JWTSecret:          r.str("JWT_SECRET"),
		JWTIssuer:          r.str("JWT_ISSUER"),
		JWTAudience:        r.str("JWT_AUDIENCE"),
		CORSOrigins:        r.list("CORS_ALLOWED_ORIGINS"),
		CaptchaProvider:    r.str("CAPTCHA_PROVIDER"),
		CaptchaSecret:      r.str("CAPTCHA_SECRET"),
		MaxBodyBytes:       1 << 20,
		ShutdownGrace:      20 * time.Second,
		Port:               r.int("PORT"),
		DBMaxConns:         r.int("DATABASE_MAX_CONNS"),
		LoaderWait:         r.dur("LOADER_WAIT"),
		EventFlush:         r.dur("EVENT_FLUSH_INTERVAL"),
		EventBufferMax:     r.int("EVENT_BUFFER_MAX"),
		SearchCacheTTL:     r.dur("SEARCH_CACHE_TTL"),
		SearchConcurrency:  r.int("SEARCH_CONCURRENCY"),
		ResponseCacheTTL:   r.dur("RESPONSE_CACHE_TTL"),
		CacheListStaleness: r.dur("CACHE_LIST_STALENESS"),
		GraphiQL:           r.flag("GRAPHIQL"),
		Introspection:      r.flag("INTROSPECTION"),
		SMTPURL:            r.str("SMTP_URL"),
		MailFrom:           r.str("MAIL_FROM"),
		NotifyPollInterval: r.dur("NOTIFY_POLL_INTERVAL"),
		NotifyRetryBase:    r.dur("NOTIFY_RETRY_BASE"),
		NotifyRetryMax:     r.dur("NOTIFY_RETRY_MAX"),
		NotifyMaxAttempts:  r.int("NOTIFY_MAX_ATTEMPTS"),
		UploadMaxBytes:     int64(r.int("UPLOAD_MAX_BYTES")),
		Storage:            r.str("STORAGE"),
		MediaDir:           r.str("MEDIA_DIR"),
		PublicBaseURL:      strings.TrimRight(r.str("PUBLIC_BASE_URL"), "/"),
		MediaMaxBytes:      int64(r.int("MEDIA_MAX_BYTES")),
		S3Endpoint:         r.str("S3_ENDPOINT"),
		S3Bucket:           r.str("S3_BUCKET"),
		S3Region:           r.str("S3_REGION"),
		S3AccessKeyID:      r.str("S3_ACCESS_KEY_ID"),
		S3SecretAccessKey:  r.str("S3_SECRET_ACCESS_KEY"),
		S3PublicBaseURL:    r.str("S3_PUBLIC_BASE_URL"),
		CaptchaVerifyURL:   r.str("CAPTCHA_VERIFY_URL"),
		CaptchaHostname:    r.str("CAPTCHA_HOSTNAME"),
		CaptchaAction:      r.str("CAPTCHA_ACTION"),
		CaptchaTimeout:     r.dur("CAPTCHA_TIMEOUT"),
		CaptchaMinScore:    r.float("CAPTCHA_MIN_SCORE"),
		TrustedProxies:     r.list("TRUSTED_PROXIES"),

		RateLimitLeadsPerIPPerHour:      r.int("RATE_LIMIT_LEADS_PER_IP_PER_HOUR"),
		RateLimitReportsPerIPPerHour:    r.int("RATE_LIMIT_REPORTS_PER_IP_PER_HOUR"),
		RateLimitLeadsPerEmailPerDay:    r.int("RATE_LIMIT_LEADS_PER_EMAIL_PER_DAY"),
		RateLimitReportsPerEmailPerDay:  r.int("RATE_LIMIT_REPORTS_PER_EMAIL_PER_DAY"),
		RateLimitPointsPerMinute:        r.int("RATE_LIMIT_POINTS_PER_MINUTE"),
		RateLimitPointsPerMinuteAnalyst: r.int("RATE_LIMIT_POINTS_PER_MINUTE_ANALYST"),
		RateLimitEventsPerIPPerMinute:   r.int("RATE_LIMIT_EVENTS_PER_IP_PER_MINUTE"),
		RateLimitSync:                   r.dur("RATE_LIMIT_SYNC_INTERVAL"),

		LimitDepth:       r.int("LIMIT_DEPTH"),
		LimitCost:        r.int("LIMIT_COST"),
		LimitCostAnalyst: r.int("LIMIT_COST_ANALYST"),
		LimitAliases:     r.int("LIMIT_ALIASES"),
		LimitTokens:      r.int("LIMIT_TOKENS"),

		EncryptionKeys:     r.str("ENCRYPTION_KEYS"),
		BlindIndexKey:      r.str("BLIND_INDEX_KEY"),
		LeadRetentionDays:  r.int("LEAD_RETENTION_DAYS"),
		EventRetentionDays: r.int("EVENT_RETENTION_DAYS"),

		MetricsAddr:             r.str("METRICS_ADDR"),
		DatabaseReadURL:         r.str("DATABASE_READ_URL"),
		StatementTimeout:        r.dur("STATEMENT_TIMEOUT"),
		StatementTimeoutAnalyst: r.dur("STATEMENT_TIMEOUT_ANALYST"),
		RequestTimeout:          r.dur("REQUEST_TIMEOUT"),
		UploadTimeout:           r.dur("UPLOAD_TIMEOUT"),
		MaxInFlight:             r.int("MAX_IN_FLIGHT"),
		ReadHeaderTimeout:       r.dur("READ_HEADER_TIMEOUT"),
		ReplicaMaxLag:           r.dur("REPLICA_MAX_LAG"),
	}
	c.MigrateDatabaseURL = or(r.str("MIGRATE_DATABASE_URL"), c.DatabaseURL)
	c.Tracing = r.str("OTEL_SDK_DISABLED") != "true" && r.str("OTEL_TRACES_EXPORTER") != "none" &&
		(r.str("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || r.str("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "")
	c.Host = r.str("HOST")
	c.JWTLeeway, c.JWTRolesClaim = r.dur("JWT_LEEWAY"), r.str("JWT_ROLES_CLAIM")
	c.OIDCIssuerURL, c.JWKSURL = r.str("OIDC_ISSUER_URL"), r.str("JWKS_URL")
	roleMap := r.list("JWT_ROLE_MAP")
	if c.SearchConcurrency == 0 {
		c.SearchConcurrency = runtime.GOMAXPROCS(0)
	}
	errs := r.errs
	if c.CacheListStaleness <= 0 || c.CacheListStaleness > tagcache.DefaultListEvery {
		errs = append(errs, errors.New("CACHE_LIST_STALENESS must be positive and at most 30s"))
	}
	errs = append(errs, c.loadIdentity(roleMap)...)
	if strings.ContainsAny(c.Host, "/[] \t") || (strings.Contains(c.Host, ":") && net.ParseIP(c.Host) == nil) {
		errs = append(errs, errors.New("HOST must be an IP address or a host name, without a port"))
	}
	if c.SMTPURL != "" && c.MailFrom == "" {
		errs = append(errs, errors.New("MAIL_FROM is required when SMTP_URL is set in production"))
	}
	if u, err := url.Parse(c.PublicBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, errors.New("PUBLIC_BASE_URL must be an http or https URL"))
	}
	switch c.Storage {
	case "local":
	case "s3":
		if c.S3Bucket == "" {
			errs = append(errs, errors.New("S3_BUCKET is required when STORAGE is s3"))
		}
		if (c.S3AccessKeyID == "") != (c.S3SecretAccessKey == "") {
			errs = append(errs, errors.New("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together or not at all"))
		}
	default:
		errs = append(errs, errors.New("STORAGE must be local or s3"))
	}
	if c.CaptchaMinScore < 0 || c.CaptchaMinScore > 1 {
		errs = append(errs, errors.New("CAPTCHA_MIN_SCORE must be a number from 0 to 1"))
	}
	if c.CaptchaProvider != "test" && c.CaptchaSecret == "" {
		errs = append(errs, fmt.Errorf("CAPTCHA_SECRET is required with CAPTCHA_PROVIDER %s", c.CaptchaProvider))
	}
	if k, err := pii.Parse(c.EncryptionKeys, c.BlindIndexKey); err != nil {
		errs = append(errs, err)
	} else {
		c.Keyring = k
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"REQUEST_TIMEOUT", c.RequestTimeout}, {"UPLOAD_TIMEOUT", c.UploadTimeout},
		{"READ_HEADER_TIMEOUT", c.ReadHeaderTimeout}, {"RATE_LIMIT_SYNC_INTERVAL", c.RateLimitSync}} {
		if d.d == 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", d.name))
		}
	}
	for _, b := range []struct {
		budget, limit string
		points, cost  int
	}{{"RATE_LIMIT_POINTS_PER_MINUTE", "LIMIT_COST", c.RateLimitPointsPerMinute, c.LimitCost},
		{"RATE_LIMIT_POINTS_PER_MINUTE_ANALYST", "LIMIT_COST_ANALYST", c.RateLimitPointsPerMinuteAnalyst, c.LimitCostAnalyst}} {
		if b.points < b.cost {
			errs = append(errs, fmt.Errorf("%s (%d) must be at least %s (%d): a query within the cost limit must fit the budget",
				b.budget, b.points, b.limit, b.cost))
		}
	}
	if env != "development" && env != "production" {
		errs = append(errs, errors.New("ENV must be development or production"))
	}
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required in production"))
	}
	if c.Production() {
		if len(c.JWTSecret) < 32 || c.JWTSecret == DevJWTSecret {
			errs = append(errs, errors.New("JWT_SECRET must be set to a secret of at least 32 bytes in production"))
		}
		if c.CaptchaProvider == "test" {
			errs = append(errs, errors.New("CAPTCHA_PROVIDER test is refused in production"))
		}
		devKey := strings.SplitN(pii.DevEncryptionKeys, ":", 2)[1]
		if strings.Contains(c.EncryptionKeys, devKey) {
			errs = append(errs, errors.New("ENCRYPTION_KEYS must not hold the development key in production"))
		}
		if c.BlindIndexKey == pii.DevBlindIndexKey {
			errs = append(errs, errors.New("BLIND_INDEX_KEY must not be the development key in production"))
		}
		for _, o := range c.CORSOrigins {
			if o == "*" {
				errs = append(errs, errors.New("CORS_ALLOWED_ORIGINS must not allow * in production"))
			}
		}
		for _, v := range []struct{ name, url string }{{"DATABASE_URL", c.DatabaseURL},
			{"MIGRATE_DATABASE_URL", c.MigrateDatabaseURL}, {"DATABASE_READ_URL", c.DatabaseReadURL}} {
			if err := requireTLS(v.name, v.url, r.str("PGSSLMODE")); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return c, errors.Join(errs...)
}

// maxLeeway bounds JWT_LEEWAY: more would keep expired tokens working.
const maxLeeway = 5 * time.Minute

// loadIdentity reads the identity provider's settings (OIDC_ISSUER_URL,
// JWKS_URL, JWT_ROLES_CLAIM, JWT_ROLE_MAP) into c and returns what is wrong
// with them; JWT_LEEWAY, JWT_ISSUER and JWT_AUDIENCE are read already.
func (c *Config) loadIdentity(roleMap []string) []error {
	var errs []error
	if c.JWTLeeway > maxLeeway {
		errs = append(errs, errors.New("JWT_LEEWAY must be at most 5m"))
	}
	if c.OIDCIssuerURL != "" && c.JWKSURL != "" {
		errs = append(errs, errors.New("set OIDC_ISSUER_URL or JWKS_URL, not both"))
	}
	for _, v := range []struct{ name, url string }{{"OIDC_ISSUER_URL", c.OIDCIssuerURL}, {"JWKS_URL", c.JWKSURL}} {
		if v.url == "" {
			continue
		}
		u, err := url.Parse(v.url)
		if err != nil || u.Host == "" || (u.Scheme != "https" && (u.Scheme != "http" || c.Production())) {
			errs = append(errs, fmt.Errorf("%s must be an https URL (http only in development)", v.name))
		}
	}
	c.JWTRoleMap = map[string]string{}
	for _, pair := range roleMap {
		name, role, ok := strings.Cut(pair, ":")
		name, role = strings.TrimSpace(name), strings.ToUpper(strings.TrimSpace(role))
		if !ok || name == "" || (role != "ADMIN" && role != "ANALYST") {
			errs = append(errs, errors.New("JWT_ROLE_MAP must be provider-role:ADMIN or provider-role:ANALYST pairs, comma-separated"))
			break
		}
		c.JWTRoleMap[name] = role
	}
	if c.Production() && c.IdentityProvider() {
		if c.JWTAudience == "" {
			errs = append(errs, errors.New("JWT_AUDIENCE is required in production with an identity provider"))
		}
		if c.ProviderIssuer() == "" {
			errs = append(errs, errors.New("JWT_ISSUER is required in production with JWKS_URL (or set OIDC_ISSUER_URL)"))
		}
	}
	return errs
}

// IdentityProvider reports whether an external identity provider is
// configured (OIDC_ISSUER_URL or JWKS_URL).
func (c Config) IdentityProvider() bool { return c.OIDCIssuerURL != "" || c.JWKSURL != "" }

// ProviderIssuer is the `iss` required of the provider's tokens:
// OIDC_ISSUER_URL, else JWT_ISSUER; "" when neither is set (development
// only), and then not checked.
func (c Config) ProviderIssuer() string { return or(c.OIDCIssuerURL, c.JWTIssuer) }

// secureSSLModes are the sslmode values that encrypt the connection.
var secureSSLModes = map[string]bool{"require": true, "verify-ca": true, "verify-full": true}

// requireTLS returns an error naming variable when the connection string
// databaseURL (URL or key=value form; empty: unset, nothing to check) would
// reach a server that is not on this machine without TLS. A loopback
// address, localhost and a unix socket directory need none. Without an
// sslmode the driver takes PGSSLMODE (pgSSLMode), then require. The error
// never quotes the URL, which may hold a password.
func requireTLS(variable, databaseURL, pgSSLMode string) error {
	if databaseURL == "" {
		return nil
	}
	opts, err := connectionOptions(databaseURL)
	if err != nil {
		return fmt.Errorf("%s is not a valid connection string", variable)
	}
	host := opts["host"]
	if host == "" || host == "localhost" || strings.HasPrefix(host, "/") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	mode := or(opts["sslmode"], or(pgSSLMode, "require"))
	if !secureSSLModes[mode] {
		return fmt.Errorf("%s must use TLS in production (sslmode=require, verify-ca or verify-full; got sslmode=%s for a server that is not on loopback)", variable, mode)
	}
	return nil
}

// connectionOptions returns the settings of a connection string in URL
// form (postgres://…) or key=value form, as lib/pq reads them.
func connectionOptions(dsn string) (map[string]string, error) {
	dsn = strings.TrimSpace(dsn)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, err
		}
		opts := map[string]string{"host": u.Hostname()}
		for k, v := range u.Query() {
			opts[k] = v[len(v)-1]
		}
		return opts, nil
	}
	opts := map[string]string{}
	for rest := dsn; ; {
		rest = strings.TrimLeft(rest, " \t\n\r")
		if rest == "" {
			return opts, nil
		}
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			return nil, errors.New("a key without a value")
		}
		key = strings.TrimSpace(key)
		var value strings.Builder
		after = strings.TrimLeft(after, " ")
		quoted := strings.HasPrefix(after, "'")
		if quoted {
			after = after[1:]
		}
		i := 0
		for ; i < len(after); i++ {
			c := after[i]
			if c == '\\' && i+1 < len(after) {
				i++
				value.WriteByte(after[i])
				continue
			}
			if (quoted && c == '\'') || (!quoted && (c == ' ' || c == '\t' || c == '\n')) {
				break
			}
			value.WriteByte(c)
		}
		if quoted {
			if i == len(after) {
				return nil, errors.New("an unterminated quote")
			}
			i++
		}
		opts[key], rest = value.String(), after[i:]
	}
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
