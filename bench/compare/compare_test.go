package main

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// The same detail page as each side answers it: the gateway's field names
// and an Int price, PostGraphile's relation names and a BigInt (string)
// price.
const (
	gatewayDetailJSON = `{"listing": {"id": "l1", "title": "Pump", "priceCents": 4899,
		"media": [{"id": "m1", "url": "https://x/1.jpg"}, {"id": "m2", "url": "https://x/2.jpg"}],
		"seller": {"id": "s1", "contacts": [{"kind": "PHONE", "value": "+1 555", "label": null}],
			"locations": [{"id": "y1"}],
			"listings": {"nodes": [{"id": "l1", "title": "Pump", "priceCents": 4899, "media": [{"id": "m1", "url": "https://x/1.jpg"}]}]}}}}`
	pgDetailJSON = `{"visibleListing": {"rowId": "l1", "title": "Pump", "priceCents": "4899",
		"publicMediasByListingId": {"nodes": [{"rowId": "m1", "url": "https://x/1.jpg"}, {"rowId": "m2", "url": "https://x/2.jpg"}]},
		"publicSellerBySellerId": {"rowId": "s1",
			"publicSellerContactsBySellerId": {"nodes": [{"kind": "PHONE", "value": "+1 555", "label": null}]},
			"publicSellerLocationsBySellerId": {"nodes": [{"rowId": "y1"}]},
			"visibleListings": {"nodes": [{"rowId": "l1", "title": "Pump", "priceCents": "4899",
				"publicMediasByListingId": {"nodes": [{"rowId": "m1", "url": "https://x/1.jpg"}]}}]}}}}`
)

func TestCheckAgreesOnTheSameRows(t *testing.T) {
	gw, err := rows(gateway, []byte(gatewayDetailJSON))
	if err != nil {
		t.Fatal(err)
	}
	pg, err := rows(postgraphile, []byte(pgDetailJSON))
	if err != nil {
		t.Fatal(err)
	}
	if len(gw) != 1 || len(gw[0].Media) != 2 || len(gw[0].More) != 1 || gw[0].Price != "4899" {
		t.Fatalf("the gateway's answer read as %+v", gw)
	}
	if d := diff(gw, pg); d != "" {
		t.Errorf("the same rows differ: %s", d)
	}
}

func TestCheckFindsADifference(t *testing.T) {
	gw, err := rows(gateway, []byte(gatewayDetailJSON))
	if err != nil {
		t.Fatal(err)
	}
	for name, changed := range map[string]string{
		"media order": strings.Replace(pgDetailJSON, `{"rowId": "m1", "url": "https://x/1.jpg"}, {"rowId": "m2", "url": "https://x/2.jpg"}`,
			`{"rowId": "m2", "url": "https://x/2.jpg"}, {"rowId": "m1", "url": "https://x/1.jpg"}`, 1),
		"contact":         strings.Replace(pgDetailJSON, `"+1 555"`, `"+1 556"`, 1),
		"seller location": strings.Replace(pgDetailJSON, `"rowId": "y1"`, `"rowId": "y2"`, 1),
		"more listings":   strings.Replace(pgDetailJSON, `"visibleListings": {"nodes": [{`, `"visibleListings": {"nodes": [], "x": [{`, 1),
		"missing listing": `{"visibleListing": null}`,
	} {
		pg, err := rows(postgraphile, []byte(changed))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := diff(gw, pg); d == "" {
			t.Errorf("%s: no difference found", name)
		}
	}
}

func TestPickerFollowsTheWeights(t *testing.T) {
	q := query{params: []string{"a", "b"}, weights: []float64{0, 1}}
	pick := q.picker()
	r := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		if i := pick(r); i != 1 {
			t.Fatalf("picked %d, which weighs nothing", i)
		}
	}
}

func TestTreeCPUReadsThisProcess(t *testing.T) {
	st, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != os.Getppid() {
		t.Errorf("ppid %d, want %d", st.ppid, os.Getppid())
	}
	for { // burn CPU until the kernel has counted some
		if cpu, err := treeCPU(os.Getpid()); err != nil {
			t.Fatal(err)
		} else if cpu > 0 {
			break
		}
	}
	if _, err := treeCPU(-1); err == nil {
		t.Error("a process that does not exist has a CPU time")
	}
	if treeRSS(os.Getpid()) <= 0 {
		t.Error("this process has no resident memory")
	}
}
