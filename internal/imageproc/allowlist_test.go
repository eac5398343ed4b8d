package imageproc_test

import (
	"bytes"
	"encoding/binary"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"

	"golang.org/x/image/webp"

	"github.com/partsmarket/gateway/internal/imageproc"
)

// secret is what a private chunk or segment smuggles; it must not survive.
const secret = "owner=jane.buyer@example.com device=SM-G991B serial=R58N12345"

// privateNames returns n random chunk names of four letters, as a tool
// could invent them (the case of each letter is a PNG flag), none of them
// one the allow-list keeps.
func privateNames(r *rand.Rand, n int, kept map[string]bool) []string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var names []string
	for len(names) < n {
		b := make([]byte, 4)
		for i := range b {
			b[i] = letters[r.IntN(len(letters))]
		}
		if !kept[string(b)] {
			names = append(names, string(b))
		}
	}
	return names
}

// TestStripPNGKeepsOnlyTheAllowList: known ancillary chunks that an image
// does not need (pHYs, bKGD, sPLT, hIST, Apple's iDOT) and random private
// chunks, before and after the image data, are all dropped; the colour
// chunks are kept and the image decodes to the same pixels.
func TestStripPNGKeepsOnlyTheAllowList(t *testing.T) {
	kept := map[string]bool{"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true, "tRNS": true, "gAMA": true,
		"cHRM": true, "sRGB": true, "iCCP": true, "cICP": true, "sBIT": true, "acTL": true, "fcTL": true, "fdAT": true}
	r := rand.New(rand.NewPCG(13, 12))
	for round := range 20 {
		names := append([]string{"pHYs", "bKGD", "sPLT", "hIST", "iDOT", "prVt", "orNT"}, privateNames(r, 8, kept)...)
		var buf bytes.Buffer
		if err := png.Encode(&buf, testImage()); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		ihdrEnd := 8 + 12 + 13
		iend := len(b) - 12
		var before, after []byte
		before = append(before, pngChunk("sRGB", []byte{0})...)
		before = append(before, pngChunk("gAMA", []byte{0, 0, 0xb1, 0x8f})...)
		for i, n := range names {
			c := pngChunk(n, []byte(secret))
			if i%2 == 0 {
				before = append(before, c...)
			} else {
				after = append(after, c...)
			}
		}
		in := append(append([]byte(nil), b[:ihdrEnd]...), before...)
		in = append(in, b[ihdrEnd:iend]...)
		in = append(in, after...)
		in = append(in, b[iend:]...)

		img, err := imageproc.Strip(in)
		if err != nil {
			t.Fatalf("round %d: Strip: %v", round, err)
		}
		types := pngTypes(t, img.Data)
		for _, typ := range types {
			if !kept[typ] {
				t.Errorf("round %d: chunk %q survived", round, typ)
			}
		}
		if bytes.Contains(img.Data, []byte("jane.buyer")) {
			t.Errorf("round %d: the private payload survived", round)
		}
		if !bytes.Contains(img.Data, []byte("sRGB")) || !bytes.Contains(img.Data, []byte("gAMA")) {
			t.Errorf("round %d: colour chunks dropped: %v", round, types)
		}
		got, err := png.Decode(bytes.NewReader(img.Data))
		if err != nil {
			t.Fatalf("round %d: stripped PNG does not decode: %v", round, err)
		}
		samePixels(t, got, testImage())
	}
}

// pngTypes lists the chunk types of a well-formed PNG.
func pngTypes(t *testing.T, b []byte) []string {
	t.Helper()
	var types []string
	for i := 8; i+8 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[i:]))
		types = append(types, string(b[i+4:i+8]))
		i += 12 + n
	}
	return types
}

