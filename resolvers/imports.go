package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/partsmarket/gateway/graph"
	"github.com/partsmarket/gateway/graph/model"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/imports"
	"github.com/partsmarket/gateway/store"
)

// Importer queues uploaded inventory files for the background worker
// (*imports.Importer). Enqueue returns the QUEUED batch once it and its
// file are stored; ENOTFOUND when the seller does not exist.
type Importer interface {
	Enqueue(ctx context.Context, u imports.Upload) (*store.ImportBatch, error)
}

// ImportBatch returns the resolvers of the ImportBatch type.
func (r *Resolver) ImportBatch() graph.ImportBatchResolver { return &importBatchResolver{r} }

// ImportBatchConnection returns the resolvers of the ImportBatchConnection type.
func (r *Resolver) ImportBatchConnection() graph.ImportBatchConnectionResolver {
	return &importBatchConnectionResolver{r}
}

// ImportRowErrorConnection returns the resolvers of the ImportRowErrorConnection type.
func (r *Resolver) ImportRowErrorConnection() graph.ImportRowErrorConnectionResolver {
	return &importRowErrorConnectionResolver{r}
}

type (
	importBatchResolver              struct{ *Resolver }
	importBatchConnectionResolver    struct{ *Resolver }
	importRowErrorConnectionResolver struct{ *Resolver }
)

func (r *queryResolver) ImportBatch(ctx context.Context, id string) (*store.ImportBatch, error) {
	p, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	return r.Store.ImportBatch(ctx, p.Scope(), id)
}

func (r *queryResolver) ImportBatches(ctx context.Context, sellerID *string, first *int, after *string, last *int, before *string) (*model.ImportBatchConnection, error) {
	p, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	args, err := pageArgs(first, after, last, before)
	if err != nil {
		return nil, err
	}
	q := store.ImportBatchQuery{Scope: p.Scope(), SellerID: sellerID}
	page, err := r.Store.ImportBatches(ctx, q, args)
	if err != nil {
		return nil, err
	}
	return &model.ImportBatchConnection{
		Edges: edges(page, func(c string, n *store.ImportBatch) *model.ImportBatchEdge {
			return &model.ImportBatchEdge{Cursor: c, Node: n}
		}),
		Nodes:    page.Items,
		PageInfo: pageInfo(page),
		Query:    q,
	}, nil
}

func (r *mutationResolver) ImportListings(ctx context.Context, sellerID string, file graphql.Upload, mode *store.ImportMode) (*model.ImportListingsPayload, error) {
	p := access.FromContext(ctx)
	if !p.Manages(sellerID) {
		return nil, store.NotFound("seller")
	}
	if _, err := load(ctx, sellerLoader, sellerID); err != nil {
		return nil, err
	}
	m := store.ImportUpsert
	if mode != nil {
		m = *mode
	}
	b, err := r.Imports.Enqueue(ctx, imports.Upload{
		SellerID: sellerID, Mode: m, FileName: file.Filename, CreatedBy: p.Subject, File: file.File,
	})
	if err != nil {
		return nil, err
	}
	return &model.ImportListingsPayload{Batch: b}, nil
}

func (r *importBatchResolver) Errors(ctx context.Context, obj *store.ImportBatch, first *int, after *string, last *int, before *string) (*model.ImportRowErrorConnection, error) {
	args, err := pageArgs(first, after, last, before)
	if err != nil {
		return nil, err
	}
	page, err := r.Store.ImportRowErrors(ctx, obj.ID, args)
	if err != nil {
		return nil, err
	}
	return &model.ImportRowErrorConnection{
		Edges: edges(page, func(c string, n *store.ImportRowError) *model.ImportRowErrorEdge {
			return &model.ImportRowErrorEdge{Cursor: c, Node: n}
		}),
		Nodes:    page.Items,
		PageInfo: pageInfo(page),
		BatchID:  obj.ID,
	}, nil
}

func (r *importBatchConnectionResolver) TotalCount(ctx context.Context, obj *model.ImportBatchConnection) (int, error) {
	return r.Store.CountImportBatches(ctx, obj.Query)
}

func (r *importRowErrorConnectionResolver) TotalCount(ctx context.Context, obj *model.ImportRowErrorConnection) (int, error) {
	return r.Store.CountImportRowErrors(ctx, obj.BatchID)
}
