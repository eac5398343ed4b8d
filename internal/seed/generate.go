package seed

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
)

// namespace is the UUID namespace of every seeded id.
var namespace = uuid.MustParse("8f3c2a6e-5b1d-4c7a-9e0f-2d4b6a8c0e1f")

// randSeed is the fixed seed of every random choice the seed makes.
const randSeed = 20240917

// Sizes of the demo marketplace.
const (
	listingTarget  = 3000 // listings over all sellers
	catalogSize    = 900  // distinct parts the listings are drawn from
	listingLeads   = 280  // leads about a listing
	generalLeads   = 20   // leads for a seller in general
	listingHistory = 180  // days over which listings were created
)

// dataset is the whole demo marketplace, ready to be copied in.
type dataset struct {
	sellers  []*seller
	catalog  []*part
	listings []*listing
	media    []*media
	leads    []*lead
	reports  []*report
	events   []*event
	searches []*search
}

// generate builds the demo marketplace as it looks at now. Each stage draws
// from its own random stream, so changing one stage leaves the others as
// they were.
func generate(now time.Time) *dataset {
	d := &dataset{}
	d.sellers = makeSellers(newRand(1), now)
	d.catalog = makeCatalog(newRand(2))
	d.listings = makeListings(newRand(3), now, d.sellers, d.catalog)
	d.media = makeMedia(newRand(4), d.listings)
	d.leads = makeLeads(newRand(5), now, d.sellers, d.listings)
	d.reports = makeReports(newRand(6), now, d.listings)
	d.events = makeEvents(newRand(7), now, d.sellers, d.listings)
	d.searches = makeSearches(newRand(8), now, d.listings)
	return d
}

// newRand returns the random stream of one generation stage.
func newRand(stage uint64) *rand.Rand {
	return rand.New(rand.NewPCG(randSeed, stage))
}

// id returns the deterministic id of a seeded row, named like "listing/42".
func id(format string, args ...any) string {
	return uuid.NewSHA1(namespace, []byte(fmt.Sprintf(format, args...))).String()
}

// DemoSellerID returns the id of the first seeded seller, which is ACTIVE:
// `gateway token --demo` prints a token of its owner.
func DemoSellerID() string { return sellerID(0) }

// sellerID returns the id of the i-th seeded seller.
func sellerID(i int) string { return id("seller/%d", i) }

// filter returns the elements of xs that keep holds for, in order.
func filter[T any](xs []T, keep func(T) bool) []T {
	var out []T
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// pick returns a random element of xs.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// chance reports true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// between returns a random integer in [lo, hi].
func between(r *rand.Rand, lo, hi int) int { return lo + r.IntN(hi-lo+1) }

// weighted returns one of the keys of choices, with probability proportional
// to its weight. The choices are scanned in order, so the result is
// deterministic for a given random stream.
func weighted(r *rand.Rand, choices []weight) string {
	total := 0
	for _, c := range choices {
		total += c.weight
	}
	n := r.IntN(total)
	for _, c := range choices {
		if n < c.weight {
			return c.value
		}
		n -= c.weight
	}
	return choices[len(choices)-1].value
}

// weight is one option of weighted.
type weight struct {
	value  string
	weight int
}

// randomTime returns a random instant in [from, to).
func randomTime(r *rand.Rand, from, to time.Time) time.Time {
	span := to.Sub(from)
	if span <= 0 {
		return from
	}
	return from.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Second)
}

// days returns n days as a Duration.
func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// maybe returns a pointer to v with probability p, nil otherwise.
func maybe[T any](r *rand.Rand, p float64, v T) *T {
	if chance(r, p) {
		return &v
	}
	return nil
}

// phone returns a fictional number in the 555-01xx range behind dial, the
// country and area code (e.g. "+1 713").
func phone(r *rand.Rand, dial string) string {
	return fmt.Sprintf("%s 555 %04d", dial, between(r, 100, 199))
}
