// Command glassbox (bench/quantus) runs glassbox's side of the Quantus
// cross-check and the method advisor on a saved model:
//
//	go run ./bench/quantus/glassbox export MODEL.gbx DIR   # model, inputs, maps, glassbox's figures
//	go run ./bench/quantus/glassbox advise MODEL.gbx [N]   # the advisor's table on N test inputs
//
// export writes, for a table model whose network is Linear/ReLU layers,
// the weights (layer_K_weight.npy [in, out], layer_K_bias.npy), the
// standardised test inputs (x.npy), the explained labels (y.npy), the
// saliency and integrated-gradients maps (a_saliency.npy, a_ig.npy) and
// glassbox's figures (glassbox.json), all in the standardised units the
// network sees, so that run_quantus.py rebuilds the same model in PyTorch
// and scores the same explanations with Quantus.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/check"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/predictor"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: glassbox export MODEL.gbx DIR | advise MODEL.gbx [N]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "export":
		if len(os.Args) < 4 {
			err = fmt.Errorf("export needs MODEL.gbx and DIR")
			break
		}
		err = export(context.Background(), os.Args[2], os.Args[3])
	case "advise":
		n := 3
		if len(os.Args) > 3 {
			n, _ = strconv.Atoi(os.Args[3])
		}
		err = advise(context.Background(), os.Args[2], n)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// testInputs loads the model's test split and returns its first n inputs.
func testInputs(ctx context.Context, p *predictor.Predictor, n int) ([][]float32, error) {
	d, err := p.OwnData(ctx, "")
	if err != nil {
		return nil, err
	}
	rows := predictor.Rows(d.Test)
	dim := len(rows) / d.Test.Len()
	var out [][]float32
	for i := 0; i < n && (i+1)*dim <= len(rows); i++ {
		out = append(out, rows[i*dim:(i+1)*dim])
	}
	return out, nil
}

func advise(ctx context.Context, path string, n int) error {
	p, err := predictor.Load(path)
	if err != nil {
		return err
	}
	if err := p.LoadBackground(ctx, ""); err != nil {
		return err
	}
	inputs, err := testInputs(ctx, p, n)
	if err != nil {
		return err
	}
	adv, err := check.Advise(ctx, p.Subject(), inputs, explain.Options{Seed: 1})
	if err != nil {
		return err
	}
	fmt.Print(adv.Table())
	for _, r := range adv.Scores {
		for _, poor := range r.Poor {
			fmt.Printf("  %s: %s\n", r.Method, poor)
		}
	}
	return nil
}

// The cross-check's settings, shared with run_quantus.py through
// glassbox.json.
const (
	inputs      = 8
	faithRuns   = 100
	faithSubset = 5
	faithSeeds  = 10
	noiseSteps  = 20
	uniformLow  = 0.2 // Quantus MaxSensitivity's lower_bound
	gaussStd    = 0.1 // Quantus LocalLipschitzEstimate's perturb_std
)

