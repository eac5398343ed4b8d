package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/partsmarket/gateway/internal/config"
	"github.com/partsmarket/gateway/store"
)

// mediaBase is the PUBLIC_BASE_URL of the media tests: URLs are checked
// against it, and fetched from the test server by their path.
const mediaBase = "https://gateway.test"

// mediaGPS is the location a phone leaves in a photo's metadata.
const mediaGPS = "GPSLatitude 29.7604N GPSLongitude 95.3698W"

const addMediaMutation = `mutation($input: AddListingMediaInput!) {
	addListingMedia(input: $input) { media { id url contentType altText position } listing { id } } }`

// mediaFile is one file part of a multipart request.
type mediaFile struct {
	name        string // the file name the client sends
	contentType string // the part's Content-Type; the gateway must ignore it
	data        []byte
}

// uploadMedia sends addListingMedia as a GraphQL multipart request (the
// operations, map and file parts built by hand), the file in
// variables.input.file.
func (a *testAPI) uploadMedia(token string, input map[string]any, f mediaFile) gqlResponse {
	a.t.Helper()
	input["file"] = nil
	ops, _ := json.Marshal(map[string]any{"query": addMediaMutation, "variables": map[string]any{"input": input}})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0": ["variables.input.file"]}`)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="0"; filename="`+f.name+`"`)
	h.Set("Content-Type", f.contentType)
	part, _ := mw.CreatePart(h)
	_, _ = part.Write(f.data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("GraphQL-Require-Preflight", "1") // a multipart POST without it is refused
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.send(req)
}

// fetchMedia GETs a media URL of the gateway from the test server.
func (a *testAPI) fetchMedia(url string) (*http.Response, []byte) {
	a.t.Helper()
	if !strings.HasPrefix(url, mediaBase+"/media/") {
		a.t.Fatalf("media URL %q is not under %s/media/", url, mediaBase)
	}
	resp, err := http.Get(a.URL + strings.TrimPrefix(url, mediaBase))
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// newMediaAPI starts a gateway with local media storage in a temporary
// directory and an image limit of maxBytes.
func newMediaAPI(t *testing.T, env map[string]string) (*testAPI, string) {
	t.Helper()
	dir := t.TempDir()
	e := map[string]string{"MEDIA_DIR": dir, "PUBLIC_BASE_URL": mediaBase, "MEDIA_MAX_BYTES": "16384"}
	for k, v := range env {
		e[k] = v
	}
	return newTestAPI(t, e), dir
}

// storedFiles lists the media files under dir.
func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	entries, _ := os.ReadDir(filepath.Join(dir, "media"))
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func mediaTestImage(w, h int, noise bool) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(x * 9), uint8(y * 13), 90, 255}
			if noise {
				c = color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

// pngWithGPS is a PNG carrying EXIF (with GPS), text and time chunks.
func pngWithGPS(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, mediaTestImage(20, 10, false)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	chunk := func(typ, data string) []byte {
		c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		c = append(append(c, typ...), data...)
		return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
	}
	cut := 8 + 12 + 13 // after IHDR
	out := append([]byte(nil), b[:cut]...)
	out = append(out, chunk("eXIf", "MM\x00*\x00\x00\x00\x08"+mediaGPS)...)
	out = append(out, chunk("tEXt", "Author\x00Jane Seller")...)
	out = append(out, chunk("tIME", "\x07\xe9\x01\x02\x03\x04\x05")...)
	return append(out, b[cut:]...)
}

// jpegWithGPS is a JPEG carrying an EXIF APP1 segment with GPS data, XMP
// and a comment.
func jpegWithGPS(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, mediaTestImage(24, 16, false), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	seg := func(m byte, p string) []byte {
		return append([]byte{0xFF, m, byte((len(p) + 2) >> 8), byte(len(p) + 2)}, p...)
	}
	out := []byte{0xFF, 0xD8}
	out = append(out, seg(0xE1, "Exif\x00\x00MM\x00*\x00\x00\x00\x08"+mediaGPS)...)
	out = append(out, seg(0xE1, "http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>"+mediaGPS+"</x:xmpmeta>")...)
	out = append(out, seg(0xFE, "Jane Seller's phone")...)
	return append(out, buf.Bytes()[2:]...)
}

// webpImage is a 1×1 lossless WebP with an EXIF chunk.
func webpImage() []byte {
	chunk := func(fourcc string, data []byte) []byte {
		c := append([]byte(fourcc), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
		c = append(c, data...)
		if len(data)%2 == 1 {
			c = append(c, 0)
		}
		return c
	}
	body := []byte("WEBP")
	body = append(body, chunk("VP8X", []byte{0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0})...)
	body = append(body, chunk("VP8L", []byte{0x2f, 0x00, 0x00, 0x00, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07})...)
	body = append(body, chunk("EXIF", []byte("MM\x00*"+mediaGPS))...)
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

func TestMediaUpload(t *testing.T) {
	api, dir := newMediaAPI(t, nil)
	f := api.newFixture()

	t.Run("a PNG named .jpg is stored as PNG, without its metadata", func(t *testing.T) {
		r := api.uploadMedia(f.TokenA, map[string]any{"listingId": f.ListingA.ID, "altText": "Pump, left side"},
			mediaFile{name: "pump.jpg", contentType: "image/jpeg", data: pngWithGPS(t)})
		if len(r.Errors) > 0 {
			t.Fatalf("errors: %s", r.Raw)
		}
		url, _ := r.Get("addListingMedia.media.url").(string)
		if got := r.Get("addListingMedia.media.contentType"); got != "image/png" {
			t.Errorf("contentType = %v, want image/png", got)
		}
		if !strings.HasSuffix(url, ".png") || strings.Contains(url, "pump") {
			t.Errorf("url = %q, want a generated key ending in .png", url)
		}
		if got := r.Get("addListingMedia.media.altText"); got != "Pump, left side" {
			t.Errorf("altText = %v", got)
		}
		resp, body := api.fetchMedia(url)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=") {
			t.Fatalf("GET %s = %d %v", url, resp.StatusCode, resp.Header)
		}
		for _, s := range []string{"eXIf", "tEXt", "tIME", "GPS", "Jane"} {
			if bytes.Contains(body, []byte(s)) {
				t.Errorf("served PNG still contains %q", s)
			}
		}
		if _, err := png.Decode(bytes.NewReader(body)); err != nil {
			t.Errorf("served PNG does not decode: %v", err)
		}
		var row struct {
			Key         *string `db:"storage_key"`
			ContentType *string `db:"content_type"`
		}
		if err := api.DB.Get(&row, `SELECT storage_key, content_type FROM media WHERE id = $1`, r.Get("addListingMedia.media.id")); err != nil {
			t.Fatal(err)
		}
		if row.Key == nil || !strings.HasSuffix(url, "/"+*row.Key) || row.ContentType == nil || *row.ContentType != "image/png" {
			t.Errorf("row storage_key %v content_type %v, url %s", row.Key, row.ContentType, url)
		}
	})

	t.Run("EXIF and GPS are stripped from a JPEG", func(t *testing.T) {
		in := jpegWithGPS(t)
		want, err := jpeg.Decode(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		r := api.uploadMedia(f.TokenA, map[string]any{"listingId": f.ListingA.ID},
			mediaFile{name: "IMG_0001.JPG", contentType: "application/octet-stream", data: in})
		if len(r.Errors) > 0 {
			t.Fatalf("errors: %s", r.Raw)
		}
		if got := r.Get("addListingMedia.media.contentType"); got != "image/jpeg" {
			t.Errorf("contentType = %v, want image/jpeg", got)
		}
		resp, body := api.fetchMedia(r.Get("addListingMedia.media.url").(string))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("GET = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, s := range []string{"Exif", "xmpmeta", "GPS", "Jane"} {
			if bytes.Contains(body, []byte(s)) {
				t.Errorf("served JPEG still contains %q", s)
			}
		}
		got, err := jpeg.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("served JPEG does not decode: %v", err)
		}
		if got.Bounds() != want.Bounds() {
			t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
		}
		for y := 0; y < want.Bounds().Dy(); y++ {
			for x := 0; x < want.Bounds().Dx(); x++ {
				if got.At(x, y) != want.At(x, y) {
					t.Fatalf("pixel (%d,%d) changed: stripping must be lossless", x, y)
				}
			}
		}
	})

	t.Run("WebP", func(t *testing.T) {
		r := api.uploadMedia(f.TokenA, map[string]any{"listingId": f.ListingA.ID},
			mediaFile{name: "photo.gif", contentType: "image/gif", data: webpImage()})
		if len(r.Errors) > 0 {
			t.Fatalf("errors: %s", r.Raw)
		}
		if got := r.Get("addListingMedia.media.contentType"); got != "image/webp" {
			t.Errorf("contentType = %v, want image/webp", got)
		}
		resp, body := api.fetchMedia(r.Get("addListingMedia.media.url").(string))
		if resp.Header.Get("Content-Type") != "image/webp" || bytes.Contains(body, []byte("GPS")) || body[20]&0x08 != 0 {
			t.Errorf("served WebP: %s, EXIF left: %v", resp.Header.Get("Content-Type"), bytes.Contains(body, []byte("GPS")))
		}
	})

	before := storedFiles(t, dir)
	refused := []struct {
		name  string
		token string
		input map[string]any
		file  mediaFile
		code  string
		field string
	}{
		{"a text file named .png", f.TokenA, map[string]any{"listingId": f.ListingA.ID},
			mediaFile{"photo.png", "image/png", []byte("this is not an image, whatever its name says\n")}, store.EINVALID, "input.file"},
		{"an SVG", f.TokenA, map[string]any{"listingId": f.ListingA.ID},
			mediaFile{"photo.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)}, store.EINVALID, "input.file"},
		{"a truncated PNG", f.TokenA, map[string]any{"listingId": f.ListingA.ID},
			mediaFile{"photo.png", "image/png", pngWithGPS(t)[:60]}, store.EINVALID, "input.file"},
		{"an image over MEDIA_MAX_BYTES", f.TokenA, map[string]any{"listingId": f.ListingA.ID},
			mediaFile{"big.png", "image/png", noisyPNG(t)}, store.EINVALID, "input.file"},
		{"both url and file", f.TokenA, map[string]any{"listingId": f.ListingA.ID, "url": "https://images.example.com/a.jpg"},
			mediaFile{"a.png", "image/png", pngWithGPS(t)}, store.EINVALID, "input.file"},
		{"another seller's listing", f.TokenB, map[string]any{"listingId": f.ListingA.ID},
			mediaFile{"a.png", "image/png", pngWithGPS(t)}, store.ENOTFOUND, ""},
		{"another seller's draft", f.TokenB, map[string]any{"listingId": f.DraftA.ID},
			mediaFile{"a.png", "image/png", pngWithGPS(t)}, store.ENOTFOUND, ""},
		{"a listing that does not exist", f.TokenB, map[string]any{"listingId": "00000000-0000-4000-8000-000000000000"},
			mediaFile{"a.png", "image/png", pngWithGPS(t)}, store.ENOTFOUND, ""},
		{"anonymous", "", map[string]any{"listingId": f.ListingA.ID},
			mediaFile{"a.png", "image/png", pngWithGPS(t)}, store.EUNAUTHENTICATED, ""},
	}
	for _, tt := range refused {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			r := api.uploadMedia(tt.token, tt.input, tt.file)
			if len(r.Errors) != 1 || r.Errors[0].Code() != tt.code || r.Errors[0].Field() != tt.field {
				t.Fatalf("got %s, want one %s error on %q", r.Raw, tt.code, tt.field)
			}
			if r.Get("addListingMedia") != nil {
				t.Errorf("data: %v", r.Data)
			}
		})
	}
	if after := storedFiles(t, dir); len(after) != len(before) {
		t.Errorf("refused uploads left files: before %v, after %v", before, after)
	}

	t.Run("neither url nor file", func(t *testing.T) {
		r := api.post(f.TokenA, addMediaMutation, map[string]any{"input": map[string]any{"listingId": f.ListingA.ID, "url": ""}})
		if len(r.Errors) != 1 || r.Errors[0].Code() != store.EINVALID || r.Errors[0].Field() != "input.file" {
			t.Errorf("got %s, want BAD_USER_INPUT on input.file", r.Raw)
		}
	})
	t.Run("a URL still works", func(t *testing.T) {
		r := api.mustPost(f.TokenA, addMediaMutation, map[string]any{"input": map[string]any{"listingId": f.ListingA.ID, "url": "https://images.example.com/x.jpg"}})
		if got := r.Get("addListingMedia.media.url"); got != "https://images.example.com/x.jpg" {
			t.Errorf("url = %v", got)
		}
	})
	t.Run("at most 20 per listing", func(t *testing.T) {
		for i := 1; i < store.MaxMediaPerListing; i++ { // DraftB has one image already
			if _, err := api.Store.AddMedia(context.Background(), store.NewMedia{ListingID: f.DraftB.ID, URL: "https://images.example.com/n.jpg"}); err != nil {
				t.Fatal(err)
			}
		}
		before := storedFiles(t, dir)
		r := api.uploadMedia(f.TokenB, map[string]any{"listingId": f.DraftB.ID}, mediaFile{"a.png", "image/png", pngWithGPS(t)})
		if len(r.Errors) != 1 || r.Errors[0].Code() != store.EINVALID || r.Errors[0].Field() != "input.listingId" {
			t.Errorf("got %s, want BAD_USER_INPUT on input.listingId", r.Raw)
		}
		if after := storedFiles(t, dir); len(after) != len(before) {
			t.Errorf("a refused upload left a file")
		}
	})
	t.Run("an admin may add to any listing", func(t *testing.T) {
		r := api.uploadMedia(f.Admin, map[string]any{"listingId": f.ListingB.ID}, mediaFile{"a.png", "image/png", pngWithGPS(t)})
		if len(r.Errors) > 0 {
			t.Fatalf("errors: %s", r.Raw)
		}
	})
}

// noisyPNG is a valid PNG larger than the tests' 16 KiB MEDIA_MAX_BYTES.
func noisyPNG(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, mediaTestImage(96, 96, true)); err != nil {
		t.Fatal(err)
	}
	if buf.Len() <= 16384 {
		t.Fatalf("noisy PNG is only %d bytes", buf.Len())
	}
	return buf.Bytes()
}

func TestMediaRemove(t *testing.T) {
	api, dir := newMediaAPI(t, nil)
	f := api.newFixture()
	const remove = `mutation($id: ID!) { removeListingMedia(id: $id) { listing { id media { id } } } }`

	r := api.uploadMedia(f.TokenA, map[string]any{"listingId": f.ListingA.ID}, mediaFile{"a.png", "image/png", pngWithGPS(t)})
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %s", r.Raw)
	}
	id, url := r.Get("addListingMedia.media.id").(string), r.Get("addListingMedia.media.url").(string)
	path := filepath.Join(dir, "media", url[strings.LastIndexByte(url, '/')+1:])
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("stored file: %v", err)
	}

	t.Run("another seller cannot", func(t *testing.T) {
		r := api.post(f.TokenB, remove, map[string]any{"id": id})
		if len(r.Errors) != 1 || r.Errors[0].Code() != store.ENOTFOUND {
			t.Fatalf("got %s, want NOT_FOUND", r.Raw)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("file gone after a refused removal: %v", err)
		}
	})
	t.Run("the owner removes row and file", func(t *testing.T) {
		r := api.mustPost(f.TokenA, remove, map[string]any{"id": id})
		for _, m := range r.Get("removeListingMedia.listing.media").([]any) {
			if m.(map[string]any)["id"] == id {
				t.Errorf("media still listed")
			}
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("file still on disk: %v", err)
		}
		if resp, _ := api.fetchMedia(url); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET after removal = %d, want 404", resp.StatusCode)
		}
	})
	t.Run("a file already gone is not an error", func(t *testing.T) {
		r := api.uploadMedia(f.TokenA, map[string]any{"listingId": f.ListingA.ID}, mediaFile{"a.png", "image/png", pngWithGPS(t)})
		id, url := r.Get("addListingMedia.media.id").(string), r.Get("addListingMedia.media.url").(string)
		if err := os.Remove(filepath.Join(dir, "media", url[strings.LastIndexByte(url, '/')+1:])); err != nil {
			t.Fatal(err)
		}
		api.mustPost(f.TokenA, remove, map[string]any{"id": id})
	})
	t.Run("removing a URL image", func(t *testing.T) {
		var mid string
		if err := api.DB.Get(&mid, `SELECT id FROM media WHERE listing_id = $1 AND storage_key IS NULL LIMIT 1`, f.ListingA.ID); err != nil {
			t.Fatal(err)
		}
		api.mustPost(f.TokenA, remove, map[string]any{"id": mid})
	})
}

