package explain

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/glassbox-ml/glassbox/explain/segment"
)

// InputKind says what one input of a model is.
type InputKind string

const (
	// Table: one row of numeric features.
	Table InputKind = "table"
	// Image: a channel-first C×H×W image with pixels in [0, 1].
	Image InputKind = "image"
	// Text: a document (a string), encoded by the model's vocabulary.
	Text InputKind = "text"
)

// Subject is what an explanation method sees of a model: functions over
// inputs in the data's own units (raw table values, pixels in [0, 1]) and
// what is known about those inputs. A front end builds one per model (the
// predictor package does it for glassbox models); every method of the
// registry runs on it.
type Subject struct {
	// Kind and Shape describe one input: Shape is [d] for a table,
	// [C, H, W] for an image.
	Kind  InputKind
	Shape []int
	// Mode says whether outputs are class probabilities or values.
	Mode Mode
	// Outputs is the number of model outputs (classes, or 1).
	Outputs int
	// Predict maps a batch of inputs to outputs: probabilities for
	// classification, values in the target's units for regression.
	Predict Func
	// Gradient differentiates the model's scores (logits for a
	// classifier, values in the target's units for regression) with
	// respect to the input in Predict's units; nil for a model without
	// gradients.
	Gradient GradFunc
	// CAM runs the model up to its last convolution for Grad-CAM; nil for
	// a model without one. CAMLayer names that layer in results.
	CAM      CAMFunc
	CAMLayer string
	// Background holds reference rows of a table, [rows × d] row-major in
	// the data's own units (usually the training split): LIME samples from
	// their statistics and Kernel SHAP draws its background from them.
	// Methods that need it do not apply without it.
	Background []float32
	// Baseline is the reference input of integrated gradients (default:
	// the Background's mean for tables, a black image for images).
	Baseline []float32
	// FeatureNames name a table's columns; ClassNames the outputs.
	FeatureNames []string
	ClassNames   []string
	// Vocabulary names a text model's token ids (its inputs), numbered as
	// datasets.Vocab numbers them: 0 is padding, 1 the unknown token.
	Vocabulary []string
	// RuleGradient differentiates the model's scores with a modified
	// back-propagation (guided backprop, DeepLIFT, LRP); nil for a model
	// whose structure the rules cannot follow.
	RuleGradient RuleGradFunc
	// Layers names the hidden layers that layer, neuron and concept
	// methods can read (Options.Layer), input to output; Layer opens one
	// of them (an unknown name is an error listing Layers). Layer is nil
	// for a model whose hidden values cannot be reached.
	Layers []string
	Layer  func(name string) (*LayerAccess, error)
	// Words names the positions of a text input x: the words its token
	// ids stand for (nil: positions are named by number).
	Words func(x []float32) []string
	// Randomized returns the model with the parameters of some of its
	// layers replaced by random values (of each tensor's own scale), for
	// the model-parameter randomisation test: layers counts from the top
	// (0 is the output layer), so {0, 1, …, k−1} randomises the top k
	// layers (cascading) and {k} one layer alone (independent). nil for a
	// model that cannot be randomised. RandomLayers is how many layers it
	// can randomise.
	Randomized   func(layers []int, seed uint64) (*Subject, error)
	RandomLayers int
}

// Dim is the number of input values of one example.
func (s *Subject) Dim() int {
	d := 1
	for _, v := range s.Shape {
		d *= v
	}
	return d
}

// Requirement is something a method needs from a Subject.
type Requirement uint8

const (
	// NeedsGradient: the method differentiates the model.
	NeedsGradient Requirement = 1 << iota
	// NeedsBackground: the method samples from reference rows (tables).
	NeedsBackground
	// NeedsCAM: the method reads a convolution's activations.
	NeedsCAM
	// NeedsRules: the method back-propagates with modified rules
	// (Subject.RuleGradient).
	NeedsRules
	// NeedsLayer: the method reads a named hidden layer (Subject.Layer).
	NeedsLayer
	// NeedsExamples: the method needs examples the user gives besides the
	// input (TCAV's Options.Concept); front ends that explain an input
	// alone leave it out of their lists.
	NeedsExamples
)

