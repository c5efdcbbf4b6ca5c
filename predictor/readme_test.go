package predictor_test

import (
	"os"
	"strings"
	"testing"
)

// The README's library snippets are lines of the compiled examples in
// example_test.go: a README that drifts from the API fails here.
func TestREADMESnippetsAreCompiledExamples(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	examples, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(examples), "\n") {
		have[strings.TrimSpace(l)] = true
	}
	section, ok := strings.CutPrefix(string(readme)[strings.Index(string(readme), "## As a library"):], "## As a library")
	if !ok {
		t.Fatal(`README.md has no "## As a library" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := 0
	for _, part := range strings.Split(section, "```go\n")[1:] {
		code, _, _ := strings.Cut(part, "```")
		blocks++
		for _, l := range strings.Split(code, "\n") {
			if l = strings.TrimSpace(l); l != "" && !have[l] {
				t.Errorf("README line %q is not in predictor/example_test.go", l)
			}
		}
	}
	if blocks == 0 {
		t.Fatal("no Go snippet in the README's library section")
	}
}
