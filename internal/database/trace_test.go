package database

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestTraceStatementOff: without a recording span in the context (tracing
// off, or a caller's traceparent alone), a statement starts no span.
func TestTraceStatementOff(t *testing.T) {
	remote := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true}))
	for name, ctx := range map[string]context.Context{"no span": context.Background(), "a remote parent only": remote} {
		got, end := traceStatement(ctx, "SELECT 1")
		if end != nil || got != ctx {
			t.Errorf("%s: a span was started", name)
		}
	}
}

// TestTraceStatementOn: inside a recording span, a statement's span is its
// child, named after its first keyword, with its text (cut at
// maxTracedQueryText) and its error.
func TestTraceStatementOn(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	long := "  select " + string(make([]byte, maxTracedQueryText))
	_, end := traceStatement(ctx, long)
	end(context.Canceled)
	parent.End()
	got := spans.GetSpans()
	if len(got) != 2 {
		t.Fatalf("%d spans, want the statement's and the parent", len(got))
	}
	s := got[0]
	if s.Name != "SELECT" || s.Parent.SpanID() != parent.SpanContext().SpanID() || s.SpanKind != trace.SpanKindClient {
		t.Errorf("span %q (kind %v) under %v, want SELECT, a client span under the request", s.Name, s.SpanKind, s.Parent.SpanID())
	}
	for _, kv := range s.Attributes {
		if kv.Key == "db.query.text" && len(kv.Value.AsString()) != maxTracedQueryText {
			t.Errorf("query text of %d bytes, want it cut at %d", len(kv.Value.AsString()), maxTracedQueryText)
		}
	}
	if len(s.Events) != 1 || s.Status.Code.String() != "Error" {
		t.Errorf("the statement's error is not recorded: events %v, status %v", s.Events, s.Status)
	}
	if statementName("(SELECT 1)") != "SQL" || statementName("with x as (select 1) select * from x") != "WITH" {
		t.Error("statementName")
	}
}
