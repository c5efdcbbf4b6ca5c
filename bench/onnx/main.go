// Command onnx runs glassbox's ONNX importer side by side with PyTorch,
// onnxruntime and Captum on the same exported models, and checks that
// glassbox's own exports pass onnx.checker and load in onnxruntime:
//
//	go run ./bench/onnx                        # models in bench/out/onnx, made if missing
//	go run ./bench/onnx -models DIR -rounds 3
//	go run ./bench/onnx -no-peer               # glassbox only (still checks answers)
//
// The models are ResNet-18 and MobileNetV2 (torchvision, 3×224×224) and a
// GRU text classifier (embedding 64, GRU 128, 64 tokens, 4 classes), with
// random weights from torch.manual_seed(0), exported by
// bench/onnx/export_models.py (Debian's python3-torch) with torch.onnx.export
// at opset 13 together with PyTorch's outputs, input gradients and
// integrated-gradients attributions on fixed inputs. glassbox reads each
// file with onnx.ReadFile, imports it with onnx.Import and
//
//   - compares its outputs with PyTorch's, its input gradients
//     (explain/adapt.Grad) with torch.autograd's, and its integrated
//     gradients (explain.IntegratedGradients, 50 Gauss–Legendre steps from a
//     zero baseline) with the same computed in PyTorch, on each of the
//     fixed examples: a mean over them within 1e-3 of the largest
//     attribution passes, or, float32 being noisy on ReLU networks, one no
//     further from the float64 answer than PyTorch's float32 one (× 1.5);
//   - times inference at batch 1 and 32 and integrated gradients, in rounds:
//     each round times a model in glassbox and right after in PyTorch
//     (bench/onnx/torch_bench.py: eager or frozen TorchScript, whichever is
//     faster), onnxruntime (bench/onnx/ort.mjs, node and onnxruntime-node)
//     and Captum's IntegratedGradients (bench/onnx/captum_ig.py, vendored
//     Captum), so each pair sees the same machine; the table gives medians
//     over the rounds and the median of the paired ratios.
//
// Text models' gradients are taken with respect to the embedded tokens:
// the GRU classifier is exported a second time without its embedding
// (gru_emb), whose input is the embedding of the fixed token ids.
//
// The peers run at their best with glassbox's thread count:
// torch.set_num_threads (with OPENBLAS_NUM_THREADS=1 for its BLAS, which
// must be OpenBLAS: Debian's torch otherwise runs Linear and GRU on the
// reference BLAS; the PyTorch line says which it loaded), onnxruntime's
// intraOpNumThreads with all graph optimisations.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/glassbox-ml/glassbox/bench/internal/machine"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/adapt"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/onnx"
	"github.com/glassbox-ml/glassbox/tensor"
)

// entry is one model of export_models.py's manifest.json.
type entry struct {
	ONNX    string         `json:"onnx"`
	Shape   []int          `json:"shape"`
	Dtype   string         `json:"dtype"`
	Classes int            `json:"classes"`
	Label   int            `json:"label"`
	Ops     map[string]int `json:"ops"`
	X       string         `json:"x"`
	Y       string         `json:"y"`
	Grad    string         `json:"grad"`
	IG      string         `json:"ig"`
	Grad64  string         `json:"grad64"`
	IG64    string         `json:"ig64"`
	IGSum   float64        `json:"ig_sum"`
	IGDelta float64        `json:"ig_delta"`
	// GradExamples is how many examples (the first of X) the gradient
	// files hold, one after another; absent in older manifests: 1.
	GradExamples int `json:"grad_examples"`
}

type manifest struct {
	Torch       string           `json:"torch"`
	Torchvision string           `json:"torchvision"`
	Opset       int              `json:"opset"`
	IGSteps     int              `json:"ig_steps"`
	IGMethod    string           `json:"ig_method"`
	Examples    int              `json:"examples"`
	Models      map[string]entry `json:"models"`
}

