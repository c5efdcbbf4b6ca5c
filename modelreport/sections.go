package modelreport

import (
	"cmp"
	"context"
	"fmt"
	"html/template"
	"image"
	"math"
	"slices"
	"strings"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/report"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
)

// builder holds what several sections share: the test split's inputs,
// truths and predicted probabilities.
type builder struct {
	in    Input
	ctx   context.Context
	xs    [][]float32 // test inputs, the data's own units
	truth []int       // test classes (classification)
	probs [][]float32 // predicted probabilities (classification)
}

// esc escapes text for HTML.
func esc(s string) string { return template.HTMLEscapeString(s) }

// html is a growing section body.
type html struct{ strings.Builder }

func (h *html) add(format string, a ...any) { fmt.Fprintf(&h.Builder, format, a...) }
func (h *html) out() template.HTML          { return template.HTML(h.String()) }

// figure wraps content with a caption.
func (h *html) figure(content template.HTML, caption string) {
	h.add(`<figure>%s<figcaption>%s</figcaption></figure>`, content, esc(caption))
}

func img(uri template.URL, alt string) template.HTML {
	return template.HTML(fmt.Sprintf(`<img src="%s" alt="%s">`, uri, esc(alt)))
}

func (b *builder) classification() bool {
	return b.in.Model.Task == predictor.Classification && len(b.in.Data.Test.YShape()) == 0
}

func (b *builder) image() bool {
	return b.in.Model.Kind == explain.Image && len(b.in.Model.InputShape) == 3
}

// predictTest reads the test split and predicts it.
func (b *builder) predictTest() error {
	p, test := b.in.Model, b.in.Data.Test
	d := tensor.Numel(test.XShape())
	y := make([]float32, tensor.Numel(test.YShape()))
	n := test.Len()
	b.xs = make([][]float32, n)
	if b.classification() {
		b.truth = make([]int, n)
	}
	for i := range n {
		b.xs[i] = make([]float32, d)
		test.Read(i, b.xs[i], y)
		if b.truth != nil {
			b.truth[i] = int(y[0])
		}
	}
	if !b.classification() {
		return nil
	}
	const batch = 256
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		flat := make([]float32, 0, (hi-lo)*d)
		for _, x := range b.xs[lo:hi] {
			flat = append(flat, x...)
		}
		t, err := tensor.FromSlice(flat, append([]int{hi - lo}, p.InputShape...)...)
		if err != nil {
			return err
		}
		preds, err := p.Predict(b.ctx, t)
		if err != nil {
			return fmt.Errorf("modelreport: predicting the test split: %w", err)
		}
		for _, pr := range preds {
			b.probs = append(b.probs, pr.Probabilities)
		}
	}
	return nil
}

// argmax is the index of v's first largest value.
func argmax(v []float32) int { return slices.Index(v, slices.Max(v)) }

// runnerUp is the most probable class other than c.
func runnerUp(v []float32, c int) int {
	best := -1
	for i, x := range v {
		if i != c && (best < 0 || x > v[best]) {
			best = i
		}
	}
	return best
}

// Confusion returns the confusion matrix of the test predictions (rows:
// true class, columns: predicted) and the accuracy it implies.
func confusion(truth []int, probs [][]float32, k int) ([][]int, float64) {
	m := make([][]int, k)
	for i := range m {
		m[i] = make([]int, k)
	}
	correct := 0
	for i, t := range truth {
		p := argmax(probs[i])
		if t >= 0 && t < k && p < k {
			m[t][p]++
		}
		if p == t {
			correct++
		}
	}
	return m, float64(correct) / float64(max(len(truth), 1))
}

func (b *builder) comparison() (Section, error) {
	s := Section{ID: "comparison", Title: "Linear or deep? Four models on the same data"}
	if len(b.in.Comparison) == 0 {
		s.Omitted = "this report covers one model; the comparison trains four on the same split (glassbox demo, or modelreport.Compare)."
		return s, nil
	}
	s.Intro = "Each model is trained on the same training images and scored once on the same test images. A linear model on raw pixels can only " +
		"weigh each pixel; on HOG features (histograms of edge directions in 7×7-pixel cells, computed by hand) it sees local shape; the MLP " +
		"learns its own features from pixels; the CNN learns local filters shared across the image. Training time is wall-clock on this machine, " +
		"loading the data included (and, for HOG, computing the features)."
	var h html
	h.add(`<table><tr><th>model</th><th>sees</th><th class="num">test accuracy</th><th class="num">parameters</th><th class="num">epochs</th><th class="num">training time</th></tr>`)
	for _, r := range b.in.Comparison {
		h.add(`<tr><td>%s</td><td>%s</td><td class="num">%.2f%%</td><td class="num">%d</td><td class="num">%d</td><td class="num">%.1f s</td></tr>`,
			esc(r.Model), esc(r.Inputs), 100*r.Accuracy, r.Params, r.Epochs, r.Seconds)
	}
	h.add(`</table>`)
	s.Body = h.out()
	return s, nil
}