func export(ctx context.Context, path, dir string) error {
	p, err := predictor.Load(path)
	if err != nil {
		return err
	}
	if p.Kind != explain.Table || p.Prep.Mean == nil {
		return fmt.Errorf("export takes a standardised table model (breast-cancer mlp)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	seq, ok := p.Module.(*nn.Sequential)
	if !ok {
		return fmt.Errorf("export takes a Sequential network")
	}
	var layers []string
	k := 0
	for _, l := range seq.Layers {
		switch l := l.(type) {
		case *nn.Linear:
			if err := writeNpy(filepath.Join(dir, fmt.Sprintf("layer_%d_weight.npy", k)), l.Weight.Value.Data(), l.In, l.Out); err != nil {
				return err
			}
			if err := writeNpy(filepath.Join(dir, fmt.Sprintf("layer_%d_bias.npy", k)), l.Bias.Value.Data(), l.Out); err != nil {
				return err
			}
			layers = append(layers, "linear")
			k++
		case *nn.ReLU:
			layers = append(layers, "relu")
		case *nn.Flatten, *nn.Dropout:
			// Nothing to do on a [batch, d] input at inference.
		default:
			return fmt.Errorf("export: layer %T is not Linear or ReLU", l)
		}
	}
	raw, err := testInputs(ctx, p, inputs)
	if err != nil {
		return err
	}
	// The network as it is, on standardised inputs: no preprocessing,
	// baseline 0 (the training mean), no background to re-standardise.
	q := *p
	q.Prep = predictor.Preprocessing{}
	s := q.Subject()
	d := s.Dim()
	xs := make([]float32, 0, len(raw)*d)
	ys := make([]float32, 0, len(raw))
	maps := map[string][]float32{}
	figs := map[string][][]float64{}
	for _, r := range raw {
		z := append([]float32(nil), r...)
		p.ToModel(z)
		xs = append(xs, z...)
		out, err := s.Predict(ctx, z, 1)
		if err != nil {
			return err
		}
		label := 0
		for i, v := range out {
			if v > out[label] {
				label = i
			}
		}
		ys = append(ys, float32(label))
		for _, m := range []string{"saliency", "ig"} {
			res, err := explain.Run(ctx, m, s, z, explain.Options{Seed: 1, Label: explain.Class(label), Checks: explain.ChecksNone, Samples: map[string]int{"ig": 200}[m]})
			if err != nil {
				return err
			}
			a := check.Attribution(s, res)
			for _, v := range a {
				maps[m] = append(maps[m], float32(v))
			}
			figs[m+"/sparseness"] = append(figs[m+"/sparseness"], []float64{check.Sparseness(a)})
			figs[m+"/effective_complexity"] = append(figs[m+"/effective_complexity"], []float64{check.EffectiveComplexity(a, 0.1) * float64(d)})
			var fc []float64
			for seed := range uint64(faithSeeds) {
				r, err := check.FaithfulnessCorrelation(ctx, s.Predict, z, a, label, check.Faithfulness{Runs: faithRuns, Subset: faithSubset, Seed: seed, Baseline: make([]float32, d)})
				if err != nil {
					return err
				}
				fc = append(fc, r)
			}
			figs[m+"/faithfulness_correlation"] = append(figs[m+"/faithfulness_correlation"], fc)
			if m != "saliency" {
				continue
			}
			e := check.MethodExplainer("saliency", explain.Options{})
			sim, _, _, err := check.RandomLogit(ctx, s, e, z, label, a, 1)
			if err != nil {
				return err
			}
			figs["saliency/random_logit"] = append(figs["saliency/random_logit"], []float64{sim})
			var ms, ll []float64
			for seed := range uint64(faithSeeds) {
				u, err := check.Robustness(ctx, s, e, z, label, a, check.Noise{Scale: uniformLow, Uniform: true, Samples: noiseSteps, Seed: seed})
				if err != nil {
					return err
				}
				g, err := check.Robustness(ctx, s, e, z, label, a, check.Noise{Scale: gaussStd, Samples: noiseSteps, Seed: seed})
				if err != nil {
					return err
				}
				ms, ll = append(ms, u.MaxSensitivity), append(ll, g.Lipschitz)
			}
			figs["saliency/max_sensitivity"] = append(figs["saliency/max_sensitivity"], ms)
			figs["saliency/local_lipschitz"] = append(figs["saliency/local_lipschitz"], ll)
		}
	}
	n := len(raw)
	if err := writeNpy(filepath.Join(dir, "x.npy"), xs, n, d); err != nil {
		return err
	}
	if err := writeNpy(filepath.Join(dir, "y.npy"), ys, n); err != nil {
		return err
	}
	for m, a := range maps {
		if err := writeNpy(filepath.Join(dir, "a_"+m+".npy"), a, n, d); err != nil {
			return err
		}
	}
	meta := map[string]any{"layers": layers, "figures": figs, "outputs": s.Outputs,
		"settings": map[string]any{"faith_runs": faithRuns, "faith_subset": faithSubset, "seeds": faithSeeds,
			"noise_samples": noiseSteps, "uniform_low": uniformLow, "gauss_std": gaussStd, "complexity_eps": 0.1}}
	b, err := json.MarshalIndent(meta, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "glassbox.json"), b, 0o644)
}

// writeNpy writes float32 values as a NumPy .npy file of the given shape.
func writeNpy(path string, v []float32, shape ...int) error {
	dims := ""
	for _, s := range shape {
		dims += strconv.Itoa(s) + ", "
	}
	if len(shape) > 1 {
		dims = dims[:len(dims)-2]
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", dims)
	pad := 64 - (10+len(header)+1)%64
	header += fmt.Sprintf("%*s\n", pad, "")
	buf := []byte("\x93NUMPY\x01\x00")
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(header)))
	buf = append(buf, header...)
	for _, x := range v {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
	}
	return os.WriteFile(path, buf, 0o644)
}
