package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/partsmarket/gateway/internal/storage"
)

func TestValidKey(t *testing.T) {
	good := []string{"media/0123abcd.png", "imports/2025/x_y-z.csv", "a", storage.NewKey("media", ".webp"), storage.NewKey("", "")}
	bad := []string{"", "/etc/passwd", "../x", "media/../../x", "media/./x", "media//x", "media/", "media/.tmp/x",
		`media\..\x`, "media/x y.png", "media/%2e%2e/x", "media/x\x00.png", ".hidden", strings.Repeat("a", storage.MaxKeyLength+1)}
	for _, k := range good {
		if !storage.ValidKey(k) {
			t.Errorf("ValidKey(%q) = false, want true", k)
		}
	}
	for _, k := range bad {
		if storage.ValidKey(k) {
			t.Errorf("ValidKey(%q) = true, want false", k)
		}
	}
	if a, b := storage.NewKey("media", ".png"), storage.NewKey("media", ".png"); a == b || !strings.HasPrefix(a, "media/") || !strings.HasSuffix(a, ".png") {
		t.Errorf("NewKey: got %q and %q, want two different media/….png keys", a, b)
	}
}

// exercise runs the contract every Storage keeps.
func exercise(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	key := storage.NewKey("media", ".png")
	data := []byte("\x89PNG fake image bytes")

	t.Run("open missing", func(t *testing.T) {
		if _, _, err := s.Open(ctx, key); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Open(missing) err = %v, want ErrNotFound", err)
		}
	})
	t.Run("put and open", func(t *testing.T) {
		if err := s.Put(ctx, key, bytes.NewReader(data), "image/png"); err != nil {
			t.Fatalf("Put: %v", err)
		}
		rc, ct, err := s.Open(ctx, key)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer rc.Close()
		got, _ := io.ReadAll(rc)
		if !bytes.Equal(got, data) || ct != "image/png" {
			t.Errorf("Open = %q, %q; want %q, image/png", got, ct, data)
		}
		if _, ok := rc.(io.ReadSeeker); !ok {
			t.Errorf("Open's reader is not an io.ReadSeeker")
		}
	})
	t.Run("put from a reader of unknown size", func(t *testing.T) {
		k := storage.NewKey("imports", ".csv")
		if err := s.Put(ctx, k, io.MultiReader(strings.NewReader("sku,title\n"), strings.NewReader("A1,Pump\n")), "text/csv"); err != nil {
			t.Fatalf("Put: %v", err)
		}
		rc, _, err := s.Open(ctx, k)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != "sku,title\nA1,Pump\n" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("URL", func(t *testing.T) {
		if u := s.URL(key); !strings.HasSuffix(u, "/"+key) || !strings.HasPrefix(u, "http") {
			t.Errorf("URL(%q) = %q", key, u)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, _, err := s.Open(ctx, key); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Open after Delete err = %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("Delete of a deleted key: %v, want nil", err)
		}
	})
	t.Run("bad keys", func(t *testing.T) {
		for _, k := range []string{"../outside.png", "/abs.png", "media/../../x"} {
			if err := s.Put(ctx, k, strings.NewReader("x"), "image/png"); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("Put(%q) err = %v, want ErrInvalidKey", k, err)
			}
			if _, _, err := s.Open(ctx, k); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Open(%q) err = %v, want ErrNotFound", k, err)
			}
			if err := s.Delete(ctx, k); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("Delete(%q) err = %v, want ErrInvalidKey", k, err)
			}
		}
	})
}

func TestLocal(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "media-root")
	s, err := storage.NewLocal(dir, "http://localhost:8080/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	exercise(t, s)

	if got := s.URL("media/a.png"); got != "http://localhost:8080/media/a.png" {
		t.Errorf("URL = %q", got)
	}
	// Nothing was written outside the directory, and no temporary file
	// is left behind.
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Errorf("files outside the media directory: %v", entries)
	}
	tmp, _ := os.ReadDir(filepath.Join(dir, ".tmp"))
	if len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	// A symlink planted inside the directory cannot lead out of it.
	secret := filepath.Join(parent, "secret.png")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "media", "link.png")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Open(context.Background(), "media/link.png"); err == nil {
		t.Errorf("Open followed a symlink out of the media directory")
	}
}

// fakeS3 starts an in-process S3 server with one bucket.
func fakeS3(t *testing.T, bucket string) *httptest.Server {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	t.Cleanup(srv.Close)
	return srv
}

func TestS3(t *testing.T) {
	srv := fakeS3(t, "media")
	s, err := storage.NewS3(storage.S3Config{
		Endpoint: srv.URL, Bucket: "media", Region: "us-east-1",
		AccessKeyID: "test-key", SecretAccessKey: "test-secret",
		PublicBaseURL: "https://cdn.example.com/",
	}, "http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, s)
	if got := s.URL("media/a.png"); got != "https://cdn.example.com/media/a.png" {
		t.Errorf("URL = %q", got)
	}

	t.Run("URL falls back to the gateway", func(t *testing.T) {
		s, err := storage.NewS3(storage.S3Config{Endpoint: srv.URL, Bucket: "media", AccessKeyID: "k", SecretAccessKey: "s"}, "http://gw.example.com")
		if err != nil {
			t.Fatal(err)
		}
		if got := s.URL("media/a.png"); got != "http://gw.example.com/media/a.png" {
			t.Errorf("URL = %q", got)
		}
	})
	t.Run("settings", func(t *testing.T) {
		for _, cfg := range []storage.S3Config{{Endpoint: srv.URL}, {Endpoint: "ftp://x", Bucket: "b"}, {Endpoint: "http://x/path", Bucket: "b"}} {
			if _, err := storage.NewS3(cfg, ""); err == nil {
				t.Errorf("NewS3(%+v) accepted", cfg)
			}
		}
	})
}

func TestHandler(t *testing.T) {
	s, err := storage.NewLocal(t.TempDir(), "http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	key := storage.NewKey("media", ".png")
	if err := s.Put(ctx, key, strings.NewReader("png bytes"), "image/png"); err != nil {
		t.Fatal(err)
	}
	private := storage.NewKey("imports", ".csv")
	if err := s.Put(ctx, private, strings.NewReader("sku\n"), "text/csv"); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/media/", storage.Handler(s, nil))
	mux.Handle("/", storage.Handler(s, nil)) // even mounted wider, only media/ keys are served
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/" + key)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "png bytes" {
		t.Fatalf("GET %s = %d %q", key, resp.StatusCode, body)
	}
	for h, want := range map[string]string{
		"Content-Type":           "image/png",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "public, max-age=31536000, immutable",
		"Content-Length":         "9",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/"+key, nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: %v %v, want 304", resp.StatusCode, err)
	}

	for _, p := range []string{"/media/nothing.png", "/" + private, "/media/../" + private, "/media/%2e%2e/" + private, "/media/.tmp/x"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
}
