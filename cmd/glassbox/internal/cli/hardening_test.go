package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Crafted model files are errors naming the problem (exit 1), never a
// panic or an allocation on their word, in every command that opens them.
func TestCraftedModelFilesAreCleanErrors(t *testing.T) {
	dir := t.TempDir()
	rows := filepath.Join(dir, "rows.csv")
	os.WriteFile(rows, []byte("1,2,3,4\n"), 0o644)
	lin := func() nn.Module { return nn.NewLinear(4, 3, tensor.NewRNG(1)) }
	cases := []struct {
		name string
		meta model.Meta
		want string
	}{
		// Used to index out of range in predict, explain and eval.
		{"mean-of-2", model.Meta{InputShape: []int{4}, Mean: []float32{1, 2}, Std: []float32{1, 1}}, "standardises 2 features"},
		// Used to make serve allocate 40 GB trying the model.
		{"huge-shape", model.Meta{InputShape: []int{1, 100000, 100000}}, "MaxInputValues"},
		{"zero-std", model.Meta{InputShape: []int{4}, Mean: make([]float32, 4), Std: make([]float32, 4)}, "positive"},
		{"negative-shape", model.Meta{InputShape: []int{-4}}, "≤ 0"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name+".gbx")
		if err := model.Save(path, lin(), c.meta); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"predict", "--model", path, "--input", rows},
			{"explain", "--model", path, "--input", rows, "--method", "saliency", "--out", filepath.Join(dir, "out")},
			{"eval", "--model", path, "--data", "iris"},
			{"inspect", "--model", path, "--out", filepath.Join(dir, "look")},
			{"serve", "--model", path, "--addr", "127.0.0.1:0"},
		} {
			code, _, stderr := run(t, args...)
			if code != ExitFailed || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "goroutine") {
				t.Errorf("%s: %s: exit %d, %q; want exit 1 naming %q", c.name, args[0], code, stderr, c.want)
			}
		}
	}
}

// A model whose output is NaN for a finite input: predict says so (exit
// 1) instead of printing "probability NaN", and --json never writes a
// broken object.
func TestNaNOutputIsAnError(t *testing.T) {
	dir := t.TempDir()
	m := nn.NewLinear(4, 3, tensor.NewRNG(1))
	m.Weight.Value.Data()[0] = float32(math.NaN())
	path := filepath.Join(dir, "nan.gbx")
	if err := model.Save(path, m, model.Meta{InputShape: []int{4}}); err != nil {
		t.Fatal(err)
	}
	rows := filepath.Join(dir, "rows.csv")
	os.WriteFile(rows, []byte("1,2,3,4\n"), 0o644)
	for _, json := range []string{"", "--json"} {
		args := []string{"predict", "--model", path, "--input", rows}
		if json != "" {
			args = append(args, json)
		}
		code, stdout, stderr := run(t, args...)
		if code != ExitFailed || !strings.Contains(stderr, "not a finite number") || stdout != "" {
			t.Errorf("predict %s: exit %d, stdout %q, stderr %q", json, code, stdout, stderr)
		}
	}
	code, _, stderr := run(t, "explain", "--model", path, "--input", rows, "--method", "ig", "--out", filepath.Join(dir, "why"))
	if code != ExitFailed || !strings.Contains(stderr, "not a finite number") {
		t.Errorf("explain: exit %d, %q", code, stderr)
	}
}

