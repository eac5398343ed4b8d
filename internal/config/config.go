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
	Port               int
	JWTSecret          string
	JWTIssuer          string
	JWTAudience        string
	CORSOrigins        []string
	CaptchaProvider    string
	CaptchaSecret      string
	GraphiQL           bool
	Introspection      bool
	MaxBodyBytes       int64
	LoaderWait         time.Duration
	ShutdownGrace      time.Duration
	DBMaxConns         int
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
	// IP.
	RateLimitPointsPerMinute int
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

// Production reports whether ENV is production.
func (c Config) Production() bool { return c.Env == "production" }

// Load reads the configuration from getenv (os.Getenv in the binary) and
// checks it. Errors name the offending variable.
func Load(getenv func(string) string) (Config, error) {
	env := or(getenv("ENV"), "development")
	dev := env == "development"
	c := Config{
		Env:             env,
		DatabaseURL:     getenv("DATABASE_URL"),
		JWTSecret:       getenv("JWT_SECRET"),
		JWTIssuer:       getenv("JWT_ISSUER"),
		JWTAudience:     getenv("JWT_AUDIENCE"),
		CORSOrigins:     list(or(getenv("CORS_ALLOWED_ORIGINS"), "http://localhost:3000")),
		CaptchaProvider: or(getenv("CAPTCHA_PROVIDER"), "test"),
		CaptchaSecret:   getenv("CAPTCHA_SECRET"),
		MaxBodyBytes:    1 << 20,
		ShutdownGrace:   20 * time.Second,
	}
	var errs []error
	num := func(name string, def int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s must be a positive integer", name))
		}
		return n
	}
	dur := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s must be a duration such as 1s", name))
		}
		return d
	}
	flag := func(name string, def bool) bool {
		switch getenv(name) {
		case "":
			return def
		case "on", "true", "1":
			return true
		case "off", "false", "0":
			return false
		}
		errs = append(errs, fmt.Errorf("%s must be on or off", name))
		return def
	}
	c.Port = num("PORT", 8080)
	c.DBMaxConns = num("DATABASE_MAX_CONNS", 20)
	c.LoaderWait = dur("LOADER_WAIT", time.Millisecond)
	c.EventFlush = dur("EVENT_FLUSH_INTERVAL", time.Second)
	c.EventBufferMax = num("EVENT_BUFFER_MAX", 100_000)
	c.SearchCacheTTL = dur("SEARCH_CACHE_TTL", 5*time.Minute)
	c.SearchConcurrency = num("SEARCH_CONCURRENCY", runtime.GOMAXPROCS(0))
	c.ResponseCacheTTL = dur("RESPONSE_CACHE_TTL", time.Minute)
	c.CacheListStaleness = dur("CACHE_LIST_STALENESS", tagcache.DefaultListEvery)
	if c.CacheListStaleness <= 0 || c.CacheListStaleness > tagcache.DefaultListEvery {
		errs = append(errs, errors.New("CACHE_LIST_STALENESS must be positive and at most 30s"))
	}
	c.GraphiQL = flag("GRAPHIQL", dev)
	c.SMTPURL, c.MailFrom = getenv("SMTP_URL"), getenv("MAIL_FROM")
	if c.SMTPURL != "" && c.MailFrom == "" {
		if c.Production() {
			errs = append(errs, errors.New("MAIL_FROM is required when SMTP_URL is set in production"))
		}
		c.MailFrom = "PartsMarket <no-reply@localhost>"
	}
	c.NotifyPollInterval = dur("NOTIFY_POLL_INTERVAL", 5*time.Second)
	c.NotifyRetryBase = dur("NOTIFY_RETRY_BASE", 30*time.Second)
	c.NotifyRetryMax = dur("NOTIFY_RETRY_MAX", time.Hour)
	c.NotifyMaxAttempts = num("NOTIFY_MAX_ATTEMPTS", 10)
	c.UploadMaxBytes = int64(num("UPLOAD_MAX_BYTES", 50<<20))
	c.Storage = or(getenv("STORAGE"), "local")
	c.MediaDir = or(getenv("MEDIA_DIR"), ".data/media")
	c.PublicBaseURL = strings.TrimRight(or(getenv("PUBLIC_BASE_URL"), "http://localhost:8080"), "/")
	c.MediaMaxBytes = int64(num("MEDIA_MAX_BYTES", 10<<20))
	c.S3Endpoint, c.S3Bucket, c.S3Region = getenv("S3_ENDPOINT"), getenv("S3_BUCKET"), getenv("S3_REGION")
	c.S3AccessKeyID, c.S3SecretAccessKey = getenv("S3_ACCESS_KEY_ID"), getenv("S3_SECRET_ACCESS_KEY")
	c.S3PublicBaseURL = getenv("S3_PUBLIC_BASE_URL")
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
	c.Introspection = flag("INTROSPECTION", dev)
	c.CaptchaVerifyURL = getenv("CAPTCHA_VERIFY_URL")
	c.CaptchaHostname, c.CaptchaAction = getenv("CAPTCHA_HOSTNAME"), getenv("CAPTCHA_ACTION")
	c.CaptchaTimeout = dur("CAPTCHA_TIMEOUT", 5*time.Second)
	c.CaptchaMinScore = 0.5
	if v := getenv("CAPTCHA_MIN_SCORE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			errs = append(errs, errors.New("CAPTCHA_MIN_SCORE must be a number from 0 to 1"))
		}
		c.CaptchaMinScore = f
	}
	if c.CaptchaProvider != "test" && c.CaptchaSecret == "" {
		errs = append(errs, fmt.Errorf("CAPTCHA_SECRET is required with CAPTCHA_PROVIDER %s", c.CaptchaProvider))
	}
	c.TrustedProxies = list(getenv("TRUSTED_PROXIES"))
	c.RateLimitLeadsPerIPPerHour = num("RATE_LIMIT_LEADS_PER_IP_PER_HOUR", 20)
	c.RateLimitReportsPerIPPerHour = num("RATE_LIMIT_REPORTS_PER_IP_PER_HOUR", 10)
	c.RateLimitLeadsPerEmailPerDay = num("RATE_LIMIT_LEADS_PER_EMAIL_PER_DAY", 10)
	c.RateLimitReportsPerEmailPerDay = num("RATE_LIMIT_REPORTS_PER_EMAIL_PER_DAY", 10)
	c.RateLimitPointsPerMinute = num("RATE_LIMIT_POINTS_PER_MINUTE", 20000)
	c.RateLimitEventsPerIPPerMinute = num("RATE_LIMIT_EVENTS_PER_IP_PER_MINUTE", 600)
	c.RateLimitSync = dur("RATE_LIMIT_SYNC_INTERVAL", time.Second)
	c.LimitDepth, c.LimitCost = num("LIMIT_DEPTH", 12), num("LIMIT_COST", 10000)
	c.LimitCostAnalyst, c.LimitAliases = num("LIMIT_COST_ANALYST", 50000), num("LIMIT_ALIASES", 30)
	c.LimitTokens = num("LIMIT_TOKENS", 5000)
	c.EncryptionKeys, c.BlindIndexKey = getenv("ENCRYPTION_KEYS"), getenv("BLIND_INDEX_KEY")
	if c.EncryptionKeys == "" && env != "production" {
		c.EncryptionKeys = pii.DevEncryptionKeys
	}
	if c.BlindIndexKey == "" && env != "production" {
		c.BlindIndexKey = pii.DevBlindIndexKey
	}
	if k, err := pii.Parse(c.EncryptionKeys, c.BlindIndexKey); err != nil {
		errs = append(errs, err)
	} else {
		c.Keyring = k
	}
	c.LeadRetentionDays = num("LEAD_RETENTION_DAYS", 730)
	c.EventRetentionDays = num("EVENT_RETENTION_DAYS", 400)
	c.MetricsAddr = or(getenv("METRICS_ADDR"), "127.0.0.1:9090")
	c.DatabaseReadURL = getenv("DATABASE_READ_URL")
	c.StatementTimeout = dur("STATEMENT_TIMEOUT", 5*time.Second)
	c.StatementTimeoutAnalyst = dur("STATEMENT_TIMEOUT_ANALYST", 30*time.Second)
	c.RequestTimeout = dur("REQUEST_TIMEOUT", 10*time.Second)
	c.UploadTimeout = dur("UPLOAD_TIMEOUT", 2*time.Minute)
	c.MaxInFlight = num("MAX_IN_FLIGHT", 256)
	c.ReadHeaderTimeout = dur("READ_HEADER_TIMEOUT", 5*time.Second)
	c.ReplicaMaxLag = dur("REPLICA_MAX_LAG", 30*time.Second)
	c.Tracing = getenv("OTEL_SDK_DISABLED") != "true" && getenv("OTEL_TRACES_EXPORTER") != "none" &&
		(getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "")
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"REQUEST_TIMEOUT", c.RequestTimeout}, {"UPLOAD_TIMEOUT", c.UploadTimeout}, {"READ_HEADER_TIMEOUT", c.ReadHeaderTimeout}} {
		if d.d == 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", d.name))
		}
	}
	if c.RateLimitSync == 0 {
		errs = append(errs, errors.New("RATE_LIMIT_SYNC_INTERVAL must be positive"))
	}
	if env != "development" && env != "production" {
		errs = append(errs, errors.New("ENV must be development or production"))
	}
	if c.DatabaseURL == "" && !c.Production() {
		c.DatabaseURL = DevDatabaseURL
	}
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required in production"))
	}
	c.MigrateDatabaseURL = or(getenv("MIGRATE_DATABASE_URL"), c.DatabaseURL)
	if c.JWTSecret == "" && !c.Production() {
		c.JWTSecret = DevJWTSecret
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
			if err := requireTLS(v.name, v.url, getenv("PGSSLMODE")); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return c, errors.Join(errs...)
}

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

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
