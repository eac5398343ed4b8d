package metrics

import (
	"fmt"
	"testing"
)

func TestOperationCap(t *testing.T) {
	m := New(Options{MaxOperations: 3})
	for i := 0; i < 3; i++ {
		if got := m.Operation(fmt.Sprint("Op", i)); got != fmt.Sprint("Op", i) {
			t.Errorf("Operation(Op%d) = %q", i, got)
		}
	}
	if got := m.Operation("Op3"); got != OperationOther {
		t.Errorf("past the cap: %q, want other", got)
	}
	if got := m.Operation("Op0"); got != "Op0" {
		t.Errorf("known name: %q", got)
	}
	if got := m.Operation(""); got != OperationAnonymous {
		t.Errorf("anonymous: %q", got)
	}
}

func TestOutcome(t *testing.T) {
	for _, c := range []struct {
		status int
		code   string
		want   string
	}{
		{200, "", "ok"}, {0, "", "ok"}, {200, "FORBIDDEN", "FORBIDDEN"}, {400, "QUERY_TOO_COMPLEX", "QUERY_TOO_COMPLEX"},
		{404, "", "error"}, {500, "", "error"}, {200, "not a code; with junk", "error"},
	} {
		if got := Outcome(c.status, c.code); got != c.want {
			t.Errorf("Outcome(%d, %q) = %q, want %q", c.status, c.code, got, c.want)
		}
	}
	if StatusClass(429) != "4xx" || StatusClass(0) != "2xx" {
		t.Error("StatusClass")
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.ObserveRequest(Request{Status: 200})
	m.ObserveCost(3)
	m.RateLimited(KindBudget)
	m.SearchBufferDepth(1)
	m.SearchFlushed(0)
	_ = m.Handler()
}
