package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// affine is a minimal test module: y = x·W + b, plus a buffer.
type affine struct {
	In, Out int
	W, B    *autograd.Var
	Count   *autograd.Var
}

func newAffine(in, out int, rng *rand.Rand) *affine {
	return &affine{In: in, Out: out,
		W:     autograd.Param(tensor.RandN(rng, 0, 1, in, out), "aff/weight"),
		B:     autograd.Param(tensor.RandN(rng, 0, 1, out), "aff/bias"),
		Count: autograd.Const(tensor.Full(3, 1)),
	}
}

func (a *affine) Forward(c *nn.Ctx, x *autograd.Var) *autograd.Var {
	return c.Tape.Add(c.Tape.MatMul(x, a.W), a.B)
}
func (a *affine) Params() []*autograd.Var { return []*autograd.Var{a.W, a.B} }
func (a *affine) Buffers() []*autograd.Var {
	a.Count.Name = "aff/count"
	return []*autograd.Var{a.Count}
}
func (a *affine) Spec() nn.Spec {
	return nn.MakeSpec("test-affine", "aff", map[string]int{"in": a.In, "out": a.Out})
}

func init() {
	nn.RegisterSized("test-affine", func(s nn.Spec, rng *rand.Rand) (nn.Module, error) {
		var args struct{ In, Out int }
		if err := s.UnmarshalArgs(&args); err != nil {
			return nil, err
		}
		return newAffine(args.In, args.Out, rng), nil
	}, func(s nn.Spec) (int64, error) {
		var a struct{ In, Out int }
		if err := s.UnmarshalArgs(&a); err != nil {
			return 0, err
		}
		if a.In < 1 || a.In > nn.MaxDim || a.Out < 1 || a.Out > nn.MaxDim {
			return 0, fmt.Errorf("test-affine: bad sizes %d×%d", a.In, a.Out)
		}
		return nn.Elements(a.In+1, a.Out) + 1, nil // W, B, Count[1]
	})
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m := newAffine(3, 2, tensor.NewRNG(1))
	path := filepath.Join(t.TempDir(), "m.gbx")
	meta := Meta{Task: "classification", Classes: []string{"no", "yes"}, InputShape: []int{3}}
	if err := Save(path, m, meta); err != nil {
		t.Fatal(err)
	}
	got, gotMeta, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if gotMeta.Task != "classification" || len(gotMeta.Classes) != 2 || gotMeta.InputShape[0] != 3 {
		t.Fatalf("meta = %+v", gotMeta)
	}
	x := tensor.RandN(tensor.NewRNG(2), 0, 1, 4, 3)
	a, _ := nn.Predict(m, x)
	b, _ := nn.Predict(got, x)
	if !tensor.AllClose(a, b, 0, 0) {
		t.Fatal("loaded model predicts differently")
	}
	if v := got.(*affine).Count.Value.Item(); v != 3 {
		t.Fatalf("buffer not restored: %v", v)
	}
	// No temporary files left behind.
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Fatalf("folder holds %d entries, want only the model", len(ents))
	}
}

// The file must be a valid safetensors file that a reader knowing nothing
// of glassbox can parse: check the layout by hand.
func TestFileIsPlainSafetensors(t *testing.T) {
	m := newAffine(2, 2, tensor.NewRNG(1))
	path := filepath.Join(t.TempDir(), "m.gbx")
	if err := Save(path, m, Meta{}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	n := binary.LittleEndian.Uint64(raw[:8])
	var h map[string]struct {
		DType   string `json:"dtype"`
		Shape   []int  `json:"shape"`
		Offsets [2]int `json:"data_offsets"`
	}
	if err := json.Unmarshal(raw[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	w := h["aff/weight"]
	if w.DType != "F32" || len(w.Shape) != 2 || w.Offsets[1]-w.Offsets[0] != 16 {
		t.Fatalf("weight entry %+v", w)
	}
	body := raw[8+n:]
	first := binary.LittleEndian.Uint32(body[w.Offsets[0]:])
	if got := m.W.Value.Data()[0]; first != math.Float32bits(got) {
		t.Fatal("weight bytes are not little-endian float32 at the advertised offset")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.gbx")
	if err := Save(good, newAffine(3, 2, tensor.NewRNG(1)), Meta{}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(good)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	// Another architecture's checkpoint.
	other := filepath.Join(dir, "other.gbx")
	Save(other, newAffine(4, 2, tensor.NewRNG(1)), Meta{})
	huge := append([]byte{}, raw...)
	binary.LittleEndian.PutUint64(huge, 1<<40)
	cases := map[string]string{
		write("empty.gbx", nil):                           "too short",
		write("truncated.gbx", raw[:len(raw)-5]):          "invalid",
		write("huge.gbx", huge):                           "exceeds",
		write("garbage.gbx", bytes.Repeat([]byte{7}, 64)): "exceeds",
		filepath.Join(dir, "missing.gbx"):                 "no such file",
	}
	for path, want := range cases {
		if _, _, err := Load(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want error containing %q, got %v", filepath.Base(path), want, err)
		}
	}
	if err := LoadWeights(other, newAffine(3, 2, tensor.NewRNG(1))); err == nil || !strings.Contains(err.Error(), "shape [4 2]") {
		t.Errorf("architecture mismatch: %v", err)
	}
}
