// Command serve load-tests glassbox's HTTP server in one process: it
// starts the server on 127.0.0.1 (a free port) with a small table model
// (an MLP trained on iris for a few epochs) and a small image model (a
// CNN on 3×32×32 colour images with random weights), then drives it with
// bounded numbers of requests for bounded times, never at any address
// other than that loopback listener.
//
//	go run ./bench/serve                   # 10 s of predictions, then 2 min mixed
//	go run ./bench/serve -duration 30s     # a shorter mixed run
//
// Phase 1, predict: -concurrency clients send one-row predict requests to
// the table model for -predict-duration; it prints requests/s and the
// p50/p99 latency (targets: ≥ 5000 req/s, p99 ≤ 20 ms).
//
// Phase 2, mixed: -mixed-concurrency clients send, at random, one-row
// predictions (table), 32×32 PNG predictions (image), explanations (LIME
// and saliency on the table, LIME and Grad-CAM on the image) and decode
// bombs: PNG headers declaring 8000×8000 (over the pixel limit) and
// 4096×4096 RGBA (within it, over the memory budget once decoded for a
// colour model) pixels in a few dozen bytes, and a real, complete
// 4000×4000 16-bit RGBA PNG (compressed to well under the body limit)
// that fits the pixel limit but must hit the decode budget. It prints
// req/s and p50/p99 by kind, the answers by status, and the process's
// resident memory (VmRSS after runtime.GC, and after debug.FreeOSMemory:
// what the process keeps) at the start, every 15 s and at the end,
// whether each stayed within ±10% of its value after the first 15 s (the
// warm-up), and the peak (VmHWM).
//
// Client and server share the machine's cores: the figures are the
// server's throughput with its own load generator beside it.
package main

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/serve"
	"github.com/glassbox-ml/glassbox/tensor"
)

func main() {
	predictDur := flag.Duration("predict-duration", 10*time.Second, "length of the predict-only phase (0 skips it)")
	concurrency := flag.Int("concurrency", 16, "clients of the predict-only phase")
	duration := flag.Duration("duration", 2*time.Minute, "length of the mixed phase (0 skips it)")
	mixedConcurrency := flag.Int("mixed-concurrency", 16, "clients of the mixed phase")
	maxRequests := flag.Int64("max-requests", 5_000_000, "most requests of one phase")
	every := flag.Duration("rss-every", 15*time.Second, "how often the mixed phase samples the resident memory")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (client and server) to this file")
	flag.Parse()
	log.SetFlags(0)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}

	fmt.Printf("CPU: %s; GOMAXPROCS %d; %s; load average at start %s\n", cpuModel(), runtime.GOMAXPROCS(0), runtime.Version(), loadAvg())
	rssStart := rss()
	table, images := servers()
	fmt.Printf("server: table model on %s, image model on %s (defaults: MaxConcurrentPredict %d, MaxConcurrentExplain %d, MemoryBudget %d MiB)\n",
		table.addr, images.addr, 4*runtime.GOMAXPROCS(0), runtime.GOMAXPROCS(0), serve.DefaultMemoryBudget>>20)
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConns: 256, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute,
		DialContext: loopbackOnly(table.addr, images.addr),
	}}
	reqs := newRequests(table, images)

	if *predictDur > 0 {
		fmt.Printf("\n== predict: %d clients, %v, one iris row per request\n", *concurrency, *predictDur)
		st := drive(client, *concurrency, *predictDur, *maxRequests, func(*rand.Rand) *request { return reqs.predictRow }, nil)
		st.print()
	}
	if *duration > 0 {
		fmt.Printf("\n== mixed: %d clients, %v\n", *mixedConcurrency, *duration)
		var samples, freed []rssSample
		var mu sync.Mutex
		sample := func(at time.Duration) {
			r := rss()
			debug.FreeOSMemory()
			f := status("VmRSS")
			mu.Lock()
			samples = append(samples, rssSample{at, r})
			freed = append(freed, rssSample{at, f})
			mu.Unlock()
			fmt.Printf("  at %6v: VmRSS after runtime.GC %6.1f MiB; after debug.FreeOSMemory %6.1f MiB; peak so far (VmHWM) %6.1f MiB\n",
				at.Round(time.Second), mib(r), mib(f), mib(status("VmHWM")))
		}
		fmt.Printf("  VmRSS of the process before the models and servers: %.1f MiB\n", mib(rssStart))
		sample(0)
		st := drive(client, *mixedConcurrency, *duration, *maxRequests, reqs.pick, func(elapsed time.Duration) {
			sample(elapsed)
		}, *every)
		// At rest: no connection open, no request in flight.
		client.CloseIdleConnections()
		time.Sleep(2 * time.Second)
		sample(*duration)
		st.print()
		verdict("VmRSS after runtime.GC", samples, *every)
		verdict("VmRSS after debug.FreeOSMemory (the memory kept)", freed, *every)
		if n := len(freed); n > 1 {
			a, b := freed[0].bytes, freed[n-1].bytes
			fmt.Printf("  memory kept at rest (after debug.FreeOSMemory), before the first request %.1f MiB, after the last %.1f MiB (%+.1f%%)\n",
				mib(a), mib(b), 100*float64(b-a)/float64(a))
		}
		fmt.Printf("  peak VmRSS of the whole run (VmHWM): %.1f MiB\n", mib(status("VmHWM")))
	}
	fmt.Printf("\nload average at the end %s\n", loadAvg())
}

