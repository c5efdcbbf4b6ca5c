package check

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/glassbox-ml/glassbox/explain"
)

// MethodScore is one method's row of the advisor's table: its checks over
// the inputs, summarised.
type MethodScore struct {
	Method string `json:"method"`
	Title  string `json:"title"`
	// Score is the weighted mean, over the families checked, of the
	// family's points (good 1, doubtful ½, poor 0, averaged over its
	// checks and the inputs; weights in Advice.Weights); the advisor
	// picks the highest.
	Score float64 `json:"score"`
	// Families holds each family's points; Checks each check's mean
	// value over the inputs.
	Families map[string]float64 `json:"families"`
	Checks   map[string]float64 `json:"checks"`
	// Poor names the checks that were poor on some input, with the words
	// of the first such verdict.
	Poor []string `json:"poor,omitempty"`
	// Level is the worst overall verdict over the inputs, and Why its
	// words.
	Level string `json:"level"`
	Why   string `json:"why,omitempty"`
	// ModelCalls counts every call: the explanations and their checks.
	ModelCalls int `json:"model_calls"`
	// Seconds is the time its explanations and checks took.
	Seconds float64 `json:"seconds"`
	Error   string  `json:"error,omitempty"`
}

// Advice is the advisor's table, best method first, and its choice.
// Weights are the families' weights in the scores.
type Advice struct {
	Scores []MethodScore `json:"scores"`
	// Skipped names the applicable methods the advisor does not rank,
	// each with the reason: their results are not attributions of the
	// output over the input (a rule, a what-if, a concept score, a hidden
	// layer's units), so the attribution checks do not compare them.
	Skipped []string           `json:"skipped,omitempty"`
	Weights map[string]float64 `json:"weights"`
	Best    string             `json:"best"`
	Words   string             `json:"words"`
}

// points turns a verdict into the advisor's points.
func points(level string) float64 {
	switch level {
	case explain.Good:
		return 1
	case explain.Doubtful:
		return 0.5
	}
	return 0
}

// Advise runs every registered method that applies to s on each of the
// inputs with all the checks (explain.ChecksAll), scores them family by
// family, and ranks them: the most trustworthy method for this model and
// this kind of input first. A family's points are the mean over its
// checks, so a method is not rewarded for the checks it happens to have
// more of, and a family weighs as much as its checks tell the model from
// a randomised copy of it (with s.Randomized; else all weigh 1); ties go to the
// higher faithfulness correlation, then to the fewer model calls. A
// method that fails on this model is listed last with its error. opt sets
// the seed and budget of every explanation (its Label and Checks are the
// advisor's).
func Advise(ctx context.Context, s *explain.Subject, inputs [][]float32, opt explain.Options) (*Advice, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("advise: no inputs to explain; give at least one")
	}
	adv := &Advice{}
	var methods []explain.MethodInfo
	for _, mi := range explain.Applicable(s) {
		if why := notRanked(mi); why != "" {
			adv.Skipped = append(adv.Skipped, mi.Name+": "+why)
			continue
		}
		methods = append(methods, mi)
	}
	if len(methods) == 0 {
		return nil, fmt.Errorf("advise: no registered attribution method applies to this %s model", s.Kind)
	}
	opt.Checks, opt.Label = explain.ChecksAll, nil
	// The meta-evaluation (MetaQuantus's idea, Hedström et al. 2023): a
	// check that judges a method's maps of the real model and of a fully
	// randomised one alike says nothing about whether a map follows the
	// model; each family weighs as much as its checks separate the two.
	var random *explain.Subject
	if s.Randomized != nil && s.RandomLayers > 0 {
		all := make([]int, s.RandomLayers)
		for i := range all {
			all[i] = i
		}
		rs, err := s.Randomized(all, opt.Seed+7)
		if err != nil {
			return nil, err
		}
		random = rs
	}
	sep := separation{}
	for _, mi := range methods {
		t0 := time.Now()
		row, err := scoreMethod(ctx, s, random, sep, mi, inputs, opt)
		row.Seconds = time.Since(t0).Seconds()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			row = MethodScore{Method: mi.Name, Title: mi.Title, Score: -1, Level: explain.Poor, Error: err.Error(), Seconds: row.Seconds}
		}
		adv.Scores = append(adv.Scores, row)
	}
	adv.Weights = sep.weights()
	for i := range adv.Scores {
		adv.Scores[i].weigh(adv.Weights)
	}
	slices.SortStableFunc(adv.Scores, func(a, b MethodScore) int {
		switch {
		case a.Score != b.Score:
			return cmpDesc(a.Score, b.Score)
		case a.Checks["faithfulness_correlation"] != b.Checks["faithfulness_correlation"]:
			return cmpDesc(a.Checks["faithfulness_correlation"], b.Checks["faithfulness_correlation"])
		}
		return a.ModelCalls - b.ModelCalls
	})
	best := adv.Scores[0]
	if best.Error != "" {
		return nil, fmt.Errorf("advise: every method failed on this model; %s: %s", best.Method, best.Error)
	}
	adv.Best = best.Method
	adv.Words = fmt.Sprintf("%s scores best (%.2f of 1 over %d families on %d inputs)", best.Title, best.Score, len(best.Families), len(inputs))
	if best.Level != explain.Good {
		adv.Words += fmt.Sprintf("; even so, on some input: %s", best.Why)
	}
	return adv, nil
}

