package batch

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/glassbox-ml/glassbox/explain"
)

// Options configure a batch run: the flags of glassbox-beam.
type Options struct {
	// Inputs are file names, globs or image folders (ending in "/" where
	// the filesystem has no folders): .csv tables, .jsonl records,
	// .png/.jpg images and .list files naming images.
	Inputs []string
	// Model is a .gbx or .onnx file; Data the data SPEC of the training
	// rows LIME and Kernel SHAP sample from on tables ("" for the
	// model's own).
	Model, Data string
	// Method, Samples, Seed, Label (-1: the predicted class) and Hide are
	// glassbox explain's --method, --samples, --seed (the base seed),
	// --label and --hide.
	Method  string
	Samples int
	Seed    uint64
	Label   int
	Hide    string
	// Thresholds judge the quality figures (zero: DefaultThresholds).
	Thresholds Thresholds
	// PickBudget is how many explanations SP-LIME picks (default 5), among
	// at most PickCandidates rows (default 10000).
	PickBudget, PickCandidates int
}

func (o *Options) check() error {
	if len(o.Inputs) == 0 || o.Model == "" {
		return fmt.Errorf("batch: give the inputs and the model")
	}
	if _, err := explain.Lookup(o.Method); err != nil {
		return fmt.Errorf("method: %v", err)
	}
	if o.Samples < 0 || o.Samples > explain.MaxSamples {
		return fmt.Errorf("samples %d: want 0 (the method's default) to %d", o.Samples, explain.MaxSamples)
	}
	if o.Label < -1 {
		return fmt.Errorf("label %d: want an output index, or -1 for the predicted class", o.Label)
	}
	switch o.Hide {
	case "":
		o.Hide = "auto"
	case "auto", "mean", "constant", "blur":
	default:
		return fmt.Errorf("hide %q: want auto, mean, constant or blur", o.Hide)
	}
	if o.Thresholds == (Thresholds{}) {
		o.Thresholds = DefaultThresholds
	}
	if o.PickBudget == 0 {
		o.PickBudget = 5
	}
	if o.PickCandidates == 0 {
		o.PickCandidates = 10000
	}
	if o.PickBudget < 1 || o.PickCandidates < 1 {
		return fmt.Errorf("pick budget %d and candidates %d: want at least 1 each", o.PickBudget, o.PickCandidates)
	}
	return nil
}

// Outputs are the pipeline's results as PCollections of JSON lines.
type Outputs struct {
	// Records holds one Record per explained row; Dead one DeadLetter per
	// row that failed; Summary one Summary.
	Records, Dead, Summary beam.PCollection
}

// Build adds the batch explanation to s: read the inputs, spread the rows
// over the workers, explain each, and summarise.
func Build(s beam.Scope, opt Options) (Outputs, error) {
	if err := opt.check(); err != nil {
		return Outputs{}, err
	}
	s = s.Scope("glassbox")
	patterns := beam.CreateList(s, opt.Inputs)
	rows := beam.ParDo(s.Scope("read"), &readFn{}, patterns)
	// Reading is cheap and explaining is not: a fusion break lets the
	// runner spread a file's rows over all workers.
	rows = beam.Reshuffle(s, rows)
	fn := &explainFn{Model: opt.Model, Data: opt.Data, Method: opt.Method, Samples: opt.Samples, Seed: opt.Seed,
		Label: opt.Label, Hide: opt.Hide, Thresholds: opt.Thresholds}
	records, dead, contribs := beam.ParDo3(s.Scope("explain"), fn, rows)

	// The empty contribution makes every combiner see one input, so an
	// empty or all-failed run still writes its (empty) summary.
	contribs = beam.Flatten(s, contribs, beam.Create(s, Contribution{}))
	importance := beam.Combine(s.Scope("importance"), importanceFn{}, contribs)
	byClass := beam.ParDo(s, keyByClass, contribs)
	perClass := beam.CombinePerKey(s.Scope("class importance"), importanceFn{}, byClass)
	classes := beam.Combine(s.Scope("classes"), classesFn{},
		beam.Flatten(s, beam.ParDo(s, classEntry, perClass), beam.Create(s, ClassImportance{})))
	poor := beam.Combine(s.Scope("quality"), poorFn{}, contribs)
	pick := beam.Combine(s.Scope("sp-lime"), pickFn{Budget: opt.PickBudget, Candidates: opt.PickCandidates}, contribs)
	summary := beam.ParDo(s.Scope("summary"), assemble, beam.Impulse(s),
		beam.SideInput{Input: importance}, beam.SideInput{Input: classes}, beam.SideInput{Input: poor}, beam.SideInput{Input: pick})
	return Outputs{Records: records, Dead: dead, Summary: summary}, nil
}

// Write adds the three outputs' files under dir: records.jsonl,
// dead_letters.jsonl and summary.json.
func Write(s beam.Scope, dir string, out Outputs) {
	s = s.Scope("write")
	textio.Write(s, path.Join(dir, "records.jsonl"), out.Records)
	textio.Write(s, path.Join(dir, "dead_letters.jsonl"), out.Dead)
	textio.Write(s, path.Join(dir, "summary.json"), out.Summary)
}

func keyByClass(c Contribution) (string, Contribution) { return c.Class, c }

func classEntry(class string, imp Importance) ClassImportance {
	return ClassImportance{Class: class, Importance: imp}
}

func assemble(_ []byte, imp Importance, classes Classes, poor PoorShare, pick Pick, emit func(string)) error {
	b, err := json.Marshal(Summary{Importance: imp, Classes: classes.ByClass, Quality: poor, Pick: pick})
	if err != nil {
		return err
	}
	emit(string(b))
	return nil
}

func init() {
	for _, t := range []any{Row{}, Contribution{}, ClassImportance{}, Classes{}, Importance{}, PoorShare{}, Pick{}, importanceAcc{}, pickAcc{}} {
		beam.RegisterType(reflect.TypeOf(t))
	}
	register.DoFn3x1[context.Context, string, func(Row), error](&readFn{})
	register.DoFn5x0[context.Context, Row, func(string), func(string), func(Contribution)](&explainFn{})
	register.Function1x2(keyByClass)
	register.Function2x1(classEntry)
	register.Function6x1(assemble)
	register.Emitter1[Row]()
	register.Emitter1[string]()
	register.Emitter1[Contribution]()
	register.Combiner3[importanceAcc, Contribution, Importance](&importanceFn{})
	register.Combiner2[Classes, ClassImportance](&classesFn{})
	register.Combiner2[PoorShare, Contribution](&poorFn{})
	register.Combiner3[pickAcc, Contribution, Pick](&pickFn{})
}
