package kern

import "testing"

func TestParseRunnable(t *testing.T) {
	cases := []struct {
		in   string
		want int
		ok   bool
	}{
		{"0.52 0.38 0.30 4/311 12345\n", 4, true},
		{"10.00 9.50 8.25 17/1024 99", 17, true},
		{"0.00 0.00 0.00 1/1 1", 1, true},
		{"0.52 0.38 0.30 /311 12345", 0, false},
		{"0.52 0.38 0.30 4", 0, false},
		{"0.52 0.38", 0, false},
		{"", 0, false},
	}
	for _, c := range cases {
		got, ok := parseRunnable([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("parseRunnable(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
