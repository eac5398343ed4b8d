package resolvers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"

	"github.com/partsmarket/gateway/graph/model"
	"github.com/partsmarket/gateway/internal/imageproc"
	"github.com/partsmarket/gateway/internal/storage"
	"github.com/partsmarket/gateway/store"
)

// MediaFiles keeps uploaded images; storage.Storage implements it.
type MediaFiles interface {
	// Put stores r under key.
	Put(ctx context.Context, key string, r io.Reader, contentType string) error
	// Delete removes the file under key; a missing file is not an error.
	Delete(ctx context.Context, key string) error
	// URL is the file's stable public address.
	URL(key string) string
}

// defaultMediaMaxBytes bounds an image when the Resolver sets no limit.
const defaultMediaMaxBytes = 10 << 20

func (r *mutationResolver) AddListingMedia(ctx context.Context, input model.AddListingMediaInput) (*model.AddListingMediaPayload, error) {
	l, err := r.managedListing(ctx, input.ListingID)
	if err != nil {
		return nil, err
	}
	var c check
	url := c.optional("input.url", input.URL, 2048)
	n := store.NewMedia{ListingID: l.ID, AltText: c.optional("input.altText", input.AltText, 300), Position: input.Position}
	c.atLeast("input.position", n.Position, 0)
	switch {
	case url != nil && input.File != nil:
		c.errs.Add("input.file", "give either url or file, not both")
	case url == nil && input.File == nil:
		c.errs.Add("input.file", "give either url or file")
	case url != nil:
		n.URL = *url
		c.webURL("input.url", &n.URL)
	}
	if input.File == nil || len(c.errs) > 0 {
		if err := c.errs.Err(); err != nil {
			return nil, fail(ctx, err)
		}
		m, err := r.Store.AddMedia(ctx, n)
		if err != nil {
			return nil, inInput(err)
		}
		return &model.AddListingMediaPayload{Listing: l, Media: m}, nil
	}
	m, err := r.addUploadedMedia(ctx, n, input.File)
	if err != nil {
		return nil, fail(ctx, err)
	}
	return &model.AddListingMediaPayload{Listing: l, Media: m}, nil
}

// addUploadedMedia checks an uploaded image by its content, strips its
// metadata, stores it under a fresh key and records it. The file is deleted
// again when the row cannot be written.
func (r *mutationResolver) addUploadedMedia(ctx context.Context, n store.NewMedia, file *graphql.Upload) (*store.Media, error) {
	if r.Media == nil {
		return nil, errNotConfigured
	}
	max := r.MediaMaxBytes
	if max <= 0 {
		max = defaultMediaMaxBytes
	}
	if file.Size > max {
		return nil, store.Invalid("input.file", tooLarge(max))
	}
	// Refuse a full listing before reading and storing anything; AddMedia
	// checks again under a lock.
	count, err := r.Store.MediaCount(ctx, n.ListingID)
	if err != nil {
		return nil, err
	}
	if count >= store.MaxMediaPerListing {
		return nil, store.Invalid("input.listingId", "a listing has at most "+itoa(store.MaxMediaPerListing)+" media")
	}
	img, err := imageproc.Sanitize(file.File, max)
	switch {
	case errors.Is(err, imageproc.ErrTooLarge):
		return nil, store.Invalid("input.file", tooLarge(max))
	case errors.Is(err, imageproc.ErrUnsupported):
		return nil, store.Invalid("input.file", "must be a JPEG, PNG or WebP image")
	case errors.Is(err, imageproc.ErrMalformed):
		return nil, store.Invalid("input.file", "is not a valid JPEG, PNG or WebP image")
	case errors.Is(err, imageproc.ErrDimensions):
		return nil, store.Invalid("input.file", "must have between 1 and "+itoa(imageproc.MaxPixels)+" pixels")
	case err != nil:
		return nil, fmt.Errorf("read upload: %w", err)
	}
	key := storage.NewKey("media", img.Format.Ext)
	ct := img.Format.ContentType
	if err := r.Media.Put(ctx, key, bytes.NewReader(img.Data), ct); err != nil {
		return nil, err
	}
	n.URL, n.ContentType, n.StorageKey = r.Media.URL(key), &ct, &key
	m, err := r.Store.AddMedia(ctx, n)
	if err != nil {
		if derr := r.Media.Delete(context.WithoutCancel(ctx), key); derr != nil {
			graphql.AddError(ctx, fmt.Errorf("delete unrecorded media file %s: %w", key, derr))
		}
		return nil, inInput(err)
	}
	return m, nil
}

// tooLarge is the message for an image over max bytes.
func tooLarge(max int64) string {
	if max%(1<<20) == 0 {
		return fmt.Sprintf("must be at most %d MiB", max>>20)
	}
	return fmt.Sprintf("must be at most %d bytes", max)
}

func (r *mutationResolver) RemoveListingMedia(ctx context.Context, id string) (*model.RemoveListingMediaPayload, error) {
	m, err := r.Store.Media(ctx, id)
	if err != nil {
		return nil, err
	}
	l, err := r.managedListing(ctx, m.ListingID)
	if err != nil {
		return nil, store.NotFound("media")
	}
	key, err := r.Store.RemoveStoredMedia(ctx, id)
	if err != nil {
		return nil, err
	}
	// The row is gone; now the file. A failure leaves the answer intact
	// but is reported (and logged by the error presenter), since the file
	// would stay reachable at its URL.
	if key != "" && r.Media != nil {
		if err := r.Media.Delete(context.WithoutCancel(ctx), key); err != nil {
			graphql.AddError(ctx, fmt.Errorf("delete media file %s: %w", key, err))
		}
	}
	return &model.RemoveListingMediaPayload{Listing: l}, nil
}
