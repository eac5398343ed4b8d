package imports

import (
	"context"
	"io"

	"github.com/partsmarket/gateway/internal/storage"
)

// FileStore keeps uploaded import files until a worker has read them.
type FileStore interface {
	// Put stores the bytes of r under key, replacing nothing: keys are new.
	Put(ctx context.Context, key string, r io.Reader) error
	// Open reads the file under key; the caller closes it.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the file under key; a missing file is not an error.
	Delete(ctx context.Context, key string) error
}

// keyPrefix is where import files live in the storage; the gateway never
// serves them (only media/ keys are public).
const keyPrefix = "imports/"

// Files keeps import files in the gateway's storage (local disk, or S3
// where several instances share the work), under keyPrefix.
func Files(s storage.Storage) FileStore { return storageFiles{s} }

type storageFiles struct{ s storage.Storage }

func (f storageFiles) Put(ctx context.Context, key string, r io.Reader) error {
	return f.s.Put(ctx, keyPrefix+key, r, "text/csv")
}

func (f storageFiles) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, _, err := f.s.Open(ctx, keyPrefix+key)
	return rc, err
}

func (f storageFiles) Delete(ctx context.Context, key string) error {
	return f.s.Delete(ctx, keyPrefix+key)
}
