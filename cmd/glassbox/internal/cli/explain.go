package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/check"
	"github.com/glassbox-ml/glassbox/internal/atomicfile"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/report"
)

func init() {
	register("explain", "explain one prediction with any method of the registry ("+strings.Join(explain.MethodNames(), ", ")+")", runExplain)
}

// methodHelp lists the registered methods for --method's help text.
func methodHelp() string {
	var b strings.Builder
	b.WriteString("explanation method:")
	for _, mi := range explain.Methods() {
		kinds := make([]string, len(mi.Inputs))
		for i, k := range mi.Inputs {
			kinds[i] = string(k)
		}
		fmt.Fprintf(&b, "\n    %-11s %s (%s)", mi.Name, mi.Summary, strings.Join(kinds, ", "))
		if mi.Budget != "" {
			fmt.Fprintf(&b, "; --samples counts %s, default %s", mi.Budget, mi.DefaultBudget)
		}
	}
	return b.String()
}

func runExplain(ctx context.Context, env *Env, args []string) error {
	var opt explain.Options
	fs := newFlags("explain", env)
	modelPath := fs.String("model", "", "a .gbx model file")
	input := fs.String("input", "", "an image (.png/.jpg) for image models, a CSV file of feature rows (in the data's own units) for tables, a file of documents (one a line) for text")
	text := fs.String("text", "", "the document to explain, for a text model (instead of --input)")
	method := fs.String("method", "lime", methodHelp()+"\n    auto        score every method that applies with all the checks and use the best (prints the table)")
	maskPath := fs.String("mask", "", "where the evidence should be, for the localisation checks (pointing game, relevance mass): an image of the input's size whose bright pixels mark it, or a CSV row with nonzero values in the columns that should matter")
	checks := fs.String("checks", "default", "checks judged on the explanation: default (cheap: quality figures, complexity, faithfulness correlation), all (also model randomisation, random logit and robustness, which re-run the method), none")
	fs.Uint64Var(&opt.Seed, "seed", 1, "seed: the same seed gives the same explanation")
	fs.IntVar(&opt.Samples, "samples", 0, "sample budget (0: the method's default; see --method)")
	label := fs.Int("label", -1, "output to explain (-1: the predicted class)")
	row := fs.Int("row", 0, "which CSV row (or line of a text file) to explain")
	id := fs.String("id", "", "the row's id in a batch run (glassbox-beam: FILE:ROW for CSV rows, the id field of JSON Lines, the image's path): explain with the seed derived from --seed and the id (explain.RowSeed), giving that run's record for the row")
	dataSpec := fs.String("data", "", "data SPEC whose training split LIME and Kernel SHAP sample from on tables (default: the model's own training data)")
	out := fs.String("out", "", "folder for explanation.json and the picture")
	hide := fs.String("hide", "auto", "how image LIME hides a superpixel: mean (its mean colour), constant (--hide-value), blur, or auto (constant for grey images, whose background is a constant, mean for colour)")
	hideValue := fs.Float64("hide-value", 0, "the colour of hidden superpixels with --hide constant (0: black)")
	fs.StringVar(&opt.Rule, "rule", "", "LRP's rules: composite (the default: ε for dense layers, z⁺ for convolutions), epsilon, gamma or zplus, each optionally with its parameter (epsilon=0.25, gamma=0.25)")
	fs.StringVar(&opt.Layer, "layer", "", "hidden layer of layerig, layerconductance, neuronig, neuronconductance and tcav, by the name glassbox inspect shows (default: the method's)")
	neuron := fs.Int("neuron", -1, "unit of neuronig and neuronconductance: a flat index into the layer's activations (-1: the most activated)")
	concept := fs.String("concept", "", "tcav's concept examples: a folder of images, a text file of words or phrases (one example a line) for text models, or a CSV of rows")
	random := fs.String("random", "", "tcav's random counter-examples, in --concept's forms (default: the model's training rows)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || (*input == "") == (*text == "") {
		return usagef("--model and one of --input or --text are required")
	}
	if *out == "" && *text == "" {
		return usagef("--out is required (a folder for explanation.json and the picture)")
	}
	var err error
	if opt.Checks, err = explain.ParseCheckLevel(*checks); err != nil {
		return usagef("--checks: %v", err)
	}
	var m explain.Method
	if *method != autoMethod {
		if m, err = explain.Lookup(*method); err != nil {
			return usagef("--method: %v", err)
		}
	}
	if *id != "" {
		opt.Seed = explain.RowSeed(opt.Seed, *id)
	}
	switch {
	case *label < -1:
		return usagef("--label %d: want an output index, or -1 for the predicted class", *label)
	case *label >= 0:
		opt.Label = explain.Class(*label)
	}
	switch {
	case *neuron < -1:
		return usagef("--neuron %d: want a unit index, or -1 for the most activated unit", *neuron)
	case *neuron >= 0:
		opt.Neuron = explain.Class(*neuron)
	}
	if opt.Samples < 0 || opt.Samples > explain.MaxSamples {
		return usagef("--samples %d: want 0 (the method's default) to %d", opt.Samples, explain.MaxSamples)
	}
	switch *hide {
	case "auto", "mean", "constant", "blur":
		opt.Hide, opt.HideValue = explain.Hide(*hide), float32(*hideValue)
	default:
		return usagef("--hide %q: want auto, mean, constant or blur", *hide)
	}
	if _, err := explain.ParseLRPRule(opt.Rule); err != nil {
		return usagef("--rule: %v", err)
	}
	p, err := predictor.Load(*modelPath)
	if err != nil {
		return err
	}
	if p.Kind == explain.Text {
		return explainText(ctx, env, p, *method, *input, *text, *row, *out, opt)
	}
	x, err := readInput(p, *input, *text)
	if err != nil {
		return err
	}
	if *row < 0 || *row >= x.Dim(0) {
		return fmt.Errorf("--row %d: the input has %d rows", *row, x.Dim(0))
	}
	if *maskPath != "" {
		if opt.Mask, err = readMask(p, *maskPath); err != nil {
			return err
		}
	}
	var advice *check.Advice
	if *method == autoMethod {
		if advice, err = advise(ctx, p, x, *row, *dataSpec, opt); err != nil {
			return err
		}
		*method = advice.Best
		if opt.Checks == explain.ChecksDefault {
			opt.Checks = explain.ChecksAll // the advisor ran them all: show them
		}
		if m, err = explain.Lookup(*method); err != nil {
			return err
		}
	}
	if m.Info().Needs&explain.NeedsBackground != 0 {
		if err := p.LoadBackground(ctx, *dataSpec); err != nil {
			return fmt.Errorf("%s needs the model's training rows: %w", *method, err)
		}
	}
	if *concept != "" {
		if opt.Concept, err = p.ReadExamples(*concept); err != nil {
			return fmt.Errorf("--concept: %w", err)
		}
		opt.ConceptName = strings.TrimSuffix(filepath.Base(*concept), filepath.Ext(*concept))
	}
	if *random != "" {
		if opt.Random, err = p.ReadExamples(*random); err != nil {
			return fmt.Errorf("--random: %w", err)
		}
	} else if *method == "tcav" {
		if opt.Random, err = tcavRandom(ctx, p, *dataSpec); err != nil {
			return fmt.Errorf("tcav draws random counter-examples from the model's training rows: %w; or give --random", err)
		}
		// The same rows are the examples of the explained class it scores.
		p.Background = opt.Random
	}
	xi := x.Row(*row).Contiguous().Data()
	res, err := p.Explain(ctx, *method, xi, opt)
	if err != nil {
		return err
	}
	files, err := writeExplanation(*out, res, p, xi)
	if err != nil {
		return err
	}
	rec := explainRecord{Result: res, Files: files, Advice: advice}
	return env.emit(rec, func(w io.Writer) { printExplanation(w, rec) })
}

