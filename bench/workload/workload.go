// Package workload is the file bench/gen writes next to the data it loads
// and bench/load reads: which search terms, regions and conditions are
// popular (with weights, so the load has the data's skew), which listings
// and sellers to ask for, and the period the data covers.
package workload

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

// Weighted is a value and how often it comes up, relative to the others of
// its list.
type Weighted struct {
	// Value is the term, region or condition.
	Value string `json:"value"`
	// Weight is how often it comes up, relative to the other values.
	Weight float64 `json:"weight"`
}

// Workload describes the generated data for the load generator.
type Workload struct {
	// Scale is the scale the data was generated at (1: 50,000 sellers,
	// 1,000,000 listings).
	Scale float64 `json:"scale"`
	// Now is the instant the data was generated as of: listings, leads and
	// events lie before it.
	Now time.Time `json:"now"`
	// Terms are search terms, most searched first.
	Terms []Weighted `json:"terms"`
	// Regions are the regions of seller locations buyers filter by.
	Regions []Weighted `json:"regions"`
	// Conditions are the listing conditions buyers filter by.
	Conditions []Weighted `json:"conditions"`
	// Listings are ids of public listings, drawn as often as they are
	// viewed (popular ones more than once).
	Listings []string `json:"listings"`
	// InboxSellers are ids of active sellers with the most leads, busiest
	// first.
	InboxSellers []string `json:"inboxSellers"`
	// EventsFrom is when the events (and so the rollups) begin; zero when
	// no events were generated.
	EventsFrom time.Time `json:"eventsFrom"`
	// EventsTo is when the events end; zero when no events were generated.
	EventsTo time.Time `json:"eventsTo"`
}

// Write stores w as JSON at path.
func Write(path string, w *Workload) error {
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Read loads a workload written by Write and checks that it has what the
// load generator needs.
func Read(path string) (*Workload, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var w Workload
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("workload %s: %w", path, err)
	}
	switch {
	case len(w.Terms) == 0, len(w.Regions) == 0, len(w.Conditions) == 0:
		return nil, fmt.Errorf("workload %s: no terms, regions or conditions", path)
	case len(w.Listings) == 0:
		return nil, errors.New("workload " + path + ": no public listings")
	}
	return &w, nil
}

// Pick returns one of the values of ws, each with probability proportional
// to its weight.
func Pick(r *rand.Rand, ws []Weighted) string {
	total := 0.0
	for _, w := range ws {
		total += w.Weight
	}
	x := r.Float64() * total
	for _, w := range ws {
		if x < w.Weight {
			return w.Value
		}
		x -= w.Weight
	}
	return ws[len(ws)-1].Value
}