// The benchmark's models: inference runs on the first three, gradients and
// integrated gradients on the float-input ones (gru_emb stands for gru).
var (
	inferModels = []string{"resnet18", "mobilenet_v2", "gru"}
	gradModels  = map[string]string{"resnet18": "resnet18", "mobilenet_v2": "mobilenet_v2", "gru": "gru_emb"}
)

// igTolerance is the largest accepted max |glassbox − reference| /
// max |reference| of integrated-gradients attributions.
const igTolerance = 1e-3

type config struct {
	dir, python, coretype, ortDir, scripts string
	rounds, reps                           int
	minTime                                time.Duration
	batches                                []int
	threads                                int
	torch, ort, captum                     bool
}

func main() {
	dir := flag.String("models", filepath.Join("bench", "out", "onnx"), "folder of the exported models (made by export_models.py when it has no manifest.json)")
	names := flag.String("names", strings.Join(inferModels, ","), "models to run: resnet18, mobilenet_v2, gru")
	rounds := flag.Int("rounds", 3, "rounds of glassbox-then-peers pairs (medians are reported)")
	reps := flag.Int("reps", 3, "timed repetitions per measurement (the median is taken)")
	minTime := flag.Duration("min-time", 300*time.Millisecond, "a repetition repeats the call until this long has passed")
	batchList := flag.String("batches", "1,32", "inference batch sizes")
	python := flag.String("python", "/usr/bin/python3", "python with torch, torchvision (and onnx for the checker)")
	coretype := flag.String("coretype", "", "OPENBLAS_CORETYPE for the PyTorch processes (default: OpenBLAS's own pick for this CPU)")
	ortDir := flag.String("ort-dir", defaultOrtDir(), "folder where `npm install --ignore-scripts onnxruntime-node` ran")
	noPeer := flag.Bool("no-peer", false, "time glassbox only")
	noTorch := flag.Bool("no-torch", false, "skip PyTorch inference")
	noOrt := flag.Bool("no-ort", false, "skip onnxruntime")
	noCaptum := flag.Bool("no-captum", false, "skip Captum")
	noExport := flag.Bool("no-export-check", false, "skip checking glassbox's own exports with onnx.checker and onnxruntime")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of this process (glassbox's side; the peers are other processes) to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fail("%v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail("%v", err)
		}
		defer pprof.StopCPUProfile()
	}
	cfg := config{dir: *dir, python: *python, coretype: *coretype, ortDir: *ortDir, rounds: *rounds, reps: *reps,
		minTime: *minTime, threads: tensor.Threads(), scripts: scriptDir(),
		torch: !*noPeer && !*noTorch, ort: !*noPeer && !*noOrt, captum: !*noPeer && !*noCaptum}
	for _, s := range strings.Split(*batchList, ",") {
		var b int
		if _, err := fmt.Sscan(s, &b); err != nil || b < 1 {
			fail("-batches: %q is not a positive batch size", s)
		}
		cfg.batches = append(cfg.batches, b)
	}
	if cfg.rounds < 1 || cfg.reps < 1 {
		fail("-rounds and -reps must be ≥ 1")
	}
	want := strings.Split(*names, ",")
	for _, n := range want {
		if !slices.Contains(inferModels, n) {
			fail("-names: unknown model %q; the models are %s", n, strings.Join(inferModels, ", "))
		}
	}

	fmt.Println(machine.Describe())
	fmt.Printf("glassbox: kernel %q, %d threads (GOMAXPROCS %d), %s/%s, %s\n", tensor.KernelName(), cfg.threads, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())

	man, err := ensureModels(cfg)
	if err != nil {
		fail("%v", err)
	}
	fmt.Printf("models: %s (PyTorch %s, torchvision %s, opset %d)\n", cfg.dir, man.Torch, man.Torchvision, man.Opset)
	if cfg.ort {
		if _, err := os.Stat(filepath.Join(cfg.ortDir, "node_modules", "onnxruntime-node")); err != nil {
			fmt.Printf("onnxruntime: not installed in %s; skipped. Install it with:\n  mkdir -p %s && cd %s && npm install --ignore-scripts --no-save onnxruntime-node\n", cfg.ortDir, cfg.ortDir, cfg.ortDir)
			cfg.ort = false
		}
	}

	// Import, and check the answers.
	mods := map[string]*onnx.Module{}
	fmt.Printf("\nimport and agreement with PyTorch (errors: max |glassbox − torch|, and that over max |torch|)\n")
	for _, name := range want {
		for _, n := range dedup(name, gradModels[name]) {
			e := man.Models[n]
			m, err := load(cfg.dir, e)
			if err != nil {
				fmt.Printf("  %-13s import FAILED: %v\n", n, err)
				continue
			}
			mods[n] = m
			checkModel(cfg.dir, n, e, m, man)
		}
	}

	// Timing.
	res := timeAll(cfg, man, mods, want)
	printTable(cfg, res, want)

	if !*noExport {
		exportCheck(cfg)
	}
	fmt.Printf("\nload average at the end: %s\n", machine.LoadAvg())
}

