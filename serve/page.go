package serve

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
)

//go:embed index.html
var indexHTML string

// pageTemplate is the web page: self-contained (no external assets), it
// reads the model's description from the template data and calls the API
// with fetch.
var pageTemplate = template.Must(template.New("index").Parse(indexHTML))

// renderPage fills the page in once, for the server's model.
func renderPage(h Health) ([]byte, error) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, h); err != nil {
		return nil, fmt.Errorf("serve: rendering the web page: %w", err)
	}
	return buf.Bytes(), nil
}
