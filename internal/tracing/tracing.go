// Package tracing sets up OpenTelemetry tracing: a span for each HTTP
// request (otelhttp, which also takes the caller's W3C traceparent), one for
// the GraphQL operation it runs (Operations) and, through the statement
// hooks of internal/database, one for each SQL statement sent on its
// behalf.
//
// Tracing is off unless an OTLP exporter endpoint is configured (see
// config.Config.Tracing). Off, the gateway has a nil *Provider, whose
// Handler returns the handler it is given, and leaves the Operations
// extension out; statements are traced only inside a recording span:
// nothing of OpenTelemetry runs on a request. The exporter, sampler, batching and resource read the
// standard OTEL_* variables themselves (OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_HEADERS,
// OTEL_BSP_*, …).
package tracing

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// DefaultServiceName is the service.name of the gateway's spans unless
// OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES names another.
const DefaultServiceName = "gateway"

// instrumentation names the gateway's own tracers.
const instrumentation = "github.com/partsmarket/gateway"

// Provider is the gateway's tracer provider and what it needs to stop. A
// nil *Provider is tracing turned off: every method then does nothing.
type Provider struct {
	tp       trace.TracerProvider
	shutdown func(context.Context) error
}

// New returns a provider exporting spans over OTLP/HTTP as the process's
// OTEL_* variables say; call it only when tracing is on (config.Tracing).
// Its error is the exporter's or the resource's (a malformed
// OTEL_RESOURCE_ATTRIBUTES, for instance).
func New(ctx context.Context) (*Provider, error) {
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(DefaultServiceName)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(), // last: OTEL_SERVICE_NAME wins over the default
	)
	if err != nil {
		_ = exporter.Shutdown(ctx)
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return &Provider{tp: tp, shutdown: tp.Shutdown}, nil
}

// WithTracerProvider returns a Provider of tp, whose spans the caller
// collects and ends itself (tests pass one with an in-memory exporter).
func WithTracerProvider(tp trace.TracerProvider) *Provider {
	return &Provider{tp: tp, shutdown: func(context.Context) error { return nil }}
}

// Shutdown exports the spans still buffered and stops the exporter.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	return p.shutdown(ctx)
}

// propagator reads and writes W3C trace context and baggage headers.
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Handler returns next wrapped so that each request gets a server span,
// child of the caller's traceparent when it sends one. With tracing off it
// returns next itself.
func (p *Provider) Handler(next http.Handler) http.Handler {
	if p == nil {
		return next
	}
	return otelhttp.NewHandler(next, "http",
		otelhttp.WithTracerProvider(p.tp),
		otelhttp.WithPropagators(propagator),
		// Request metrics are Prometheus's job (internal/metrics).
		otelhttp.WithMeterProvider(noop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + route(r.URL.Path) }),
		// Probes would fill the traces with nothing.
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" && r.URL.Path != "/readyz" }),
	)
}

// route is path as a span name: media keys are left out, so that names stay
// few.
func route(path string) string {
	if strings.HasPrefix(path, "/media/") {
		return "/media/{key}"
	}
	return path
}

// tracer returns the gateway's tracer of p.
func (p *Provider) tracer() trace.Tracer {
	return p.tp.Tracer(instrumentation)
}
