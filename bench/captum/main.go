// Command captum is the glassbox side of the glassbox-versus-Captum
// comparison: it explains the same trained models, on the same inputs,
// with every glassbox method that has a Captum counterpart, times each
// explanation, and writes the attributions and a manifest that
// captum_side.py reads to run Captum on the models rebuilt in PyTorch from
// the .gbx weights and to compare.
//
//	go run ./bench/captum -dir /tmp/gb-captum -threads 1
//	/usr/bin/python3 bench/captum/captum_side.py /tmp/gb-captum
//
// The models are trained here once (kept in -dir): an MLP on the wine
// table and a LeNet on the embedded MNIST digits. Methods is the table of
// (glassbox registry name, Captum class, options); a method the registry
// does not have in this build is listed as skipped, so methods added
// later are switched on by their line here.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/predictor"
)

// Method is one row of the comparison: the glassbox method, the Captum
// class that computes the same thing, and the settings that make them
// agree (glassbox's defaults, given to Captum explicitly).
type Method struct {
	// Name is the glassbox registry name; Captum the class in
	// captum.attr (captum_side.py builds it).
	Name   string `json:"name"`
	Captum string `json:"captum"`
	// Models lists the models it runs on: "mlp" (table) and "cnn" (image).
	Models []string `json:"models"`
	// Samples is glassbox's Options.Samples (0: its default).
	Samples int `json:"samples"`
	// Args are Captum's attribute() keywords. Special values: "baseline"
	// for baselines means glassbox's baseline (the training mean for the
	// table, black for images).
	Args map[string]any `json:"args,omitempty"`
	// Output is what Captum explains: "logits" (gradient methods, as
	// glassbox's Gradient) or "probs" (perturbation methods, as Predict).
	Output string `json:"output"`
	// Post is what captum_side.py does to Captum's result before
	// comparing: "" (as is), "abs", "gradcam" (ReLU, bilinear upsampling).
	Post string `json:"post,omitempty"`
	// Layer and Neuron: the method reads the default layer (and a unit).
	Layer  bool `json:"layer,omitempty"`
	Neuron bool `json:"neuron,omitempty"`
	// Stochastic: agreement is judged against Captum's own seed-to-seed
	// spread instead of a fixed ρ ≥ 0.99.
	Stochastic bool `json:"stochastic,omitempty"`
	// Background: the method runs with the training rows as glassbox's
	// background (the others with the training mean as the one row); its
	// references are written for Captum.
	Background bool `json:"background,omitempty"`
	// Note says what differs, where something does.
	Note string `json:"note,omitempty"`
}

var both = []string{"mlp", "cnn"}