// explainText explains one document: --text, or line row of --input.
func explainText(ctx context.Context, env *Env, p *predictor.Predictor, method, input, text string, row int, out string, opt explain.Options) error {
	doc := text
	if doc == "" {
		docs, err := predictor.ReadText(input)
		if err != nil {
			return err
		}
		if row < 0 || row >= len(docs) {
			return fmt.Errorf("--row %d: %s has %d documents", row, input, len(docs))
		}
		doc = docs[row]
	}
	res, err := p.ExplainText(ctx, method, doc, opt)
	if err != nil {
		return err
	}
	var files []string
	if out != "" {
		if files, err = writeExplanation(out, res, p, nil); err != nil {
			return err
		}
	}
	rec := explainRecord{Result: res, Files: files}
	return env.emit(rec, func(w io.Writer) { printExplanation(w, rec) })
}

// explainRecord is what explain prints: the explanation's record and the
// files written.
type explainRecord struct {
	*explain.Result
	Files []string `json:"files,omitempty"`
	// Advice is the advisor's table with --method auto.
	Advice *check.Advice `json:"advice,omitempty"`
}

// writeExplanation writes dir/METHOD.png and dir/explanation.json (the
// record and the method's full result) and returns their paths.
func writeExplanation(dir string, res *explain.Result, p *predictor.Predictor, x []float32) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	if pic := p.Picture(res, x); pic != nil {
		path := filepath.Join(dir, res.Method+".png")
		if err := report.WritePNG(path, pic); err != nil {
			return nil, err
		}
		files = append(files, path)
	}
	jsonPath := filepath.Join(dir, "explanation.json")
	files = append(files, jsonPath)
	full, err := json.MarshalIndent(map[string]any{"summary": explainRecord{Result: res, Files: files}, "details": res.Details}, "", " ")
	if err != nil {
		return nil, err
	}
	return files, atomicfile.WriteBytes(jsonPath, full)
}

