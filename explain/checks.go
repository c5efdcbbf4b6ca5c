package explain

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Check is one figure that says how far an explanation can be believed,
// judged: its family (faithfulness, robustness, randomisation, complexity,
// localisation or axiomatic), its value, a verdict (good, doubtful or poor)
// and the verdict in words. ModelCalls is what the check itself cost, on
// top of the explanation's own calls.
type Check struct {
	Name       string  `json:"name"`
	Family     string  `json:"family"`
	Value      float64 `json:"value"`
	Verdict    string  `json:"verdict"`
	Words      string  `json:"words"`
	ModelCalls int     `json:"model_calls"`
}

// Verdict is an explanation's overall verdict: the worst of its checks'
// levels, and one sentence saying what it means for the reader.
type Verdict struct {
	Level string `json:"level"`
	Words string `json:"words"`
}

// The verdict levels of a Check and a Verdict.
const (
	Good     = "good"
	Doubtful = "doubtful"
	Poor     = "poor"
	// NotChecked is a Verdict's level when no check applies to the
	// result (Result.NotChecked says why).
	NotChecked = "not checked"
)

// CheckLevel chooses which checks Run adds to an explanation.
type CheckLevel string

const (
	// ChecksDefault (the zero value) runs the cheap checks: the method's
	// own quality figures judged, complexity, localisation when a mask is
	// given, and faithfulness correlation (one batch of model calls).
	ChecksDefault CheckLevel = ""
	// ChecksNone runs no checks (the checks themselves explain with it).
	ChecksNone CheckLevel = "none"
	// ChecksAll adds the checks that cost more than the explanation:
	// model-parameter randomisation, random logit and robustness, each
	// re-running the method.
	ChecksAll CheckLevel = "all"
)

// ParseCheckLevel reads a --checks flag or a request's "checks" field.
func ParseCheckLevel(s string) (CheckLevel, error) {
	switch s {
	case "", "default":
		return ChecksDefault, nil
	case "none", "all":
		return CheckLevel(s), nil
	}
	return "", fmt.Errorf("checks %q: want default (the cheap checks), all (also randomisation, random logit and robustness, which re-run the method) or none", s)
}

// Checker judges a finished explanation res of input x and fills
// res.Checks and res.Verdict. s is the subject as the caller gave it (not
// counted into res.ModelCalls: each check counts its own calls).
type Checker func(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error

var checker atomic.Pointer[Checker]

// SetChecker installs the checks Run applies to every explanation
// (package explain/check installs its own when it is imported; nil
// removes them).
func SetChecker(c Checker) {
	if c == nil {
		checker.Store(nil)
		return
	}
	checker.Store(&c)
}

// runChecks applies the installed checker unless opt asks for none.
func runChecks(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	c := checker.Load()
	if c == nil || opt.Checks == ChecksNone {
		return nil
	}
	return (*c)(ctx, s, x, opt, res)
}
