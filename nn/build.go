package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"

	"github.com/glassbox-ml/glassbox/tensor"
)

// Building from a Spec is the one place where data from outside (the
// architecture JSON of a saved model) decides how much memory glassbox
// allocates. So every built-in layer type validates its arguments and
// reports the size of what it will allocate before anything is
// allocated, and Build refuses a Spec over a budget of elements.

// DefaultMaxElements is the budget Build puts on the parameters and
// buffers of the model it builds: 1<<31 float32 elements (8 GiB), more
// than any model glassbox trains on a CPU. BuildLimited takes a budget of
// the caller's choosing.
const DefaultMaxElements int64 = 1 << 31

// MaxDim bounds every size argument of the built-in layers: features,
// channels, hidden units, vocabulary, kernel and window sizes, strides,
// padding and groups (1<<24 = 16,777,216). Larger values are refused by
// Build and panic in the constructors, so that no product or sum of sizes
// can overflow an int.
const MaxDim = 1 << 24

// MaxRecurrentLayers bounds the number of stacked layers of an RNN, LSTM
// or GRU.
const MaxRecurrentLayers = 1024

// MaxSpecDepth bounds the nesting of a Spec tree (a Sequential inside a
// Sequential is depth 1); Build refuses deeper trees.
const MaxSpecDepth = 64

// Builder reconstructs a module from its Spec. rng initialises weights;
// loaded weights overwrite them afterwards. A container builds the
// modules of s.Children with Build.
type Builder func(s Spec, rng *rand.Rand) (Module, error)

// Sizer validates a Spec's arguments the way its Builder does and returns
// the number of float32 elements of parameters and buffers the Builder
// will allocate for the module itself, not counting the modules of
// s.Children (Build counts and checks those). It must not allocate in
// proportion to the arguments: it is the check that runs before any
// allocation.
type Sizer func(s Spec) (int64, error)

type registration struct {
	build Builder
	size  Sizer
}

var (
	registryMu sync.RWMutex
	registry   = map[string]registration{}
)

// RegisterSized makes a module type buildable from its Spec, with size
// telling Build, before anything is allocated, how many parameter and
// buffer elements a Spec of this type will allocate. Layer files call it
// from init; user-defined layers should too, since BuildLimited (used to
// load model files) only builds types with a Sizer.
//
//	nn.RegisterSized("scale", buildScale, func(s nn.Spec) (int64, error) {
//		var a struct{ D int }
//		if err := s.UnmarshalArgs(&a); err != nil {
//			return 0, err
//		}
//		return nn.Elements(a.D), nil
//	})
func RegisterSized(typ string, b Builder, size Sizer) {
	if size == nil {
		panic("nn: RegisterSized(" + typ + ") without a Sizer")
	}
	register(typ, registration{b, size})
}

// Register makes a module type buildable from its Spec without a Sizer.
// Build still builds it (and checks its size after building, against
// DefaultMaxElements), but BuildLimited and SpecElements refuse it: the
// size of what its Builder allocates cannot be known beforehand. Prefer
// RegisterSized.
func Register(typ string, b Builder) { register(typ, registration{b, nil}) }

func register(typ string, r registration) {
	if r.build == nil {
		panic("nn: module type " + typ + " registered without a Builder")
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[typ]; dup {
		panic("nn: module type registered twice: " + typ)
	}
	registry[typ] = r
}

func lookup(typ string) (registration, error) {
	registryMu.RLock()
	r, ok := registry[typ]
	registryMu.RUnlock()
	if !ok {
		return r, fmt.Errorf("nn: unknown module type %q (known: %v)", typ, RegisteredTypes())
	}
	return r, nil
}

// RegisteredTypes lists the module types Build knows, sorted.
func RegisteredTypes() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	var out []string
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Build reconstructs a module (and its children) from a Spec the program
// trusts, under the budget DefaultMaxElements: the Spec's depth, types
// and arguments are validated and the parameters and buffers counted
// before anything is allocated, and a Spec over the budget is an error.
// Types registered without a Sizer are counted after they are built. For
// a Spec read from a file, use BuildLimited.
func Build(s Spec, rng *rand.Rand) (Module, error) {
	return build(s, rng, DefaultMaxElements, false)
}

// BuildLimited is Build for a Spec that is not trusted, such as the
// architecture stored in a model file: it allocates nothing unless the
// whole tree is at most MaxSpecDepth deep, every layer's arguments are
// valid (sizes between 1 and MaxDim, …) and the parameters and buffers of
// all layers together hold at most maxElements float32 elements. Every
// type in the tree must have been registered with a Sizer. A loader
// passes as maxElements the number of elements the file's tensors hold,
// so the file's own size bounds what building its architecture costs.
// The error names the layer that crossed the limit and its arguments.
func BuildLimited(s Spec, rng *rand.Rand, maxElements int64) (Module, error) {
	if maxElements < 0 {
		return nil, fmt.Errorf("nn: element limit %d must be ≥ 0", maxElements)
	}
	return build(s, rng, maxElements, true)
}

// SpecElements validates s like BuildLimited and returns the number of
// float32 elements of parameters and buffers a module built from it
// holds, without allocating them. Every type in the tree must have been
// registered with a Sizer.
func SpecElements(s Spec) (int64, error) {
	var total int64
	if _, err := sizeTree(s, 0, true, math.MaxInt64, &total); err != nil {
		return 0, err
	}
	return total, nil
}

// Elements returns the number of elements of a tensor of the given
// shape without overflowing: a helper for Sizers. The count saturates at
// math.MaxInt64, and a negative size counts as math.MaxInt64 too, so a
// Sizer that forgot to validate a size errs on the side of refusing.
func Elements(shape ...int) int64 {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return math.MaxInt64
		}
		n = satMul(n, int64(d))
	}
	return n
}