// srv is one server under test.
type srv struct {
	addr string
	url  string
}

// servers starts the table and the image server on 127.0.0.1 with the
// serve defaults and the timeouts of glassbox serve.
func servers() (table, images srv) {
	tr, err := predictor.Train(context.Background(), predictor.Recipe{Data: "iris", Model: "mlp", Epochs: 5, Seed: 1}, predictor.TrainOptions{Quiet: true})
	if err != nil {
		log.Fatal(err)
	}
	tp := tr.Predictor
	tp.Background = predictor.Rows(tr.Data.Train)
	rng := tensor.NewRNG(3)
	cnn := nn.NewSequential(nn.NewConv2D(3, 8, 3, rng, nn.ConvPadding(1)), nn.NewReLU(), nn.NewMaxPool2D(2, 2, 0),
		nn.NewFlatten(), nn.NewLinear(8*16*16, 10, rng))
	classes := []string{"plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
	ip, err := predictor.New(cnn, model.Meta{Task: "classification", Classes: classes, InputShape: []int{3, 32, 32}})
	if err != nil {
		log.Fatal(err)
	}
	start := func(p *predictor.Predictor, name string) srv {
		s, err := serve.New(p, serve.Options{Name: name})
		if err != nil {
			log.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
			WriteTimeout: time.Minute + serve.DefaultQueueWait + serve.DefaultTimeout + 30*time.Second,
			IdleTimeout:  2 * time.Minute, MaxHeaderBytes: 64 << 10, ErrorLog: log.New(io.Discard, "", 0)}
		go hs.Serve(ln)
		return srv{addr: ln.Addr().String(), url: "http://" + ln.Addr().String()}
	}
	return start(tp, "iris-mlp"), start(ip, "cnn-3x32x32")
}

// loopbackOnly dials only the servers' own addresses.
func loopbackOnly(addrs ...string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if !slices.Contains(addrs, addr) {
			return nil, fmt.Errorf("bench/serve dials only its own servers, not %s", addr)
		}
		return d.DialContext(ctx, network, addr)
	}
}

// request is one prepared request of a kind.
type request struct {
	kind string
	url  string
	body []byte
}

type requests struct {
	predictRow, predictImage         *request
	explainTable, explainImage       []*request
	bombHeader, bombPixels, bombReal *request
}

