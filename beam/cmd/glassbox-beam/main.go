// Command glassbox-beam predicts and explains every row of a data set on
// Apache Beam: locally on the prism runner, or on Flink, Spark or Google
// Dataflow with Beam's runner flags. See beam/README.md.
//
//	glassbox-beam --model iris.gbx --input 'rows/*.csv' --method kernelshap --output out/
//
// It writes out/records.jsonl (one explanation per row),
// out/dead_letters.jsonl (rows that could not be read or explained) and
// out/summary.json (global and per-class importance, the share of poor
// explanations, an SP-LIME pick), and prints the progress counters.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs" // gs:// inputs, models and outputs
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
	"github.com/glassbox-ml/glassbox/beam/batch"
	"github.com/glassbox-ml/glassbox/explain"
)

// inputsFlag collects repeated --input flags (each may list several,
// comma-separated).
type inputsFlag []string

func (f *inputsFlag) String() string { return strings.Join(*f, ",") }

func (f *inputsFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*f = append(*f, s)
		}
	}
	return nil
}

func main() {
	var opt batch.Options
	var inputs inputsFlag
	flag.Var(&inputs, "input", "input rows (repeatable, or comma-separated): .csv tables, .jsonl records ({\"id\", \"values\"} or {\"id\", \"text\"}), image folders (ending in / on object stores), globs of .png/.jpg, .list files naming images; local paths or gs://")
	flag.StringVar(&opt.Model, "model", "", "the model: a .gbx file, or an .onnx file with its .json sidecar")
	flag.StringVar(&opt.Data, "data", "", "data SPEC of the training rows LIME and Kernel SHAP sample from on tables (default: the model's own)")
	flag.StringVar(&opt.Method, "method", "lime", "explanation method: "+strings.Join(explain.MethodNames(), ", "))
	flag.IntVar(&opt.Samples, "samples", 0, "sample budget per row (0: the method's default)")
	flag.Uint64Var(&opt.Seed, "seed", 1, "base seed: row ID is explained with seed explain.RowSeed(seed, ID), as `glassbox explain --id ID --seed SEED`")
	flag.IntVar(&opt.Label, "label", -1, "output to explain (-1: the predicted class)")
	flag.StringVar(&opt.Hide, "hide", "auto", "how image LIME hides a superpixel: auto, mean, constant or blur")
	flag.IntVar(&opt.PickBudget, "pick", 5, "how many explanations SP-LIME picks for the summary")
	flag.IntVar(&opt.PickCandidates, "pick-candidates", 10000, "SP-LIME picks among at most this many rows (those whose ids hash lowest)")
	output := flag.String("output", "", "folder (or gs:// prefix) for records.jsonl, dead_letters.jsonl and summary.json")
	flag.Parse()
	beam.Init() // on a worker this runs the worker and never returns
	opt.Inputs = inputs
	if len(opt.Inputs) == 0 || opt.Model == "" || *output == "" {
		fmt.Fprintln(os.Stderr, "glassbox-beam: --input, --model and --output are required (see -help)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opt, *output); err != nil {
		fmt.Fprintln(os.Stderr, "glassbox-beam:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, opt batch.Options, output string) error {
	p, s := beam.NewPipelineWithRoot()
	out, err := batch.Build(s, opt)
	if err != nil {
		return err
	}
	batch.Write(s, output, out)
	res, err := beamx.RunWithMetrics(ctx, p)
	if err != nil {
		return err
	}
	if res == nil {
		return nil
	}
	q := res.Metrics().Query(func(r metrics.SingleResult) bool { return r.Namespace() == "glassbox" })
	sums := map[string]int64{}
	for _, c := range q.Counters() {
		sums[c.Key.Name] += c.Result()
	}
	fmt.Printf("rows done %d, failed %d, poor %d\n", sums["rows_done"], sums["rows_failed"], sums["rows_poor"])
	var n, total int64
	for _, d := range q.Distributions() {
		n += d.Result().Count
		total += d.Result().Sum
	}
	if n > 0 {
		fmt.Printf("mean %.3f s per row\n", float64(total)/float64(n)/1000)
	}
	return nil
}
