package imageproc_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/partsmarket/gateway/internal/imageproc"
)

// gps is what a phone writes: an EXIF block whose GPS IFD names the place.
const gps = "GPSLatitude 29.7604N GPSLongitude 95.3698W"

// testImage is a small picture with some structure, so decoding errors show.
func testImage() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for y := 0; y < 12; y++ {
		for x := 0; x < 16; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 16), uint8(y * 20), 128, 255})
		}
	}
	return img
}

// PNG returns a PNG of testImage with metadata chunks injected after IHDR.
func PNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, testImage()); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	ihdrEnd := 8 + 12 + 13
	var meta []byte
	meta = append(meta, pngChunk("eXIf", []byte("MM\x00*\x00\x00\x00\x08"+gps))...)
	meta = append(meta, pngChunk("tEXt", []byte("Author\x00Jane Buyer"))...)
	meta = append(meta, pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta>"+gps+"</x:xmpmeta>"))...)
	meta = append(meta, pngChunk("zTXt", []byte("Comment\x00\x00x\x9c\x03\x00\x00\x00\x00\x01"))...)
	meta = append(meta, pngChunk("tIME", []byte{0x07, 0xe9, 1, 2, 3, 4, 5})...)
	out := append([]byte(nil), b[:ihdrEnd]...)
	out = append(out, meta...)
	return append(out, b[ihdrEnd:]...)
}

func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// JPEG returns a JPEG of testImage with APP0 (JFIF with a thumbnail), APP1
// EXIF/GPS and XMP, APP2 ICC and MPF, APP13 IPTC and a COM segment.
func JPEG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	jfif := append([]byte("JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x01\x01"), 9, 9, 9) // 1x1 thumbnail
	var meta []byte
	meta = append(meta, segment(0xE0, jfif)...)
	meta = append(meta, segment(0xE1, []byte("Exif\x00\x00MM\x00*\x00\x00\x00\x08"+gps))...)
	meta = append(meta, segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>"+gps+"</x:xmpmeta>"))...)
	meta = append(meta, segment(0xE2, []byte("ICC_PROFILE\x00\x01\x01fake-profile"))...)
	meta = append(meta, segment(0xE2, []byte("MPF\x00"+gps))...)
	meta = append(meta, segment(0xED, []byte("Photoshop 3.0\x00"+gps))...)
	meta = append(meta, segment(0xFE, []byte("shot by Jane "+gps))...)
	out := append([]byte{0xFF, 0xD8}, meta...)
	out = append(out, b[2:]...)
	return append(out, []byte("trailing "+gps)...)
}

