// Command train measures glassbox's training throughput side by side with
// PyTorch on the same shapes, in the same run, and prints samples/s, the
// ratio and peak memory:
//
//	go run ./bench/train                 # all models, glassbox then PyTorch
//	go run ./bench/train -models mlp,lenet -no-peer
//
// Each model trains with Adam on synthetic data (inputs from a seeded
// normal, random labels): MLP 784-256-128-10 at batch 128, LeNet-5 at
// batch 64, a CIFAR-shaped CNN (conv32-conv32-pool-conv64-conv64-pool-
// fc256-fc10 on 3×32×32) at batch 128, and a char-LSTM (embedding 64,
// hidden 256, sequence 64, vocabulary 96) at batch 64. Each round runs
// every model in glassbox and then in PyTorch (-rounds, default 3); the
// table gives the medians and the median of the paired ratios, since a
// shared machine's speed drifts. PyTorch runs in its own process (one per
// model and round) at its fastest configuration: torch.set_num_threads(2),
// OPENBLAS_NUM_THREADS=1 and the OPENBLAS_CORETYPE that trains the MLP
// (BLAS-bound, like the LSTM; convolutions run in PyTorch's oneDNN) fastest
// in a short probe of SkylakeX, Haswell, Zen and OpenBLAS's own pick
// (SkylakeX needs AVX-512 and dies with SIGILL without it, which the probe
// reports), set for that process only; -coretype skips the probe.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/bench/internal/machine"
	"github.com/glassbox-ml/glassbox/loss"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
	"github.com/glassbox-ml/glassbox/zoo"
)

type workload struct {
	name  string
	batch int
	steps int // per timed repetition
	build func() (nn.Module, *tensor.Tensor, []int, func(tp *autograd.Tape, out *autograd.Var, y []int) *autograd.Var)
}

func ce(tp *autograd.Tape, out *autograd.Var, y []int) *autograd.Var {
	return loss.CrossEntropy(tp, out, y)
}

func randLabels(n, k int, seed uint64) []int {
	rng := tensor.NewRNG(seed)
	y := make([]int, n)
	for i := range y {
		y[i] = rng.IntN(k)
	}
	return y
}

func image(name string, shape []int, batch int) func() (nn.Module, *tensor.Tensor, []int, func(*autograd.Tape, *autograd.Var, []int) *autograd.Var) {
	return func() (nn.Module, *tensor.Tensor, []int, func(*autograd.Tape, *autograd.Var, []int) *autograd.Var) {
		m, err := zoo.New(name, zoo.Config{InputShape: shape, Outputs: 10}, tensor.NewRNG(1))
		if err != nil {
			panic(err)
		}
		x := tensor.RandN(tensor.NewRNG(2), 0, 1, append([]int{batch}, shape...)...)
		return m, x, randLabels(batch, 10, 3), ce
	}
}

// recycleGrads is -recycle-grads (see train.RecycleGrads).
var recycleGrads = true

var workloads = []workload{
	{"mlp", 128, 50, image("mlp", []int{784}, 128)},
	{"lenet", 64, 30, image("lenet", []int{1, 28, 28}, 64)},
	{"cifar", 128, 4, image("cnn", []int{3, 32, 32}, 128)},
	{"lstm", 64, 4, charLSTM},
}

const vocab = 96

func charLSTM() (nn.Module, *tensor.Tensor, []int, func(*autograd.Tape, *autograd.Var, []int) *autograd.Var) {
	m, err := zoo.New("lstm-lm", zoo.Config{InputShape: []int{64}, Outputs: vocab, Vocab: vocab, Hidden: 256}, tensor.NewRNG(1))
	if err != nil {
		panic(err)
	}
	x := tensor.New(64, 64)
	for i, v := range randLabels(64*64, vocab, 4) {
		x.Data()[i] = float32(v)
	}
	y := randLabels(64*64, vocab, 5)
	lossFn := func(tp *autograd.Tape, out *autograd.Var, y []int) *autograd.Var {
		return loss.CrossEntropy(tp, tp.Reshape(out, -1, vocab), y)
	}
	return m, x, y, lossFn
}