// Methods is the comparison table.
var Methods = []Method{
	{Name: "saliency", Captum: "Saliency", Models: both, Args: map[string]any{"abs": true}, Output: "logits"},
	{Name: "ig", Captum: "IntegratedGradients", Models: both, Samples: 50, Output: "logits",
		Args: map[string]any{"baselines": "baseline", "n_steps": 50, "method": "gausslegendre"}},
	{Name: "smoothgrad", Captum: "NoiseTunnel(Saliency)", Models: both, Samples: 50, Output: "logits", Stochastic: true,
		Args: map[string]any{"nt_type": "smoothgrad", "nt_samples": 50, "stdevs": "0.15·range(x)", "abs": false}},
	{Name: "gradcam", Captum: "LayerGradCam", Models: []string{"cnn"}, Output: "logits", Post: "gradcam", Layer: true,
		Args: map[string]any{"relu_attributions": true}},
	{Name: "occlusion", Captum: "Occlusion", Models: []string{"cnn"}, Output: "probs",
		Args: map[string]any{"sliding_window_shapes": []int{1, 4, 4}, "strides": []int{1, 2, 2}, "baselines": 0}},
	{Name: "kernelshap", Captum: "KernelShap", Models: []string{"mlp"}, Output: "probs", Stochastic: true,
		Args: map[string]any{"baselines": "baseline", "n_samples": 2074},
		Note: "one background row (the training mean) on both sides, as Captum's single baseline"},
	{Name: "layerig", Captum: "LayerIntegratedGradients", Models: both, Samples: 50, Output: "logits", Layer: true,
		Args: map[string]any{"baselines": "baseline", "n_steps": 50, "method": "gausslegendre"}},
	{Name: "layerconductance", Captum: "LayerConductance", Models: both, Samples: 50, Output: "logits", Layer: true,
		Args: map[string]any{"baselines": "baseline", "n_steps": 50, "method": "riemann_trapezoid"}},
	{Name: "neuronig", Captum: "NeuronIntegratedGradients", Models: both, Samples: 50, Output: "logits", Layer: true, Neuron: true,
		Args: map[string]any{"baselines": "baseline", "n_steps": 50, "method": "gausslegendre"}},
	{Name: "neuronconductance", Captum: "NeuronConductance", Models: both, Samples: 50, Output: "logits", Layer: true, Neuron: true,
		Args: map[string]any{"baselines": "baseline", "n_steps": 50, "method": "riemann_trapezoid"}},
	// The gradient family with modified backward passes (defaults: see
	// explain/methods_*.go).
	{Name: "inputxgradient", Captum: "InputXGradient", Models: both, Output: "logits"},
	{Name: "guidedbackprop", Captum: "GuidedBackprop", Models: []string{"cnn"}, Output: "logits"},
	{Name: "deconvolution", Captum: "Deconvolution", Models: []string{"cnn"}, Output: "logits"},
	{Name: "guidedgradcam", Captum: "GuidedGradCam", Models: []string{"cnn"}, Output: "logits", Layer: true,
		Args: map[string]any{"interpolate_mode": "bilinear"}, Note: "glassbox upsamples the CAM bilinearly; Captum's default is nearest"},
	{Name: "deeplift", Captum: "DeepLift", Models: both, Output: "logits", Args: map[string]any{"baselines": "baseline"},
		Note: "Captum's DeepLift does not add up through max pooling on torch 1.13 (the LeNet's row)"},
	{Name: "deepliftshap", Captum: "DeepLiftShap", Models: []string{"mlp"}, Output: "logits", Background: true,
		Args: map[string]any{"baselines": "references"}, Note: "the 50 training rows glassbox draws with seed 1, all of them on both sides"},
	{Name: "gradientshap", Captum: "GradientShap", Models: both, Output: "logits", Stochastic: true, Background: true,
		Args: map[string]any{"baselines": "references", "n_samples": 200},
		Note: "200 draws (glassbox's default) from the same references: the 50 training rows; images: black and 49 uniform-noise images"},
	{Name: "lrp", Captum: "LRP", Models: both, Output: "logits",
		Note: "Captum's LRP fails with a hook error on torch 1.13: compared with an explicit float64 LRP (bench/rules' rules, glassbox's composite: ε = 1e-6 dense, z⁺ conv)"},
	{Name: "ablation", Captum: "FeatureAblation", Models: []string{"mlp"}, Output: "probs", Args: map[string]any{"baselines": "baseline"}},
	{Name: "ablation", Captum: "FeatureAblation", Models: []string{"cnn"}, Output: "probs", Args: map[string]any{"baselines": 0, "feature_mask": "segments"},
		Note: "glassbox's superpixels (written per input) as Captum's feature_mask, hidden black as glassbox hides them on grey images"},
	{Name: "permutation", Captum: "FeatureAblation×references", Models: []string{"mlp"}, Output: "probs", Background: true,
		Args: map[string]any{"baselines": "references"},
		Note: "Captum's FeaturePermutation shuffles within a batch (nothing for one input); glassbox's is the mean drop over 50 training rows, Captum's FeatureAblation with each row as baseline, averaged"},
	{Name: "shapleysampling", Captum: "ShapleyValueSampling", Models: []string{"cnn"}, Output: "probs", Stochastic: true,
		Args: map[string]any{"baselines": 0, "feature_mask": "segments", "n_samples": 10},
		Note: "glassbox's 10 orderings (its image default) of its superpixels, hidden black; Captum the same"},
	{Name: "shapleysampling", Captum: "ShapleyValueSampling", Models: []string{"cnn"}, Output: "probs", Stochastic: true, Samples: 200,
		Args: map[string]any{"baselines": 0, "feature_mask": "segments", "n_samples": 200},
		Note: "the same at 200 orderings: the two estimates converge together"},
	{Name: "shapleysampling", Captum: "ShapleyValueSampling×references", Models: []string{"mlp"}, Output: "probs", Stochastic: true, Background: true,
		Args: map[string]any{"baselines": "references", "n_samples": 4},
		Note: "glassbox's 200 orderings start from its 50 reference rows in turn; Captum: 4 orderings × the same 50 rows as baselines, averaged"},
}

