package loaders

import (
	"context"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/partsmarket/gateway/store"
)

// nodeReader reads the rows of one kind by id, under the caller's access
// rules, keyed by id; ids it leaves out are NOT_FOUND.
type nodeReader func(ctx context.Context, ids []string) (map[string]store.Node, error)

// nodeBatch makes the batch function of the Node loader: one statement
// finds the kind of every key, then one read per kind present loads the
// rows the caller may see. A key of no kind, of a kind without a reader
// (the audit log for anyone but an admin) or of a row the read leaves out
// is NOT_FOUND: a hidden row answers exactly like a missing one.
func nodeBatch(st *store.Store, scope store.Scope, readers map[store.NodeKind]nodeReader) dataloader.BatchFunc[string, store.Node] {
	return func(ctx context.Context, keys []string) []*dataloader.Result[store.Node] {
		out := make([]*dataloader.Result[store.Node], len(keys))
		kinds, err := st.NodeKinds(ctx, scope, keys)
		if err != nil {
			for i := range out {
				out[i] = &dataloader.Result[store.Node]{Error: err}
			}
			return out
		}
		byKind := map[store.NodeKind][]string{}
		for _, k := range keys {
			if kind, ok := kinds[k]; ok && readers[kind] != nil {
				byKind[kind] = append(byKind[kind], k)
			}
		}
		found := map[string]store.Node{}
		failed := map[store.NodeKind]error{}
		for kind, ids := range byKind {
			rows, err := readers[kind](ctx, ids)
			if err != nil {
				failed[kind] = err
				continue
			}
			for id, r := range rows {
				found[id] = r
			}
		}
		for i, k := range keys {
			switch n, ok := found[k]; {
			case failed[kinds[k]] != nil:
				out[i] = &dataloader.Result[store.Node]{Error: failed[kinds[k]]}
			case ok:
				out[i] = &dataloader.Result[store.Node]{Data: n}
			default:
				out[i] = &dataloader.Result[store.Node]{Error: store.NotFound("node")}
			}
		}
		return out
	}
}

// nodeReaders returns the reads of each kind for a caller who sees scope;
// the audit log only when auditLog (an admin).
func nodeReaders(st *store.Store, scope store.Scope, auditLog bool) map[store.NodeKind]nodeReader {
	r := map[store.NodeKind]nodeReader{
		store.KindSeller: asNodes(func(ctx context.Context, ids []string) ([]*store.Seller, error) {
			return st.SellersByID(ctx, scope, ids)
		}, func(v *store.Seller) string { return v.ID }),
		store.KindListing: asNodes(func(ctx context.Context, ids []string) ([]*store.Listing, error) {
			return st.ListingsByID(ctx, scope, ids)
		}, func(v *store.Listing) string { return v.ID }),
		store.KindLead: asNodes(func(ctx context.Context, ids []string) ([]*store.Lead, error) {
			return st.LeadsByID(ctx, scope, ids)
		}, func(v *store.Lead) string { return v.ID }),
		store.KindListingReport: asNodes(func(ctx context.Context, ids []string) ([]*store.ListingReport, error) {
			return st.ReportsByID(ctx, scope, ids)
		}, func(v *store.ListingReport) string { return v.ID }),
		store.KindImportBatch: asNodes(func(ctx context.Context, ids []string) ([]*store.ImportBatch, error) {
			return st.ImportBatchesByID(ctx, scope, ids)
		}, func(v *store.ImportBatch) string { return v.ID }),
		store.KindMedia: asNodes(func(ctx context.Context, ids []string) ([]*store.Media, error) {
			return st.MediaByID(ctx, scope, ids)
		}, func(v *store.Media) string { return v.ID }),
	}
	if auditLog {
		r[store.KindAuditEvent] = asNodes(st.AuditEventsByID, func(v *store.AuditEvent) string { return v.ID })
	}
	return r
}

// asNodes turns a typed read into a nodeReader; id gives a row's id.
func asNodes[T any](read func(context.Context, []string) ([]*T, error), id func(*T) string) nodeReader {
	return func(ctx context.Context, ids []string) (map[string]store.Node, error) {
		rows, err := read(ctx, ids)
		out := make(map[string]store.Node, len(rows))
		for _, r := range rows {
			out[id(r)] = r
		}
		return out, err
	}
}