func segment(marker byte, payload []byte) []byte {
	return append([]byte{0xFF, marker, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
}

// webpVP8L is a 1×1 lossless WebP bitstream (the VP8L chunk's payload).
var webpVP8L = []byte{0x2f, 0x00, 0x00, 0x00, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07}

func riffChunk(fourcc string, data []byte) []byte {
	c := append([]byte(fourcc), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

func riff(chunks ...[]byte) []byte {
	body := []byte("WEBP")
	for _, c := range chunks {
		body = append(body, c...)
	}
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// WebP returns an extended WebP (VP8X with the EXIF and XMP flags) holding
// EXIF and XMP chunks around a 1×1 lossless image.
func WebP() []byte {
	vp8x := []byte{0x08 | 0x04 | 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0} // EXIF, XMP, alpha; 1×1
	return riff(
		riffChunk("VP8X", vp8x),
		riffChunk("VP8L", webpVP8L),
		riffChunk("EXIF", []byte("MM\x00*\x00\x00\x00\x08"+gps)),
		riffChunk("XMP ", []byte("<x:xmpmeta>"+gps+"</x:xmpmeta>")),
	)
}

func TestStripPNG(t *testing.T) {
	in := PNG(t)
	img, err := imageproc.Strip(in)
	if err != nil {
		t.Fatalf("Strip: %v", err)
	}
	if img.Format != imageproc.PNG || img.Width != 16 || img.Height != 12 {
		t.Errorf("got %s %dx%d, want PNG 16x12", img.Format.Name, img.Width, img.Height)
	}
	for _, typ := range []string{"eXIf", "tEXt", "iTXt", "zTXt", "tIME", "GPS", "Jane"} {
		if bytes.Contains(img.Data, []byte(typ)) {
			t.Errorf("stripped PNG still contains %q", typ)
		}
	}
	got, err := png.Decode(bytes.NewReader(img.Data))
	if err != nil {
		t.Fatalf("stripped PNG does not decode: %v", err)
	}
	samePixels(t, got, testImage())
}

func TestStripJPEG(t *testing.T) {
	in := JPEG(t)
	want, err := jpeg.Decode(bytes.NewReader(in))
	if err != nil {
		t.Fatalf("test JPEG does not decode: %v", err)
	}
	img, err := imageproc.Strip(in)
	if err != nil {
		t.Fatalf("Strip: %v", err)
	}
	if img.Format != imageproc.JPEG || img.Width != 16 || img.Height != 12 {
		t.Errorf("got %s %dx%d, want JPEG 16x12", img.Format.Name, img.Width, img.Height)
	}
	for _, s := range []string{"Exif", "xmpmeta", "GPS", "MPF", "Photoshop", "Jane", "trailing"} {
		if bytes.Contains(img.Data, []byte(s)) {
			t.Errorf("stripped JPEG still contains %q", s)
		}
	}
	for _, s := range []string{"JFIF", "ICC_PROFILE"} {
		if !bytes.Contains(img.Data, []byte(s)) {
			t.Errorf("stripped JPEG lost its %s segment", s)
		}
	}
	if i := bytes.Index(img.Data, []byte("JFIF\x00")); i < 0 || img.Data[i+12] != 0 || img.Data[i+13] != 0 {
		t.Errorf("JFIF thumbnail not removed")
	}
	got, err := jpeg.Decode(bytes.NewReader(img.Data))
	if err != nil {
		t.Fatalf("stripped JPEG does not decode: %v", err)
	}
	samePixels(t, got, want) // lossless: the very same pixels
}

func TestStripWebP(t *testing.T) {
	img, err := imageproc.Strip(WebP())
	if err != nil {
		t.Fatalf("Strip: %v", err)
	}
	if img.Format != imageproc.WebP || img.Width != 1 || img.Height != 1 {
		t.Errorf("got %s %dx%d, want WebP 1x1", img.Format.Name, img.Width, img.Height)
	}
	vp8x := []byte{0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	want := riff(riffChunk("VP8X", vp8x), riffChunk("VP8L", webpVP8L))
	if !bytes.Equal(img.Data, want) {
		t.Errorf("stripped WebP\n got %x\nwant %x", img.Data, want)
	}

	t.Run("simple lossless", func(t *testing.T) {
		in := append(riff(riffChunk("VP8L", webpVP8L)), "junk after the RIFF body"...)
		img, err := imageproc.Strip(in)
		if err != nil {
			t.Fatalf("Strip: %v", err)
		}
		if want := riff(riffChunk("VP8L", webpVP8L)); !bytes.Equal(img.Data, want) {
			t.Errorf("got %x, want %x", img.Data, want)
		}
	})
}

func samePixels(t *testing.T, got, want image.Image) {
	t.Helper()
	if got.Bounds() != want.Bounds() {
		t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	b := want.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, a1 := got.At(x, y).RGBA()
			r2, g2, b2, a2 := want.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				t.Fatalf("pixel (%d,%d) differs", x, y)
			}
		}
	}
}

func TestRefused(t *testing.T) {
	pngData, jpegData, webpData := PNG(t), JPEG(t), WebP()
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, imageproc.ErrUnsupported},
		{"text", []byte("hello, I am a text file named photo.png\n"), imageproc.ErrUnsupported},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), imageproc.ErrUnsupported},
		{"SVG", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), imageproc.ErrUnsupported},
		{"JPEG signature only", []byte{0xFF, 0xD8, 0xFF}, imageproc.ErrMalformed},
		{"JPEG without EOI", jpegData[:len(jpegData)-200], imageproc.ErrMalformed},
		{"JPEG segment past the end", append([]byte{0xFF, 0xD8}, 0xFF, 0xE1, 0xFF, 0xFF, 'E'), imageproc.ErrMalformed},
		{"JPEG segment length 0", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x00, 0xFF, 0xD9}, imageproc.ErrMalformed},
		{"JPEG without frame", []byte{0xFF, 0xD8, 0xFF, 0xD9}, imageproc.ErrMalformed},
		{"PNG signature only", pngData[:8], imageproc.ErrMalformed},
		{"PNG truncated", pngData[:len(pngData)-20], imageproc.ErrMalformed},
		{"PNG bad CRC", flip(pngData, 8+12+5), imageproc.ErrMalformed},
		{"PNG huge chunk length", append(append([]byte(nil), pngData[:8]...), 0x7f, 0xff, 0xff, 0xff, 'I', 'H', 'D', 'R'), imageproc.ErrMalformed},
		{"WebP header only", []byte("RIFF\x04\x00\x00\x00WEBP"), imageproc.ErrMalformed},
		{"WebP RIFF size past the end", append([]byte("RIFF\xff\xff\x00\x00WEBP"), webpData[12:]...), imageproc.ErrMalformed},
		{"WebP chunk past the end", riff([]byte("VP8L\xff\x00\x00\x00\x2f")), imageproc.ErrMalformed},
		{"WebP without image", riff(riffChunk("VP8X", make([]byte, 10)), riffChunk("EXIF", []byte(gps))), imageproc.ErrMalformed},
		{"WebP EXIF first", riff(riffChunk("EXIF", []byte(gps)), riffChunk("VP8L", webpVP8L)), imageproc.ErrMalformed},
		{"WebP bad VP8L signature", riff(riffChunk("VP8L", append([]byte{0x00}, webpVP8L[1:]...))), imageproc.ErrMalformed},
		{"PNG zero width", zeroWidthPNG(t), imageproc.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := imageproc.Strip(tt.data)
			if !errors.Is(err, tt.want) {
				t.Errorf("Strip() = %v, %v; want %v", img, err, tt.want)
			}
		})
	}
}

