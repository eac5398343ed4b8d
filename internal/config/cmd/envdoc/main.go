// Command envdoc writes docs/configuration.md and .env.example from the
// configuration table (config.Vars). `go generate ./internal/config` runs
// it; internal/config's tests fail when the committed files differ.
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/partsmarket/gateway/internal/config"
)

func main() {
	root := flag.String("root", ".", "the repository's root")
	flag.Parse()
	for path, content := range map[string][]byte{
		config.MarkdownPath:   config.Markdown(),
		config.EnvExamplePath: config.EnvExample(),
	} {
		if err := os.WriteFile(filepath.Join(*root, path), content, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
