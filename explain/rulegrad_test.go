package explain

import (
	"strings"
	"testing"
)

// ParseLRPRule reads the rules users type (--rule, the server's "rule")
// and refuses a parameter that is not a number in range — NaN included,
// which compares false with both bounds — before any model runs.
func TestParseLRPRule(t *testing.T) {
	r, err := ParseLRPRule("epsilon=0.5")
	if err != nil || r.Dense != LRPEpsilon || r.Conv != LRPEpsilon || r.Epsilon != 0.5 {
		t.Fatalf("epsilon=0.5: %+v, %v", r, err)
	}
	if r, err := ParseLRPRule(""); err != nil || r.Dense != LRPEpsilon || r.Conv != LRPZPlus {
		t.Fatalf("default: %+v, %v", r, err)
	}
	for _, bad := range []string{"epsilon=NaN", "gamma=nan", "epsilon=-1", "gamma=1e400", "epsilon=+Inf", "zplus=1", "composite=2"} {
		if _, err := ParseLRPRule(bad); err == nil || !strings.Contains(err.Error(), "lrp rule") {
			t.Errorf("%s: %v, want a refusal naming the rule", bad, err)
		}
	}
	if _, err := ParseLRPRule("gama"); err == nil || !strings.Contains(err.Error(), `did you mean "gamma"`) {
		t.Errorf("gama: %v", err)
	}
}
