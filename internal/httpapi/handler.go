// Package httpapi serves the gateway over HTTP: /graphql (POST and GET, per
// GraphQL over HTTP), GraphiQL, the SDL at /schema.graphql, /healthz and
// /readyz, behind CORS, request logging and bearer authentication. It takes
// the executable schema ready made, so it knows nothing of resolvers.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/graphiql"
	"github.com/partsmarket/gateway/internal/inputcheck"
	"github.com/partsmarket/gateway/internal/limits"
	"github.com/partsmarket/gateway/internal/metrics"
	"github.com/partsmarket/gateway/internal/respcache"
	"github.com/partsmarket/gateway/internal/tracing"
	"github.com/partsmarket/gateway/store"
)

// Options are the HTTP layer's settings.
type Options struct {
	// GraphiQL serves the GraphiQL IDE at /.
	GraphiQL bool
	// Introspection allows __schema and __type queries and serves the
	// schema's SDL at GET /schema.graphql.
	Introspection bool
	// Suggestions lets validation errors suggest names of the schema ("Did
	// you mean …?"): fields, arguments, input fields, enum values and types.
	// Off, no error names anything the caller did not send.
	Suggestions bool
	// CORSOrigins are the browser origins allowed to call the API.
	CORSOrigins []string
	// MaxBodyBytes bounds a JSON request body.
	MaxBodyBytes int64
	// UploadMaxBytes bounds a multipart upload request (its operations and
	// map parts are bounded by MaxBodyBytes).
	UploadMaxBytes int64
	// LoaderWait is how long the dataloaders collect keys.
	LoaderWait time.Duration
	// TrustedProxies are the proxies whose X-Forwarded-For gives the client
	// IP (see withClientIP and ParseTrustedProxies).
	TrustedProxies []netip.Prefix
	// RequestTimeout is every request's deadline and UploadTimeout a
	// multipart upload's (see withDeadline); MaxInFlight bounds the
	// requests served at once (see withInFlightLimit). All three must be
	// positive.
	RequestTimeout, UploadTimeout time.Duration
	MaxInFlight                   int
	// Limits are the per-operation limits (depth, aliases, tokens, cost) and
	// extensions.cost's restoreRate; zero: limits.Defaults().
	Limits limits.Config
}

// Deps are what the HTTP layer calls.
type Deps struct {
	Schema graphql.ExecutableSchema
	Store  *store.Store
	Auth   *access.Authenticator
	Log    *slog.Logger
	// Ready reports whether the gateway can serve: database reachable and
	// migrations current.
	Ready func(context.Context) error
	// Media serves uploaded media at GET /media/{key}; nil: no route.
	Media http.Handler
	// Budget is the per-principal cost budget (see budget.go); nil: none.
	Budget *Budget
	// Metrics receives request, cost and rate-limit observations; nil:
	// none.
	Metrics *metrics.Metrics
	// Events takes the events of POST /events (see events.go); nil: no
	// route.
	Events EventRecorder
	// SellerWatch closes a seller's websockets when it is suspended
	// (pubsub.Hub); nil: they stay open until their tokens expire.
	SellerWatch SellerWatcher
	// SessionWatch closes a signed-in websocket when its session is
	// revoked or its identity's membership changes
	// (identity.Directory); nil: they stay open until their tokens expire.
	SessionWatch SessionWatcher
	// ReplicaBehind reports whether the analysts' read replica is too far
	// behind the primary: their requests are then answered
	// SERVICE_UNAVAILABLE. Nil: never.
	ReplicaBehind func() bool
	// ResponseCache answers the public's repeated queries; it runs after
	// the limits and the budget. Nil: none.
	ResponseCache *respcache.Cache
	// SearchLog records the public searches of each operation, answered
	// from the response cache or not (searchlog.Recorder.Operations); nil:
	// none.
	SearchLog graphql.HandlerExtension
	// Tracing gives requests, operations and their SQL statements spans;
	// nil: tracing is off and costs nothing.
	Tracing *tracing.Provider
}

