// Command gateway is the marketplace's GraphQL gateway: one binary that
// serves the API and runs its chores.
//
//	gateway [serve]                      serve HTTP (the default)
//	gateway migrate up|down|status       change or show the database schema
//	gateway seed                         load demo data (idempotent)
//	gateway token --role R [--seller-id ID] [--subject S] [--ttl 1h]
//	gateway token --demo [--ttl 1h]      tokens of the demo admin, analyst and seller owner
//	gateway keys rotate                  re-encrypt personal data under the first key
//	gateway retention run                anonymise old leads and reports, delete old events
//
// Configuration is environment variables only (docs/configuration.md);
// `gateway --help` lists the commands.
package main

//go:generate go tool gqlgen generate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/partsmarket/gateway/graph"
	"github.com/partsmarket/gateway/internal/abuse"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/config"
	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/internal/events"
	"github.com/partsmarket/gateway/internal/httpapi"
	"github.com/partsmarket/gateway/internal/identity"
	"github.com/partsmarket/gateway/internal/imports"
	"github.com/partsmarket/gateway/internal/limits"
	"github.com/partsmarket/gateway/internal/metrics"
	"github.com/partsmarket/gateway/internal/notify"
	"github.com/partsmarket/gateway/internal/pubsub"
	"github.com/partsmarket/gateway/internal/ratelimit"
	"github.com/partsmarket/gateway/internal/replica"
	"github.com/partsmarket/gateway/internal/respcache"
	"github.com/partsmarket/gateway/internal/searchlog"
	"github.com/partsmarket/gateway/internal/seed"
	"github.com/partsmarket/gateway/internal/storage"
	"github.com/partsmarket/gateway/internal/tagcache"
	"github.com/partsmarket/gateway/internal/tracing"
	"github.com/partsmarket/gateway/resolvers"
	"github.com/partsmarket/gateway/store"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, log); err != nil {
		log.Error("gateway failed", "error", err.Error())
		os.Exit(1)
	}
}

// usage is what `gateway --help` prints.
const usage = `gateway: the marketplace's GraphQL gateway.

Usage:
  gateway [serve]                      serve HTTP on HOST:PORT (the default)
  gateway migrate up|down|status       change or show the database schema
  gateway seed                         load the demo data (idempotent)
  gateway token --role R [--seller-id ID] [--subject S] [--ttl 1h]
                                       print a signed token (gateway token --help)
  gateway keys rotate                  re-encrypt personal data under the first key
  gateway retention run                anonymise old leads and reports, delete old events
  gateway help                         print this help

Configuration is environment variables only (ENV, DATABASE_URL, HOST, PORT,
JWT_SECRET, ...); ENV=production refuses development secrets.
`

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// run carries out one subcommand.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, log *slog.Logger) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	// Help needs no configuration: it works before any is set.
	if isHelp(cmd) || (cmd != "token" && len(args) > 0 && isHelp(args[0])) {
		_, err := io.WriteString(stdout, usage)
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	switch cmd {
	case "serve":
		ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		if getenv("GOGC") == "" {
			debug.SetGCPercent(serveGCPercent)
		}
		if getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(serveMemoryLimit)
		}
		return serve(ctx, cfg, log)
	case "migrate":
		return migrate(ctx, cfg, args, stdout)
	case "seed":
		return seedDemo(ctx, cfg, stdout)
	case "token":
		return mintToken(cfg, args, stdout)
	case "keys":
		return rotateKeys(ctx, cfg, args, stdout)
	case "retention":
		return runRetention(ctx, cfg, args, stdout)
	default:
		return fmt.Errorf("unknown command %q (serve, migrate, seed, token, keys, retention)", cmd)
	}
}