func (b *builder) curves() (Section, error) {
	s := Section{ID: "curves", Title: "Training curves"}
	hist := b.in.History
	if hist == nil && len(b.in.Model.Curves) > 0 {
		hist = &train.History{}
		for _, e := range b.in.Model.Curves {
			hist.Epochs = append(hist.Epochs, train.EpochInfo{Epoch: e.Epoch, Train: e.Train, Val: e.Val})
		}
	}
	if hist == nil || len(hist.Epochs) == 0 {
		s.Omitted = "the model file does not record its per-epoch figures (models trained by glassbox from this version on do)."
		return s, nil
	}
	s.Intro = "Loss and accuracy after every epoch, on the training examples (solid: averaged over the epoch while the weights still moved, " +
		"dropout on) and on the validation examples held out from training (dashed: measured at the end of the epoch). A validation curve " +
		"that turns up while training keeps falling is overfitting."
	var h html
	for _, metric := range []string{"loss", "accuracy"} {
		var tr, va series
		tr = series{Name: "training", Colour: "#2166ac"}
		va = series{Name: "validation", Colour: "#d6604d", Dashed: true}
		for _, e := range hist.Epochs {
			if v, ok := e.Train[metric]; ok {
				tr.X, tr.Y = append(tr.X, float64(e.Epoch)), append(tr.Y, scaleMetric(metric, v))
			}
			if v, ok := e.Val[metric]; ok {
				va.X, va.Y = append(va.X, float64(e.Epoch)), append(va.Y, scaleMetric(metric, v))
			}
		}
		ss := []series{tr}
		if len(va.X) > 0 {
			ss = append(ss, va)
		}
		if len(tr.X) == 0 {
			continue
		}
		label, ceil := metric, math.NaN()
		if metric == "accuracy" {
			label, ceil = "accuracy (%)", 100
		}
		h.figure(lineChart(metric, "epoch", label, ss, 520, 300, 0, ceil), fmt.Sprintf("%s per epoch", metric))
	}
	if hist.Stopped != "" {
		h.add(`<p>Training stopped early: %s.</p>`, esc(hist.Stopped))
	}
	s.Body = h.out()
	return s, nil
}

func scaleMetric(metric string, v float64) float64 {
	if metric == "accuracy" {
		return 100 * v
	}
	return v
}

func (b *builder) confusion() (Section, error) {
	s := Section{ID: "confusion", Title: "Confusion matrix"}
	if !b.classification() {
		s.Omitted = "a regression model has no classes to confuse."
		return s, nil
	}
	k := len(b.in.Model.Classes)
	m, acc := confusion(b.truth, b.probs, k)
	s.Intro = fmt.Sprintf("Every one of the %d test examples counted once: its row is the true class, its column the predicted one, so the diagonal "+
		"holds the %.2f%% the model gets right and every other cell a kind of mistake. A cell's shade is its share of the row.", len(b.truth), 100*acc)
	var h html
	h.add(`<div class="row">`)
	h.figure(matrixChart(m, b.in.Model.Classes), "rows: true class; columns: predicted class; hover a cell for its counts")
	h.figure(colourBar(1, "share of the true class", false, 260), "")
	h.add(`</div>`)
	// The largest off-diagonal cells in words.
	type cell struct{ i, j, n int }
	var off []cell
	for i, row := range m {
		for j, v := range row {
			if i != j && v > 0 {
				off = append(off, cell{i, j, v})
			}
		}
	}
	slices.SortStableFunc(off, func(a, b cell) int { return cmp.Compare(b.n, a.n) })
	if len(off) > 0 {
		h.add(`<p>Most frequent mistakes: `)
		for i, c := range off[:min(5, len(off))] {
			if i > 0 {
				h.add(`; `)
			}
			h.add(`%s taken for %s (%d×)`, esc(name(b.in.Model.Classes, c.i)), esc(name(b.in.Model.Classes, c.j)), c.n)
		}
		h.add(`.</p>`)
	}
	s.Body = h.out()
	return s, nil
}

// explainMethod is the method the examples section uses for p: integrated
// gradients for images (faithful, exact completeness, fast), Kernel SHAP
// for tables, LIME otherwise; the first applicable one if those are not.
func explainMethod(p *predictor.Predictor) string {
	var prefer []string
	switch p.Kind {
	case explain.Image:
		prefer = []string{"ig", "saliency", "occlusion", "lime"}
	case explain.Table:
		prefer = []string{"kernelshap", "lime"}
	default:
		prefer = []string{"lime"}
	}
	ms := p.Methods()
	for _, want := range prefer {
		for _, m := range ms {
			if m.Name == want {
				return want
			}
		}
	}
	if len(ms) > 0 {
		return ms[0].Name
	}
	return ""
}

