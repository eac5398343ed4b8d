package imageproc

import (
	"encoding/binary"
	"hash/crc32"
)

const pngSignature = "\x89PNG\r\n\x1a\n"

// pngKept are the only PNG chunks kept: what decodes the pixels (IHDR, PLTE,
// IDAT, IEND, tRNS), what says how to show their colours (gAMA, cHRM, sRGB,
// iCCP, cICP, sBIT) and APNG's animation (acTL, fcTL, fdAT). Every other
// chunk is dropped, known metadata (eXIf, tEXt, iTXt, zTXt, tIME, ...) and
// private or unknown chunks alike.
var pngKept = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true, "tRNS": true,
	"gAMA": true, "cHRM": true, "sRGB": true, "iCCP": true, "cICP": true, "sBIT": true,
	"acTL": true, "fcTL": true, "fdAT": true,
}

// stripPNG copies the chunks of a PNG that pngKept lists, checking each
// chunk's length and CRC, IHDR first and IEND last.
func stripPNG(data []byte) ([]byte, error) {
	if len(data) < len(pngSignature) || string(data[:len(pngSignature)]) != pngSignature {
		return nil, ErrMalformed
	}
	out := make([]byte, 0, len(data))
	out = append(out, pngSignature...)
	i := len(pngSignature)
	first, sawData := true, false
	for {
		if len(data)-i < 12 {
			return nil, ErrMalformed // truncated: no IEND
		}
		n := binary.BigEndian.Uint32(data[i:])
		if n > 1<<31-1 || uint64(n) > uint64(len(data)-i-12) {
			return nil, ErrMalformed
		}
		end := i + 12 + int(n)
		typ := string(data[i+4 : i+8])
		if !chunkType(typ) {
			return nil, ErrMalformed
		}
		if crc32.ChecksumIEEE(data[i+4:end-4]) != binary.BigEndian.Uint32(data[end-4:]) {
			return nil, ErrMalformed
		}
		if first != (typ == "IHDR") {
			return nil, ErrMalformed
		}
		first = false
		if typ == "IDAT" {
			sawData = true
		}
		if pngKept[typ] {
			out = append(out, data[i:end]...)
		}
		i = end
		if typ == "IEND" {
			if !sawData {
				return nil, ErrMalformed
			}
			return out, nil // anything after IEND is dropped
		}
	}
}

// chunkType reports whether t is four ASCII letters.
func chunkType(t string) bool {
	for i := 0; i < len(t); i++ {
		c := t[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return len(t) == 4
}