// MethodInfo describes a registered method: what it is called, what it
// applies to and what its budget means.
type MethodInfo struct {
	// Name is the method's key: --method NAME, "method" in requests.
	Name string `json:"name"`
	// Title is its human name; Summary says in one line what it does.
	Title   string `json:"title"`
	Summary string `json:"summary"`
	// Inputs are the kinds of input it explains.
	Inputs []InputKind `json:"inputs"`
	// Needs is what it requires of the model besides Predict.
	Needs Requirement `json:"-"`
	// Budget says what Options.Samples counts for this method ("" when
	// the method has no budget); DefaultBudget describes the default.
	Budget        string `json:"budget,omitempty"`
	DefaultBudget string `json:"default_budget,omitempty"`
	// Result says what the method's result is ("": an attribution over
	// the input's features), so that the checks judge it with the
	// figures that make sense for it.
	Result ResultKind `json:"result,omitempty"`
}

// ResultKind says what a method's result is. The checks (package
// explain/check) judge an input attribution with the full set; the other
// kinds get the checks that apply to them and say which do not, and why.
type ResultKind string

const (
	// InputAttribution (the zero value): a weight per input feature (a
	// pixel map for images, a weight per column for tables) for the
	// explained output.
	InputAttribution ResultKind = ""
	// LayerUnits: weights over a hidden layer's units (layer integrated
	// gradients, layer conductance); for an image model's convolution
	// they are also drawn as a map over the image, like Grad-CAM's.
	LayerUnits ResultKind = "layer"
	// NeuronUnit: a weight per input feature for one hidden unit
	// (neuron integrated gradients, neuron conductance), not for the
	// explained output alone.
	NeuronUnit ResultKind = "neuron"
	// RuleResult: a rule and its precision and coverage (anchors).
	RuleResult ResultKind = "rule"
	// WhatIfResult: a changed input that changes the decision
	// (counterfactual).
	WhatIfResult ResultKind = "whatif"
	// ConceptScore: a concept's score against random directions (TCAV).
	ConceptScore ResultKind = "concept"
)

// Applies reports whether the method can explain s, and why not.
func (mi MethodInfo) Applies(s *Subject) error {
	if !slices.Contains(mi.Inputs, s.Kind) {
		kinds := make([]string, len(mi.Inputs))
		for i, k := range mi.Inputs {
			kinds[i] = string(k)
		}
		return fmt.Errorf("%s explains %s inputs, this model takes %s inputs", mi.Name, strings.Join(kinds, " and "), s.Kind)
	}
	switch {
	case mi.Needs&NeedsGradient != 0 && s.Gradient == nil:
		return fmt.Errorf("%s needs the model's gradients, which this model does not provide", mi.Name)
	case mi.Needs&NeedsRules != 0 && s.RuleGradient == nil:
		return fmt.Errorf("%s needs to back-propagate through the model's layers with modified rules, which this model does not support (a glassbox network or an ONNX model of dense, convolution, pooling and ReLU-type layers does)", mi.Name)
	case mi.Needs&NeedsCAM != 0 && s.CAM == nil:
		return fmt.Errorf("%s needs a convolutional layer in a Sequential model; this model has none", mi.Name)
	case mi.Needs&NeedsLayer != 0 && s.Layer == nil:
		return fmt.Errorf("%s needs the model's hidden layers, which this model does not expose (a glassbox Sequential network does)", mi.Name)
	case mi.Needs&NeedsBackground != 0 && s.Kind == Table && len(s.Background) == 0:
		return fmt.Errorf("%s on a table needs training rows to sample from (the model's training data, or --data SPEC)", mi.Name)
	}
	return nil
}

// takes reports an error when opt sets an option the method does not
// read: a layer, a unit or LRP's rule given to a method that would
// ignore it (Grad-CAM reads the last convolution, not Options.Layer)
// would otherwise come back as an explanation of something else than
// asked, without a word.
func (mi MethodInfo) takes(opt Options) error {
	switch {
	case opt.Layer != "" && mi.Needs&NeedsLayer == 0:
		return fmt.Errorf("%s: layer %q: %s reads no chosen hidden layer (the layer methods and tcav do: %s)", mi.Name, opt.Layer, mi.Name, strings.Join(methodsNeeding(NeedsLayer), ", "))
	case opt.Neuron != nil && mi.Result != NeuronUnit:
		return fmt.Errorf("%s: neuron %d: %s explains no single unit (neuronig and neuronconductance do)", mi.Name, *opt.Neuron, mi.Name)
	case opt.Rule != "" && mi.Name != "lrp":
		return fmt.Errorf("%s: rule %q: only lrp takes a rule (%s has none to choose)", mi.Name, opt.Rule, mi.Name)
	}
	return nil
}

// methodsNeeding lists the registered methods that need r, by name.
func methodsNeeding(r Requirement) []string {
	var names []string
	for _, m := range Methods() {
		if m.Needs&r != 0 {
			names = append(names, m.Name)
		}
	}
	return names
}

