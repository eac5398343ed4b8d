package main

import (
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/partsmarket/gateway/internal/tracing"
	"github.com/partsmarket/gateway/store"
)

// TestTracingSpanTreeOfSearch: one public search sent with a W3C
// traceparent is traced as the caller's trace: a server span for the
// request, child of the caller's span; under it the operation's span, named
// after the operation, with its name, type and requested cost; under that
// one span per SQL statement, with the statement's text and not the
// search's words.
func TestTracingSpanTreeOfSearch(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	api := newTestAPI(t, nil, withTracing(tracing.WithTracerProvider(tp)))
	seller := api.mustSeller("Trace Yard", store.SellerActive)
	api.mustListing(seller.ID, "Swingarm bushing", store.ListingActive)
	spans.Reset() // the fixtures' statements carry no span: nothing should be there, but start clean

	const (
		traceID    = "4bf92f3577b34da6a3ce929d0e0e4736"
		callerSpan = "00f067aa0ba902b7"
		term       = "swingarm"
	)
	req := api.request("", `query TracedSearch($q: String) { listings(search: $q, first: 5) { totalCount nodes { title seller { companyName } } } }`,
		map[string]any{"q": term})
	req.Header.Set("traceparent", "00-"+traceID+"-"+callerSpan+"-01")
	r := api.send(req)
	if len(r.Errors) > 0 || r.Get("listings.totalCount") != 1.0 {
		t.Fatalf("search: %s", r.Raw)
	}

	// The server span ends after the response is written: wait for it.
	var server sdktrace.ReadOnlySpan
	for deadline := time.Now().Add(5 * time.Second); server == nil; {
		for _, s := range spans.GetSpans().Snapshots() {
			if s.SpanKind() == trace.SpanKindServer {
				server = s
			}
		}
		if server == nil && time.Now().After(deadline) {
			t.Fatal("no server span was exported")
		}
		time.Sleep(5 * time.Millisecond)
	}
	all := spans.GetSpans().Snapshots()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range all {
		if got := s.SpanContext().TraceID().String(); got != traceID {
			t.Errorf("span %q is in trace %s, want the caller's %s", s.Name(), got, traceID)
		}
		byID[s.SpanContext().SpanID()] = s
	}
	if server.Name() != "POST /graphql" || server.Parent().SpanID().String() != callerSpan || !server.Parent().IsRemote() {
		t.Errorf("server span %q has parent %s (remote %v), want POST /graphql under the caller's %s",
			server.Name(), server.Parent().SpanID(), server.Parent().IsRemote(), callerSpan)
	}

	var operation sdktrace.ReadOnlySpan
	for _, s := range all {
		if s.Name() == "query TracedSearch" {
			operation = s
		}
	}
	if operation == nil {
		t.Fatalf("no span named after the operation among %v", spanNames(all))
	}
	if operation.Parent().SpanID() != server.SpanContext().SpanID() {
		t.Errorf("the operation's span is not the server span's child")
	}
	attrs := map[string]any{}
	for _, kv := range operation.Attributes() {
		attrs[string(kv.Key)] = kv.Value.AsInterface()
	}
	if attrs["graphql.operation.name"] != "TracedSearch" || attrs["graphql.operation.type"] != "query" {
		t.Errorf("operation attributes %v, want name TracedSearch and type query", attrs)
	}
	if cost, _ := attrs[string(tracing.CostAttribute)].(int64); cost <= 0 {
		t.Errorf("operation cost attribute %v, want the positive requested cost", attrs[string(tracing.CostAttribute)])
	}

	t.Logf("spans: %v", spanNames(all))
	statements := 0
	for _, s := range all {
		if s.SpanKind() != trace.SpanKindClient {
			continue
		}
		statements++
		// The resolvers' and the dataloaders' statements alike.
		if !descendsFrom(s, operation, byID) {
			t.Errorf("statement span %q is not under the operation's span", s.Name())
		}
		text := ""
		for _, kv := range s.Attributes() {
			if kv.Key == "db.query.text" {
				text = kv.Value.AsString()
			}
			if strings.Contains(strings.ToLower(kv.Value.Emit()), term) {
				t.Errorf("statement span %q carries the search's words in %s: %q", s.Name(), kv.Key, kv.Value.Emit())
			}
		}
		if text == "" || !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(text)), s.Name()) {
			t.Errorf("statement span %q has text %q, want the statement starting with its name", s.Name(), text)
		}
	}
	if statements < 2 {
		t.Errorf("%d statement spans, want one per statement (the page and its sellers at least): %v", statements, spanNames(all))
	}
}

// descendsFrom reports whether s is ancestor's descendant among byID.
func descendsFrom(s, ancestor sdktrace.ReadOnlySpan, byID map[trace.SpanID]sdktrace.ReadOnlySpan) bool {
	for p, ok := s, true; ok; p, ok = byID[p.Parent().SpanID()] {
		if p.Parent().SpanID() == ancestor.SpanContext().SpanID() {
			return true
		}
	}
	return false
}

// spanNames lists the spans' names, for failure messages.
func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name()
	}
	return out
}