// satMul and satAdd multiply and add non-negative counts, saturating at
// math.MaxInt64.
func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func build(s Spec, rng *rand.Rand, limit int64, strict bool) (Module, error) {
	var total int64
	unsized, err := sizeTree(s, 0, strict, limit, &total)
	if err != nil {
		return nil, err
	}
	var m Module
	if err2 := tensor.Catch(func() { m, err = buildSpec(s, rng) }); err2 != nil {
		return nil, err2
	}
	if err != nil {
		return nil, err
	}
	// The Sizers' count was checked before allocating; the count of what
	// was built catches types without a Sizer (and a Sizer that is wrong).
	if n := elementsOf(m); n > limit {
		what := "the model"
		if !unsized {
			what = fmt.Sprintf("the model (its layers' Sizers said %d)", total)
		}
		return nil, fmt.Errorf("nn: %s holds %d parameter and buffer elements, over the limit of %d", what, n, limit)
	}
	return m, nil
}

// buildSpec builds s with no checks: the tree has been validated.
func buildSpec(s Spec, rng *rand.Rand) (Module, error) {
	r, err := lookup(s.Type)
	if err != nil {
		return nil, err
	}
	return r.build(s, rng)
}

var errTooDeep = fmt.Errorf("nn: the architecture nests deeper than MaxSpecDepth = %d levels", MaxSpecDepth)

// sizeTree validates the tree under s (depth, types, arguments), adds its
// elements to *total and fails as soon as *total passes limit. It reports
// whether a type without a Sizer was met (an error when strict).
func sizeTree(s Spec, depth int, strict bool, limit int64, total *int64) (unsized bool, err error) {
	if depth > MaxSpecDepth {
		return false, errTooDeep
	}
	r, err := lookup(s.Type)
	if err != nil {
		return false, err
	}
	if r.size == nil {
		if strict {
			return false, fmt.Errorf("nn: module type %q was registered without a Sizer, so its size cannot be checked before it is built (register it with nn.RegisterSized)", s.Type)
		}
		unsized = true
	} else {
		n, err := r.size(s)
		if err != nil {
			return false, err
		}
		if n < 0 {
			return false, fmt.Errorf("nn: the Sizer of %s %q returned %d elements", s.Type, s.Name, n)
		}
		*total = satAdd(*total, n)
		if *total > limit {
			return false, fmt.Errorf("nn: %s %q %s needs %d parameter and buffer elements, bringing the model to %d, over the limit of %d",
				s.Type, s.Name, shortArgs(s), n, *total, limit)
		}
	}
	for i, c := range s.Children {
		u, err := sizeTree(c, depth+1, strict, limit, total)
		if err == errTooDeep {
			return false, err // not wrapped MaxSpecDepth times
		}
		if err != nil {
			return false, fmt.Errorf("%s layer %d: %w", s.Type, i, err)
		}
		unsized = unsized || u
	}
	return unsized, nil
}

// shortArgs returns s's args for an error message, cut to 200 bytes.
func shortArgs(s Spec) string {
	const maxLen = 200
	a := string(s.Args)
	if a == "" {
		return "(no args)"
	}
	if len(a) > maxLen {
		a = a[:maxLen] + "…"
	}
	return a
}

// elementsOf counts m's parameter and buffer elements.
func elementsOf(m Module) int64 {
	var n int64
	for _, p := range m.Params() {
		n += int64(p.Value.Len())
	}
	if b, ok := m.(Buffered); ok {
		for _, v := range b.Buffers() {
			n += int64(v.Value.Len())
		}
	}
	return n
}

// dimsOK reports whether every size is in [1, MaxDim].
func dimsOK(sizes ...int) bool {
	for _, v := range sizes {
		if v < 1 || v > MaxDim {
			return false
		}
	}
	return true
}

// noElements is the Sizer of types that allocate no tensors.
func noElements(Spec) (int64, error) { return 0, nil }