func printExplanation(w io.Writer, rec explainRecord) {
	res := rec.Result
	if rec.Advice != nil {
		fmt.Fprint(w, rec.Advice.Table())
	}
	fmt.Fprintf(w, "%s explanation of output %d", res.Method, res.Label)
	if res.LabelName != "" {
		fmt.Fprintf(w, " (%s, p=%.3f)", res.LabelName, res.Probability)
	}
	fmt.Fprintf(w, ", seed %d, %d features, %d model calls\n", res.Seed, res.Features, res.ModelCalls)
	if res.Layer != "" {
		fmt.Fprintf(w, "  layer %s\n", res.Layer)
	}
	// Rules and counterfactuals say what they found in one line.
	if s, ok := res.Details.(interface{ Summary() string }); ok {
		fmt.Fprintf(w, "  %s\n", s.Summary())
	}
	if res.Unit != nil {
		fmt.Fprintf(w, "  unit %d\n", *res.Unit)
	}
	keys := make([]string, 0, len(res.Quality))
	for k := range res.Quality {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-22s %.4g\n", k, res.Quality[k])
	}
	for i, t := range res.Top {
		if i == 10 {
			break
		}
		fmt.Fprintf(w, "  %+9.4f  %s\n", t.Weight, t.Name)
	}
	if len(res.Words) > 0 {
		fmt.Fprintf(w, "  words (weight for %s):\n   ", res.LabelName)
		for _, wd := range res.Words {
			if wd.Weight == 0 {
				fmt.Fprintf(w, " %s", wd.Text)
			} else {
				fmt.Fprintf(w, " %s(%+.3f)", wd.Text, wd.Weight)
			}
		}
		fmt.Fprintln(w)
	}
	for _, wn := range res.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", wn)
	}
	printChecks(w, res)
	for _, file := range rec.Files {
		fmt.Fprintf(w, "wrote %s\n", file)
	}
}

// tcavMaxRandom bounds the training inputs TCAV draws its random sets from.
const tcavMaxRandom = 500

// tcavRandom returns up to tcavMaxRandom training inputs of the model (its
// own data, or spec's) as TCAV's random counter-examples.
func tcavRandom(ctx context.Context, p *predictor.Predictor, spec string) ([]float32, error) {
	d, err := p.OwnData(ctx, spec)
	if err != nil {
		return nil, err
	}
	rows := predictor.Rows(d.Train)
	per := max(1, len(rows)/max(1, d.Train.Len()))
	return rows[:min(len(rows), tcavMaxRandom*per)], nil
}
