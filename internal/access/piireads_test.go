package access

import (
	"context"
	"slices"
	"testing"

	"github.com/partsmarket/gateway/store"
)

// TestPIIReads: only an ADMIN's reads of @pii fields are collected, each
// row once, and Take hands each row out once.
func TestPIIReads(t *testing.T) {
	leadA := &store.Lead{ID: "lead-a", SellerID: ownSeller, Email: leadEmail}
	leadB := &store.Lead{ID: "lead-b", SellerID: ownSeller, Email: leadEmail}
	report := &store.ListingReport{ID: "report-1", SellerID: ownSeller}
	listing := &store.Listing{ID: "listing-1", SellerID: ownSeller}
	for _, tt := range []struct {
		name string
		p    Principal
		want []store.PIIRead
	}{
		{"admin", adminP, []store.PIIRead{{TargetType: "lead", ID: "lead-a"}, {TargetType: "lead", ID: "lead-b"}, {TargetType: "report", ID: "report-1"}}},
		{"owning seller", ownerP, nil},
		{"analyst", analystP, nil},
		{"anonymous", anonP, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, reads := WithPIIReads(WithPrincipal(context.Background(), tt.p))
			for _, obj := range []any{leadA, leadA, leadB, report, listing, leadA, report} {
				next, _ := spyNext(leadEmail)
				_, _ = Pii(ctx, obj, next, MaskEmail)
			}
			if got := reads.Take(); !slices.Equal(got, tt.want) {
				t.Errorf("Take() = %v, want %v", got, tt.want)
			}
			next, _ := spyNext(leadEmail)
			_, _ = Pii(ctx, leadA, next, MaskEmail)
			if got := reads.Take(); len(got) != 0 {
				t.Errorf("second Take() = %v, want nothing (each row once per operation)", got)
			}
		})
	}
	t.Run("without a collector", func(t *testing.T) {
		next, called := spyNext(leadEmail)
		if v, err := Pii(WithPrincipal(context.Background(), adminP), leadA, next, MaskEmail); err != nil || !*called || v != leadEmail {
			t.Errorf("Pii = %v, %v (called %t), want the value", v, err, *called)
		}
	})
}
