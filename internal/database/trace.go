package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names the tracer of the statements' spans.
const tracerName = "github.com/partsmarket/gateway/internal/database"

// maxTracedQueryText bounds the statement text a span carries.
const maxTracedQueryText = 4096

// traceStatement starts the span of one statement sent with ctx, child of
// the span ctx carries, when that span is recording (a traced request); it
// returns the span's context and the function that ends it with the
// statement's error. Otherwise, as always with tracing off, it returns ctx
// and nil, having looked up one context value. The span carries the
// statement's text as sent, with its $n placeholders: never an argument's
// value.
func traceStatement(ctx context.Context, query string) (context.Context, func(error)) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, nil
	}
	if len(query) > maxTracedQueryText {
		query = query[:maxTracedQueryText]
	}
	ctx, span := parent.TracerProvider().Tracer(tracerName).Start(ctx, statementName(query),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.DBSystemNamePostgreSQL, semconv.DBQueryText(query)))
	return ctx, func(err error) {
		if err != nil && !errors.Is(err, driver.ErrSkip) {
			span.RecordError(err)
			span.SetStatus(codes.Error, "statement failed")
		}
		span.End()
	}
}

// statementName is a statement's span name: its first keyword (SELECT,
// INSERT, WITH, COPY …), upper-cased.
func statementName(query string) string {
	q := strings.TrimSpace(query)
	end := strings.IndexFunc(q, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') })
	if end < 0 {
		end = len(q)
	}
	if end == 0 {
		return "SQL"
	}
	return strings.ToUpper(q[:end])
}