// app is a wired gateway: its HTTP handler and what must be closed after it.
type app struct {
	handler  http.Handler
	searches *searchlog.Recorder
	events   *events.Buffer
	pools    []*sqlx.DB
	notifier *notify.Service // nil without SMTP_URL
	live     *pubsub.Hub
	imports  *imports.Importer
	media    storage.Storage
	budget   *ratelimit.Limiter
	// analystBudget is the analysts' query-cost budget.
	analystBudget *ratelimit.Limiter
	// eventBudget is the per-IP budget of POST /events and recordEvent.
	eventBudget *ratelimit.Limiter
	// invalidator purges the caches of public answers; searchCache is
	// shared by every store of the process.
	invalidator *tagcache.Invalidator
	searchCache *store.SearchCache
	// responses caches the public's whole responses; nil when
	// RESPONSE_CACHE_TTL is 0.
	responses *respcache.Cache
	// replica watches the analysts' read replica's lag; nil without
	// DATABASE_READ_URL.
	replica *replica.Monitor
	// metrics serves /metrics; serve binds it to METRICS_ADDR, never to
	// the public port.
	metrics http.Handler
	// identities caches memberships and holds the revocations.
	identities *identity.Directory
	// tracing exports spans; nil when tracing is off.
	tracing *tracing.Provider
}

// appOption changes how newApp wires the gateway.
type appOption func(*app)

// withTracing makes the gateway trace with p instead of what the
// configuration says (tests collect spans in memory).
func withTracing(p *tracing.Provider) appOption {
	return func(a *app) { a.tracing = p }
}

// serveGCPercent is the server's GOGC unless the environment sets one. A
// request allocates much and keeps little (the whole process stays near
// 40 MB of RSS), and under load the profile showed 21 % of the CPU time in
// allocation and 11 % in the collector's marking at the default of 100; at
// 400 listing pages served 6 to 15 % more requests per second for about
// 18 MB more RSS (BENCHMARKS.md).
const serveGCPercent = 400

// serveMemoryLimit is the server's soft heap limit (GOMEMLIMIT) unless the
// environment sets one. The caches keep up to about 60 MB alive (the
// response cache's 32 MB and the search cache's 24 MB), and GOGC 400 alone
// would let the heap grow to five times that; near the limit the collector
// runs as often as it must instead, which costs the allocation-heavy pages
// (a seller's inbox, the analysts' metrics) about a fifth of their
// throughput once the caches are full (BENCHMARKS.md).
const serveMemoryLimit = 100 << 20

// idleTimeout is how long a keep-alive connection may wait for its next
// request.
const idleTimeout = 60 * time.Second

// maxHeaderBytes bounds a request's headers (a bearer token is well under
// 4 KiB); the server answers 431 beyond.
const maxHeaderBytes = 64 << 10

// searchCacheBytes bounds the search cache: the ids and cursor keys of
// public listing pages, with their keys and tags (about 10,000 pages of
// 20).
const searchCacheBytes = 24 << 20

// responseCacheBytes bounds the response cache: the responses, with their
// keys and tags.
const responseCacheBytes = 32 << 20