// Skipped lists glassbox methods without a Captum counterpart to compare
// numerically, and why.
var Skipped = map[string]string{
	"lime":           "glassbox follows the lime package (quartile-discretised tables, quickshift superpixels, ridge surrogate); Captum's Lime is a different algorithm (binary masks against a baseline, Lasso)",
	"tcav":           "a significance test over random CAVs, not an attribution map; scores depend on the random sets drawn",
	"rise":           "not in Captum (DIANNA's method)",
	"anchors":        "not in Captum (alibi's method)",
	"counterfactual": "not in Captum (alibi's method)",
}

// Manifest is what captum_side.py reads.
type Manifest struct {
	Threads int                 `json:"threads"`
	GOARCH  string              `json:"goarch"`
	CPU     string              `json:"cpu"`
	Kernel  string              `json:"kernel"`
	Models  map[string]ModelRec `json:"models"`
	Runs    []Run               `json:"runs"`
	Skipped map[string]string   `json:"skipped"`
}

// ModelRec describes one model and its inputs.
type ModelRec struct {
	File   string    `json:"file"`
	Shape  []int     `json:"shape"`
	Inputs string    `json:"inputs"` // float32 little-endian, n × dim
	N      int       `json:"n"`
	Labels []int     `json:"labels"`
	Base   []float32 `json:"baseline"`
	// Layer is the default layer of the layer methods (glassbox's name);
	// CAMLayer Grad-CAM's.
	Layer    string `json:"layer"`
	CAMLayer string `json:"cam_layer"`
	// References (tables) holds the training rows glassbox's background
	// methods draw with seed 1, float32, rows × dim.
	References string `json:"references,omitempty"`
}

// Run is one method on one model: glassbox's attributions (one file per
// input) and its median times.
type Run struct {
	Method
	Model string `json:"model"`
	// Files hold each input's attribution, float32 little-endian.
	Files []string `json:"files"`
	// Segments hold, per input, the superpixel of each pixel (float32) of
	// the perturbation methods on images: Captum's feature_mask.
	Segments []string `json:"segments,omitempty"`
	// Units are the neuron methods' units (flat index), per input.
	Units []int `json:"units,omitempty"`
	// Layer is the layer read (glassbox's name).
	Layer string `json:"layer,omitempty"`
	// MethodSeconds is the median time of the method itself (what Captum's
	// attribute does); RunSeconds of explain.Run, which adds the quality
	// figures (deletion/insertion curves for images).
	MethodSeconds float64 `json:"method_seconds"`
	RunSeconds    float64 `json:"run_seconds"`
	ModelCalls    int     `json:"model_calls"`
	Skip          string  `json:"skip,omitempty"`
}

