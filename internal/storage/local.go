package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// tmpDir is where Local writes a file before renaming it into place, so a
// reader never sees half a file. ValidKey refuses segments starting with a
// dot, so it is never served.
const tmpDir = ".tmp"

// Local keeps files in a directory on local disk. Every access goes through
// an os.Root, so even a key that slipped past ValidKey could not leave the
// directory. An object's content type is derived from its key's extension
// (see ContentTypeOf), so keys should come from NewKey with ExtensionFor.
type Local struct {
	root    *os.Root
	baseURL string
}

// NewLocal opens (creating it when missing) the directory dir; objects'
// URLs are baseURL followed by their key (the gateway serves "media/" keys
// at baseURL/media/...).
func NewLocal(dir, baseURL string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("storage: media directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: media directory: %w", err)
	}
	if err := root.MkdirAll(tmpDir, 0o750); err != nil {
		root.Close()
		return nil, fmt.Errorf("storage: media directory: %w", err)
	}
	return &Local{root: root, baseURL: baseURL}, nil
}

// Close releases the directory.
func (l *Local) Close() error { return l.root.Close() }

// Put writes r to a temporary file and renames it to key. ErrInvalidKey for
// a bad key.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, _ string) (err error) {
	if !ValidKey(key) {
		return ErrInvalidKey
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	tmp := path.Join(tmpDir, hex.EncodeToString(b))
	f, err := l.root.OpenFile(filepath.FromSlash(tmp), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("storage: create: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			_ = l.root.Remove(filepath.FromSlash(tmp))
		}
	}()
	if _, err = io.Copy(f, ctxReader{ctx, r}); err != nil {
		return fmt.Errorf("storage: write: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("storage: sync: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("storage: close: %w", err)
	}
	if dir := path.Dir(key); dir != "." {
		if err = l.root.MkdirAll(filepath.FromSlash(dir), 0o750); err != nil {
			return fmt.Errorf("storage: mkdir: %w", err)
		}
	}
	if err = l.root.Rename(filepath.FromSlash(tmp), filepath.FromSlash(key)); err != nil {
		return fmt.Errorf("storage: rename: %w", err)
	}
	return nil
}

// Open opens the file under key, an *os.File (so an io.ReadSeeker), with the
// content type its extension names. ErrNotFound when there is none.
func (l *Local) Open(_ context.Context, key string) (io.ReadCloser, string, error) {
	if !ValidKey(key) {
		return nil, "", ErrNotFound
	}
	f, err := l.root.Open(filepath.FromSlash(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("storage: open: %w", err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, "", ErrNotFound
	}
	return f, ContentTypeOf(key), nil
}

// Delete removes the file under key; a missing file is not an error.
// ErrInvalidKey for a bad key.
func (l *Local) Delete(_ context.Context, key string) error {
	if !ValidKey(key) {
		return ErrInvalidKey
	}
	err := l.root.Remove(filepath.FromSlash(key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: delete: %w", err)
	}
	return nil
}

// URL returns baseURL/key.
func (l *Local) URL(key string) string { return joinURL(l.baseURL, key) }

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
