package imageproc

import "encoding/binary"

// VP8X flags (the first byte of its payload) of the chunks stripWebP drops.
const (
	vp8xFlagEXIF = 0x08
	vp8xFlagXMP  = 0x04
)

// stripWebP copies the chunks of a RIFF WebP except EXIF and XMP, clears
// their flags in VP8X, and rewrites the RIFF size. It returns the canvas
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
	sawImage := false
	for i := 0; i < len(body); {
		if len(body)-i < 8 {
			return nil, 0, 0, ErrMalformed
		}
		fourcc := string(body[i : i+4])
		n := binary.LittleEndian.Uint32(body[i+4:])
		if uint64(n) > uint64(len(body)-i-8) {
			return nil, 0, 0, ErrMalformed
		}
		payload := body[i+8 : i+8+int(n)]
		end := i + 8 + int(n)
		pad := int(n & 1)
		if end+pad > len(body) {
			pad = 0 // a missing pad byte after the last chunk: tolerated, added back below
		}
		if i == 0 && fourcc != "VP8 " && fourcc != "VP8L" && fourcc != "VP8X" {
			return nil, 0, 0, ErrMalformed
		}
		var err error
		switch fourcc {
		case "VP8X":
			if i != 0 || len(payload) < 10 {
				return nil, 0, 0, ErrMalformed
			}
			vp8x = len(out) + 8
			w = 1 + int(uint32(payload[4])|uint32(payload[5])<<8|uint32(payload[6])<<16)
			h = 1 + int(uint32(payload[7])|uint32(payload[8])<<8|uint32(payload[9])<<16)
		case "VP8 ", "VP8L":
			sawImage = true
			if i == 0 {
				w, h, err = bitstreamSize(fourcc, payload)
			}
		case "ANMF":
			sawImage = true
		}
		if err != nil {
			return nil, 0, 0, err
		}
		if fourcc != "EXIF" && fourcc != "XMP " {
			out = append(out, body[i:end]...)
			if n&1 == 1 {
				out = append(out, 0)
			}
		}
		i = end + pad
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