// Method is one explanation method. Explain fills res (whose Label,
// Probability and Value Run has already set) for input x, in the units of
// s.Predict; Run adds what every method shares (timing, the image
// deletion/insertion scores).
type Method interface {
	Info() MethodInfo
	Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error
}

// Options choose and tune one explanation. The zero value explains the
// predicted class (output 0 for regression) with the method's default
// budget and seed 0.
type Options struct {
	// Seed: the same seed gives the same explanation, bit for bit.
	Seed uint64
	// Samples is the budget (0: the method's default); MethodInfo.Budget
	// says what it counts.
	Samples int
	// Label is the output to explain; nil explains the predicted class.
	// Class(i) makes one.
	Label *int
	// Hide is how image LIME hides a superpixel (default: a constant for
	// grey images, whose background is constant, the segment's mean for
	// colour); HideValue is the constant for HideConstant.
	Hide      Hide
	HideValue float32
	// Rule chooses LRP's rules (ParseLRPRule): "composite" (default),
	// "epsilon", "gamma" or "zplus", optionally "epsilon=0.25".
	Rule string
	// Layer names the hidden layer of layer, neuron and concept methods
	// (Subject.Layers; "": the method's default layer). Neuron is the
	// unit of neuron methods, a flat index into the layer's activations
	// (nil: the unit most activated by the input).
	Layer  string
	Neuron *int
	// Concept holds the examples of a concept for TCAV, rows in the
	// input's units (images, table rows or token-id rows); ConceptName
	// names it. Random holds the counter-examples TCAV draws its random
	// sets from (nil: the Subject's Background).
	Concept     []float32
	ConceptName string
	Random      []float32
	// Checks chooses the checks judged on the result (default: the cheap
	// ones; ChecksAll adds those that re-run the method).
	Checks CheckLevel
	// Mask marks where the evidence should be, one value per feature
	// (H·W pixels, or columns): nonzero inside. With a mask the
	// localisation checks (pointing game, relevance mass) run.
	Mask []float32
}

// MaxSamples bounds Options.Samples: past it an image explanation holds
// hundreds of megabytes of perturbations and outputs, and a table one
// runs for hours; no method's estimate needs more.
const MaxSamples = 200_000

// Class returns a pointer to label, for Options.Label.
func Class(label int) *int { return &label }

// Result is one explanation's record: what was explained, with which
// budget and seed, its most important features and how far it can be
// trusted.
type Result struct {
	Method      string  `json:"method"`
	Seed        uint64  `json:"seed"`
	Samples     int     `json:"samples,omitempty"`
	Label       int     `json:"label"`
	LabelName   string  `json:"label_name,omitempty"`
	Probability float64 `json:"probability,omitempty"`
	Value       float64 `json:"value,omitempty"`
	// Features is the number of interpretable features: superpixels for
	// image LIME and Kernel SHAP, pixels for gradient maps, patches for
	// occlusion, channels for Grad-CAM, columns for tables.
	Features int `json:"features"`
	// Quality holds the figures that say how far to trust the result:
	// r2 and local_error (surrogates), completeness_residual (integrated
	// gradients), sum_error (Kernel SHAP), deletion_auc and insertion_auc
	// (image attributions).
	Quality map[string]float64 `json:"quality"`
	// Layer names the layer a layer method (Grad-CAM, the layer, neuron
	// and concept methods) read; Unit is the unit a neuron method explained.
	Layer string `json:"layer,omitempty"`
	Unit  *int   `json:"unit,omitempty"`
	// Top lists the features, largest |weight| first.
	Top []FeatureWeight `json:"top,omitempty"`
	// Words are a text explanation's document, token by token in input
	// order, each with its weight for the explained output (0 for a word
	// the surrogate did not keep).
	Words    []WordWeight `json:"words,omitempty"`
	Warnings []string     `json:"warnings,omitempty"`
	// ModelCalls counts the model's evaluations (batches; a gradient call
	// counts once) the explanation took, ModelRows the inputs in them.
	ModelCalls int     `json:"model_calls,omitempty"`
	ModelRows  int     `json:"model_rows,omitempty"`
	Seconds    float64 `json:"seconds"`
	// Details is the method's full result (weights, maps, timings).
	Details any `json:"-"`
	// Attribution is an image method's H·W per-pixel map; Segments and
	// SegmentWeights the superpixels and their weights for methods that
	// explain superpixels.
	Attribution    []float32             `json:"-"`
	Segments       *segment.Segmentation `json:"-"`
	SegmentWeights []float64             `json:"-"`
	// Checks are the judged figures (package explain/check) and Verdict
	// the overall verdict in one sentence; absent with ChecksNone.
	Checks  []Check  `json:"checks,omitempty"`
	Verdict *Verdict `json:"verdict,omitempty"`
	// NotChecked names the checks that do not apply to this kind of
	// result, each with the reason ("faithfulness_correlation: …").
	NotChecked []string `json:"not_checked,omitempty"`
}

