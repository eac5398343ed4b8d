package abuse

import "context"

type clientIPKey struct{}

// WithClientIP returns ctx carrying the client's IP address, as the HTTP
// layer resolved it (the socket peer, or X-Forwarded-For behind a trusted
// proxy: see internal/httpapi/clientip.go).
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIP returns the client IP address of the request ctx belongs to, ""
// outside an HTTP request. It is personal data: use it as a key (hashed when
// stored), never log it.
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}
