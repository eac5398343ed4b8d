// Package migrations embeds the numbered goose SQL migrations of the gateway's schema.
package migrations

import "embed"

// FS holds every migration file; goose reads it with SetBaseFS.
//
//go:embed *.sql
var FS embed.FS
