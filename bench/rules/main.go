// Command rules cross-checks glassbox's modified-backward methods
// (DeepLIFT, guided backprop, deconvolution, Input×Gradient, LRP) against
// peers on one small random CNN: it writes the weights, the input and
// glassbox's attributions to a JSON file and runs bench/rules/peers.py,
// which rebuilds the network in PyTorch and compares with Captum (when its
// source is at hand) and with an explicit layer-by-layer LRP. See
// bench/README.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/adapt"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

func main() {
	noPool := flag.Bool("no-pool", false, "leave out the max pooling (Captum 0.8's DeepLIFT does not add up through it on Debian's PyTorch)")
	captum := flag.String("captum", "", "a folder holding Captum's source (its captum/ package), for the Captum comparisons")
	flag.Parse()
	if err := run(*noPool, *captum); err != nil {
		fmt.Fprintln(os.Stderr, "rules:", err)
		os.Exit(1)
	}
}

func run(noPool bool, captum string) error {
	rng := tensor.NewRNG(3)
	c1 := nn.NewConv2D(1, 3, 3, rng, nn.ConvPadding(1))
	c2 := nn.NewConv2D(3, 4, 3, rng)
	l := nn.NewLinear(16, 3, rng)
	m := nn.NewSequential(c1, nn.NewReLU(), nn.NewMaxPool2D(2, 2, 0), c2, nn.NewReLU(), nn.NewFlatten(), l)
	if noPool {
		l = nn.NewLinear(144, 3, rng)
		m = nn.NewSequential(c1, nn.NewReLU(), c2, nn.NewReLU(), nn.NewFlatten(), l)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range m.Params() {
		d := p.Value.Data()
		for i := range d {
			d[i] = float32(r.NormFloat64() * 0.5)
		}
	}
	x := make([]float32, 64)
	b := make([]float32, 64)
	for i := range x {
		x[i] = float32(r.Float64())
		b[i] = float32(r.Float64() * 0.3)
	}
	shape := []int{1, 8, 8}
	s := &explain.Subject{Kind: explain.Image, Shape: shape, Mode: explain.Regression, Outputs: 3,
		Predict: adapt.Func(m, shape), Gradient: adapt.Grad(m, shape, false), RuleGradient: adapt.RuleGrad(m, shape), Baseline: b}
	out := map[string]any{"c1w": c1.Weight.Value.Data(), "c1b": c1.Bias.Value.Data(), "c2w": c2.Weight.Value.Data(), "c2b": c2.Bias.Value.Data(),
		"lw": l.Weight.Value.Data(), "lb": l.Bias.Value.Data(), "x": x, "b": b}
	for _, meth := range []string{"deeplift", "guidedbackprop", "deconvolution", "inputxgradient", "lrp"} {
		res, err := explain.Run(context.Background(), meth, s, x, explain.Options{Label: explain.Class(1)})
		if err != nil {
			return err
		}
		switch d := res.Details.(type) {
		case *explain.Attribution:
			out[meth] = d.Values
		case *explain.LRPExplanation:
			out[meth] = d.Values
		}
	}
	for name, rule := range map[string]string{"lrp_composite": "", "lrp_gamma": "gamma=0.25", "lrp_zplus": "zplus", "lrp_eps": "epsilon=0.1"} {
		res, err := explain.Run(context.Background(), "lrp", s, x, explain.Options{Label: explain.Class(1), Rule: rule})
		if err != nil {
			return err
		}
		out[name] = res.Details.(*explain.LRPExplanation).Values
	}
	out["pool"] = !noPool
	dir, err := os.MkdirTemp("", "glassbox-rules")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "model.json")
	raw, err := json.Marshal(out)
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		return err
	}
	cmd := exec.Command("/usr/bin/python3", "bench/rules/peers.py", file, captum)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}