func newRequests(table, images srv) *requests {
	post := func(kind string, s srv, path string, v any) *request {
		b, err := json.Marshal(v)
		if err != nil {
			log.Fatal(err)
		}
		return &request{kind: kind, url: s.url + path, body: b}
	}
	row := [][]float64{{6.7, 3.0, 5.2, 2.3}}
	img := smallPNG()
	no := false
	r := &requests{
		predictRow:   post("predict-row", table, "/v1/predict", serve.PredictRequest{Rows: row}),
		predictImage: post("predict-image", images, "/v1/predict", serve.PredictRequest{Image: img}),
		explainTable: []*request{
			post("explain", table, "/v1/explain", serve.ExplainRequest{PredictRequest: serve.PredictRequest{Rows: row}, Method: "lime", Samples: 1000, Picture: &no}),
			post("explain", table, "/v1/explain", serve.ExplainRequest{PredictRequest: serve.PredictRequest{Rows: row}, Method: "saliency"}),
		},
		explainImage: []*request{
			post("explain", images, "/v1/explain", serve.ExplainRequest{PredictRequest: serve.PredictRequest{Image: img}, Method: "lime", Samples: 200}),
			post("explain", images, "/v1/explain", serve.ExplainRequest{PredictRequest: serve.PredictRequest{Image: img}, Method: "gradcam"}),
		},
		bombHeader: post("bomb", images, "/v1/predict", serve.PredictRequest{Image: b64(pngHeader(8000, 8000, 8, 6))}),
		bombPixels: post("bomb", images, "/v1/predict", serve.PredictRequest{Image: b64(pngHeader(4096, 4096, 8, 6))}),
	}
	big := bigPNG(4000, 4000)
	fmt.Printf("decode bombs: 8000×8000 and 4096×4096 PNG headers (%d and %d bytes); a complete 4000×4000 16-bit RGBA PNG of %d KiB\n",
		len(pngHeader(8000, 8000, 8, 6)), len(pngHeader(4096, 4096, 8, 6)), len(big)>>10)
	r.bombReal = post("bomb", images, "/v1/predict", serve.PredictRequest{Image: b64(big)})
	return r
}

// pick draws a request of the mixed phase: 45% table predictions, 25%
// image predictions, 15% explanations, 15% decode bombs.
func (r *requests) pick(rng *rand.Rand) *request {
	switch x := rng.IntN(100); {
	case x < 45:
		return r.predictRow
	case x < 70:
		return r.predictImage
	case x < 85:
		if x%2 == 0 {
			return r.explainTable[rng.IntN(len(r.explainTable))]
		}
		return r.explainImage[rng.IntN(len(r.explainImage))]
	case x < 90:
		return r.bombHeader
	case x < 95:
		return r.bombPixels
	}
	return r.bombReal
}

// stats collects latencies and statuses by kind.
type stats struct {
	mu      sync.Mutex
	lat     map[string][]time.Duration // answered requests
	status  map[string]map[int]int
	errors  int
	elapsed time.Duration
}

func (s *stats) add(kind string, d time.Duration, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status[kind] == nil {
		s.status[kind] = map[int]int{}
	}
	s.status[kind][status]++
	s.lat[kind] = append(s.lat[kind], d)
}

// drive runs clients sending next's requests until d has passed or max
// requests were sent; tick is called every `every` with the elapsed time.
func drive(client *http.Client, clients int, d time.Duration, max int64, next func(*rand.Rand) *request, tick func(time.Duration), every ...time.Duration) *stats {
	st := &stats{lat: map[string][]time.Duration{}, status: map[string]map[int]int{}}
	var sent atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 42))
			for ctx.Err() == nil && sent.Add(1) <= max {
				r := next(rng)
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(r.body))
				if err != nil {
					log.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						st.mu.Lock()
						st.errors++
						st.mu.Unlock()
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				st.add(r.kind, time.Since(t0), resp.StatusCode)
			}
		}()
	}
	if tick != nil && len(every) > 0 {
		t := time.NewTicker(every[0])
	loop:
		for {
			select {
			case <-t.C:
				if el := time.Since(start); el < d-time.Second {
					tick(el)
				}
			case <-ctx.Done():
				break loop
			}
		}
		t.Stop()
	}
	wg.Wait()
	st.elapsed = time.Since(start)
	return st
}

