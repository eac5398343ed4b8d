package httpapi

import (
	"net/http"
)

// uploadMaxMemory is how much of a multipart upload gqlgen may hold in
// memory; larger files go to a temporary file (deleted when the request
// ends).
const uploadMaxMemory = 1 << 20

// uploadShape checks a multipart upload (GraphQL multipart request spec)
// before gqlgen reads it, and reports whether it may go on. Its length must
// be declared (411 otherwise: gqlgen would hold a body of unknown length in
// memory) and at most max (413 otherwise: gqlgen would answer 200); the
// body is also cut at max.
func uploadShape(w http.ResponseWriter, r *http.Request, max int64) bool {
	switch {
	case r.ContentLength < 0:
		writeError(w, r, http.StatusLengthRequired, codeBadRequest, "an upload needs a Content-Length")
		return false
	case r.ContentLength > max:
		writeError(w, r, http.StatusRequestEntityTooLarge, codePayloadTooLarge, "upload is too large")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	return true
}
