package httpapi

import (
	"net/http"

	"github.com/klauspost/compress/gzhttp"
)

// compressMinBytes is the smallest response that is gzipped: below it the
// gzip framing and the CPU cost buy next to nothing.
const compressMinBytes = 1024

// compressedTypes are the content types that are gzipped: JSON responses
// and the GraphiQL page and files. Images are compressed already, and event
// streams must reach the client as each event is written.
var compressedTypes = []string{mediaJSON, mediaGraphQLResponse, "text/html", "text/css", "text/javascript", "text/plain"}

// withCompression gzips the responses of compressedTypes of at least
// compressMinBytes to clients that accept gzip (Accept-Encoding), and sets
// Vary: Accept-Encoding. Websocket upgrades pass untouched: their
// connection is hijacked and carries its own framing.
func withCompression(next http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(compressMinBytes), gzhttp.ContentTypes(compressedTypes))
	if err != nil {
		panic("httpapi: gzip settings: " + err.Error()) // constant settings: a programming error
	}
	gzipped := wrap(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		gzipped.ServeHTTP(w, r)
	})
}
