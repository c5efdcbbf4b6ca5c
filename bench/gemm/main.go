// Command gemm measures glassbox's SGEMM (tensor.Sgemm) against numpy's
// float32 matmul (OpenBLAS) on the same machine in the same run, and prints
// median GFLOP/s for both and their ratio, each as a fraction of the CPU's
// FMA peak, and glassbox's scaling from 1 thread to all at 1024³.
//
//	go run ./bench/gemm                 # the best kernel the CPU allows (AVX-512, else AVX2)
//	GLASSBOX_KERNEL=avx2 go run ./bench/gemm -coretype Haswell   # AVX2 against OpenBLAS's AVX2 kernel
//	go run -tags purego ./bench/gemm    # the pure-Go fallback
//
// numpy runs as a child process (/usr/bin/python3 bench/gemm/numpy_gemm.py)
// with OPENBLAS_NUM_THREADS set to glassbox's thread count. OpenBLAS is run
// at its best: each OPENBLAS_CORETYPE candidate (SkylakeX, Haswell, Zen and
// the library's own choice) is tried in a short probe, the ones that crash
// (SkylakeX needs AVX-512) are dropped and the fastest is kept. These
// variables are set for the child only. Rounds alternate glassbox and numpy
// so that noise from other work on the machine falls on both, and the ratio
// is the median of the rounds' ratios (each round's glassbox median over
// numpy's, seconds apart), as bench/train and bench/onnx pair theirs: a
// busy stretch then costs one round's ratio, not the whole median.
//
// The peak is measured, not computed from a clock: a register-only loop of
// independent FMAs (AVX-512 and AVX2, whichever the CPU has) on 1 thread
// and on glassbox's thread count, best of three. Each figure's "% peak" is
// against the peak of the instructions its kernel uses: glassbox's by its
// kernel name, numpy's by its OpenBLAS coretype (SkylakeX: AVX-512).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/glassbox-ml/glassbox/bench/internal/machine"
	"github.com/glassbox-ml/glassbox/tensor"
)

type shape struct {
	name    string
	m, k, n int
}

var shapes = []shape{
	{"n=256", 256, 256, 256},
	{"n=512", 512, 512, 512},
	{"n=1024", 1024, 1024, 1024},
	{"mlp 128x784x256", 128, 784, 256},
	{"mlp 128x256x128", 128, 256, 128},
}

type peerResult struct {
	Architecture string `json:"architecture"`
	Library      string `json:"library"`
	Threads      int    `json:"threads"`
	Numpy        string `json:"numpy"`
	Results      []struct {
		M, K, N int
		Gflops  []float64 `json:"gflops"`
	} `json:"results"`
}

