package onnx

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The ONNX backend test suite (Debian's libonnx-testdata) run through the
// importer: for every test, model.onnx is imported and each test data set's
// input_N.pb are fed to Eval, whose outputs must match output_N.pb within
// the tolerances of onnx's own backend test runner (rtol 1e-3, atol 1e-7,
// as numpy.testing.assert_allclose: |got − want| ≤ atol + rtol·|want|,
// NaN matching NaN), with the same shapes and element types.
//
// testdata/claimed.txt lists the tests the importer passes ("set/test"
// per line); a claimed test that fails is a test failure, so a regression
// shows. Regenerate the list after adding operators with
//
//	go test ./onnx -run TestBackendConformance -update-claimed
//
// and review the diff.

var updateClaimed = flag.Bool("update-claimed", false, "rewrite onnx/testdata/claimed.txt with the backend tests that pass")

// conformanceSets are the test data sets the importer is checked on
// ("real" holds downloadable model zoo models, not in the package).
var conformanceSets = []string{"node", "pytorch-converted", "pytorch-operator", "simple"}

const (
	conformanceRtol = 1e-3
	conformanceAtol = 1e-7
	claimedFile     = "testdata/claimed.txt"
)

func TestBackendConformance(t *testing.T) {
	var tests []string
	for _, set := range conformanceSets {
		dir := filepath.Join(testDataDir, set)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("the ONNX backend test data is missing (%v): install it with `apt-get install libonnx-testdata` (Debian/Ubuntu)", err)
		}
		for _, e := range entries {
			if e.IsDir() {
				tests = append(tests, set+"/"+e.Name())
			}
		}
	}
	claimed, err := readClaimed(claimedFile)
	if err != nil {
		t.Fatal(err)
	}
	for name := range claimed {
		if !slices.Contains(tests, name) {
			t.Errorf("%s lists %s, which is not in the test data", claimedFile, name)
		}
	}
	var passed []string
	failures := map[string]int{}
	for _, name := range tests {
		err := runBackendTest(filepath.Join(testDataDir, name))
		switch {
		case err == nil:
			passed = append(passed, name)
			if !claimed[name] && !*updateClaimed {
				t.Logf("passes but is not claimed: %s", name)
			}
		case claimed[name] && !*updateClaimed:
			t.Errorf("claimed %s fails: %v", name, err)
		default:
			failures[reason(err)]++
			if testing.Verbose() {
				t.Logf("unclaimed %s: %v", name, err)
			}
		}
	}
	t.Logf("ONNX backend tests: %d passed / %d claimed / %d total", len(passed), len(claimed), len(tests))
	fmt.Printf("onnx backend conformance: %d/%d/%d (passed/claimed/total)\n", len(passed), len(claimed), len(tests))
	if testing.Verbose() {
		keys := slices.SortedFunc(func(yield func(string) bool) {
			for k := range failures {
				if !yield(k) {
					return
				}
			}
		}, func(a, b string) int { return failures[b] - failures[a] })
		for _, k := range keys {
			t.Logf("%4d × %s", failures[k], k)
		}
	}
	if *updateClaimed {
		var b strings.Builder
		b.WriteString("# ONNX backend tests (libonnx-testdata) the importer passes; see conformance_test.go.\n")
		for _, p := range passed {
			b.WriteString(p + "\n")
		}
		if err := os.WriteFile(claimedFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// reason shortens an error to what tests failing the same way share.
var reasonOp = regexp.MustCompile(`operator (\S+)|not supported: [^:]*|type \S+|\(([A-Za-z]+), opset`)

func reason(err error) string {
	s := err.Error()
	if m := reasonOp.FindString(s); m != "" {
		return m
	}
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

func readClaimed(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]bool{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out[line] = true
	}
	return out, s.Err()
}

// runBackendTest imports dir/model.onnx and checks every test data set.
func runBackendTest(dir string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	m, err := ReadFile(filepath.Join(dir, "model.onnx"), ReadOptions{})
	if err != nil {
		return err
	}
	mod, err := Import(m, ImportOptions{AllInputs: true})
	if err != nil {
		return err
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if len(sets) == 0 {
		return fmt.Errorf("no test data sets")
	}
	for _, set := range sets {
		inputs, err := readTensors(set, "input")
		if err != nil {
			return err
		}
		wants, err := readTensors(set, "output")
		if err != nil {
			return err
		}
		feed := map[string]*Tensor{}
		for i, in := range inputs {
			name := in.Name
			if !slices.ContainsFunc(mod.inputs, func(v *ValueInfo) bool { return v.Name == name }) {
				if i >= len(mod.inputs) {
					return fmt.Errorf("%d input files for %d graph inputs", len(inputs), len(mod.inputs))
				}
				name = mod.inputs[i].Name
			}
			for _, v := range mod.inputs {
				if v.Name == name && v.ElemType == BFloat16 && in.DataType == Uint16 {
					in = bfloat16FromBits(in) // onnx 1.12 stores bfloat16 test data as its bits
				}
			}
			feed[name] = in
		}
		got, err := mod.Eval(feed)
		if err != nil {
			return err
		}
		if len(wants) != len(mod.outputs) {
			return fmt.Errorf("%d output files for %d graph outputs", len(wants), len(mod.outputs))
		}
		for i, want := range wants {
			name := mod.outputs[i]
			g := got[name]
			if g != nil && g.DataType == BFloat16 && want.DataType == Uint16 {
				g = bfloat16Bits(g)
			}
			if err := compareTensor(g, want); err != nil {
				return fmt.Errorf("%s: output %q: %w", filepath.Base(set), name, err)
			}
		}
	}
	return nil
}

// readTensors reads kind_0.pb, kind_1.pb, ... of a test data set.
func readTensors(dir, kind string) ([]*Tensor, error) {
	var out []*Tensor
	for i := 0; ; i++ {
		b, err := os.ReadFile(filepath.Join(dir, kind+"_"+strconv.Itoa(i)+".pb"))
		if os.IsNotExist(err) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		t, err := DecodeTensor(b, ReadOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s_%d.pb: %w", kind, i, err)
		}
		out = append(out, t)
	}
}

// compareTensor checks got against want as onnx's backend runner does.
func compareTensor(got, want *Tensor) error {
	if got == nil {
		return fmt.Errorf("missing")
	}
	if !slices.Equal(got.Dims, want.Dims) {
		return fmt.Errorf("shape %v, want %v", got.Dims, want.Dims)
	}
	if got.DataType != want.DataType {
		return fmt.Errorf("element type %v, want %v", got.DataType, want.DataType)
	}
	switch {
	case isFloatType(want.DataType):
		if len(got.Floats) != len(want.Floats) {
			return fmt.Errorf("%d values, want %d", len(got.Floats), len(want.Floats))
		}
		bad, worst := 0, 0
		for i, w := range want.Floats {
			g := got.Floats[i]
			if math.IsNaN(float64(w)) && math.IsNaN(float64(g)) {
				continue
			}
			if math.IsInf(float64(w), 0) && g == w {
				continue
			}
			d := math.Abs(float64(g) - float64(w))
			if !(d <= conformanceAtol+conformanceRtol*math.Abs(float64(w))) {
				if bad == 0 {
					worst = i
				}
				bad++
			}
		}
		if bad > 0 {
			return fmt.Errorf("%d of %d values differ; first at %d: got %v, want %v", bad, len(want.Floats), worst, got.Floats[worst], want.Floats[worst])
		}
	case isIntType(want.DataType):
		if !slices.Equal(got.Ints, want.Ints) {
			return fmt.Errorf("values %v, want %v", head(got.Ints), head(want.Ints))
		}
	default:
		return fmt.Errorf("element type %v is not compared", want.DataType)
	}
	return nil
}

// bfloat16FromBits reads a uint16 tensor as the bits of bfloat16 values.
func bfloat16FromBits(t *Tensor) *Tensor {
	out := &Tensor{Name: t.Name, DataType: BFloat16, Dims: t.Dims, Floats: make([]float32, len(t.Ints))}
	for i, b := range t.Ints {
		out.Floats[i] = math.Float32frombits(uint32(b) << 16)
	}
	return out
}

// bfloat16Bits writes bfloat16 values as their bits, a uint16 tensor.
func bfloat16Bits(t *Tensor) *Tensor {
	out := &Tensor{Name: t.Name, DataType: Uint16, Dims: t.Dims, Ints: make([]int64, len(t.Floats))}
	for i, f := range t.Floats {
		out.Ints[i] = int64(math.Float32bits(f) >> 16)
	}
	return out
}

func head(v []int64) []int64 {
	if len(v) > 8 {
		return v[:8]
	}
	return v
}