// newApp connects to the database and wires the gateway.
func newApp(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...appOption) (*app, error) {
	httpDB, err := database.Open(ctx, cfg.DatabaseURL, "gateway-http", cfg.DBMaxConns,
		database.StatementTimeout(cfg.StatementTimeout))
	if err != nil {
		return nil, err
	}
	if cfg.Production() {
		// Row-level security holds only for a role that cannot skip it.
		if err := database.CheckServingRole(ctx, httpDB.DB); err != nil {
			httpDB.Close()
			return nil, err
		}
	}
	workerDB, err := database.Open(ctx, cfg.DatabaseURL, "gateway-worker", 4)
	if err != nil {
		httpDB.Close()
		return nil, err
	}
	a := &app{pools: []*sqlx.DB{httpDB, workerDB}}
	for _, o := range opts {
		o(a)
	}
	if a.tracing == nil && cfg.Tracing {
		if a.tracing, err = tracing.New(ctx); err != nil {
			a.close(ctx)
			return nil, err
		}
	}
	// Analysts' requests have their own pool: the replica when there is
	// one, read-only and with the analyst's statement timeout either way.
	analystConns := max(2, cfg.DBMaxConns/4)
	analystSettings := []database.Setting{database.StatementTimeout(cfg.StatementTimeoutAnalyst), database.ReadOnly()}
	var analystDB *sqlx.DB
	if cfg.DatabaseReadURL != "" {
		// A replica that is down must not keep the gateway from
		// starting: its pool connects on first use, and analysts get
		// SERVICE_UNAVAILABLE until it answers.
		analystDB, err = database.Connect(cfg.DatabaseReadURL, "gateway-http", analystConns, analystSettings...)
	} else {
		analystDB, err = database.Open(ctx, cfg.DatabaseURL, "gateway-http", analystConns, analystSettings...)
	}
	if err != nil {
		a.close(ctx)
		return nil, err
	}
	a.pools = append(a.pools, analystDB)
	if cfg.DatabaseReadURL != "" {
		a.replica = replica.New(analystDB, cfg.ReplicaMaxLag, log)
		a.replica.Start()
	}
	m := metrics.New(metrics.Options{})
	m.WatchPool("http", httpDB.DB)
	m.WatchPool("worker", workerDB.DB)
	m.WatchPool("analyst", analystDB.DB)
	metricsMux := http.NewServeMux()
	metricsMux.Handle("GET /metrics", m.Handler())
	// The Go profiler, on the same internal listener, for finding where
	// the time goes under load (BENCHMARKS.md).
	metricsMux.HandleFunc("GET /debug/pprof/", pprof.Index)
	metricsMux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	metricsMux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	a.metrics = metricsMux
	captcha, err := abuse.NewCaptcha(abuse.CaptchaOptions{Provider: cfg.CaptchaProvider, Secret: cfg.CaptchaSecret,
		VerifyURL: cfg.CaptchaVerifyURL, Hostname: cfg.CaptchaHostname, Action: cfg.CaptchaAction,
		MinScore: cfg.CaptchaMinScore, Timeout: cfg.CaptchaTimeout, Log: log})
	if err != nil {
		a.close(ctx)
		return nil, err
	}
	trustedProxies, err := httpapi.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		a.close(ctx)
		return nil, err
	}
	abuseLimits := abuse.NewLimiter(httpDB, abuse.LimitOptions{LeadsPerIPPerHour: cfg.RateLimitLeadsPerIPPerHour,
		ReportsPerIPPerHour: cfg.RateLimitReportsPerIPPerHour, LeadsPerEmailPerDay: cfg.RateLimitLeadsPerEmailPerDay,
		ReportsPerEmailPerDay: cfg.RateLimitReportsPerEmailPerDay,
		HashKey:               abuse.HashKeyFrom(cfg.JWTSecret), Keys: cfg.Keyring, OnLimited: httpapi.MarkRateLimited,
		OnLimitedKind: func(_ context.Context, kind string) { m.RateLimited(kind) }})
	keys := store.WithKeyring(cfg.Keyring)
	a.searches = searchlog.New(store.New(workerDB, keys).RecordSearches, cfg.EventFlush, log)
	a.searches.SetObserver(m)
	a.searches.Start()
	// Every store that writes shares the keyring and the invalidator of the
	// caches of public answers, so that a write through any of them purges
	// the answers it changes.
	a.invalidator = tagcache.NewInvalidator(cfg.CacheListStaleness)
	a.searchCache = store.NewSearchCache(a.invalidator, cfg.SearchCacheTTL, searchCacheBytes, cfg.SearchConcurrency)
	a.searchCache.SetObserver(m)
	a.responses = respcache.New(respcache.Options{TTL: cfg.ResponseCacheTTL, MaxBytes: responseCacheBytes, Invalidator: a.invalidator, Observer: m})
	writers := []store.Option{keys, store.WithSearchCache(a.searchCache), store.WithInvalidator(a.invalidator)}
	st := store.New(httpDB, writers...).WithAnalystPool(analystDB)
	st.LookForSearchIndex(ctx)
	workerStore := store.New(workerDB, writers...)
	a.events = events.New(events.Options{Write: workerStore.RecordEvents, Settle: workerStore.FoldPendingRollups, Interval: cfg.EventFlush,
		MaxPending: cfg.EventBufferMax, Log: log, Observer: m})
	a.events.Start()
	a.eventBudget = ratelimit.New(ratelimit.Options{PointsPerMinute: cfg.RateLimitEventsPerIPPerMinute, SyncInterval: cfg.RateLimitSync,
		DB: workerDB, Table: "event_rate_limit_buckets", HashKey: ratelimit.HashKeyFrom(cfg.JWTSecret), Log: log})
	a.eventBudget.Start()
	ingest := events.NewIngestor(events.IngestOptions{Buffer: a.events, Lookup: st, Budget: a.eventBudget,
		HashKey: events.HashKeyFrom(cfg.JWTSecret)})
	m.WatchOutbox(workerStore.Backlog)
	if a.notifier, err = notify.FromConfig(ctx, cfg, log, m); err != nil {
		a.close(ctx)
		return nil, err
	}
	if a.notifier != nil {
		m.WatchPool("notify", a.notifier.DB().DB)
	}
	hubStore := store.New(workerDB, keys)
	// Memberships are looked up with the request's statements (st), and
	// revocations all held in memory.
	a.identities = identity.New(st, log)
	if err := a.identities.Load(ctx); err != nil {
		a.close(ctx)
		return nil, err
	}
	a.live = pubsub.New(pubsub.Options{DatabaseURL: cfg.DatabaseURL, Store: hubStore, Log: log,
		SellerStatus:      hubStore.SellerStatus,
		OnPublicChanged:   a.invalidator.Receive,
		OnIdentityChanged: a.identities.Receive})
	listenCtx, cancelListen := context.WithTimeout(ctx, 15*time.Second)
	err = a.live.Start(listenCtx)
	cancelListen()
	if err != nil {
		a.close(ctx)
		return nil, err
	}
	if a.media, err = newMediaStorage(cfg); err != nil {
		a.close(ctx)
		return nil, err
	}
	a.imports = imports.New(imports.Options{Files: imports.Files(a.media), Store: st, WorkerStore: workerStore, Log: log})
	a.imports.Start()
	a.budget = ratelimit.New(ratelimit.Options{PointsPerMinute: cfg.RateLimitPointsPerMinute, SyncInterval: cfg.RateLimitSync,
		DB: workerDB, HashKey: ratelimit.HashKeyFrom(cfg.JWTSecret), Log: log})
	a.budget.Start()
	a.analystBudget = ratelimit.New(ratelimit.Options{PointsPerMinute: cfg.RateLimitPointsPerMinuteAnalyst,
		SyncInterval: cfg.RateLimitSync, DB: workerDB, Table: "analyst_rate_limit_buckets",
		HashKey: ratelimit.HashKeyFrom(cfg.JWTSecret), Log: log})
	a.analystBudget.Start()
	schema := graph.NewExecutableSchema(graph.Config{
		Resolvers: &resolvers.Resolver{Store: st, Captcha: captcha, Limiter: abuseLimits, LiveLeads: a.live, Imports: a.imports,
			Media: a.media, MediaMaxBytes: cfg.MediaMaxBytes, Events: ingest, Identities: a.identities},
		Directives: graph.DirectiveRoot{HasRole: access.HasRole, Owner: access.Owner, Pii: access.Pii},
	})
	tokens, err := tokenConfig(cfg, log)
	if err != nil {
		a.close(ctx)
		return nil, err
	}
	a.handler = httpapi.New(httpapi.Options{
		GraphiQL:       cfg.GraphiQL,
		Introspection:  cfg.Introspection,
		Suggestions:    cfg.Introspection && !cfg.Production(), // never in production
		CORSOrigins:    cfg.CORSOrigins,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		UploadMaxBytes: cfg.UploadMaxBytes,
		LoaderWait:     cfg.LoaderWait,
		TrustedProxies: trustedProxies,
		RequestTimeout: cfg.RequestTimeout,
		UploadTimeout:  cfg.UploadTimeout,
		MaxInFlight:    cfg.MaxInFlight,
		Limits: limits.Config{Depth: cfg.LimitDepth, Cost: cfg.LimitCost, CostAnalyst: cfg.LimitCostAnalyst,
			Aliases: cfg.LimitAliases, Tokens: cfg.LimitTokens},
	}, httpapi.Deps{
		Schema: schema,
		Store:  st,
		Auth: access.NewAuthenticator(tokens, st.SellerStatus,
			access.WithMembership(a.identities.Membership), access.WithRevocations(a.identities.Revoked)),
		Media:  storage.Handler(a.media, log),
		Budget: httpapi.NewBudget(a.budget, a.analystBudget),
		// A cached response is measured and charged like any other.
		ResponseCache: a.responses,
		SearchLog:     a.searches.Operations(),
		Log:           log,
		Ready: func(ctx context.Context) error {
			current, err := database.MigrationsCurrent(ctx, httpDB.DB)
			if err == nil && !current {
				err = errors.New("migrations pending")
			}
			return err
		},
		Metrics:       m,
		Events:        ingest,
		SellerWatch:   a.live,
		SessionWatch:  a.identities,
		ReplicaBehind: a.replica.Behind,
		Tracing:       a.tracing,
	})
	return a, nil
}

