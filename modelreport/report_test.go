package modelreport

import (
	"context"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/internal/plantedtext"
	"github.com/glassbox-ml/glassbox/predictor"
)

// The confusion matrix counts every example once, and its diagonal is the
// accuracy.
func TestConfusion(t *testing.T) {
	truth := []int{0, 0, 1, 1, 2, 2, 2}
	probs := [][]float32{{.9, .1, 0}, {.2, .7, .1}, {0, 1, 0}, {0, .6, .4}, {0, 0, 1}, {.5, .2, .3}, {.1, .1, .8}}
	m, acc := confusion(truth, probs, 3)
	want := [][]int{{1, 1, 0}, {0, 2, 0}, {1, 0, 2}}
	for i := range want {
		for j := range want[i] {
			if m[i][j] != want[i][j] {
				t.Fatalf("confusion %v, want %v", m, want)
			}
		}
	}
	if acc != 5.0/7 {
		t.Errorf("accuracy %v, want 5/7", acc)
	}
}

// trainTiny trains a recipe for the report tests (small and quick).
func trainTiny(t *testing.T, r predictor.Recipe) *predictor.Trained {
	t.Helper()
	r.Seed = 1
	tr, err := predictor.Train(context.Background(), r, predictor.TrainOptions{Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestReportImageModel(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a LeNet for one epoch")
	}
	tr := trainTiny(t, predictor.Recipe{Data: "mnist-small", Model: "lenet", Epochs: 1, LR: 2e-3})
	rep, err := Build(context.Background(), Input{Name: "lenet", Model: tr.Predictor, Data: tr.Data, History: tr.History,
		Comparison: []Row{{Model: "lenet", Inputs: "pixels", Accuracy: tr.Test.Accuracy(), Params: 1}}, Seed: 1, Examples: 1, Points: 60, Steps: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Sections {
		if s.Omitted != "" {
			t.Errorf("section %s left out for an image classifier: %s", s.ID, s.Omitted)
		}
		if s.Body == "" || s.Intro == "" {
			t.Errorf("section %s is empty", s.ID)
		}
	}
	// The confusion matrix section: its counts sum to the test size and its
	// diagonal to the accuracy the training run measured.
	b := &builder{in: Input{Model: tr.Predictor, Data: tr.Data}, ctx: context.Background()}
	if err := b.predictTest(); err != nil {
		t.Fatal(err)
	}
	m, acc := confusion(b.truth, b.probs, len(tr.Classes))
	total, diag := 0, 0
	for i, row := range m {
		for j, v := range row {
			total += v
			if i == j {
				diag += v
			}
		}
	}
	if total != tr.Data.Test.Len() {
		t.Errorf("confusion counts %d examples, the test split has %d", total, tr.Data.Test.Len())
	}
	if got, want := float64(diag)/float64(total), tr.Test.Accuracy(); got != want || acc != want {
		t.Errorf("diagonal share %v (accuracy %v), training measured %v", got, acc, want)
	}
	html, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	for _, s := range rep.Sections {
		if !strings.Contains(page, `<h2>`+escaped(s.Title)+`</h2>`) {
			t.Errorf("page lacks the heading of %s", s.ID)
		}
	}
	// Every layer but flatten is projected, each with its probe score.
	if n := strings.Count(page, `aria-label="projection of`); n < 8 {
		t.Errorf("%d projections drawn; want the input and every layer of LeNet but flatten (≥ 8)", n)
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "http://") && !strings.Contains(page, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Error("the page must be self-contained, without scripts or links out")
	}
	if regexp.MustCompile(`src="(https?:|//)`).MatchString(page) {
		t.Error("a picture is loaded from outside the page")
	}
}

// escaped escapes a title as html/template does in text.
func escaped(s string) string {
	return strings.NewReplacer("'", "&#39;", "&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func TestReportTableModel(t *testing.T) {
	tr := trainTiny(t, predictor.Recipe{Data: "iris", Model: "mlp", Epochs: 5})
	// Through a file: the curves come from the per-epoch figures it keeps.
	path := filepath.Join(t.TempDir(), "iris.gbx")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	p, err := predictor.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Curves) != 5 || p.Curves[4].Epoch != 5 || p.Curves[4].Val["accuracy"] != tr.History.Epochs[4].Val["accuracy"] {
		t.Fatalf("the file keeps curves %+v; want the 5 epochs of the run", p.Curves)
	}
	rep, err := Build(context.Background(), Input{Name: "iris-mlp", Model: p, Data: tr.Data, Seed: 1, Examples: 1, Points: 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"first-layer", "maximisation"} {
		s := rep.Section(id)
		if s == nil || !strings.Contains(s.Omitted, "not images") {
			t.Errorf("section %s for a table model: %+v; want it left out because the inputs are not images", id, s)
		}
	}
	if s := rep.Section("comparison"); s == nil || s.Omitted == "" {
		t.Error("the comparison section without a comparison should say why it is left out")
	}
	for _, id := range []string{"curves", "confusion", "examples", "activations", "representations"} {
		if s := rep.Section(id); s == nil || s.Omitted != "" || s.Body == "" {
			t.Errorf("section %s should apply to a table classifier: %+v", id, s)
		}
	}
	if !strings.Contains(string(rep.Section("examples").Body), `aria-label="feature weights"`) {
		t.Error("a table model's explanations should be drawn as weight bars")
	}
	if _, err := Build(context.Background(), Input{Model: tr.Predictor}); err == nil {
		t.Error("a report without data: want an error")
	}
}

func TestReportRegression(t *testing.T) {
	tr := trainTiny(t, predictor.Recipe{Data: "diabetes", Model: "mlp", Epochs: 3})
	rep, err := Build(context.Background(), Input{Name: "diabetes", Model: tr.Predictor, Data: tr.Data, Seed: 1, Points: 30})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"confusion", "examples"} {
		if s := rep.Section(id); s == nil || !strings.Contains(s.Omitted, "regression") {
			t.Errorf("section %s of a regression model: %+v; want it left out because there are no classes", id, s)
		}
	}
	r := rep.Section("representations")
	if r == nil || r.Omitted != "" || strings.Contains(string(r.Body), "probe accuracy") || !strings.Contains(r.Intro, "no classes") {
		t.Errorf("a regression model's projections are drawn unscored: %+v", r)
	}
}

// A text classifier's report explains its examples as the documents'
// words on the signed colour key, the planted word the strongest for pos,
// and leaves out the image views with the reason.
func TestReportTextModel(t *testing.T) {
	spec, _, err := plantedtext.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tr := trainTiny(t, predictor.Recipe{Data: spec, Model: "gru", Hidden: 16, Epochs: 30, Batch: 8, LR: 0.01})
	rep, err := Build(context.Background(), Input{Name: "gru", Model: tr.Predictor, Data: tr.Data, History: tr.History, Seed: 1, Examples: 2, Points: 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"first-layer", "maximisation"} {
		if s := rep.Section(id); s == nil || !strings.Contains(s.Omitted, "text model") {
			t.Errorf("section %s for a text model: %+v; want it left out because the inputs are words", id, s)
		}
	}
	for _, id := range []string{"curves", "confusion", "examples", "activations", "representations"} {
		if s := rep.Section(id); s == nil || s.Omitted != "" || s.Body == "" {
			t.Errorf("section %s should apply to a text classifier: %+v", id, s)
		}
	}
	// Every explained example is a word view per explained class: the
	// test document's words in order, each with its weight as a tooltip;
	// in an explanation for pos, the planted word weighs the most.
	body := string(rep.Section("examples").Body)
	views := regexp.MustCompile(`<p class="words">(.*?)</p>`).FindAllStringSubmatch(body, -1)
	captions := regexp.MustCompile(`<p class="words">.*?</p></figure>|<figcaption>why (\w+)`).FindAllStringSubmatch(body, -1)
	var labels []string
	for _, c := range captions {
		if c[1] != "" {
			labels = append(labels, c[1])
		}
	}
	if len(views) < 2 || len(views) != len(labels) {
		t.Fatalf("%d word views with %d \"why\" captions; want one per explained class", len(views), len(labels))
	}
	span := regexp.MustCompile(`<span style="background:#[0-9a-f]{6};color:#[0-9a-f]+" title="([-+][0-9.]+)">([^<]*)</span>`)
	docs := map[string]bool{}
	for _, d := range tr.Data.TestDocs {
		docs[d] = true
	}
	sawPlanted := false
	for k, v := range views {
		words, best, bestW := []string{}, "", math.Inf(-1)
		for _, m := range span.FindAllStringSubmatch(v[1], -1) {
			words = append(words, m[2])
			w, _ := strconv.ParseFloat(m[1], 64)
			if w > bestW {
				best, bestW = m[2], w
			}
		}
		doc := strings.Join(words, " ")
		if !docs[doc] {
			t.Errorf("word view %q is not a test document in order", doc)
		}
		if labels[k] == "pos" && strings.Contains(doc, plantedtext.Word) {
			sawPlanted = true
			if best != plantedtext.Word || bestW <= 0 {
				t.Errorf("explaining pos for %q: strongest word %q (%+.3f), want the planted word", doc, best, bestW)
			}
		}
	}
	if !sawPlanted {
		t.Error("no explained example explains pos on a document holding the planted word")
	}
	if !strings.Contains(body, `aria-label="colour key: word weight"`) {
		t.Error("the word views have no colour bar")
	}
	if act := rep.Section("activations"); !strings.Contains(string(act.Body), esc(tr.Data.TestDocs[0])) {
		t.Error("the activations section should show the document it follows")
	}
}

// A loss axis stops at 0 and an accuracy axis at 100%, however the
// padding falls.
func TestLineChartBounds(t *testing.T) {
	loss := lineChart("loss", "epoch", "loss", []series{{X: []float64{1, 2, 3}, Y: []float64{0.48, 0.1, 0.03}}}, 500, 300, 0, math.NaN())
	if strings.Contains(string(loss), ">-0.") {
		t.Error("the loss axis has a negative tick")
	}
	acc := lineChart("accuracy", "epoch", "accuracy (%)", []series{{X: []float64{1, 2, 3}, Y: []float64{84.7, 96, 99.3}}}, 500, 300, 0, 100)
	if strings.Contains(string(acc), ">105<") || !strings.Contains(string(acc), ">100<") {
		t.Error("the accuracy axis should end at 100")
	}
}
