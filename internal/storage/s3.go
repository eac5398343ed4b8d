package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config are the settings of an S3-compatible bucket.
type S3Config struct {
	// Endpoint is the service's address: "https://s3.eu-west-1.amazonaws.com",
	// "http://minio:9000" or a bare "host:port" (then HTTPS).
	Endpoint string
	// Bucket holds the objects; it must exist.
	Bucket string
	// Region is the bucket's region ("" lets the client discover it).
	Region string
	// AccessKeyID and SecretAccessKey are static credentials; when both are
	// empty the usual AWS environment variables and instance role are used.
	AccessKeyID     string
	SecretAccessKey string
	// PublicBaseURL is where clients fetch objects (a CDN or the bucket's
	// public address), followed by the key. Empty: the gateway's own
	// /media route, which reads through the bucket.
	PublicBaseURL string
	// Transport replaces the HTTP transport (tests); nil for the default.
	Transport http.RoundTripper
}

// S3 keeps files in an S3-compatible bucket, so that several gateway
// instances share them.
type S3 struct {
	client  *minio.Client
	bucket  string
	baseURL string
}

// NewS3 returns the bucket's storage; fallbackBaseURL is used for URLs when
// cfg.PublicBaseURL is empty. It makes no request.
func NewS3(cfg S3Config, fallbackBaseURL string) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("storage: S3_BUCKET is required")
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "https://s3.amazonaws.com"
	}
	secure := true
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") {
			return nil, errors.New("storage: S3_ENDPOINT must be an http(s) URL without a path, or host:port")
		}
		secure, endpoint = u.Scheme == "https", u.Host
	}
	var creds *credentials.Credentials
	if cfg.AccessKeyID != "" || cfg.SecretAccessKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, "")
	} else {
		creds = credentials.NewChainCredentials([]credentials.Provider{&credentials.EnvAWS{}, &credentials.IAM{}})
	}
	client, err := minio.New(endpoint, &minio.Options{Creds: creds, Secure: secure, Region: cfg.Region, Transport: cfg.Transport})
	if err != nil {
		return nil, fmt.Errorf("storage: S3 client: %w", err)
	}
	base := cfg.PublicBaseURL
	if base == "" {
		base = fallbackBaseURL
	}
	return &S3{client: client, bucket: cfg.Bucket, baseURL: base}, nil
}

// Put uploads r under key. A reader whose size is unknown is first spooled
// to a temporary file, so that every object goes up with its length (one
// request below 16 MiB) and memory stays flat. ErrInvalidKey for a bad key.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, contentType string) error {
	if !ValidKey(key) {
		return ErrInvalidKey
	}
	size := sizeOf(r)
	if size < 0 {
		f, err := os.CreateTemp("", "gateway-upload-*")
		if err != nil {
			return fmt.Errorf("storage: spool: %w", err)
		}
		defer func() {
			f.Close()
			os.Remove(f.Name())
		}()
		if size, err = io.Copy(f, ctxReader{ctx, r}); err != nil {
			return fmt.Errorf("storage: spool: %w", err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("storage: spool: %w", err)
		}
		r = f
	}
	opts := minio.PutObjectOptions{ContentType: contentType}
	if strings.HasPrefix(key, MediaPrefix) {
		opts.CacheControl = CacheControl
	}
	if _, err := s.client.PutObject(ctx, s.bucket, key, r, size, opts); err != nil {
		return fmt.Errorf("storage: S3 put: %w", err)
	}
	return nil
}

// Open returns the object under key (a *minio.Object, so an io.ReadSeeker)
// and its content type. ErrNotFound when there is none.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, string, error) {
	if !ValidKey(key) {
		return nil, "", ErrNotFound
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, "", s3Error("get", err)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, "", s3Error("stat", err)
	}
	ct := info.ContentType
	if ct == "" {
		ct = ContentTypeOf(key)
	}
	return obj, ct, nil
}

// Delete removes the object under key; S3 answers success for a key that
// holds nothing. ErrInvalidKey for a bad key.
func (s *S3) Delete(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return ErrInvalidKey
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if isNoSuchKey(err) {
			return nil
		}
		return fmt.Errorf("storage: S3 delete: %w", err)
	}
	return nil
}

// URL returns the public base URL followed by key.
func (s *S3) URL(key string) string { return joinURL(s.baseURL, key) }

func s3Error(op string, err error) error {
	if isNoSuchKey(err) {
		return ErrNotFound
	}
	return fmt.Errorf("storage: S3 %s: %w", op, err)
}

func isNoSuchKey(err error) bool {
	resp := minio.ToErrorResponse(err)
	return resp.Code == minio.NoSuchKey || resp.StatusCode == http.StatusNotFound && resp.Code != minio.NoSuchBucket
}

// sizeOf returns r's remaining length when it can tell without reading, or
// -1.
func sizeOf(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case io.Seeker:
		cur, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1
		}
		end, err := v.Seek(0, io.SeekEnd)
		if err != nil {
			return -1
		}
		if _, err := v.Seek(cur, io.SeekStart); err != nil {
			return -1
		}
		return end - cur
	}
	return -1
}

// CacheControl is the caching header of public media: keys are never
// reused, so an object never changes.
const CacheControl = "public, max-age=31536000, immutable"