func main() {
	rounds := flag.Int("rounds", 3, "rounds; each times glassbox then numpy (the ratio is the median of the rounds')")
	reps := flag.Int("reps", 5, "timed repetitions per shape per round")
	minTime := flag.Duration("min-time", 100*time.Millisecond, "minimum duration of one repetition")
	python := flag.String("python", "/usr/bin/python3", "python interpreter with numpy")
	script := flag.String("script", "", "path of numpy_gemm.py (default: next to this source, bench/gemm/numpy_gemm.py)")
	noPeer := flag.Bool("no-peer", false, "time glassbox only")
	forceCore := flag.String("coretype", "", "OPENBLAS_CORETYPE for numpy (e.g. Haswell, to compare the AVX2 kernel with OpenBLAS's AVX2 one); default: probe and take the fastest")
	scaling := flag.Bool("scaling", true, "each round also times 1024³ on one thread (the scaling line)")
	flag.Parse()
	if *rounds < 1 || *reps < 1 {
		fmt.Fprintln(os.Stderr, "gemm: -rounds and -reps must be ≥ 1")
		os.Exit(2)
	}
	if *script == "" {
		*script = findScript()
	}
	threads := tensor.Threads()
	fmt.Printf("glassbox: kernel %q, %d threads (GOMAXPROCS %d), %s/%s\n", tensor.KernelName(), threads, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	fmt.Println(machine.Describe())
	fmt.Printf("blocking: %s\n", tensor.KernelBlocking())

	peerOK := !*noPeer
	var coretype string
	if peerOK {
		var err error
		if *forceCore != "" {
			coretype = *forceCore
		} else {
			coretype, err = pickCoretype(*python, *script, threads)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "numpy: %v\n", err)
			fmt.Fprintln(os.Stderr, "numpy: to compare with numpy/OpenBLAS install it: apt-get install -y python3-numpy python3-threadpoolctl")
			peerOK = false
		}
	}

	ours := make([][]float64, len(shapes))
	theirs := make([][]float64, len(shapes))
	// paired[i]: each round's glassbox/numpy ratio for shape i, the two
	// medians of that round's repetitions, timed seconds apart.
	paired := make([][]float64, len(shapes))
	var serial1024 []float64
	var peaks []peak
	var peerInfo peerResult
	for r := 0; r < *rounds; r++ {
		roundOurs := make([]float64, len(shapes))
		for i, s := range shapes {
			t := timeGlassbox(s, *reps, *minTime)
			ours[i] = append(ours[i], t...)
			roundOurs[i] = median(t)
		}
		peaks = bestPeaks(peaks, measurePeaks(threads))
		if *scaling && threads > 1 {
			tensor.SetThreads(1)
			serial1024 = append(serial1024, timeGlassbox(shapes[2], *reps, *minTime)...)
			tensor.SetThreads(threads)
		}
		if peerOK {
			res, err := runPeer(*python, *script, coretype, threads, *reps, *minTime)
			if err != nil {
				fmt.Fprintf(os.Stderr, "numpy: %v\n", err)
				peerOK = false
				continue
			}
			peerInfo = res
			for i := range shapes {
				theirs[i] = append(theirs[i], res.Results[i].Gflops...)
				paired[i] = append(paired[i], roundOurs[i]/median(res.Results[i].Gflops))
			}
		}
	}
	if peerOK {
		ct := coretype
		if ct == "" {
			ct = "(unset: OpenBLAS's own choice)"
		}
		fmt.Printf("numpy %s: %s, kernel architecture %q, %d threads, OPENBLAS_CORETYPE=%s\n",
			peerInfo.Numpy, peerInfo.Library, peerInfo.Architecture, peerInfo.Threads, ct)
	}
	for _, p := range peaks {
		fmt.Printf("FMA peak (register-only loop, best of every round's 3 tries) %s: %.1f GFLOP/s on 1 thread, %.1f on %d (%.2f×)\n",
			p.name, p.one, p.multi, threads, p.multi/p.one)
	}
	fmt.Printf("median GFLOP/s over %d rounds × %d repetitions (shapes are m×k×n: C[m×n] = A[m×k]·B[k×n]);\n", *rounds, *reps)
	fmt.Println("glassbox/numpy: the median of the rounds' ratios (each round's two medians), the rounds' in brackets")
	ourISA, theirISA := isaOf(tensor.KernelName()), "avx2"
	if avx512Arch(coretype) || avx512Arch(peerInfo.Architecture) {
		theirISA = "avx512"
	}
	ourPeak, theirPeak := peakFor(peaks, ourISA), peakFor(peaks, theirISA)
	if peerOK {
		fmt.Printf("%% peak: against the %d-thread FMA peak of each side's instructions (glassbox %s, numpy %s)\n\n",
			threads, peakName(ourPeak, ourISA), peakName(theirPeak, theirISA))
	} else {
		fmt.Printf("%% peak: against the %d-thread FMA peak of glassbox's instructions (%s)\n\n", threads, peakName(ourPeak, ourISA))
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "shape\tglassbox\t% peak\tnumpy\t% peak\tglassbox/numpy\t")
	for i, s := range shapes {
		g := median(ours[i])
		if peerOK {
			p := median(theirs[i])
			rs := make([]string, len(paired[i]))
			for j, v := range paired[i] {
				rs[j] = fmt.Sprintf("%.2f", v)
			}
			fmt.Fprintf(tw, "%s\t%.1f\t%s\t%.1f\t%s\t%.2f (%s)\t\n", s.name, g, pct(g, ourPeak), p, pct(p, theirPeak), median(paired[i]), strings.Join(rs, ", "))
		} else {
			fmt.Fprintf(tw, "%s\t%.1f\t%s\t-\t-\t-\t\n", s.name, g, pct(g, ourPeak))
		}
	}
	tw.Flush()
	if len(serial1024) > 0 {
		one, all := median(serial1024), median(ours[2])
		fmt.Printf("\nglassbox scaling at 1024³: %.1f GFLOP/s on 1 thread, %.1f on %d: %.2f×\n", one, all, threads, all/one)
	}
}

// avx512Arch reports whether an OpenBLAS kernel architecture (or
// OPENBLAS_CORETYPE) runs AVX-512 code.
func avx512Arch(name string) bool {
	switch strings.ToLower(name) {
	case "skylakex", "cooperlake", "sapphirerapids":
		return true
	}
	return false
}

// isaOf names the FMA loop matching a kernel: "avx512" for "avx512f 12x32",
// "avx2" otherwise (the pure-Go kernel is measured against AVX2 too).
func isaOf(kernel string) string {
	if strings.HasPrefix(kernel, "avx512") {
		return "avx512"
	}
	return "avx2"
}

func peakName(p float64, name string) string {
	if p <= 0 {
		return "not measured"
	}
	return fmt.Sprintf("%s %.1f GFLOP/s", name, p)
}

func pct(x, peak float64) string {
	if peak <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*x/peak)
}

