package imports

import (
	"strings"
	"testing"
)

func TestParseHeader(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		cols         string
		unknown      string
		err          string
	}{
		{name: "any order and case, BOM", header: "\ufeffCondition, TITLE ,sku,Price_Cents", cols: "sku,title,condition,price_cents"},
		{name: "unknown columns kept aside", header: "sku,title,condition,colour,weight", cols: "sku,title,condition", unknown: "colour,weight"},
		{name: "missing required", header: "sku,description", err: "lacks the column(s) title, condition"},
		{name: "named twice", header: "sku,title,condition,Title", err: "names column title twice"},
		{name: "not text", header: "sku,ti\xfftle,condition", err: "not a CSV text file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parseHeader(strings.Split(tc.header, ","))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(h.cols, ","); got != tc.cols {
				t.Errorf("cols %q, want %q", got, tc.cols)
			}
			if got := strings.Join(h.unknown, ","); got != tc.unknown {
				t.Errorf("unknown %q, want %q", got, tc.unknown)
			}
		})
	}
}

func TestParseRow(t *testing.T) {
	h, err := parseHeader(strings.Split("sku,title,condition,quantity,price_cents,currency,status,description", ","))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, row string
		errs      string // "column: message" joined by "; "
	}{
		{name: "good", row: "S1,Pump,new,3,100,usd,active,"},
		{name: "formula is just text", row: `S1,=HYPERLINK("http://x"),NEW,,,,,@SUM(A1)`},
		{name: "missing title and sku", row: ",,NEW,,,,,", errs: "sku: is required; title: is required"},
		{name: "negative quantity", row: "S1,Pump,NEW,-1,,,,", errs: "quantity: must be a whole number from 0 to 2147483647"},
		{name: "fractional price", row: "S1,Pump,NEW,,1.5,,,", errs: "price_cents: must be a whole number from 0 to 9223372036854775807"},
		{name: "quantity too big", row: "S1,Pump,NEW,2147483648,,,,", errs: "quantity: must be a whole number from 0 to 2147483647"},
		{name: "unknown condition", row: "S1,Pump,MINT,,,,,", errs: "condition: must be one of NEW, USED, REMANUFACTURED, FOR_PARTS"},
		{name: "bad currency", row: "S1,Pump,NEW,,,US$,,", errs: "currency: must be an ISO 4217 currency code"},
		{name: "removed", row: "S1,Pump,NEW,,,,REMOVED,", errs: "status: only an admin removes listings"},
		{name: "bad status", row: "S1,Pump,NEW,,,,GONE,", errs: "status: must be one of DRAFT, ACTIVE, PAUSED, SOLD"},
		{name: "title too long", row: "S1," + strings.Repeat("é", 201) + ",NEW,,,,,", errs: "title: must be at most 200 characters"},
		{name: "not UTF-8", row: "S1,Pu\xffmp,NEW,,,,,", errs: "title: is not valid UTF-8 text"},
		{name: "short record", row: "S1,Pump", errs: "condition: is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := h.parseRow(strings.Split(tc.row, ","), 7, map[string]int{})
			var got []string
			for _, e := range errs {
				if e.Row != 7 {
					t.Errorf("error on row %d, want 7", e.Row)
				}
				got = append(got, *e.Column+": "+e.Message)
			}
			if strings.Join(got, "; ") != tc.errs {
				t.Errorf("got %q, want %q", strings.Join(got, "; "), tc.errs)
			}
		})
	}
	t.Run("values", func(t *testing.T) {
		r, errs := h.parseRow(strings.Split(" S1 , Pump ,used,3,100,usd,paused,", ","), 1, map[string]int{})
		if len(errs) > 0 || r.SKU != "S1" || r.Title != "Pump" || r.Condition != "USED" || *r.Quantity != 3 ||
			*r.PriceCents != 100 || *r.Currency != "USD" || *r.Status != "PAUSED" || r.Description != nil {
			t.Errorf("got %+v %v", r, errs)
		}
	})
	t.Run("duplicate SKU refuses the later row", func(t *testing.T) {
		seen := map[string]int{}
		if _, errs := h.parseRow(strings.Split("S1,Pump,NEW,,,,,", ","), 1, seen); len(errs) > 0 {
			t.Fatal(errs)
		}
		_, errs := h.parseRow(strings.Split("S1,Other,NEW,,,,,", ","), 2, seen)
		if len(errs) != 1 || *errs[0].Column != "sku" || errs[0].Message != `SKU "S1" already appears at row 1` {
			t.Errorf("got %+v", errs)
		}
	})
}