// TestStripJPEGKeepsOnlyTheAllowList: every APPn but the JFIF, ICC and
// Adobe ones, COM, the JPGn extension markers and the reserved JPG marker,
// each carrying a private payload, are dropped; the image decodes to the
// same pixels.
func TestStripJPEGKeepsOnlyTheAllowList(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	want, err := jpeg.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var markers []byte
	for m := byte(0xE1); m <= 0xEF; m++ {
		markers = append(markers, m)
	}
	for m := byte(0xF0); m <= 0xFD; m++ {
		markers = append(markers, m)
	}
	markers = append(markers, 0xFE, 0xC8)
	in := []byte{0xFF, 0xD8}
	for _, m := range markers {
		in = append(in, segment(m, []byte(secret))...)
	}
	in = append(in, 0xFF, 0x01) // TEM, standalone
	in = append(in, buf.Bytes()[2:]...)

	img, err := imageproc.Strip(in)
	if err != nil {
		t.Fatalf("Strip: %v", err)
	}
	if bytes.Contains(img.Data, []byte("jane.buyer")) {
		t.Error("a private segment survived")
	}
	got, err := jpeg.Decode(bytes.NewReader(img.Data))
	if err != nil {
		t.Fatalf("stripped JPEG does not decode: %v", err)
	}
	samePixels(t, got, want)
}

// TestStripWebPKeepsOnlyTheAllowList: random private chunks, EXIF and XMP
// are dropped from an extended WebP (the ICC profile is kept) and from the
// frames of an animated one; the still image decodes.
func TestStripWebPKeepsOnlyTheAllowList(t *testing.T) {
	kept := map[string]bool{"VP8X": true, "VP8 ": true, "VP8L": true, "ALPH": true, "ANIM": true, "ANMF": true, "ICCP": true}
	r := rand.New(rand.NewPCG(13, 14))
	for round := range 20 {
		chunks := [][]byte{riffChunk("VP8X", []byte{0x20 | 0x08 | 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0}), // ICC, EXIF, XMP
			riffChunk("ICCP", []byte("fake-profile"))}
		for _, n := range privateNames(r, 4, kept) {
			chunks = append(chunks, riffChunk(n, []byte(secret)))
		}
		chunks = append(chunks, riffChunk("VP8L", webpVP8L), riffChunk("EXIF", []byte(secret)), riffChunk("XMP ", []byte(secret)))
		for _, n := range privateNames(r, 3, kept) {
			chunks = append(chunks, riffChunk(n, []byte(secret+"!"))) // odd sizes: padded
		}
		img, err := imageproc.Strip(riff(chunks...))
		if err != nil {
			t.Fatalf("round %d: Strip: %v", round, err)
		}
		wantOut := riff(riffChunk("VP8X", []byte{0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
			riffChunk("ICCP", []byte("fake-profile")), riffChunk("VP8L", webpVP8L))
		if !bytes.Equal(img.Data, wantOut) {
			t.Fatalf("round %d: stripped WebP\n got %x\nwant %x", round, img.Data, wantOut)
		}
		if _, err := webp.Decode(bytes.NewReader(img.Data)); err != nil {
			t.Fatalf("round %d: stripped WebP does not decode: %v", round, err)
		}
	}

	t.Run("animation frames", func(t *testing.T) {
		header := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0} // at 0,0; 1×1; 100 ms
		frame := append(append([]byte(nil), header...), riffChunk("prvt", []byte(secret))...)
		frame = append(frame, riffChunk("VP8L", webpVP8L)...)
		frame = append(frame, riffChunk("XMP ", []byte(secret))...)
		in := riff(riffChunk("VP8X", []byte{0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0}), // animation
			riffChunk("ANIM", []byte{0, 0, 0, 0, 0, 0}), riffChunk("ANMF", frame), riffChunk("zzzz", []byte(secret)))
		img, err := imageproc.Strip(in)
		if err != nil {
			t.Fatalf("Strip: %v", err)
		}
		wantFrame := append(append([]byte(nil), header...), riffChunk("VP8L", webpVP8L)...)
		want := riff(riffChunk("VP8X", []byte{0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
			riffChunk("ANIM", []byte{0, 0, 0, 0, 0, 0}), riffChunk("ANMF", wantFrame))
		if !bytes.Equal(img.Data, want) {
			t.Errorf("stripped animation\n got %x\nwant %x", img.Data, want)
		}
		again, err := imageproc.Strip(img.Data)
		if err != nil || !bytes.Equal(again.Data, img.Data) {
			t.Errorf("stripping the stripped animation: %v, changed %v", err, err == nil && !bytes.Equal(again.Data, img.Data))
		}
	})
}