// WordWeight is one word of an explained document and its weight.
type WordWeight struct {
	Text   string  `json:"text"`
	Weight float64 `json:"weight"`
}

var registry = struct {
	sync.RWMutex
	byName map[string]Method
	order  []string
}{byName: map[string]Method{}}

// Register adds a method to the registry every front end reads (the CLI's
// --method, the server's methods, the web page and the report). It panics
// on an empty or duplicate name, a programming error caught at start-up.
func Register(m Method) {
	info := m.Info()
	if info.Name == "" || len(info.Inputs) == 0 {
		panic("explain: Register: a method needs a name and the inputs it explains")
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.byName[info.Name]; dup {
		panic("explain: Register: method " + info.Name + " registered twice")
	}
	registry.byName[info.Name] = m
	registry.order = append(registry.order, info.Name)
}

// Methods lists every registered method, in registration order.
func Methods() []MethodInfo {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]MethodInfo, len(registry.order))
	for i, n := range registry.order {
		out[i] = registry.byName[n].Info()
	}
	return out
}

// MethodNames lists the names of every registered method.
func MethodNames() []string {
	registry.RLock()
	defer registry.RUnlock()
	return slices.Clone(registry.order)
}

// Applicable lists the registered methods that can explain s.
func Applicable(s *Subject) []MethodInfo {
	var out []MethodInfo
	for _, mi := range Methods() {
		if mi.Applies(s) == nil {
			out = append(out, mi)
		}
	}
	return out
}

// Lookup returns the registered method called name; an unknown name is an
// error listing the known ones (and the closest, for a typo).
func Lookup(name string) (Method, error) {
	registry.RLock()
	m, ok := registry.byName[name]
	names := slices.Clone(registry.order)
	registry.RUnlock()
	if ok {
		return m, nil
	}
	msg := fmt.Sprintf("unknown explanation method %q (known: %s)", name, strings.Join(names, ", "))
	if near := Closest(name, names); near != "" {
		msg += fmt.Sprintf("; did you mean %q?", near)
	}
	return nil, fmt.Errorf("%s", msg)
}