// zeroWidthPNG is a PNG whose IHDR (with a correct CRC) says 0 pixels wide.
func zeroWidthPNG(t *testing.T) []byte {
	b := append([]byte(nil), PNG(t)...)
	ihdr := b[8 : 8+12+13]
	binary.BigEndian.PutUint32(ihdr[8:], 0)
	binary.BigEndian.PutUint32(ihdr[21:], crc32.ChecksumIEEE(ihdr[4:21]))
	return b
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0xff
	return c
}

func TestSanitizeLimit(t *testing.T) {
	data := PNG(t)
	if _, err := imageproc.Sanitize(bytes.NewReader(data), int64(len(data))); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	if _, err := imageproc.Sanitize(bytes.NewReader(data), int64(len(data)-1)); !errors.Is(err, imageproc.ErrTooLarge) {
		t.Errorf("over the limit: got %v, want ErrTooLarge", err)
	}
	if _, err := imageproc.Sanitize(strings.NewReader(strings.Repeat("x", 100)), 1<<20); !errors.Is(err, imageproc.ErrUnsupported) {
		t.Errorf("text: got %v, want ErrUnsupported", err)
	}
}

// FuzzStrip checks that no input makes Strip panic, and that what it
// accepts it accepts again unchanged (stripping is idempotent).
func FuzzStrip(f *testing.F) {
	f.Add(WebP())
	f.Add(riff(riffChunk("VP8L", webpVP8L)))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xD9})
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	var buf bytes.Buffer
	_ = png.Encode(&buf, testImage())
	f.Add(buf.Bytes())
	buf.Reset()
	_ = jpeg.Encode(&buf, testImage(), nil)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := imageproc.Strip(data)
		if err != nil {
			return
		}
		again, err := imageproc.Strip(img.Data)
		if err != nil {
			t.Fatalf("stripped output refused: %v", err)
		}
		if !bytes.Equal(again.Data, img.Data) {
			t.Fatalf("stripping is not idempotent")
		}
	})
}