// notRanked says why the advisor leaves a method out of its table ("" to
// rank it).
func notRanked(mi explain.MethodInfo) string {
	switch {
	case mi.Needs&explain.NeedsExamples != 0:
		return "needs examples besides the input (a concept's)"
	case mi.Result == explain.RuleResult:
		return "its result is a rule, judged by its precision and coverage, not by the attribution checks"
	case mi.Result == explain.WhatIfResult:
		return "its result is a counterfactual input, judged by whether it changes the decision, not by the attribution checks"
	case mi.Result == explain.ConceptScore:
		return "its result is a concept's score, not an attribution"
	case mi.Result == explain.LayerUnits:
		return "it attributes to a hidden layer's units, not to the input's features"
	case mi.Result == explain.NeuronUnit:
		return "it explains one hidden unit, not the output"
	}
	return ""
}

func cmpDesc(a, b float64) int {
	if a > b {
		return -1
	}
	return 1
}

// separation accumulates, per check, how often its verdict on a method's
// map of the real model differs from its verdict on the map of the
// randomised model (points apart: 0, ½ or 1).
type separation map[string]*[2]float64

func (sp separation) add(real, random []explain.Check) {
	byName := map[string]explain.Check{}
	for _, c := range random {
		byName[c.Name] = c
	}
	for _, c := range real {
		r, ok := byName[c.Name]
		if !ok {
			continue
		}
		acc := sp[c.Family]
		if acc == nil {
			acc = &[2]float64{}
			sp[c.Family] = acc
		}
		acc[0] += math.Abs(points(c.Verdict) - points(r.Verdict))
		acc[1]++
	}
}

// weights are the families' weights: the mean separation of their checks;
// randomisation weighs 1 (it is itself the comparison with random
// models), a family never measured on the random model 1 too.
func (sp separation) weights() map[string]float64 {
	w := map[string]float64{}
	for _, f := range Families {
		w[f] = 1
		if acc := sp[f]; acc != nil && acc[1] > 0 && f != "randomisation" {
			w[f] = acc[0] / acc[1]
		}
	}
	return w
}

// weigh sets the row's score: the families' points weighted.
func (r *MethodScore) weigh(w map[string]float64) {
	if r.Error != "" {
		return
	}
	var sum, total float64
	for f, p := range r.Families {
		sum += w[f] * p
		total += w[f]
	}
	if total == 0 {
		// No family separates anything: weigh them equally.
		for _, p := range r.Families {
			sum += p
			total++
		}
	}
	r.Score = 0
	if total > 0 {
		r.Score = sum / total
	}
}

