package plantedtext

import (
	"encoding/csv"
	"os"
	"slices"
	"strings"
	"testing"
)

// The file holds 100 labelled sentences, half of them pos, and the planted
// word is in exactly the pos ones.
func TestWrite(t *testing.T) {
	spec, path, err := Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if spec != "csv:"+path+"?text=review&target=label" {
		t.Errorf("spec %q", spec)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 101 || !slices.Equal(rows[0], []string{"review", "label"}) {
		t.Fatalf("%d rows (%v), header %v", len(rows), err, rows[0])
	}
	pos := 0
	for _, r := range rows[1:] {
		words := strings.Fields(r[0])
		planted := slices.Contains(words, Word)
		if len(words) != 5 || planted != (r[1] == "pos") {
			t.Errorf("row %q: the planted word must be in exactly the pos sentences of five words", r)
		}
		if planted {
			pos++
		}
	}
	if pos != 50 {
		t.Errorf("%d pos rows, want 50", pos)
	}
}