// findScript locates numpy_gemm.py next to this file, whether run from the
// repository root or from bench/gemm.
func findScript() string {
	for _, p := range []string{"bench/gemm/numpy_gemm.py", "numpy_gemm.py"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		return filepath.Join(filepath.Dir(file), "numpy_gemm.py")
	}
	return "bench/gemm/numpy_gemm.py"
}

func timeGlassbox(s shape, reps int, minTime time.Duration) []float64 {
	r := rand.New(rand.NewPCG(1, 2))
	a := randSlice(r, s.m*s.k)
	b := randSlice(r, s.k*s.n)
	c := make([]float32, s.m*s.n)
	run := func() { tensor.Sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, b, s.n, 0, c, s.n) }
	run()
	iters := 1
	var dt time.Duration
	for {
		t := time.Now()
		for i := 0; i < iters; i++ {
			run()
		}
		dt = time.Since(t)
		if dt >= minTime/4 {
			break
		}
		iters *= 2
	}
	iters = max(1, int(float64(iters)*float64(minTime)/float64(dt)))
	flop := 2 * float64(s.m) * float64(s.n) * float64(s.k)
	out := make([]float64, reps)
	for j := range out {
		t := time.Now()
		for i := 0; i < iters; i++ {
			run()
		}
		out[j] = flop * float64(iters) / time.Since(t).Seconds() / 1e9
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

func shapeArg(list []shape) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = fmt.Sprintf("%d,%d,%d", s.m, s.k, s.n)
	}
	return strings.Join(parts, ";")
}

func peerCmd(python, script, coretype string, threads int, args ...string) *exec.Cmd {
	cmd := exec.Command(python, append([]string{script}, args...)...)
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "OPENBLAS_CORETYPE=") && !strings.HasPrefix(e, "OPENBLAS_NUM_THREADS=") &&
			!strings.HasPrefix(e, "OMP_NUM_THREADS=") {
			env = append(env, e)
		}
	}
	env = append(env, fmt.Sprintf("OPENBLAS_NUM_THREADS=%d", threads), fmt.Sprintf("OMP_NUM_THREADS=%d", threads))
	if coretype != "" {
		env = append(env, "OPENBLAS_CORETYPE="+coretype)
	}
	cmd.Env = env
	return cmd
}

func runPeer(python, script, coretype string, threads, reps int, minTime time.Duration) (peerResult, error) {
	return runPeerShapes(python, script, coretype, threads, shapes, reps, minTime)
}

func runPeerShapes(python, script, coretype string, threads int, list []shape, reps int, minTime time.Duration) (peerResult, error) {
	var res peerResult
	if _, err := os.Stat(python); err != nil {
		return res, fmt.Errorf("python interpreter %s not found", python)
	}
	cmd := peerCmd(python, script, coretype, threads, "--shapes", shapeArg(list),
		"--reps", fmt.Sprint(reps), "--min-time", fmt.Sprint(minTime.Seconds()))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 3 {
			return res, fmt.Errorf("%s", msg)
		}
		return res, fmt.Errorf("%s %s (OPENBLAS_CORETYPE=%q): %w %s", python, script, coretype, err, msg)
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return res, fmt.Errorf("reading %s output: %v", script, err)
	}
	if len(res.Results) != len(list) {
		return res, fmt.Errorf("%s returned %d results for %d shapes", script, len(res.Results), len(list))
	}
	return res, nil
}

// pickCoretype probes each OPENBLAS_CORETYPE candidate on a short run and
// returns the fastest one that works ("" = OpenBLAS's own detection).
func pickCoretype(python, script string, threads int) (string, error) {
	probe := []shape{{"n=512", 512, 512, 512}, {"mlp 128x784x256", 128, 784, 256}}
	best, bestRate := "", -1.0
	var firstErr error
	var report []string
	for _, ct := range []string{"SkylakeX", "Haswell", "Zen", ""} {
		res, err := runPeerShapes(python, script, ct, threads, probe, 3, 50*time.Millisecond)
		name := ct
		if name == "" {
			name = "(unset)"
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			short := firstLine(err.Error())
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					short = fmt.Sprintf("crashed (%v)", ws.Signal())
				}
			}
			report = append(report, fmt.Sprintf("%s: %s", name, short))
			if strings.Contains(err.Error(), "not installed") || strings.Contains(err.Error(), "not found") {
				return "", err
			}
			continue
		}
		rate := median(res.Results[0].Gflops) + median(res.Results[1].Gflops)
		report = append(report, fmt.Sprintf("%s: %s %.0f+%.0f GFLOP/s", name, res.Architecture,
			median(res.Results[0].Gflops), median(res.Results[1].Gflops)))
		if rate > bestRate {
			best, bestRate = ct, rate
		}
	}
	fmt.Printf("OPENBLAS_CORETYPE probe (n=512 + mlp 128x784x256): %s\n", strings.Join(report, "; "))
	if bestRate < 0 {
		return "", firstErr
	}
	return best, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