// scoreMethod explains every input with mi and summarises the checks;
// with a random model it also explains each input on it with the cheap
// checks and records how far their verdicts move.
func scoreMethod(ctx context.Context, s, random *explain.Subject, sep separation, mi explain.MethodInfo, inputs [][]float32, opt explain.Options) (MethodScore, error) {
	row := MethodScore{Method: mi.Name, Title: mi.Title, Families: map[string]float64{}, Checks: map[string]float64{}, Level: explain.Good}
	famSum, famN := map[string]float64{}, map[string]int{}
	checkN := map[string]int{}
	for _, x := range inputs {
		res, err := explain.Run(ctx, mi.Name, s, x, opt)
		if err != nil {
			return row, err
		}
		row.ModelCalls += res.ModelCalls
		if random != nil {
			o := opt
			o.Checks, o.Label = explain.ChecksDefault, explain.Class(res.Label)
			rr, err := explain.Run(ctx, mi.Name, random, x, o)
			if err != nil {
				return row, err
			}
			row.ModelCalls += rr.ModelCalls
			for _, c := range rr.Checks {
				row.ModelCalls += c.ModelCalls
			}
			sep.add(res.Checks, rr.Checks)
		}
		if res.Verdict != nil && rank(res.Verdict.Level) > rank(row.Level) {
			row.Level, row.Why = res.Verdict.Level, res.Verdict.Words
		}
		for _, c := range res.Checks {
			row.ModelCalls += c.ModelCalls
			famSum[c.Family] += points(c.Verdict)
			famN[c.Family]++
			if !math.IsInf(c.Value, 0) && !math.IsNaN(c.Value) {
				row.Checks[c.Name] += c.Value
				checkN[c.Name]++
			}
			if c.Verdict == explain.Poor && !slices.ContainsFunc(row.Poor, func(p string) bool { return strings.HasPrefix(p, c.Name+":") }) {
				row.Poor = append(row.Poor, c.Name+": "+c.Words)
			}
		}
	}
	for name, n := range checkN {
		row.Checks[name] /= float64(n)
	}
	for f, n := range famN {
		row.Families[f] = famSum[f] / float64(n)
	}
	return row, nil
}

// Families lists the check families in the order tables show them.
var Families = []string{"faithfulness", "randomisation", "robustness", "complexity", "axiomatic", "localisation"}

// Table writes the advice as a text table: one row per method, its score,
// each family's points, its verdict and what failed.
func (a *Advice) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-15s %6s", "method", "score")
	for _, f := range Families {
		fmt.Fprintf(&b, " %8.8s", f)
	}
	fmt.Fprintf(&b, " %8s %7s %6s  %s\n", "verdict", "calls", "secs", "poor checks")
	fmt.Fprintf(&b, "%-15s %6s", "(weight)", "")
	for _, f := range Families {
		fmt.Fprintf(&b, " %8.2f", a.Weights[f])
	}
	fmt.Fprintln(&b)
	for _, r := range a.Scores {
		if r.Error != "" {
			fmt.Fprintf(&b, "%-15s %6s  failed: %s\n", r.Method, "-", r.Error)
			continue
		}
		fmt.Fprintf(&b, "%-15s %6.2f", r.Method, r.Score)
		for _, f := range Families {
			if v, ok := r.Families[f]; ok {
				fmt.Fprintf(&b, " %8.2f", v)
			} else {
				fmt.Fprintf(&b, " %8s", "-")
			}
		}
		names := make([]string, len(r.Poor))
		for i, p := range r.Poor {
			names[i], _, _ = strings.Cut(p, ":")
		}
		fmt.Fprintf(&b, " %8s %7d %6.1f  %s\n", r.Level, r.ModelCalls, r.Seconds, strings.Join(names, ", "))
	}
	if len(a.Skipped) > 0 {
		fmt.Fprintf(&b, "not ranked:\n")
		for _, sk := range a.Skipped {
			fmt.Fprintf(&b, "  %s\n", sk)
		}
	}
	fmt.Fprintf(&b, "%s\n", a.Words)
	return b.String()
}