func (b *builder) examples() (Section, error) {
	s := Section{ID: "examples", Title: "Most confused and least certain test examples, explained"}
	p := b.in.Model
	if !b.classification() {
		s.Omitted = "a regression model has no wrong class or runner-up to explain against."
		return s, nil
	}
	if p.Kind == explain.Table && len(p.Background) == 0 && b.in.Data.Train != nil {
		p.Background = predictor.Rows(b.in.Data.Train)
	}
	method := explainMethod(p)
	if method == "" {
		s.Omitted = "no explanation method of the registry applies to this model."
		return s, nil
	}
	// Most confused: wrong, with the highest probability on the wrong class.
	var wrong, all []int
	for i := range b.truth {
		all = append(all, i)
		if argmax(b.probs[i]) != b.truth[i] {
			wrong = append(wrong, i)
		}
	}
	pmax := func(i int) float32 { return b.probs[i][argmax(b.probs[i])] }
	slices.SortStableFunc(wrong, func(x, y int) int { return cmp.Compare(pmax(y), pmax(x)) })
	confused := wrong[:min(b.in.Examples, len(wrong))]
	margin := func(i int) float32 {
		c := argmax(b.probs[i])
		return b.probs[i][c] - b.probs[i][runnerUp(b.probs[i], c)]
	}
	slices.SortStableFunc(all, func(x, y int) int { return cmp.Compare(margin(x), margin(y)) })
	var uncertain []int
	for _, i := range all {
		if len(uncertain) == b.in.Examples {
			break
		}
		if !slices.Contains(confused, i) {
			uncertain = append(uncertain, i)
		}
	}
	mi, _ := explain.Lookup(method)
	howFar := "The deletion figure says how far to trust a picture: the model's probability as the most important inputs are removed first, " +
		"averaged (lower is better; near the probability itself means the map is no better than chance)."
	if p.Kind == explain.Text {
		howFar = "Each word is shaded by its weight in a linear surrogate fitted to the model on copies of the document with words removed; " +
			"the surrogate's R² says how far to trust the shading (near 1: the weights reproduce what the model does; hover a word for its weight)."
	}
	s.Intro = fmt.Sprintf("The test examples the model gets wrong with the most confidence, then those it is least sure about (smallest gap between "+
		"its two most probable classes). Each is explained with %s twice: for the class the model chose and for the class it should have chosen "+
		"(or, when right, its runner-up) — \"why this and not that\". %s", mi.Info().Title, howFar)
	var h html
	if len(confused) == 0 {
		h.add(`<p>The model gets every test example right: no confused examples.</p>`)
	} else {
		h.add(`<h3>Wrong, and sure of it</h3>`)
	}
	for _, i := range confused {
		if err := b.explainOne(&h, method, i, b.truth[i]); err != nil {
			return s, err
		}
	}
	h.add(`<h3>Least certain</h3>`)
	for _, i := range uncertain {
		other := b.truth[i]
		if pred := argmax(b.probs[i]); pred == other {
			other = runnerUp(b.probs[i], pred)
		}
		if err := b.explainOne(&h, method, i, other); err != nil {
			return s, err
		}
	}
	s.Body = h.out()
	return s, nil
}

