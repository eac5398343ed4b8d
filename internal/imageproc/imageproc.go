// Package imageproc checks uploaded images by their content, never by their
// file name, and strips their metadata without re-encoding them. It accepts
// JPEG, PNG and WebP only. Stripping is lossless: the compressed image data
// is copied byte for byte; only metadata segments and chunks are dropped.
//
// Every parser checks every length against the bytes that are there, so a
// malformed or truncated file is refused with ErrMalformed, never a panic.
package imageproc

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
)

// Format is an accepted image format.
type Format struct {
	// Name is "JPEG", "PNG" or "WebP".
	Name string
	// ContentType is the format's media type, such as "image/png".
	ContentType string
	// Ext is the file extension for the format, with its dot.
	Ext string
}

// The accepted formats.
var (
	// JPEG is JFIF/Exif JPEG.
	JPEG = Format{Name: "JPEG", ContentType: "image/jpeg", Ext: ".jpg"}
	// PNG is Portable Network Graphics (APNG included).
	PNG = Format{Name: "PNG", ContentType: "image/png", Ext: ".png"}
	// WebP is RIFF WebP, lossy, lossless or extended.
	WebP = Format{Name: "WebP", ContentType: "image/webp", Ext: ".webp"}
)

// Errors of Sanitize and Strip.
var (
	// ErrUnsupported: the content is not a JPEG, PNG or WebP image, whatever
	// the file is called.
	ErrUnsupported = errors.New("imageproc: not a JPEG, PNG or WebP image")
	// ErrMalformed: the content starts like an accepted format but is
	// truncated, inconsistent or corrupt.
	ErrMalformed = errors.New("imageproc: malformed image")
	// ErrTooLarge: the content is longer than the limit.
	ErrTooLarge = errors.New("imageproc: image too large")
	// ErrDimensions: the image is empty or has more than MaxPixels pixels.
	ErrDimensions = errors.New("imageproc: image dimensions out of range")
)

// MaxPixels bounds width × height, so that a small file cannot ask every
// client to decode a gigantic bitmap.
const MaxPixels = 100_000_000

// Image is a checked, stripped image.
type Image struct {
	// Data is the image without its metadata.
	Data []byte
	// Format is the format found in the content.
	Format Format
	// Width and Height are the image's dimensions in pixels.
	Width, Height int
}

// Detect returns the format whose signature starts head (at least 12 bytes
// are needed for WebP); false when none does.
func Detect(head []byte) (Format, bool) {
	switch {
	case len(head) >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF:
		return JPEG, true
	case len(head) >= 8 && string(head[:8]) == pngSignature:
		return PNG, true
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return WebP, true
	}
	return Format{}, false
}

// Sanitize reads an image of at most maxBytes bytes from r and returns it
// checked and stripped of metadata (see Strip). ErrTooLarge when r holds more
// than maxBytes; otherwise Strip's errors, or r's read error.
func Sanitize(r io.Reader, maxBytes int64) (*Image, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > maxBytes {
		return nil, ErrTooLarge
	}
	return Strip(data)
}

// Strip detects data's format by content and returns a copy without
// metadata:
//
// Each format keeps an allow-list of what the image needs and drops
// everything else, known metadata and private or unknown parts alike:
//
//   - JPEG: keeps the structural segments (see jpegStructural), the JFIF
//     APP0 header (its thumbnail removed), ICC_PROFILE APP2 segments
//     (colour) and the Adobe APP14 segment (it says how to convert the
//     colours back: dropping it would change how the image decodes); drops
//     every other APPn (EXIF, XMP, IPTC, MPF, ...), COM and any other
//     marker, and anything after EOI.
//   - PNG: keeps the chunks pngKept lists and drops anything after IEND;
//     checks every chunk's CRC.
//   - WebP: keeps the chunks webpKept lists (webpFrameKept inside
//     animation frames), clears the EXIF and XMP flags in VP8X and fixes
//     the RIFF size; drops anything after the RIFF body.
//
// ErrUnsupported for another format, ErrMalformed for a broken file,
// ErrDimensions for an image of no or too many pixels.
func Strip(data []byte) (*Image, error) {
	f, ok := Detect(data)
	if !ok {
		return nil, ErrUnsupported
	}
	var (
		out  []byte
		w, h int
		err  error
	)
	switch f {
	case JPEG:
		if out, err = stripJPEG(data); err == nil {
			w, h, err = decodeConfig(out, jpeg.DecodeConfig)
		}
	case PNG:
		if out, err = stripPNG(data); err == nil {
			w, h, err = decodeConfig(out, png.DecodeConfig)
		}
	case WebP:
		out, w, h, err = stripWebP(data)
	}
	if err != nil {
		return nil, err
	}
	if w <= 0 || h <= 0 || int64(w)*int64(h) > MaxPixels {
		return nil, ErrDimensions
	}
	return &Image{Data: out, Format: f, Width: w, Height: h}, nil
}

