package storage

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Handler serves the public media of s: GET and HEAD /media/{key}, where the
// request path without its leading slash is the storage key. Only keys under
// MediaPrefix are served; anything else, and any unknown key, is a 404.
// Responses carry the stored content type, X-Content-Type-Options: nosniff, a
// restrictive Content-Security-Policy and a year-long immutable cache (keys
// are never reused). Range and conditional requests are honoured.
func Handler(s Storage, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		key := strings.TrimPrefix(r.URL.Path, "/")
		if !strings.HasPrefix(key, MediaPrefix) || !ValidKey(key) {
			http.NotFound(w, r)
			return
		}
		obj, contentType, err := s.Open(r.Context(), key)
		if errors.Is(err, ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			if log != nil {
				log.ErrorContext(r.Context(), "media read failed", "error", err.Error())
			}
			http.Error(w, "media unavailable", http.StatusServiceUnavailable)
			return
		}
		defer obj.Close()
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		h.Set("Cache-Control", CacheControl)
		h.Set("ETag", `"`+key[strings.LastIndexByte(key, '/')+1:]+`"`)
		if rs, ok := obj.(io.ReadSeeker); ok {
			http.ServeContent(w, r, "", time.Time{}, rs)
			return
		}
		if r.Method == http.MethodHead {
			return
		}
		_, _ = io.Copy(w, obj)
	})
}