// newMediaStorage opens the storage that STORAGE names: uploaded media and
// import files.
func newMediaStorage(cfg config.Config) (storage.Storage, error) {
	return storage.New(storage.Config{Kind: cfg.Storage, Dir: cfg.MediaDir, PublicBaseURL: cfg.PublicBaseURL,
		S3: storage.S3Config{Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, Region: cfg.S3Region,
			AccessKeyID: cfg.S3AccessKeyID, SecretAccessKey: cfg.S3SecretAccessKey, PublicBaseURL: cfg.S3PublicBaseURL}})
}

// close flushes the search log and closes the pools.
func (a *app) close(ctx context.Context) {
	if c, ok := a.media.(io.Closer); ok {
		c.Close()
	}
	if a.live != nil {
		a.live.Close() // ends live subscriptions: their sockets close with 1001
	}
	a.notifier.Close()
	if a.imports != nil {
		a.imports.Close(ctx) // puts a running import back in the queue
	}
	if a.budget != nil {
		a.budget.Close(ctx) // pushes this instance's last spend
	}
	if a.analystBudget != nil {
		a.analystBudget.Close(ctx)
	}
	if a.eventBudget != nil {
		a.eventBudget.Close(ctx)
	}
	if a.searches != nil {
		a.searches.Close(ctx)
	}
	if a.replica != nil {
		a.replica.Close()
	}
	if a.events != nil {
		_ = a.events.Close(ctx) // writes every accepted event; a failure is logged with the count
	}
	for _, db := range a.pools {
		db.Close()
	}
	if err := a.tracing.Shutdown(ctx); err != nil {
		slog.Default().Warn("tracing: the last spans were not exported", "error", err.Error())
	}
}