func TestMediaRoute(t *testing.T) {
	api, dir := newMediaAPI(t, nil)
	if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "outside.png"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/media/", "/media/nothing.png", "/media/../outside.png", "/media/%2e%2e/outside.png", "/media/.tmp/x", "/media/a%2fb.png"} {
		resp, err := http.Get(api.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || bytes.Contains(b, []byte("secret")) {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/media/x.png", strings.NewReader("x"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /media/x.png = %d, want 405", resp.StatusCode)
	}
}

// TestMediaS3 runs the gateway with STORAGE=s3 against an in-process fake
// S3: uploads land in the bucket and are served through /media/.
func TestMediaS3(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("media"); err != nil {
		t.Fatal(err)
	}
	s3 := httptest.NewServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	t.Cleanup(s3.Close)
	api, dir := newMediaAPI(t, map[string]string{"STORAGE": "s3", "S3_ENDPOINT": s3.URL, "S3_BUCKET": "media",
		"S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test-secret"})
	f := api.newFixture()

	r := api.uploadMedia(f.TokenA, map[string]any{"listingId": f.ListingA.ID}, mediaFile{"a.jpg", "image/jpeg", jpegWithGPS(t)})
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %s", r.Raw)
	}
	url := r.Get("addListingMedia.media.url").(string)
	key := strings.TrimPrefix(url, mediaBase+"/")
	obj, err := backend.HeadObject("media", key)
	if err != nil {
		t.Fatalf("object %s not in the bucket: %v", key, err)
	}
	if obj.Size == 0 {
		t.Errorf("empty object")
	}
	if files := storedFiles(t, dir); len(files) != 0 {
		t.Errorf("files on local disk with STORAGE=s3: %v", files)
	}
	resp, body := api.fetchMedia(url)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || bytes.Contains(body, []byte("GPS")) {
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	api.mustPost(f.TokenA, `mutation($id: ID!) { removeListingMedia(id: $id) { listing { id } } }`,
		map[string]any{"id": r.Get("addListingMedia.media.id")})
	if _, err := backend.HeadObject("media", key); err == nil {
		t.Errorf("object still in the bucket after removal")
	}
}

func TestMediaConfig(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		ok   bool
	}{
		{"defaults", nil, true},
		{"s3", map[string]string{"STORAGE": "s3", "S3_BUCKET": "media"}, true},
		{"s3 without bucket", map[string]string{"STORAGE": "s3"}, false},
		{"s3 with half the keys", map[string]string{"STORAGE": "s3", "S3_BUCKET": "media", "S3_ACCESS_KEY_ID": "k"}, false},
		{"unknown storage", map[string]string{"STORAGE": "ftp"}, false},
		{"bad public base URL", map[string]string{"PUBLIC_BASE_URL": "gateway.example.com"}, false},
		{"bad media limit", map[string]string{"MEDIA_MAX_BYTES": "-1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(func(k string) string { return tt.env[k] })
			if (err == nil) != tt.ok {
				t.Fatalf("Load err = %v, want ok %v", err, tt.ok)
			}
			if tt.env == nil && (cfg.Storage != "local" || cfg.MediaDir != ".data/media" || cfg.PublicBaseURL != "http://localhost:8080" || cfg.MediaMaxBytes != 10<<20) {
				t.Errorf("defaults: %+v", cfg)
			}
		})
	}
}