// explainOne explains test example i for its predicted class and for
// class other, and adds the pictures or bars.
func (b *builder) explainOne(h *html, method string, i, other int) error {
	p, x := b.in.Model, b.xs[i]
	pred := argmax(b.probs[i])
	names := p.Classes
	h.add(`<p><b>test example %d</b>: true %s, predicted %s (p = %.3f); %s has p = %.3f.</p>`, i, esc(name(names, b.truth[i])),
		esc(name(names, pred)), b.probs[i][pred], esc(name(names, other)), b.probs[i][other])
	var results [2]*explain.Result
	for k, label := range []int{pred, other} {
		opt := explain.Options{Seed: b.in.Seed, Label: explain.Class(label)}
		var r *explain.Result
		var err error
		if p.Kind == explain.Text {
			// A text method explains the document's words, not its token ids.
			opt.Samples = textSamples
			r, err = p.ExplainText(b.ctx, method, b.doc(i), opt)
		} else {
			r, err = p.Explain(b.ctx, method, x, opt)
		}
		if err != nil {
			return fmt.Errorf("modelreport: explaining test example %d with %s: %w", i, method, err)
		}
		results[k] = r
	}
	h.add(`<div class="row">`)
	if b.image() && results[0].Attribution != nil {
		shape := p.InputShape
		c, hh, ww := shape[0], shape[1], shape[2]
		sc := imageScale(hh, ww)
		m := maxAbs(results[0].Attribution, results[1].Attribution)
		h.figure(img(pngURI(inputTile(x, shape, sc)), "input"), "the input")
		for _, r := range results {
			ov := overlay(x, c, hh, ww, r.Attribution, m, sc)
			h.figure(img(pngURI(ov), "attribution"), fmt.Sprintf("why %s%s", name(names, r.Label), trust(r)))
		}
		h.figure(colourBar(m, "attribution", true, 130), "")
	} else if p.Kind == explain.Text {
		var m float64
		for _, r := range results {
			for _, w := range r.Words {
				m = math.Max(m, math.Abs(w.Weight))
			}
		}
		for _, r := range results {
			h.figure(wordView(r.Words, m), fmt.Sprintf("why %s%s", name(names, r.Label), trust(r)))
		}
		h.figure(colourBar(m, "word weight", true, 130), "")
	} else {
		for _, r := range results {
			n := min(10, len(r.Top))
			ns, ws := make([]string, n), make([]float64, n)
			for j := range n {
				ns[j], ws[j] = r.Top[j].Name, r.Top[j].Weight
			}
			h.figure(weightBars(ns, ws, 460), fmt.Sprintf("why %s%s", name(names, r.Label), trust(r)))
		}
	}
	// The probabilities of the most probable classes.
	order := make([]int, len(b.probs[i]))
	for j := range order {
		order[j] = j
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(b.probs[i][y], b.probs[i][x]) })
	order = order[:min(5, len(order))]
	vals, labels := make([]float32, len(order)), make([]string, len(order))
	for j, c := range order {
		vals[j], labels[j] = b.probs[i][c], name(names, c)
	}
	longest := 0
	for _, l := range labels {
		longest = max(longest, len([]rune(l)))
	}
	h.figure(barsChart("probability", vals, labels, max(200, 60+len(labels)*(8*min(longest, 12)+8)), 150, func(float64) string { return "#4d4d4d" }),
		"the most probable classes")
	h.add(`</div>`)
	return nil
}

// textSamples is the LIME budget of a text example: the adaptive default
// starts at 5000 documents, and on imdb-5000's 200-token reviews a GRU
// report then spends two minutes on four explanations; 1000 keeps the
// section under a minute, and each caption's R² says how well it fits.
const textSamples = 1000

// doc is test example i as written: the data's own document when it kept
// it, else the model's tokens of it (padding left out).
func (b *builder) doc(i int) string {
	if docs := b.in.Data.TestDocs; i < len(docs) {
		return docs[i]
	}
	v := b.in.Model.Prep.Vocab
	if v == nil {
		return ""
	}
	var words []string
	for _, id := range b.xs[i] {
		if int(id) != datasets.PadID {
			words = append(words, v.Token(int(id)))
		}
	}
	return strings.Join(words, " ")
}

// wordView shows a document's words in reading order, each on the
// background of the page's signed colour key for its weight (m: the
// weight of the full colour); the exact weight is the word's tooltip.
func wordView(words []explain.WordWeight, m float64) template.HTML {
	if !(m > 0) {
		m = 1
	}
	var h html
	h.add(`<p class="words">`)
	for _, w := range words {
		c := report.Diverging(w.Weight / m)
		ink := "#222"
		if math.Abs(w.Weight) > 0.6*m {
			ink = "#fff" // dark red or blue: white text stays legible
		}
		h.add(`<span style="background:%s;color:%s" title="%+.4f">%s</span> `, hex(c), ink, w.Weight, esc(w.Text))
	}
	h.add(`</p>`)
	return h.out()
}

// trust is a short caption of an explanation's deletion figure.
func trust(r *explain.Result) string {
	d, ok := r.Quality["deletion_auc"]
	if !ok {
		if r2, ok := r.Quality["r2"]; ok {
			return fmt.Sprintf(" (surrogate R² %.2f)", r2)
		}
		return ""
	}
	if r.Probability < 0.2 {
		return fmt.Sprintf(" (p %.3f: too low for the deletion test)", r.Probability)
	}
	verdict := "good"
	switch {
	case d > 0.7*r.Probability:
		verdict = "poor: the map barely beats chance"
	case d > 0.4*r.Probability:
		verdict = "fair"
	}
	return fmt.Sprintf(" (deletion %.2f: %s)", d, verdict)
}

// overlay draws attributions over the grey input on the shared scale m.
func overlay(x []float32, c, h, w int, attr []float32, m float64, scale int) image.Image {
	return report.Overlay(x, c, h, w, attr, report.OverlayOptions{MaxAbs: m, Scale: scale})
}