// serve serves HTTP until ctx ends, then lets in-flight requests finish.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:    cfg.ListenAddr(),
		Handler: a.handler,
		// A client that trickles its headers is cut off; one that
		// trickles its body or reads slowly is cut off by its request's
		// own read and write deadlines (REQUEST_TIMEOUT, UPLOAD_TIMEOUT
		// for uploads, none for websockets; see httpapi's withDeadline),
		// which server-wide ReadTimeout and WriteTimeout could not tell
		// apart.
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		a.close(ctx)
		return fmt.Errorf("listen on HOST:PORT %s: %w", srv.Addr, err)
	}
	// The metrics listener: in production a METRICS_ADDR that cannot be
	// bound stops the start (an instance nobody can watch must not take
	// traffic); in development the API is served without /metrics.
	metricsSrv := &http.Server{Handler: a.metrics, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	if ml, err := net.Listen("tcp", cfg.MetricsAddr); err != nil {
		if cfg.Production() {
			ln.Close()
			a.close(ctx)
			return fmt.Errorf("METRICS_ADDR %s cannot be bound: %w", cfg.MetricsAddr, err)
		}
		log.Error("metrics listener failed; serving without /metrics", "addr", cfg.MetricsAddr, "error", err.Error())
	} else {
		go func() { _ = metricsSrv.Serve(ml) }()
		defer metricsSrv.Close()
		log.Info("serving metrics", "addr", ml.Addr().String())
	}
	failed := make(chan error, 1)
	go func() { failed <- srv.Serve(ln) }()
	// Logged once the listener is bound: from here on connections are
	// accepted.
	log.Info("serving", "addr", ln.Addr().String(), "env", cfg.Env, "graphiql", cfg.GraphiQL, "tracing", a.tracing != nil)
	select {
	case err = <-failed:
	case <-ctx.Done():
		log.Info("shutting down; finishing in-flight requests")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
		defer cancel()
		if err = srv.Shutdown(shutdownCtx); err != nil {
			log.Error("requests still running at the end of the shutdown grace; closing their connections", "error", err.Error())
			_ = srv.Close()
		}
	}
	// Only now, with no request left to add any, are the buffered events
	// and searches written and the pools closed.
	a.close(context.Background())
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// migrate runs `migrate up|down|status` as MIGRATE_DATABASE_URL's role, the
// schema's owner. After up, when DATABASE_URL connects as another role,
// that role is granted what serving needs on every table (new ones too).
func migrate(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	db, err := database.Open(ctx, cfg.MigrateDatabaseURL, "gateway-worker", 1)
	if err != nil {
		return err
	}
	defer db.Close()
	if len(args) != 1 {
		return errors.New("usage: gateway migrate up|down|status")
	}
	switch args[0] {
	case "up":
		if err := database.MigrateUp(ctx, db.DB); err != nil {
			return err
		}
		return grantServingRole(ctx, cfg, db)
	case "down":
		return database.MigrateDown(ctx, db.DB)
	case "status":
		return database.MigrationStatus(ctx, db.DB, stdout)
	default:
		return fmt.Errorf("unknown migrate command %q (up, down, status)", args[0])
	}
}

// grantServingRole grants DATABASE_URL's role what serving needs, through
// owner (connected with MIGRATE_DATABASE_URL), unless it is the same role.
func grantServingRole(ctx context.Context, cfg config.Config, owner *sqlx.DB) error {
	if cfg.MigrateDatabaseURL == cfg.DatabaseURL {
		return nil
	}
	serving, err := database.Open(ctx, cfg.DatabaseURL, "gateway-worker", 1)
	if err != nil {
		return err
	}
	role, err := database.CurrentRole(ctx, serving.DB)
	serving.Close()
	if err != nil {
		return err
	}
	ownerRole, err := database.CurrentRole(ctx, owner.DB)
	if err != nil || ownerRole == role {
		return err
	}
	return database.GrantServing(ctx, owner.DB, role)
}

// seedDemo loads the demo marketplace as MIGRATE_DATABASE_URL's role: the
// bulk load (COPY) of leads and reports is refused under row-level
// security, which binds the serving role but not the tables' owner.
func seedDemo(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	db, err := database.Open(ctx, cfg.MigrateDatabaseURL, "gateway-worker", 1)
	if err != nil {
		return err
	}
	defer db.Close()
	stats, err := seed.Run(ctx, db, cfg.Keyring)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "seeded: %+v\n", stats)
	return err
}