func main() {
	dir := flag.String("dir", "/tmp/gb-captum", "folder for the models, inputs, attributions and manifest")
	threads := flag.Int("threads", 1, "GOMAXPROCS (captum_side.py uses as many torch threads)")
	inputs := flag.Int("inputs", 3, "test inputs explained per model")
	reps := flag.Int("reps", 5, "timed repetitions per method (the median is kept)")
	only := flag.String("method", "", "run only this method")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the glassbox side to this file (go tool pprof)")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	runtime.GOMAXPROCS(*threads)
	ctx := context.Background()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	man := Manifest{Threads: *threads, GOARCH: runtime.GOARCH, CPU: cpuName(), Kernel: kernel(), Models: map[string]ModelRec{}, Skipped: Skipped}
	fmt.Printf("CPU %s, kernel %s, %s, GOMAXPROCS %d\n", man.CPU, man.Kernel, runtime.Version(), *threads)
	recipes := map[string]predictor.Recipe{
		"mlp": {Data: "wine", Model: "mlp", Epochs: 30, Seed: 1},
		"cnn": {Data: "mnist-small", Model: "lenet", Epochs: 1, Seed: 1},
	}
	for _, name := range []string{"mlp", "cnn"} {
		p, x, labels, err := model(ctx, *dir, name, recipes[name], *inputs)
		if err != nil {
			log.Fatal(err)
		}
		s := p.Subject()
		d := s.Dim()
		base := s.Baseline
		if base == nil {
			base = make([]float32, d)
		}
		full := s
		if p.Kind == explain.Table {
			// The background methods draw training rows; the others get
			// one background row, the training mean: Kernel SHAP then
			// computes Shapley values against Captum's single baseline,
			// and ablation replaces by exactly Captum's baseline.
			if err := p.LoadBackground(ctx, ""); err != nil {
				log.Fatal(err)
			}
			full = p.Subject()
			p.Background = slices.Clone(base)
			s = p.Subject()
		}
		rec := ModelRec{File: name + ".gbx", Shape: p.InputShape, Inputs: name + "-inputs.f32", N: len(labels), Labels: labels,
			Base: base, Layer: explain.DefaultLayer(s), CAMLayer: s.CAMLayer}
		if err := writeF32(filepath.Join(*dir, rec.Inputs), x); err != nil {
			log.Fatal(err)
		}
		if p.Kind == explain.Table {
			rec.References = name + "-references.f32"
			if err := writeF32(filepath.Join(*dir, rec.References), explain.BackgroundRows(full.Background, d, 50, 1)); err != nil {
				log.Fatal(err)
			}
		}
		man.Models[name] = rec
		for _, m := range Methods {
			if !slices.Contains(m.Models, name) || (*only != "" && m.Name != *only) {
				continue
			}
			r := Run{Method: m, Model: name}
			if _, err := explain.Lookup(m.Name); err != nil {
				r.Skip = "not in this build's registry"
				man.Runs = append(man.Runs, r)
				continue
			}
			sm := s
			if m.Background {
				sm = full
			}
			if err := explainAll(ctx, sm, x, d, labels, m, &r, *dir, *reps); err != nil {
				log.Fatalf("%s on %s: %v", m.Name, name, err)
			}
			fmt.Printf("%-18s %-4s method %8.2f ms  run %8.2f ms  %d model calls\n", m.Name, name, 1e3*r.MethodSeconds, 1e3*r.RunSeconds, r.ModelCalls)
			man.Runs = append(man.Runs, r)
		}
	}
	b, _ := json.MarshalIndent(man, "", " ")
	if err := os.WriteFile(filepath.Join(*dir, "manifest.json"), b, 0o644); err != nil {
		log.Fatal(err)
	}
}

