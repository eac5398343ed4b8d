package benchkit

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, v := range n {
			d = append(d, time.Duration(v)*time.Millisecond)
		}
		return d
	}
	tests := []struct {
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 0, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 0, 1 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 51, 3 * time.Millisecond},
		{ms(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 95, 10 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := Percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %d) = %v, want %v", tt.sorted, tt.p, got, tt.want)
		}
	}
}

func TestWithDatabase(t *testing.T) {
	got, err := WithDatabase("host=db user=u", "x")
	if err != nil || got != "host=db user=u dbname=x" {
		t.Errorf("key=value form: %q, %v", got, err)
	}
	got, err = WithDatabase("postgres://u@db:5432/postgres?sslmode=disable", "x")
	if err != nil || got == "" || got[len(got)-len(" dbname=x"):] != " dbname=x" {
		t.Errorf("URL form: %q, %v", got, err)
	}
	if _, err := WithDatabase("postgres://%zz", "x"); err == nil {
		t.Error("a bad URL was accepted")
	}
}