// New returns the gateway's HTTP handler.
func New(o Options, d Deps) http.Handler {
	gql := handler.New(d.Schema)
	gql.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx) // the outermost interceptor: it sees the response as sent
		observeResponse(ctx, d.Metrics, resp)
		return resp
	})
	ws := newWebsockets(d.Auth, d.Store, o.LoaderWait, d.Log, d.SellerWatch, d.SessionWatch)
	gql.AddTransport(ws.transport())
	gql.AddTransport(transport.Options{})
	gql.AddTransport(jsonTransport{})
	gql.AddTransport(uploadTransport{maxJSON: o.MaxBodyBytes})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	gql.SetErrorPresenter(presentError(d.Log))
	gql.SetRecoverFunc(recoverPanic(d.Log))
	gql.SetDisableSuggestion(!o.Suggestions)
	if !o.Suggestions {
		gql.SetValidationRulesFn(rulesWithoutSuggestions)
	}
	if o.Introspection {
		gql.Use(extension.Introspection{})
	} else {
		gql.Use(noIntrospection{})
	}
	gql.Use(inputcheck.Extension{Schema: d.Schema.Schema()})
	gql.Use(scalarCheck{schema: d.Schema.Schema()})
	gql.Use(access.AnalystReadOnly{})
	var budget limits.Budget
	if d.Budget != nil {
		d.Budget.refused = func() { d.Metrics.RateLimited(metrics.KindBudget) }
		budget = d.Budget
	}
	useLimits(gql, o.Limits, budget) // the limits refuse before the budget charges: refused operations cost nothing
	if d.Tracing != nil {
		gql.Use(tracing.Operations{Provider: d.Tracing}) // before the response cache: its answers get a span too
	}
	if d.SearchLog != nil {
		gql.Use(d.SearchLog)
	}
	if d.ResponseCache != nil {
		gql.Use(d.ResponseCache)
	}
	auditPIIReads(gql, d.Store, d.Log)
	gql.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if info := infoFrom(ctx); info != nil {
			info.operation.Store(graphql.GetOperationContext(ctx).OperationName)
		}
		return next(ctx)
	})

	mux := http.NewServeMux()
	mux.Handle("/graphql", ws.handler(o.CORSOrigins, gql,
		withRequestShape(o.MaxBodyBytes, o.UploadMaxBytes, withPrincipal(d.Auth, d.Store, o.LoaderWait, d.ReplicaBehind, gql))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if err := d.Ready(r.Context()); err != nil {
			d.Log.WarnContext(r.Context(), "not ready", "error", err.Error())
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	if d.Media != nil {
		mux.Handle("GET /media/", d.Media)
	}
	if d.Events != nil {
		mux.Handle("POST /events", eventsHandler(d.Events, d.Log))
	}
	if o.Introspection {
		mux.Handle("GET /schema.graphql", schemaSDL(d.Schema.Schema()))
	}
	if o.GraphiQL {
		ide := graphiql.Handler("Marketplace gateway", "/graphql")
		mux.Handle("GET /{$}", ide)
		mux.Handle("GET "+graphiql.AssetPrefix, ide)
	}

	c := cors.New(cors.Options{
		AllowedOrigins: o.CORSOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Authorization", "Content-Type", "X-Request-Id", "GraphQL-Require-Preflight", "Apollo-Require-Preflight"},
		ExposedHeaders: []string{"Retry-After", "X-Request-Id"},
		MaxAge:         600,
	})
	return d.Tracing.Handler(withRequestLog(d.Log, d.Metrics, withDeadline(o.RequestTimeout, o.UploadTimeout, withCompression(
		withClientIP(o.TrustedProxies, withStatusOverride(c.Handler(withInFlightLimit(o.MaxInFlight, mux))))))))
}

// suggestingRules are gqlparser's validation rules that suggest schema names
// in their errors, with their variants that do not. gqlgen's
// SetDisableSuggestion swaps only the first two.
var suggestingRules = []struct {
	name  string
	quiet core.Rule
}{
	{"FieldsOnCorrectType", rules.FieldsOnCorrectTypeRuleWithoutSuggestions},
	{"ScalarLeafs", rules.ScalarLeafsRuleWithoutSuggestions},
	{"KnownArgumentNames", rules.KnownArgumentNamesRuleWithoutSuggestions},
	{"KnownTypeNames", rules.KnownTypeNamesRuleWithoutSuggestions},
	{"ValuesOfCorrectType", rules.ValuesOfCorrectTypeRuleWithoutSuggestions},
}

// rulesWithoutSuggestions returns gqlparser's default validation rules with
// no rule that suggests names of the schema.
func rulesWithoutSuggestions() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, s := range suggestingRules {
		r.ReplaceRule(s.name, s.quiet.RuleFunc)
	}
	return r
}

// observeResponse notes for the request's metrics the first error's code,
// the operation's name and (once per request) its requested cost.
func observeResponse(ctx context.Context, m *metrics.Metrics, resp *graphql.Response) {
	info := infoFrom(ctx)
	if info == nil || resp == nil {
		return
	}
	if len(resp.Errors) > 0 {
		code, _ := resp.Errors[0].Extensions["code"].(string)
		if code == "" {
			code = "error"
		}
		setCode(ctx, code)
	}
	if !graphql.HasOperationContext(ctx) {
		return
	}
	if op := graphql.GetOperationContext(ctx).Operation; op != nil {
		info.metricOp.CompareAndSwap(nil, op.Name)
		if c, ok := resp.Extensions["cost"].(limits.Cost); ok && info.costSeen.CompareAndSwap(false, true) {
			m.ObserveCost(c.RequestedQueryCost)
		}
	}
}
