package explain

import (
	"math"
	"strconv"
	"strings"
)

// formatSig prints v with p significant digits, in plain notation for
// ordinary magnitudes and trailing zeros trimmed: 0.003 stays "0.003", never
// "0.00".
func formatSig(v float64, p int) string {
	if v == 0 {
		return "0"
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	e := int(math.Floor(math.Log10(math.Abs(v))))
	if e < -4 || e >= 15 {
		return strconv.FormatFloat(v, 'g', p, 64)
	}
	s := strconv.FormatFloat(v, 'f', max(0, p-1-e), 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// formatEdges prints sorted distinct bin edges with at least 4 significant
// digits, adding digits until neighbouring edges print differently.
func formatEdges(edges []float64) []string {
	out := make([]string, len(edges))
	for p := 4; p <= 17; p++ {
		distinct := true
		for i, e := range edges {
			out[i] = formatSig(e, p)
			if i > 0 && out[i] == out[i-1] {
				distinct = false
			}
		}
		if distinct {
			break
		}
	}
	return out
}
