// Command glassbox-beam-scaling measures the batch pipeline's throughput
// on the prism runner against a plain Go loop over the same rows calling
// predictor.Explain (beam/README.md has its figures). One invocation is
// one measurement, so runs of the two can be interleaved:
//
//	glassbox-beam-scaling -setup -dir /tmp/scaling -rows 2000
//	GOMAXPROCS=1 glassbox-beam-scaling -dir /tmp/scaling -mode loop
//	GOMAXPROCS=1 glassbox-beam-scaling -dir /tmp/scaling -mode beam
//
// GOMAXPROCS is the number of workers: the loop runs that many
// goroutines, prism that many bundles at a time.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/glassbox-ml/glassbox/beam/batch"
	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/predictor"
)

func main() {
	dir := flag.String("dir", "", "folder of the model and rows")
	setup := flag.Bool("setup", false, "train the model and write the rows")
	rows := flag.Int("rows", 2000, "rows to write (with -setup)")
	mode := flag.String("mode", "loop", "loop or beam")
	method := flag.String("method", "kernelshap", "explanation method")
	samples := flag.Int("samples", 64, "sample budget per row")
	flag.Parse()
	beam.Init()
	ctx := context.Background()
	var err error
	switch {
	case *setup:
		err = prepare(ctx, *dir, *rows)
	case *mode == "loop":
		err = loop(ctx, *dir, *method, *samples)
	case *mode == "beam":
		err = pipeline(ctx, *dir, *method, *samples)
	default:
		err = fmt.Errorf("-mode %q: want loop or beam", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// prepare trains a breast-cancer classifier (30 features) and writes
// rows: the data set's rows with a little noise, repeated.
func prepare(ctx context.Context, dir string, n int) error {
	tr, err := predictor.Train(ctx, predictor.Recipe{Data: "breast-cancer", Model: "mlp", Epochs: 20, Seed: 1}, predictor.TrainOptions{Quiet: true})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := tr.Save(filepath.Join(dir, "model.gbx")); err != nil {
		return err
	}
	src := predictor.Rows(tr.Data.Train)
	d := len(tr.Features)
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for i := range n {
		r := i % (len(src) / d)
		for j := range d {
			if j > 0 {
				b.WriteByte(',')
			}
			v := float64(src[r*d+j]) * (1 + 0.05*rng.NormFloat64())
			b.WriteString(strconv.FormatFloat(v, 'g', 6, 32))
		}
		b.WriteByte('\n')
	}
	return os.WriteFile(filepath.Join(dir, "rows.csv"), []byte(b.String()), 0o644)
}

// loop explains every row with GOMAXPROCS goroutines.
func loop(ctx context.Context, dir, method string, samples int) error {
	t0 := time.Now()
	p, err := batch.LoadPredictor(ctx, filepath.Join(dir, "model.gbx"), "", method)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "rows.csv"))
	if err != nil {
		return err
	}
	tab, err := datasets.ReadCSV(strings.NewReader(string(raw)), datasets.CSVOptions{NoTarget: true, NoAutoCategorical: true})
	if err != nil {
		return err
	}
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := w; r < tab.Rows; r += workers {
				id := "rows.csv:" + strconv.Itoa(r)
				x := tab.X[r*tab.Cols : (r+1)*tab.Cols]
				if _, err := p.Explain(ctx, method, x, explain.Options{Seed: explain.RowSeed(1, id), Samples: samples}); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	report("loop", tab.Rows, time.Since(t0))
	return nil
}

// pipeline runs the batch pipeline on prism over the rows.
func pipeline(ctx context.Context, dir, method string, samples int) error {
	t0 := time.Now()
	out, err := os.MkdirTemp("", "scaling-out-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(out)
	p, s := beam.NewPipelineWithRoot()
	o, err := batch.Build(s, batch.Options{Inputs: []string{filepath.Join(dir, "rows.csv")}, Model: filepath.Join(dir, "model.gbx"),
		Method: method, Samples: samples, Seed: 1, Label: -1})
	if err != nil {
		return err
	}
	batch.Write(s, out, o)
	if _, err := beam.Run(ctx, "prism", p); err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(out, "records.jsonl"))
	if err != nil {
		return err
	}
	report("beam", strings.Count(string(raw), "\n"), time.Since(t0))
	return nil
}

func report(mode string, rows int, d time.Duration) {
	fmt.Printf("%s workers=%d rows=%d seconds=%.3f rows_per_s=%.1f\n", mode, runtime.GOMAXPROCS(0), rows, d.Seconds(), float64(rows)/d.Seconds())
}