// model loads dir/name.gbx or trains it from the recipe, and returns the
// first n inputs of its test split with their predicted labels.
func model(ctx context.Context, dir, name string, r predictor.Recipe, n int) (*predictor.Predictor, []float32, []int, error) {
	path := filepath.Join(dir, name+".gbx")
	p, err := predictor.Load(path)
	if err != nil {
		fmt.Printf("training %s (%s on %s)\n", name, r.Model, r.Data)
		t, terr := predictor.Train(ctx, r, predictor.TrainOptions{Quiet: true})
		if terr != nil {
			return nil, nil, nil, terr
		}
		if err := t.Save(path); err != nil {
			return nil, nil, nil, err
		}
		p = t.Predictor
	}
	data, err := p.OwnData(ctx, "")
	if err != nil {
		return nil, nil, nil, err
	}
	rows := predictor.Rows(data.Test)
	d := len(rows) / data.Test.Len()
	x := slices.Clone(rows[:n*d])
	out, err := p.Subject().Predict(ctx, x, n)
	if err != nil {
		return nil, nil, nil, err
	}
	k := len(out) / n
	labels := make([]int, n)
	for i := range labels {
		labels[i] = argmax(out[i*k : (i+1)*k])
	}
	return p, x, labels, nil
}

// explainAll explains every input with m, writes the attributions and
// times the method (median of reps, after one warm-up).
func explainAll(ctx context.Context, s *explain.Subject, x []float32, d int, labels []int, m Method, r *Run, dir string, reps int) error {
	meth, _ := explain.Lookup(m.Name)
	var methodTimes, runTimes []float64
	for i, label := range labels {
		xi := x[i*d : (i+1)*d]
		opt := explain.Options{Seed: 1, Samples: m.Samples, Label: explain.Class(label)}
		res, err := explain.Run(ctx, m.Name, s, xi, opt)
		if err != nil {
			return err
		}
		if res.Unit != nil {
			r.Units = append(r.Units, *res.Unit)
			opt.Neuron = res.Unit
		}
		r.Layer, r.ModelCalls = res.Layer, res.ModelCalls
		file := fmt.Sprintf("%s-%s-%d-%d.f32", r.Model, m.Name, m.Samples, i)
		if err := writeF32(filepath.Join(dir, file), attribution(s, res)); err != nil {
			return err
		}
		r.Files = append(r.Files, file)
		if res.Segments != nil {
			seg := make([]float32, len(res.Segments.Labels))
			for p, l := range res.Segments.Labels {
				seg[p] = float32(l)
			}
			file := fmt.Sprintf("%s-%s-%d-%d-segments.f32", r.Model, m.Name, m.Samples, i)
			if err := writeF32(filepath.Join(dir, file), seg); err != nil {
				return err
			}
			r.Segments = append(r.Segments, file)
		}
		for range reps {
			t0 := time.Now()
			if _, err := explain.Run(ctx, m.Name, s, xi, opt); err != nil {
				return err
			}
			runTimes = append(runTimes, time.Since(t0).Seconds())
			// The method alone, as Captum's attribute() runs.
			t0 = time.Now()
			alone := &explain.Result{Method: m.Name, Label: label, Quality: map[string]float64{}}
			if err := meth.Explain(ctx, s, xi, opt, alone); err != nil {
				return err
			}
			methodTimes = append(methodTimes, time.Since(t0).Seconds())
		}
	}
	r.MethodSeconds, r.RunSeconds = median(methodTimes), median(runTimes)
	return nil
}

// attribution is the vector compared with Captum's: per unit of a layer
// for the layer methods, per pixel (summed over channels, upsampled for
// Grad-CAM) for images, per column for tables.
func attribution(s *explain.Subject, res *explain.Result) []float32 {
	switch e := res.Details.(type) {
	case *explain.LayerAttribution:
		return e.Values
	case *explain.NeuronAttribution:
		if s.Kind == explain.Table {
			return e.Values
		}
	}
	if res.Attribution != nil {
		return res.Attribution
	}
	v := make([]float32, s.Dim())
	for _, f := range res.Top {
		v[f.Feature] = float32(f.Weight)
	}
	return v
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

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	return s[len(s)/2]
}

func writeF32(path string, v []float32) error {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return os.WriteFile(path, b, 0o644)
}

// kernel reads the kernel's release ("" elsewhere).
func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

// cpuName reads the CPU model from /proc/cpuinfo ("" elsewhere).
func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
	}
	return ""
}
