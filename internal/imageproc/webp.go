package imageproc

import "encoding/binary"

// VP8X flags (the first byte of its payload) of the chunks stripWebP drops.
const (
	vp8xFlagEXIF = 0x08
	vp8xFlagXMP  = 0x04
)

// webpKept are the only top-level WebP chunks kept: the bitstreams (VP8,
// VP8L), the extended header (VP8X), alpha (ALPH), animation (ANIM, ANMF)
// and the colour profile (ICCP). EXIF, XMP and every unknown or private
// chunk are dropped.
var webpKept = map[string]bool{"VP8X": true, "VP8 ": true, "VP8L": true, "ALPH": true, "ANIM": true, "ANMF": true, "ICCP": true}

// webpFrameKept are the only chunks kept inside an ANMF frame (after its
// 16-byte header): the frame's alpha and bitstream.
var webpFrameKept = map[string]bool{"ALPH": true, "VP8 ": true, "VP8L": true}

// anmfHeader is the size of an ANMF frame's header, before its chunks.
const anmfHeader = 16

// stripWebP copies the chunks of a RIFF WebP that webpKept lists (and, in
// animation frames, the ones webpFrameKept lists), clears the EXIF and XMP
// flags in VP8X, and rewrites the RIFF size. It returns the canvas
// dimensions from VP8X, VP8 or VP8L.
func stripWebP(data []byte) ([]byte, int, int, error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil, 0, 0, ErrMalformed
	}
	size := binary.LittleEndian.Uint32(data[4:])
	if size < 4 || uint64(size) > uint64(len(data)-8) {
		return nil, 0, 0, ErrMalformed // truncated
	}
	body := data[12 : 8+int(size)] // anything after the RIFF body is dropped
	out := make([]byte, 12, len(data))
	copy(out, data[:12])
	vp8x := -1
	var w, h int
	sawImage, first := false, true
	err := eachRIFFChunk(body, func(fourcc string, payload []byte) error {
		if first && fourcc != "VP8 " && fourcc != "VP8L" && fourcc != "VP8X" {
			return ErrMalformed
		}
		var err error
		switch fourcc {
		case "VP8X":
			if !first || len(payload) < 10 {
				return ErrMalformed
			}
			vp8x = len(out) + 8
			w = 1 + int(uint32(payload[4])|uint32(payload[5])<<8|uint32(payload[6])<<16)
			h = 1 + int(uint32(payload[7])|uint32(payload[8])<<8|uint32(payload[9])<<16)
		case "VP8 ", "VP8L":
			sawImage = true
			if first {
				w, h, err = bitstreamSize(fourcc, payload)
			}
		case "ANMF":
			sawImage = true
			payload, err = stripFrame(payload)
		}
		first = false
		if err == nil && webpKept[fourcc] {
			out = appendRIFFChunk(out, fourcc, payload)
		}
		return err
	})
	if err != nil {
		return nil, 0, 0, err
	}
	if !sawImage {
		return nil, 0, 0, ErrMalformed
	}
	if vp8x >= 0 {
		out[vp8x] &^= vp8xFlagEXIF | vp8xFlagXMP
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out, w, h, nil
}

// stripFrame returns an ANMF payload with only its header and the chunks
// webpFrameKept lists.
func stripFrame(payload []byte) ([]byte, error) {
	if len(payload) < anmfHeader {
		return nil, ErrMalformed
	}
	out := append(make([]byte, 0, len(payload)), payload[:anmfHeader]...)
	err := eachRIFFChunk(payload[anmfHeader:], func(fourcc string, p []byte) error {
		if webpFrameKept[fourcc] {
			out = appendRIFFChunk(out, fourcc, p)
		}
		return nil
	})
	return out, err
}

// eachRIFFChunk calls f with each chunk of body in order, checking every
// length against the bytes there; a missing pad byte after the last chunk
// is tolerated (appendRIFFChunk adds it back).
func eachRIFFChunk(body []byte, f func(fourcc string, payload []byte) error) error {
	for i := 0; i < len(body); {
		if len(body)-i < 8 {
			return ErrMalformed
		}
		n := binary.LittleEndian.Uint32(body[i+4:])
		if uint64(n) > uint64(len(body)-i-8) {
			return ErrMalformed
		}
		end := i + 8 + int(n)
		if err := f(string(body[i:i+4]), body[i+8:end]); err != nil {
			return err
		}
		i = min(end+int(n&1), len(body))
	}
	return nil
}

// appendRIFFChunk appends a chunk of fourcc and payload to out, with its
// pad byte when the payload's length is odd.
func appendRIFFChunk(out []byte, fourcc string, payload []byte) []byte {
	out = append(out, fourcc...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(payload)))
	out = append(out, payload...)
	if len(payload)%2 == 1 {
		out = append(out, 0)
	}
	return out
}

// bitstreamSize reads the dimensions of a simple (non-VP8X) WebP from its
// VP8 or VP8L bitstream header.
func bitstreamSize(fourcc string, p []byte) (int, int, error) {
	if fourcc == "VP8 " {
		// Frame tag (3 bytes), start code 9d 01 2a, 14-bit width and height.
		if len(p) < 10 || p[3] != 0x9d || p[4] != 0x01 || p[5] != 0x2a || p[0]&1 != 0 {
			return 0, 0, ErrMalformed
		}
		return int(binary.LittleEndian.Uint16(p[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(p[8:]) & 0x3fff), nil
	}
	// VP8L: signature 0x2f, then 14 bits width-1 and 14 bits height-1.
	if len(p) < 5 || p[0] != 0x2f {
		return 0, 0, ErrMalformed
	}
	bits := binary.LittleEndian.Uint32(p[1:])
	return int(bits&0x3fff) + 1, int(bits>>14&0x3fff) + 1, nil
}
