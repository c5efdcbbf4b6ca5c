package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/predictor"
)

func init() {
	register("test-flags", "a command with a flag of its own, for the help test", func(ctx context.Context, env *Env, args []string) error {
		fs := newFlags("test-flags", env)
		fs.Int("widgets", 7, "how many widgets")
		return parse(fs, args)
	})
}

// help CMD and CMD -h print the same page: the summary, the usage, an
// example and every flag with the default the flag really has.
func TestHelpPages(t *testing.T) {
	code, page, stderr := run(t, "help", "train")
	if code != 0 || stderr != "" {
		t.Fatalf("help train: exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{
		"glassbox train: train a model on a data set",
		"Usage: glassbox train --data SPEC --model NAME --out FILE",
		"Example:\n  glassbox train --data mnist --model lenet --out lenet.gbx",
		fmt.Sprintf("--epochs INT\n      passes over the training data (default %d)", predictor.DefaultEpochs),
		"--clip FLOAT\n      clip the global gradient norm to this value (0: the model's default: " + predictor.ModelDefaultsText("clip") + "; -1: off)",
		fmt.Sprintf("(default %q)", predictor.DefaultSchedule),
		fmt.Sprintf("(default %q)", predictor.DefaultOptimizer),
		"0: the model's default: " + predictor.ModelDefaultsText("lr"),
	} {
		if !strings.Contains(page, want) {
			t.Errorf("help train lacks %q:\n%s", want, page)
		}
	}
	if _, dash, _ := run(t, "train", "-h"); dash != page {
		t.Errorf("train -h differs from help train:\n%s", dash)
	}
	// The explain page states each method's budget as the registry does.
	_, page, _ = run(t, "explain", "--help")
	for _, mi := range explain.Methods() {
		if mi.DefaultBudget != "" && !strings.Contains(page, "default "+mi.DefaultBudget) {
			t.Errorf("explain --help does not state %s's default budget %q", mi.Name, mi.DefaultBudget)
		}
	}
	// A command's own flags appear without any table naming them.
	_, page, _ = run(t, "help", "test-flags")
	if !strings.Contains(page, "--widgets INT\n      how many widgets (default 7)") || !strings.Contains(page, "a command with a flag of its own") {
		t.Errorf("help test-flags:\n%s", page)
	}
	if code, top, _ := run(t, "help"); code != 0 || !strings.Contains(top, "  train    train a model") || !strings.Contains(top, "glassbox help COMMAND") {
		t.Errorf("help: exit %d\n%s", code, top)
	}
}

// Typos of a command, a flag, a data set or a model name are usage errors
// (exit 2) that name the likely intent.
func TestDidYouMean(t *testing.T) {
	out := t.TempDir() + "/m.gbx"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"hlep", "train"}, `did you mean "help"?`},
		{[]string{"help", "trian"}, `did you mean "train"?`},
		{[]string{"train", "--data", "iris", "--modle", "linear"}, "unknown flag --modle; did you mean --model?"},
		{[]string{"explain", "--metod", "lime"}, "did you mean --method?"},
		{[]string{"train", "--data", "irsi", "--model", "linear", "--out", out}, `--data "irsi": did you mean "iris"?`},
		{[]string{"train", "--data", "iris", "--model", "lenett", "--out", out}, `--model "lenett": did you mean "lenet"?`},
		{[]string{"explain", "--model", out, "--input", "x.csv", "--method", "limee", "--out", out}, `did you mean "lime"?`},
	} {
		code, _, stderr := run(t, c.args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// Training progress piped to a file is plain lines, one per epoch; the
// result on stdout is text.
func TestPipedProgressIsPlainLines(t *testing.T) {
	out := t.TempDir() + "/iris.gbx"
	code, stdout, stderr := run(t, "train", "--data", "iris", "--model", "linear", "--epochs", "3", "--out", out)
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 progress lines, got %q", stderr)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, fmt.Sprintf("epoch %d/3: train loss ", i+1)) || !strings.Contains(l, " | val loss ") || strings.ContainsAny(l, "{}\r") {
			t.Errorf("progress line %q is not a plain line", l)
		}
	}
	if !strings.HasPrefix(stdout, "trained linear on iris in ") || strings.Contains(stdout, "{") {
		t.Errorf("train printed %q", stdout)
	}
}