// decodeConfig reads the dimensions with the standard library's decoder, a
// second check that what is left is a well-formed image header.
func decodeConfig(b []byte, decode func(io.Reader) (image.Config, error)) (int, int, error) {
	c, err := decode(bytes.NewReader(b))
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return c.Width, c.Height, nil
}

// ---- JPEG ----

// stripJPEG walks the marker segments of a JPEG (ITU T.81 B.1), copying the
// ones to keep and the entropy-coded data after each SOS unchanged.
func stripJPEG(data []byte) ([]byte, error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, ErrMalformed
	}
	out := make([]byte, 0, len(data))
	out = append(out, 0xFF, 0xD8)
	i := 2
	sawFrame, sawScan := false, false
	for {
		if i >= len(data) || data[i] != 0xFF {
			return nil, ErrMalformed // truncated, or garbage where a marker belongs
		}
		for i < len(data) && data[i] == 0xFF { // fill bytes
			i++
		}
		if i >= len(data) {
			return nil, ErrMalformed
		}
		m := data[i]
		i++
		switch {
		case m == 0xD9: // EOI: the end; trailing data (appended files, thumbnails) is dropped
			if !sawFrame || !sawScan {
				return nil, ErrMalformed
			}
			return append(out, 0xFF, 0xD9), nil
		case m == 0x00 || m == 0xD8:
			return nil, ErrMalformed
		case m >= 0xD0 && m <= 0xD7: // RSTn: no length
			out = append(out, 0xFF, m)
			continue
		case m == 0x01: // TEM: no length, no use in a file; dropped
			continue
		}
		if i+2 > len(data) {
			return nil, ErrMalformed
		}
		n := int(data[i])<<8 | int(data[i+1])
		if n < 2 || i+n > len(data) {
			return nil, ErrMalformed
		}
		payload := data[i+2 : i+n]
		switch {
		case m == 0xE0:
			if app0 := jfifHeader(payload); app0 != nil {
				out = append(out, 0xFF, m, byte((len(app0)+2)>>8), byte(len(app0)+2))
				out = append(out, app0...)
			}
		case m == 0xE2 && bytes.HasPrefix(payload, []byte("ICC_PROFILE\x00")),
			m == 0xEE && bytes.HasPrefix(payload, []byte("Adobe")):
			out = append(out, 0xFF, m)
			out = append(out, data[i:i+n]...)
		case jpegStructural(m):
			if isSOF(m) {
				sawFrame = true
			}
			out = append(out, 0xFF, m)
			out = append(out, data[i:i+n]...)
		default: // other APPn, COM, JPGn, reserved and unknown markers: dropped
		}
		i += n
		if m != 0xDA {
			continue
		}
		// SOS: entropy-coded data follows, up to the next marker other
		// than a stuffed 0xFF00 or a restart marker.
		if !sawFrame {
			return nil, ErrMalformed
		}
		sawScan = true
		start := i
		for {
			j := bytes.IndexByte(data[i:], 0xFF)
			if j < 0 {
				return nil, ErrMalformed
			}
			i += j
			if i+1 >= len(data) {
				return nil, ErrMalformed
			}
			if next := data[i+1]; next == 0x00 || (next >= 0xD0 && next <= 0xD7) {
				i += 2
				continue
			}
			break
		}
		out = append(out, data[start:i]...)
	}
}

// jfifHeader returns the payload of a JFIF APP0 segment without its
// thumbnail, or nil for any other APP0 (JFXX thumbnails included).
func jfifHeader(p []byte) []byte {
	if len(p) < 14 || !bytes.HasPrefix(p, []byte("JFIF\x00")) {
		return nil
	}
	h := append([]byte(nil), p[:14]...)
	h[12], h[13] = 0, 0 // no thumbnail
	return h
}

// jpegStructural reports whether m is a marker of the image's own structure
// (ITU T.81 B.2): SOFn, DHT, DAC, SOS, DQT, DNL, DRI, DHP or EXP. These and
// the JFIF, ICC and Adobe segments are the only ones stripJPEG keeps.
func jpegStructural(m byte) bool {
	return isSOF(m) || m == 0xC4 || m == 0xCC || (m >= 0xDA && m <= 0xDF)
}

// isSOF reports whether m is a start-of-frame marker (SOF0–SOF15 except
// DHT, JPG and DAC).
func isSOF(m byte) bool {
	return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC
}
