package explain

import "testing"

// TestRowSeed checks RowSeed against its documented formula, with values
// worked out independently (in Python, from the FNV-1a and splitmix64
// definitions), so that a batch run and `glassbox explain --id` cannot
// drift apart unnoticed.
func TestRowSeed(t *testing.T) {
	for _, c := range []struct {
		base uint64
		id   string
		want uint64
	}{
		{1, "rows.csv:0", 0xae87de783d390f63},
		{42, "cat.png", 0x4f1e4244ec9d08a7},
		{0, "", 0x21fa69a58f3d62f5},
	} {
		if got := RowSeed(c.base, c.id); got != c.want {
			t.Errorf("RowSeed(%d, %q) = %#x, want %#x", c.base, c.id, got, c.want)
		}
	}
	if RowSeed(1, "a") == RowSeed(2, "a") || RowSeed(1, "a") == RowSeed(1, "b") {
		t.Error("different bases or ids give the same seed")
	}
}