type result struct {
	Model         string    `json:"model"`
	Batch         int       `json:"batch"`
	SamplesPerSec float64   `json:"samples_per_sec"`
	All           []float64 `json:"all"`
	PeakRSSMB     float64   `json:"peak_rss_mb"`
	// Garbage collection over the timed steps (glassbox only).
	AllocMBPerStep float64 `json:"alloc_mb_per_step,omitempty"`
	GCPerStep      float64 `json:"gc_per_step,omitempty"`
	GCPauseShare   float64 `json:"gc_pause_share,omitempty"`
}

func measure(w workload, reps int) result {
	m, x, y, lossFn := w.build()
	opt, err := optim.NewAdam(m.Params(), 1e-3)
	if err != nil {
		panic(err)
	}
	tp := autograd.NewTape()
	rng := tensor.NewRNG(9)
	step := func() {
		c := &nn.Ctx{Tape: tp, Training: true, RNG: rng}
		out := m.Forward(c, autograd.Const(x))
		l := lossFn(tp, out, y)
		if recycleGrads {
			train.RecycleGrads(m.Params()) // as train.Fit does
		}
		opt.ZeroGrad()
		if err := tp.Backward(l); err != nil {
			panic(err)
		}
		if err := opt.Step(); err != nil {
			panic(err)
		}
		tp.Release() // as train.Fit does: the step's memory is reused
	}
	for i := 0; i < max(2, w.steps/4); i++ {
		step()
	}
	var rates []float64
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t00 := time.Now()
	for r := 0; r < reps; r++ {
		t0 := time.Now()
		for i := 0; i < w.steps; i++ {
			step()
		}
		rates = append(rates, float64(w.batch*w.steps)/time.Since(t0).Seconds())
	}
	elapsed := time.Since(t00)
	runtime.ReadMemStats(&after)
	steps := float64(reps * w.steps)
	return result{Model: w.name, Batch: w.batch, SamplesPerSec: median(rates), All: rates, PeakRSSMB: peakRSS(),
		AllocMBPerStep: float64(after.TotalAlloc-before.TotalAlloc) / steps / (1 << 20),
		GCPerStep:      float64(after.NumGC-before.NumGC) / steps,
		GCPauseShare:   float64(after.PauseTotalNs-before.PauseTotalNs) / float64(elapsed.Nanoseconds())}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// resetPeakRSS returns freed memory to the OS and resets the process's
// resident high-water mark (writing 5 to /proc/self/clear_refs, Linux ≥
// 4.0), so each workload reports its own peak, not the largest so far.
func resetPeakRSS() {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS reads the process's high-water resident memory from /proc.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(line[6:]), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

func main() {
	models := flag.String("models", "mlp,lenet,cifar,lstm", "comma-separated workloads")
	reps := flag.Int("reps", 5, "timed repetitions per model (the median is reported)")
	noPeer := flag.Bool("no-peer", false, "skip PyTorch")
	rounds := flag.Int("rounds", 3, "rounds of glassbox-then-PyTorch pairs per model (medians are reported)")
	coretype := flag.String("coretype", "probe", "OPENBLAS_CORETYPE for the PyTorch process (probe: the fastest on the MLP; empty: OpenBLAS's own pick)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of glassbox's runs to this file")
	flag.BoolVar(&recycleGrads, "recycle-grads", true, "hand the parameters' gradients back before each step's backward pass, as train.Fit does")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	want := strings.Split(*models, ",")
	fmt.Println(machine.Describe())
	fmt.Printf("glassbox: kernel %q, %d threads, %s/%s\n", tensor.KernelName(), tensor.Threads(), runtime.GOOS, runtime.GOARCH)
	// Each round measures every model in glassbox and then, right after,
	// in PyTorch, so the two of a pair see the same machine: on a shared
	// machine the speed drifts by tens of percent over a minute. The table
	// gives medians over the rounds and the median of the paired ratios.
	ours := map[string][]result{}
	peer := map[string][]result{}
	ratios := map[string][]float64{}
	peerOK := !*noPeer
	if peerOK && *coretype == "probe" {
		*coretype = probeCoretype()
	}
	for round := 1; round <= *rounds; round++ {
		for _, w := range workloads {
			if !contains(want, w.name) {
				continue
			}
			resetPeakRSS()
			r := measure(w, *reps)
			ours[w.name] = append(ours[w.name], r)
			fmt.Printf("  round %d glassbox %-6s %9.0f samples/s (peak RSS %.0f MB; %.1f MB allocated and %.2f GC cycles per step, GC pauses %.2f%% of the time)\n",
				round, w.name, r.SamplesPerSec, r.PeakRSSMB, r.AllocMBPerStep, r.GCPerStep, 100*r.GCPauseShare)
			if !peerOK {
				continue
			}
			pr, err := runTorch([]string{w.name}, *coretype, round == 1)
			if err != nil {
				fmt.Fprintf(os.Stderr, "PyTorch peer: %v (install with: apt-get install -y python3-torch)\n", err)
				peerOK = false
				continue
			}
			if p, ok := pr[w.name]; ok {
				peer[w.name] = append(peer[w.name], p)
				ratios[w.name] = append(ratios[w.name], r.SamplesPerSec/p.SamplesPerSec)
				fmt.Printf("  round %d pytorch  %-6s %9.0f samples/s (peak RSS %.0f MB), ratio %.2f\n", round, w.name, p.SamplesPerSec, p.PeakRSSMB, r.SamplesPerSec/p.SamplesPerSec)
			}
		}
	}
	fmt.Printf("\nmedians over %d round(s)\n%-8s %7s %14s %14s %8s %12s %12s\n", *rounds, "model", "batch", "glassbox/s", "pytorch/s", "ratio", "gb peak MB", "pt peak MB")
	for _, w := range workloads {
		o, ok := ours[w.name]
		if !ok {
			continue
		}
		gs, gm := medianOf(o)
		p, ok := peer[w.name]
		if !ok {
			fmt.Printf("%-8s %7d %14.0f %14s %8s %12.0f %12s\n", w.name, w.batch, gs, "-", "-", gm, "-")
			continue
		}
		ps, pm := medianOf(p)
		fmt.Printf("%-8s %7d %14.0f %14.0f %8.2f %12.0f %12.0f\n", w.name, w.batch, gs, ps, median(ratios[w.name]), gm, pm)
	}
}

// medianOf returns the median samples/s of results from several rounds
// and the first round's peak memory: in later rounds the glassbox process
// still holds scratch buffers of the larger models run before.
func medianOf(rs []result) (samplesPerSec, peakMB float64) {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = r.SamplesPerSec
	}
	return median(v), rs[0].PeakRSSMB
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// probeCoretype trains PyTorch's MLP with each OPENBLAS_CORETYPE candidate
// and returns the fastest ("" is OpenBLAS's own choice for this CPU).
func probeCoretype() string {
	best, bestRate := "", 0.0
	var report []string
	for _, ct := range []string{"SkylakeX", "Haswell", "Zen", ""} {
		name := ct
		if name == "" {
			name = "(unset)"
		}
		r, err := runTorch([]string{"mlp"}, ct, false)
		if err != nil {
			report = append(report, fmt.Sprintf("%s: failed (%v)", name, err))
			continue
		}
		rate := r["mlp"].SamplesPerSec
		report = append(report, fmt.Sprintf("%s: %.0f", name, rate))
		if rate > bestRate {
			best, bestRate = ct, rate
		}
	}
	fmt.Printf("OPENBLAS_CORETYPE probe (PyTorch MLP samples/s): %s; using %q\n", strings.Join(report, ", "), best)
	return best
}

// runTorch runs the PyTorch script and collects its JSON lines.
func runTorch(models []string, coretype string, printInfo bool) (map[string]result, error) {
	cmd := exec.Command("/usr/bin/python3", "bench/train/torch_train.py", "2", strings.Join(models, ","))
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1")
	if coretype != "" {
		cmd.Env = append(cmd.Env, "OPENBLAS_CORETYPE="+coretype)
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	res := map[string]result{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Bytes()
		var info struct{ Info json.RawMessage }
		if json.Unmarshal(line, &info) == nil && info.Info != nil {
			if printInfo {
				fmt.Printf("pytorch: %s\n", info.Info)
			}
			continue
		}
		var r result
		if err := json.Unmarshal(line, &r); err == nil && r.Model != "" {
			res[r.Model] = r
			fmt.Printf("  pytorch  %-6s %9.0f samples/s (peak RSS %.0f MB)\n", r.Model, r.SamplesPerSec, r.PeakRSSMB)
		}
	}
	return res, cmd.Wait()
}