func (s *stats) print() {
	kinds := make([]string, 0, len(s.lat))
	total := 0
	for k, v := range s.lat {
		kinds = append(kinds, k)
		total += len(v)
	}
	sort.Strings(kinds)
	fmt.Printf("  %d answers in %v: %.0f req/s overall; transport errors %d\n", total, s.elapsed.Round(time.Millisecond), float64(total)/s.elapsed.Seconds(), s.errors)
	fmt.Printf("  %-14s %9s %8s %9s %9s  %s\n", "kind", "answers", "req/s", "p50", "p99", "by status")
	for _, k := range kinds {
		l := slices.Clone(s.lat[k])
		slices.Sort(l)
		var codes []string
		for _, c := range slices.Sorted(mapsKeys(s.status[k])) {
			codes = append(codes, fmt.Sprintf("%d: %d", c, s.status[k][c]))
		}
		fmt.Printf("  %-14s %9d %8.0f %9v %9v  %s\n", k, len(l), float64(len(l))/s.elapsed.Seconds(),
			pct(l, 0.50), pct(l, 0.99), strings.Join(codes, ", "))
	}
}

func mapsKeys(m map[int]int) func(func(int) bool) {
	return func(yield func(int) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func pct(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, int(q*float64(len(sorted))))
	return sorted[i].Round(10 * time.Microsecond)
}

type rssSample struct {
	at    time.Duration
	bytes int64
}

// verdict says whether RSS stayed within ±10% of its value after the
// warm-up (the first sample at or after `warm`).
func verdict(what string, samples []rssSample, warm time.Duration) {
	var base int64
	for _, s := range samples {
		if s.at >= warm {
			base = s.bytes
			break
		}
	}
	if base == 0 {
		fmt.Printf("  %s: the run was too short to pass the warm-up\n", what)
		return
	}
	lo, hi := base, base
	for _, s := range samples {
		if s.at >= warm {
			lo, hi = min(lo, s.bytes), max(hi, s.bytes)
		}
	}
	dlo, dhi := 100*float64(lo-base)/float64(base), 100*float64(hi-base)/float64(base)
	ok := dlo >= -10 && dhi <= 10
	fmt.Printf("  %s: %.1f MiB after the warm-up, then %.1f to %.1f MiB (%+.1f%% / %+.1f%%): within ±10%%: %v\n",
		what, mib(base), mib(lo), mib(hi), dlo, dhi, ok)
}

// rss is the process's resident memory after a collection (VmRSS).
func rss() int64 {
	runtime.GC()
	return status("VmRSS")
}

// status reads a field of /proc/self/status given in kB, in bytes.
func status(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown"
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func b64(raw []byte) string { return base64.StdEncoding.EncodeToString(raw) }

// smallPNG is a 32×32 colour gradient as base64 PNG.
func smallPNG() string {
	img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := range 32 {
			img.Set(x, y, color.NRGBA{uint8(8 * x), uint8(8 * y), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		log.Fatal(err)
	}
	return b64(buf.Bytes())
}

// pngChunk appends one PNG chunk.
func pngChunk(b *bytes.Buffer, typ string, data []byte) {
	binary.Write(b, binary.BigEndian, uint32(len(data)))
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.Write(b, binary.BigEndian, crc.Sum32())
}

func ihdr(w, h uint32, depth, colorType byte) []byte {
	d := make([]byte, 13)
	binary.BigEndian.PutUint32(d[0:], w)
	binary.BigEndian.PutUint32(d[4:], h)
	d[8], d[9] = depth, colorType
	return d
}

// pngHeader is a PNG declaring a w×h image with a few bytes of pixel
// data: the decoder allocates the whole image, then runs out of data.
func pngHeader(w, h uint32, depth, colorType byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	pngChunk(&b, "IHDR", ihdr(w, h, depth, colorType))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 64))
	zw.Close()
	pngChunk(&b, "IDAT", z.Bytes())
	pngChunk(&b, "IEND", nil)
	return b.Bytes()
}

// bigPNG is a complete w×h 16-bit RGBA PNG (a flat grey), written row
// by row so that making it never holds the decoded image.
func bigPNG(w, h int) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	pngChunk(&b, "IHDR", ihdr(uint32(w), uint32(h), 16, 6))
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
	row := make([]byte, 1+8*w) // filter byte 0, then RGBA 16-bit
	for i := 1; i < len(row); i += 2 {
		row[i] = 0x80
	}
	for range h {
		zw.Write(row)
	}
	zw.Close()
	for data := z.Bytes(); len(data) > 0; {
		n := min(len(data), 1<<20)
		pngChunk(&b, "IDAT", data[:n])
		data = data[n:]
	}
	pngChunk(&b, "IEND", nil)
	return b.Bytes()
}