// Closest returns the candidate within a small edit distance of s ("" when
// none is close), for "did you mean" hints.
func Closest(s string, candidates []string) string {
	best, bestD := "", max(2, len(s)/3)+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Run explains input x (one example in the units of s.Predict) with the
// registered method called name: it checks the method applies, resolves
// the label, runs the method, and for images scores the attribution with
// the deletion and insertion curves. Every front end explains through Run.
func Run(ctx context.Context, name string, s *Subject, x []float32, opt Options) (*Result, error) {
	t0 := time.Now()
	m, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	info := m.Info()
	if err := info.Applies(s); err != nil {
		return nil, err
	}
	if err := s.check(x); err != nil {
		return nil, err
	}
	if err := info.takes(opt); err != nil {
		return nil, err
	}
	if opt.Samples < 0 || opt.Samples > MaxSamples {
		return nil, fmt.Errorf("%s: samples %d: want 0 (the method's default) to %d (explain.MaxSamples)", name, opt.Samples, MaxSamples)
	}
	calls := &countingFunc{f: s.Predict}
	sub := *s
	sub.Predict = calls.call
	if s.Gradient != nil {
		sub.Gradient = func(ctx context.Context, x []float32, n, label int) ([]float32, []float32, error) {
			calls.count(n)
			return s.Gradient(ctx, x, n, label)
		}
	}
	if s.RuleGradient != nil {
		sub.RuleGradient = func(ctx context.Context, x []float32, n, label int, rule BackwardRule, ref []float32) ([]float32, []float32, error) {
			if ref != nil {
				calls.count(2 * n) // the references run in the same batch
			} else {
				calls.count(n)
			}
			return s.RuleGradient(ctx, x, n, label, rule, ref)
		}
	}
	if s.CAM != nil {
		sub.CAM = func(ctx context.Context, x []float32, label int) ([]float32, []float32, int, int, int, []float32, error) {
			calls.count(1)
			return s.CAM(ctx, x, label)
		}
	}
	if s.Layer != nil {
		sub.Layer = func(name string) (*LayerAccess, error) {
			la, err := s.Layer(name)
			if err != nil || la == nil {
				return la, err
			}
			return la.counted(calls.count), nil
		}
	}
	out, err := sub.Predict(ctx, x, 1)
	if err != nil {
		return nil, err
	}
	for i, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, &NonFiniteError{Output: i, Value: float64(v)}
		}
	}
	res := &Result{Method: name, Seed: opt.Seed, Quality: map[string]float64{}}
	switch {
	case opt.Label != nil:
		res.Label = *opt.Label
		if res.Label < 0 || res.Label >= len(out) {
			return nil, fmt.Errorf("label %d: the model has %d outputs (0 to %d)", res.Label, len(out), len(out)-1)
		}
	case s.Mode == Classification:
		res.Label = argmax(out)
	}
	if s.Mode == Classification {
		res.Probability = float64(out[res.Label])
		if res.Label < len(s.ClassNames) {
			res.LabelName = s.ClassNames[res.Label]
		}
	} else {
		res.Value = float64(out[res.Label])
	}
	if err := m.Explain(ctx, &sub, x, opt, res); err != nil {
		return nil, err
	}
	if s.Kind == Image && res.Attribution != nil {
		// Every image attribution is scored the same way: deletion (lower
		// is better) and insertion (higher is better) curves of the output.
		c, h, w := s.Shape[0], s.Shape[1], s.Shape[2]
		curves, err := DeletionInsertion(ctx, sub.Predict, x, c, h, w, res.Attribution, res.Label, 20)
		if err != nil {
			return nil, err
		}
		res.Quality["deletion_auc"], res.Quality["insertion_auc"] = curves.DeletionAUC, curves.InsertionAUC
	}
	res.ModelCalls, res.ModelRows = calls.calls, calls.rows
	res.Seconds = time.Since(t0).Seconds()
	if err := runChecks(ctx, s, x, opt, res); err != nil {
		return nil, fmt.Errorf("checking the %s explanation: %w", name, err)
	}
	return res, nil
}

// NonFiniteError says the model's output is NaN or ±Inf for a finite
// input: nothing can be explained (or predicted) from it.
type NonFiniteError struct {
	Output int
	Value  float64
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("the model's output %d is %v for this input (not a finite number); the model cannot be explained here — check the input's scale and the model's training", e.Output, e.Value)
}

// check validates a subject and one input against it.
func (s *Subject) check(x []float32) error {
	if s.Predict == nil {
		return fmt.Errorf("explain: the subject has no Predict function")
	}
	if s.Kind == Image && len(s.Shape) != 3 {
		return fmt.Errorf("explain: an image subject needs a [C H W] shape, got %v", s.Shape)
	}
	if len(x) != s.Dim() {
		return fmt.Errorf("explain: the input has %d values, the model takes %d (shape %v)", len(x), s.Dim(), s.Shape)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("explain: input value %d is %v; inputs must be finite", i, v)
		}
	}
	if len(s.Background)%max(1, s.Dim()) != 0 {
		return fmt.Errorf("explain: the background has %d values, not a whole number of %d-value rows", len(s.Background), s.Dim())
	}
	return nil
}

// countingFunc counts a Func's calls and rows (Run hands methods a
// counting Predict, Gradient and CAM, so every result says what it cost).
type countingFunc struct {
	f     Func
	mu    sync.Mutex
	calls int
	rows  int
}

func (c *countingFunc) call(ctx context.Context, x []float32, n int) ([]float32, error) {
	c.count(n)
	return c.f(ctx, x, n)
}

// count records one call of the model (forward, or forward and backward)
// on n inputs.
func (c *countingFunc) count(n int) {
	c.mu.Lock()
	c.calls++
	c.rows += n
	c.mu.Unlock()
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// rankTop turns per-feature values into FeatureWeights, largest |weight|
// first (ties in feature order).
func rankTop(values []float32, names []string) []FeatureWeight {
	top := make([]FeatureWeight, len(values))
	for i, v := range values {
		name := fmt.Sprintf("x%d", i)
		if i < len(names) {
			name = names[i]
		}
		top[i] = FeatureWeight{Feature: i, Name: name, Weight: float64(v)}
	}
	sort.SliceStable(top, func(i, j int) bool { return math.Abs(top[i].Weight) > math.Abs(top[j].Weight) })
	return top
}