func dedup(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench/onnx: "+format+"\n", args...)
	os.Exit(1)
}

// scriptDir locates this folder (the Python and node scripts), whether run
// from the repository root or from bench/onnx.
func scriptDir() string {
	for _, p := range []string{filepath.Join("bench", "onnx"), "."} {
		if _, err := os.Stat(filepath.Join(p, "export_models.py")); err == nil {
			return p
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		return filepath.Dir(file)
	}
	return filepath.Join("bench", "onnx")
}

func defaultOrtDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "glassbox", "onnxruntime-node")
	}
	return filepath.Join(os.TempDir(), "glassbox-onnxruntime-node")
}

// ensureModels runs export_models.py unless the folder has a manifest.
func ensureModels(cfg config) (*manifest, error) {
	path := filepath.Join(cfg.dir, "manifest.json")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		fmt.Printf("exporting the models with PyTorch into %s (a few minutes)...\n", cfg.dir)
		cmd := exec.Command(cfg.python, filepath.Join(cfg.scripts, "export_models.py"), cfg.dir)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("export_models.py: %v (it needs Debian's python3-torch and python3-torchvision: apt-get install -y python3-torch python3-torchvision python3-onnx)", err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &m, nil
}

func load(dir string, e entry) (*onnx.Module, error) {
	m, err := onnx.ReadFile(filepath.Join(dir, e.ONNX), onnx.ReadOptions{})
	if err != nil {
		return nil, err
	}
	return onnx.Import(m, onnx.ImportOptions{Frozen: true}) // as predictor.LoadONNX opens it
}

func readF32(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%s: %d bytes is not a whole number of float32", path, len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

func writeF32(path string, v []float32) error {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return os.WriteFile(path, b, 0o644)
}

// errs returns max |got − want| and that over max |want|.
func errs(got, want []float32) (abs, rel float64) {
	if len(got) != len(want) {
		return math.Inf(1), math.Inf(1)
	}
	var ref float64
	for i := range want {
		abs = math.Max(abs, math.Abs(float64(got[i])-float64(want[i])))
		ref = math.Max(ref, math.Abs(float64(want[i])))
	}
	return abs, abs / math.Max(ref, 1e-30)
}

// checkModel compares glassbox's outputs, input gradients and integrated
// gradients with PyTorch's.
func checkModel(dir, name string, e entry, m *onnx.Module, man *manifest) {
	x, err := readF32(filepath.Join(dir, e.X))
	y, err2 := readF32(filepath.Join(dir, e.Y))
	if err = errors.Join(err, err2); err != nil {
		fmt.Printf("  %-13s %v\n", name, err)
		return
	}
	d := tensor.Numel(e.Shape)
	n := len(x) / d
	var out *tensor.Tensor
	if err := tensor.Catch(func() {
		out = m.Forward(nn.Eval(), autograd.Const(tensor.MustFromSlice(x, append([]int{n}, e.Shape...)...))).Value
	}); err != nil {
		fmt.Printf("  %-13s forward FAILED: %v\n", name, err)
		return
	}
	abs, rel := errs(out.Data(), y)
	fmt.Printf("  %-13s %d nodes; outputs (%d examples × %d): %.2g, %.2g %s\n", name, len(m.Model().Graph.Nodes), n, e.Classes, abs, rel, verdict(rel <= 1e-4))
	if e.Grad == "" {
		return
	}
	nex := max(1, min(e.GradExamples, n))
	gf := adapt.Grad(m, e.Shape, false)
	var grads, igs [][]float32
	for k := 0; k < nex; k++ {
		xk := x[k*d : (k+1)*d]
		_, g, err := gf(context.Background(), xk, 1, e.Label)
		if err != nil {
			fmt.Printf("  %-13s input gradient FAILED: %v\n", name, err)
			return
		}
		ig, err := explain.IntegratedGradients(context.Background(), gf, xk, nil, e.Label, explain.IGOptions{
			Steps: man.IGSteps, Method: explain.IGMethod(man.IGMethod)})
		if err != nil {
			fmt.Printf("  %-13s integrated gradients FAILED: %v\n", name, err)
			return
		}
		if k == 0 {
			defer fmt.Printf("  %-13s   example 0: Σ attributions %.4g (PyTorch %.4g), f(x) − f(0) %.4g (PyTorch %.4g)\n", "", ig.Completeness.Sum, e.IGSum, ig.Completeness.Delta, e.IGDelta)
		}
		grads, igs = append(grads, g), append(igs, ig.Values)
	}
	compareAttr(dir, fmt.Sprintf("input gradient of output %d vs torch.autograd", e.Label), grads, e.Grad, e.Grad64)
	compareAttr(dir, fmt.Sprintf("integrated gradients (%d-step %s, zero baseline) vs PyTorch", man.IGSteps, man.IGMethod), igs, e.IG, e.IG64)
}

// compareAttr prints how far glassbox's attributions got (one per
// example) are from PyTorch's float32 ones (file ref, the examples one
// after another), and, when the float64 ones (ref64) are there, how far
// each is from those, example by example. Passing means the mean over
// the examples of max |diff| / max |PyTorch| is within igTolerance, or
// glassbox's mean distance to the float64 answer is no more than
// PyTorch float32's (× 1.5): gradients of ReLU networks are noisy at
// float32, since a unit whose input rounds to the other side of zero
// flips its mask, and which units flip changes from one implementation
// and one example to the next (on ResNet-18 glassbox's integrated
// gradients were 0.0040 from float64 on the first example and
// 0.0017–0.0026 on the others, PyTorch's 0.0022 and 0.0015–0.0023; its
// input gradients are within 2e-6 on two examples and 0.5–1% off on the
// two where units flip). The mean, not the median: with half the
// examples free of flips the median of four is half noise, half zero.
func compareAttr(dir, what string, got [][]float32, ref, ref64 string) {
	want, err := readF32(filepath.Join(dir, ref))
	if err != nil {
		fmt.Printf("  %-13s %s: %v\n", "", what, err)
		return
	}
	want64, err64 := readF32(filepath.Join(dir, ref64))
	has64 := ref64 != "" && err64 == nil
	var rels, gb64s, pt64s []float64
	line := fmt.Sprintf("  %-13s %s:", "", what)
	for k, g := range got {
		d := len(g)
		if len(want) < (k+1)*d || has64 && len(want64) < (k+1)*d {
			fmt.Printf("%s example %d missing from %s\n", line, k, ref)
			return
		}
		w := want[k*d : (k+1)*d]
		_, rel := errs(g, w)
		rels = append(rels, rel)
		line += fmt.Sprintf("\n  %-13s   example %d: %.2g (L2 %.2g)", "", k, rel, l2rel(g, w))
		if has64 {
			w64 := want64[k*d : (k+1)*d]
			_, gb := errs(g, w64)
			_, pt := errs(w, w64)
			gb64s, pt64s = append(gb64s, gb), append(pt64s, pt)
			line += fmt.Sprintf("; vs float64: glassbox %.2g (L2 %.2g), PyTorch float32 %.2g (L2 %.2g)", gb, l2rel(g, w64), pt, l2rel(w, w64))
		}
	}
	ok := mean(rels) <= igTolerance
	line += fmt.Sprintf("\n  %-13s   mean over %d: %.2g", "", len(got), mean(rels))
	if has64 {
		line += fmt.Sprintf("; vs float64 glassbox %.2g, PyTorch float32 %.2g", mean(gb64s), mean(pt64s))
		if !ok && mean(gb64s) <= 1.5*mean(pt64s) {
			fmt.Println(line + " ok: within float32 noise")
			return
		}
	}
	fmt.Println(line + " " + verdict(ok))
}

// l2rel is ‖got − want‖₂ / ‖want‖₂.
func l2rel(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num / math.Max(den, 1e-300))
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "DIFFERS"
}

// batchOf repeats the fixed examples to b rows, as every side does.
func batchOf(x []float32, shape []int, b int) *tensor.Tensor {
	d := tensor.Numel(shape)
	v := make([]float32, b*d)
	for i := range v {
		v[i] = x[i%len(x)]
	}
	return tensor.MustFromSlice(v, append([]int{b}, shape...)...)
}

// perCall times fn: one warm-up call, then reps repetitions, each calling
// fn until minTime has passed; it returns the median seconds per call.
func perCall(fn func() error, reps int, minTime time.Duration) (float64, error) {
	if err := fn(); err != nil {
		return 0, err
	}
	var times []float64
	for range reps {
		n, t0 := 0, time.Now()
		var dt time.Duration
		for {
			if err := fn(); err != nil {
				return 0, err
			}
			n++
			if dt = time.Since(t0); dt >= minTime {
				break
			}
		}
		times = append(times, dt.Seconds()/float64(n))
	}
	return median(times), nil
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// A task is one timed row of the table: inference at a batch size or
// integrated gradients.
type task struct {
	model string
	batch int // 0: integrated gradients
}

func (t task) String() string {
	if t.batch == 0 {
		return t.model + " IG"
	}
	return fmt.Sprintf("%s b%d", t.model, t.batch)
}

// sample is one round's seconds per call of each side ("glassbox",
// "pytorch", "onnxruntime", "captum"); forms records which PyTorch form
// was the faster.
type results struct {
	secs  map[task]map[string][]float64
	ratio map[task]map[string][]float64 // peer seconds / glassbox seconds, per round
	forms map[task][]string
}

func (r *results) add(t task, side string, sec float64) {
	if r.secs[t] == nil {
		r.secs[t] = map[string][]float64{}
	}
	r.secs[t][side] = append(r.secs[t][side], sec)
}

// pair records a peer's time in the round whose glassbox time is last.
func (r *results) pair(t task, side string, sec float64) {
	r.add(t, side, sec)
	gb := r.secs[t]["glassbox"]
	if len(gb) == 0 || math.IsNaN(gb[len(gb)-1]) {
		return
	}
	if r.ratio[t] == nil {
		r.ratio[t] = map[string][]float64{}
	}
	r.ratio[t][side] = append(r.ratio[t][side], sec/gb[len(gb)-1])
}

func timeAll(cfg config, man *manifest, mods map[string]*onnx.Module, want []string) *results {
	r := &results{secs: map[task]map[string][]float64{}, ratio: map[task]map[string][]float64{}, forms: map[task][]string{}}
	fmt.Printf("\ntiming: %d round(s) of glassbox then its peers; a measurement is the median of %d repetitions of ≥ %v\n", cfg.rounds, cfg.reps, cfg.minTime)
	printed := map[string]bool{}
	for round := 1; round <= cfg.rounds; round++ {
		for _, name := range want {
			gname := gradModels[name]
			// glassbox
			if m := mods[name]; m != nil {
				e := man.Models[name]
				x, _ := readF32(filepath.Join(cfg.dir, e.X))
				for _, b := range cfg.batches {
					in := autograd.Const(batchOf(x, e.Shape, b))
					sec, err := perCall(func() error {
						return tensor.Catch(func() { m.Forward(nn.Eval(), in) })
					}, cfg.reps, cfg.minTime)
					report(r, round, task{name, b}, "glassbox", sec, err)
				}
			}
			if m := mods[gname]; m != nil {
				e := man.Models[gname]
				x, _ := readF32(filepath.Join(cfg.dir, e.X))
				x0 := x[:tensor.Numel(e.Shape)]
				gf := adapt.Grad(m, e.Shape, false)
				opt := explain.IGOptions{Steps: man.IGSteps, Method: explain.IGMethod(man.IGMethod)}
				sec, err := perCall(func() error {
					_, err := explain.IntegratedGradients(context.Background(), gf, x0, nil, e.Label, opt)
					return err
				}, cfg.reps, cfg.minTime)
				report(r, round, task{name, 0}, "glassbox", sec, err)
			}
			// peers
			if cfg.torch {
				lines, err := runPeer(cfg, "pytorch", exec.Command(cfg.python, filepath.Join(cfg.scripts, "torch_bench.py"), cfg.dir,
					fmt.Sprint(cfg.threads), name, joinInts(cfg.batches), fmt.Sprint(cfg.reps), fmt.Sprint(cfg.minTime.Seconds())), printed)
				if err != nil {
					fmt.Printf("  PyTorch: %v; skipped from now on\n", err)
					cfg.torch = false
				}
				best := map[int]struct {
					sec  float64
					form string
				}{}
				for _, l := range lines {
					var p struct {
						Model   string
						Batch   int
						Form    string
						Seconds float64
					}
					if json.Unmarshal(l, &p) != nil || p.Model != name {
						continue
					}
					if b, ok := best[p.Batch]; !ok || p.Seconds < b.sec {
						best[p.Batch] = struct {
							sec  float64
							form string
						}{p.Seconds, p.Form}
					}
				}
				for _, b := range cfg.batches {
					if p, ok := best[b]; ok {
						t := task{name, b}
						r.forms[t] = append(r.forms[t], p.form)
						reportPeer(r, round, t, "pytorch", p.sec, " ("+p.form+")")
					}
				}
			}
			if cfg.ort {
				cmd := exec.Command("node", filepath.Join(cfg.scripts, "ort.mjs"), "bench", cfg.dir, fmt.Sprint(cfg.threads), name,
					joinInts(cfg.batches), fmt.Sprint(cfg.reps), fmt.Sprint(cfg.minTime.Seconds()))
				lines, err := runPeer(cfg, "onnxruntime", cmd, printed)
				if err != nil {
					fmt.Printf("  onnxruntime: %v; skipped from now on\n", err)
					cfg.ort = false
				}
				for _, l := range lines {
					var p struct {
						Model   string
						Batch   int
						Seconds float64
						Check   *struct {
							MaxAbsErr float64 `json:"max_abs_err"`
							RelErr    float64 `json:"rel_err"`
						}
					}
					if json.Unmarshal(l, &p) != nil || p.Model != name {
						continue
					}
					if p.Check != nil {
						if round == 1 {
							fmt.Printf("  onnxruntime %s outputs vs PyTorch: %.2g, %.2g %s\n", name, p.Check.MaxAbsErr, p.Check.RelErr, verdict(p.Check.RelErr <= 1e-4))
						}
						continue
					}
					reportPeer(r, round, task{name, p.Batch}, "onnxruntime", p.Seconds, "")
				}
			}
			if cfg.captum && man.Models[gname].IG != "" {
				lines, err := runPeer(cfg, "captum", exec.Command(cfg.python, filepath.Join(cfg.scripts, "captum_ig.py"), cfg.dir,
					fmt.Sprint(cfg.threads), gname, fmt.Sprint(cfg.reps), fmt.Sprint(cfg.minTime.Seconds())), printed)
				if err != nil {
					fmt.Printf("  Captum: %v; skipped from now on\n", err)
					cfg.captum = false
				}
				for _, l := range lines {
					var p struct {
						Model   string
						Seconds float64
						Rel     float64 `json:"rel_err_vs_reference"`
					}
					if json.Unmarshal(l, &p) != nil || p.Model != gname {
						continue
					}
					reportPeer(r, round, task{name, 0}, "captum", p.Seconds, fmt.Sprintf(" (its attributions vs the reference: %.2g)", p.Rel))
				}
			}
		}
	}
	return r
}

func report(r *results, round int, t task, side string, sec float64, err error) {
	if err != nil {
		fmt.Printf("  round %d %-9s %-20s FAILED: %v\n", round, side, t, err)
		r.add(t, side, math.NaN())
		return
	}
	fmt.Printf("  round %d %-11s %-20s %10.2f ms\n", round, side, t, 1e3*sec)
	r.add(t, side, sec)
}

func reportPeer(r *results, round int, t task, side string, sec float64, note string) {
	r.pair(t, side, sec)
	ratio := ""
	if rs := r.ratio[t][side]; len(rs) > 0 && len(r.secs[t][side]) == len(r.secs[t]["glassbox"]) {
		ratio = fmt.Sprintf(", glassbox %.2f× its speed", rs[len(rs)-1])
	}
	fmt.Printf("  round %d %-11s %-20s %10.2f ms%s%s\n", round, side, t, 1e3*sec, ratio, note)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

// runPeer runs a peer script and returns its JSON lines; an "info" line is
// printed the first time each peer reports it.
func runPeer(cfg config, peer string, cmd *exec.Cmd, printed map[string]bool) ([][]byte, error) {
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1", "GLASSBOX_ORT_DIR="+cfg.ortDir)
	if cfg.coretype != "" {
		cmd.Env = append(cmd.Env, "OPENBLAS_CORETYPE="+cfg.coretype)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var lines [][]byte
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := slices.Clone(sc.Bytes())
		var info struct{ Info json.RawMessage }
		if json.Unmarshal(l, &info) == nil && info.Info != nil {
			if !printed[peer] {
				fmt.Printf("  %s: %s\n", peer, info.Info)
				printed[peer] = true
			}
			continue
		}
		lines = append(lines, l)
	}
	if err := cmd.Wait(); err != nil {
		return lines, fmt.Errorf("%v: %s", err, lastLines(stderr.String(), 5))
	}
	return lines, nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}

func printTable(cfg config, r *results, want []string) {
	fmt.Printf("\nmedians over %d round(s), ms per call (per explanation for IG); ratio = peer time / glassbox time, the median of the paired rounds (above 1: glassbox faster)\n", cfg.rounds)
	fmt.Printf("targets: inference ≥ 1.0 vs PyTorch and ≥ 0.7 vs onnxruntime; IG ≥ 1.0 vs Captum\n\n")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "task\tglassbox\tpytorch\tonnxruntime\tcaptum\tvs pytorch\tvs onnxruntime\tvs captum\tpytorch form\t")
	for _, name := range want {
		ts := []task{}
		for _, b := range cfg.batches {
			ts = append(ts, task{name, b})
		}
		ts = append(ts, task{name, 0})
		for _, t := range ts {
			s := r.secs[t]
			if s == nil {
				continue
			}
			cell := func(side string) string {
				v := s[side]
				if len(v) == 0 {
					return "-"
				}
				return fmt.Sprintf("%.2f", 1e3*median(v))
			}
			rat := func(side string) string {
				v := r.ratio[t][side]
				if len(v) == 0 {
					return "-"
				}
				return fmt.Sprintf("%.2f", median(v))
			}
			form := "-"
			if f := r.forms[t]; len(f) > 0 {
				form = strings.Join(f, "/")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", t, cell("glassbox"), cell("pytorch"), cell("onnxruntime"), cell("captum"),
				rat("pytorch"), rat("onnxruntime"), rat("captum"), form)
		}
	}
	tw.Flush()
}
