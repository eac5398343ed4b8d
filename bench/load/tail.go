package main

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/partsmarket/gateway/bench/workload"
	"github.com/partsmarket/gateway/internal/seed"
)

// tailZipfS is the skew of the long-tail vocabulary: the term of rank k
// (from 0) is searched with weight 1/(k+1)^s.
const tailZipfS = 1.0

// tailNoMatch are terms buyers type that no generated listing has
// (misspellings, parts nobody lists); they rank among the rare terms.
var tailNoMatch = []string{"turbocharjer", "hydralic pump", "alternater 24v", "flux capacitor",
	"zz-9999-x", "crankshaft bearing shell 0.25", "windshield wiper motor", "tracktor seat"}

// tailTerms returns the long-tail search vocabulary, most searched first,
// drawn from the catalog bench/gen lists (internal/seed): for each part in
// catalog order (the most listed first) its number (as written, and for
// every third part without punctuation), its kind, its brand with its kind,
// its machine model and brand with model; then terms that match nothing.
// Weights follow Zipf's law over the ranks. At the catalog's 900 parts this
// is well over 1,000 distinct terms, most of them part numbers.
func tailTerms() []workload.Weighted {
	c := seed.NewCatalog()
	var terms []string
	seen := map[string]bool{}
	add := func(t string) {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !seen[t] {
			seen[t] = true
			terms = append(terms, t)
		}
	}
	for i := range c.Len() {
		p := c.Part(i)
		add(p.Number)
		if i%3 == 1 {
			add(strings.NewReplacer("-", "", " ", "").Replace(p.Number))
		}
		add(p.Kind)
		add(p.Brand + " " + p.Kind)
		add(p.MachineModel)
		add(p.Brand + " " + p.MachineModel)
		if i == c.Len()/2 {
			for _, t := range tailNoMatch {
				add(t)
			}
		}
	}
	out := make([]workload.Weighted, len(terms))
	for i, t := range terms {
		out[i] = workload.Weighted{Value: t, Weight: 1 / math.Pow(float64(i+1), tailZipfS)}
	}
	return out
}

// tailSearch returns the long-tail search operation over terms.
func tailSearch(terms []workload.Weighted) operation {
	cum := make([]float64, len(terms))
	total := 0.0
	for i, t := range terms {
		total += t.Weight
		cum[i] = total
	}
	return operation{name: "search-tail", next: func(r *rand.Rand, _ int64) request {
		x := r.Float64() * total
		lo, hi := 0, len(cum)-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cum[mid] <= x {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return request{query: searchQuery, variables: map[string]any{"q": terms[lo].Value, "first": searchPage}} // no filters
	}}
}