// Bad flag values are usage errors before any work; outputs that cannot
// be written fail before training, not after.
func TestBadFlagsFailBeforeWork(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.gbx")
	rows := filepath.Join(dir, "rows.csv")
	os.WriteFile(rows, []byte("1,2,3,4\n"), 0o644)
	mdl := filepath.Join(dir, "iris.gbx")
	if err := model.Save(mdl, nn.NewLinear(4, 3, tensor.NewRNG(1)), model.Meta{InputShape: []int{4}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train", "--data", "iris", "--model", "mlp", "--hidden", "-5", "--out", out}, ExitUsage, "--hidden -5"},
		{[]string{"train", "--data", "iris", "--model", "mlp", "--hidden", "100000000", "--out", out}, ExitUsage, "--hidden 100000000"},
		{[]string{"train", "--data", "iris", "--model", "mlp", "--batch", "0", "--out", out}, ExitUsage, "--batch 0"},
		{[]string{"train", "--data", "iris", "--model", "mlp", "--epochs", "0", "--out", out}, ExitUsage, "--epochs 0"},
		{[]string{"train", "--data", "iris", "--model", "mlp", "--lr", "-1", "--out", out}, ExitUsage, "--lr -1"},
		{[]string{"train", "--data", "iris", "--model", "mlp", "--optimizer", "adma", "--out", out}, ExitUsage, `did you mean "adam"`},
		{[]string{"train", "--data", "iris", "--model", "mlpp", "--out", out}, ExitUsage, `did you mean "mlp"`},
		{[]string{"train", "--data", "iris", "--model", "mlp", "--schedule", "sawtooth", "--out", out}, ExitUsage, "--schedule"},
		{[]string{"train", "--data", "iris", "--model", "mlp", "--out", dir}, ExitFailed, "is a folder"},
		{[]string{"train", "--data", "iris", "--model", "mlp", "--out", filepath.Join(dir, "no", "such", "m.gbx")}, ExitFailed, "does not exist"},
		{[]string{"train", "--data", "iris", "--model", "mlp", "--out", out, "--checkpoint", filepath.Join(dir, "nope", "c.ckpt")}, ExitFailed, "does not exist"},
		{[]string{"explain", "--model", mdl, "--input", rows, "--label", "-5", "--out", dir}, ExitUsage, "--label -5"},
		{[]string{"explain", "--model", mdl, "--input", rows, "--samples", "1000000000000", "--out", dir}, ExitUsage, "--samples"},
		{[]string{"explain", "--model", mdl, "--input", rows, "--hide", "sideways", "--out", dir}, ExitUsage, "--hide"},
	} {
		code, _, stderr := run(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a model was trained and saved despite a bad flag")
	}
}

// Error texts speak the CLI user's language: no Go package prefixes
// doubled, no library option names.
func TestErrorsSpeakTheUsersLanguage(t *testing.T) {
	dir := t.TempDir()
	mdl := filepath.Join(dir, "m.gbx")
	if err := model.Save(mdl, nn.NewLinear(2, 2, tensor.NewRNG(1)), model.Meta{InputShape: []int{2}}); err != nil {
		t.Fatal(err)
	}
	rows := filepath.Join(dir, "rows.csv")
	os.WriteFile(rows, []byte("1,abc\n"), 0o644)
	code, _, stderr := run(t, "predict", "--model", mdl, "--input", rows)
	if code != ExitFailed || strings.Contains(stderr, "csv: csv") || strings.Contains(stderr, "CSVOptions") || !strings.Contains(stderr, `"abc" is not a number`) {
		t.Errorf("predict on a non-number: exit %d, %q", code, stderr)
	}
	table := filepath.Join(dir, "t.csv")
	os.WriteFile(table, []byte("a,colour,y\n1,1,0\n2,2,1\n3,3,0\n4,x,1\n"), 0o644)
	code, _, stderr = run(t, "train", "--data", "csv:"+table+"?target=y", "--model", "linear", "--out", filepath.Join(dir, "t.gbx"))
	if code != ExitFailed || strings.Contains(stderr, "CSVOptions") || !strings.Contains(stderr, "&categorical=colour") {
		t.Errorf("train on a mixed column: exit %d, %q", code, stderr)
	}
	var res trainResult
	code, stdout, stderr := run(t, "train", "--data", "csv:"+table+"?target=y&categorical=colour", "--model", "linear", "--epochs", "2", "--out", filepath.Join(dir, "t.gbx"), "--json")
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil {
		t.Errorf("train with categorical=colour: exit %d, %q", code, stderr)
	}
}

// Stopping training (Ctrl-C or SIGTERM cancel the context) keeps the last
// checkpoint and says how to resume from it.
func TestStoppedTrainingHintsResume(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "c.ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var o, e bytes.Buffer
	// Cancel once the second epoch's checkpoint exists.
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"train", "--data", "digits", "--model", "mlp", "--epochs", "1000", "--checkpoint", ckpt, "--out", filepath.Join(dir, "m.gbx"), "--quiet"}, &o, &e)
	}()
	for range 2000 {
		if _, err := os.Stat(ckpt); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	code := <-done
	if code != ExitFailed || !strings.Contains(e.String(), "--resume "+ckpt) {
		t.Fatalf("exit %d, %q", code, e.String())
	}
	if _, err := os.Stat(ckpt); err != nil {
		t.Fatalf("the checkpoint is gone: %v", err)
	}
}

// An architecture that asks for more weights than the file holds
// (linear in=out=1e9 used to panic in makeslice, 200000 to die out of
// memory, 20000 to allocate 1.6 GB before failing) is refused before
// anything is allocated, in every command.
func TestCraftedArchitectureAllocatesNothing(t *testing.T) {
	dir := t.TempDir()
	rows := filepath.Join(dir, "rows.csv")
	os.WriteFile(rows, []byte("1,2,3,4\n"), 0o644)
	for _, size := range []int{1_000_000_000, 200_000, 20_000} {
		lin := nn.NewLinear(4, 3, tensor.NewRNG(1))
		spec := lin.Spec()
		arch, _ := json.Marshal(spec)
		crafted := strings.Replace(strings.Replace(string(arch), `"in":4`, fmt.Sprintf(`"in":%d`, size), 1), `"out":3`, fmt.Sprintf(`"out":%d`, size), 1)
		if crafted == string(arch) {
			t.Fatalf("the architecture JSON %s has no in/out to change", arch)
		}
		meta, _ := json.Marshal(model.Meta{InputShape: []int{4}})
		path := filepath.Join(dir, fmt.Sprintf("linear-%d.gbx", size))
		tensors := map[string]*tensor.Tensor{}
		for _, p := range lin.Params() {
			tensors[p.Name] = p.Value
		}
		if err := model.WriteTensors(path, tensors, map[string]string{"format": "glassbox", "glassbox.version": model.FormatVersion,
			"glassbox.architecture": crafted, "glassbox.meta": string(meta)}); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"predict", "--model", path, "--input", rows},
			{"explain", "--model", path, "--input", rows, "--method", "saliency", "--out", filepath.Join(dir, "out")},
			{"serve", "--model", path, "--addr", "127.0.0.1:0"},
		} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			code, _, stderr := run(t, args...)
			runtime.ReadMemStats(&after)
			if code != ExitFailed || !strings.Contains(stderr, "architecture") {
				t.Errorf("in=out=%d: %s: exit %d, %q", size, args[0], code, stderr)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
				t.Errorf("in=out=%d: %s allocated %d MB before refusing", size, args[0], grew>>20)
			}
		}
	}
}
