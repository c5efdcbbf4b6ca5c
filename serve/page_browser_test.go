//go:build browser

package serve

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/glassbox-ml/glassbox/internal/browsertest"
	"github.com/glassbox-ml/glassbox/internal/plantedtext"
)

// The playground page in a real headless Chromium (go test -tags browser;
// .ci/run installs Debian's chromium). One browser serves every subtest.
// GLASSBOX_SCREENSHOTS=DIR keeps a screenshot of each page there.
func TestPlaygroundInBrowser(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := browsertest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t.Run("draw", func(t *testing.T) { drawAndExplain(t, b) })
	t.Run("bad file", func(t *testing.T) { badFileClears(t, b) })
	t.Run("table what-if", func(t *testing.T) { tableWhatIf(t, b) })
	t.Run("text words", func(t *testing.T) { textWords(t, b) })
	t.Run("text page", func(t *testing.T) { textPage(t, b) })
}

// open loads the page and waits for the selector; explanations are
// asked for with a small budget (the page's "samples" field), to keep the
// test short on two cores.
func open(t *testing.T, b *browsertest.Browser, ts *httptest.Server, ready string) *browsertest.Page {
	t.Helper()
	p, err := b.Open(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if err := p.WaitVisible(ready, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	eval[any](t, p, `document.getElementById("samples").value = "400"`)
	return p
}

func noConsoleErrors(t *testing.T, p *browsertest.Page, name string) {
	t.Helper()
	if dir := os.Getenv("GLASSBOX_SCREENSHOTS"); dir != "" {
		if err := p.Screenshot(filepath.Join(dir, name+".png")); err != nil {
			t.Error(err)
		}
	}
	if errs := p.Errors(); len(errs) > 0 {
		t.Errorf("the page wrote errors to the console:\n%s", strings.Join(errs, "\n"))
	}
}

func eval[T any](t *testing.T, p *browsertest.Page, js string) T {
	t.Helper()
	v, err := browsertest.Eval[T](p, js)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func waitTrue(t *testing.T, p *browsertest.Page, cond string) {
	t.Helper()
	if err := p.WaitTrue(cond, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

// explained is true once an explanation is on screen for the current
// input (not greyed as stale) and nothing is pending.
const explained = `!document.getElementById("ex").hidden && !document.getElementById("ex").classList.contains("stale") && document.getElementById("status").textContent === ""`

// A stroke drawn with the mouse on the canvas gets a prediction while and
// after drawing, then an explanation: LIME's segments numbered on the
// picture match its list, the colour key has a numeric scale, and the
// trust figures come with words and verdicts.
func drawAndExplain(t *testing.T, b *browsertest.Browser) {
	m, meta := convModel()
	ts := newServer(t, m, meta, Options{})
	p := open(t, b, ts, "#draw")
	var stroke [][2]float64
	for i := 0; i <= 20; i++ { // a "7": a bar, then a diagonal
		if i <= 8 {
			stroke = append(stroke, [2]float64{70 + 16*float64(i), 60})
		} else {
			stroke = append(stroke, [2]float64{198 - 8*float64(i-8), 60 + 14*float64(i-8)})
		}
	}
	// While the button is still down the prediction follows the stroke;
	// the explanation waits for its end.
	if err := p.Hold("#draw", stroke); err != nil {
		t.Fatal(err)
	}
	waitTrue(t, p, `document.querySelectorAll("#probs .pcol").length === 10`)
	if !eval[bool](t, p, `document.getElementById("ex").hidden`) {
		t.Error("an explanation ran before the stroke ended")
	}
	if err := p.Release("#draw", stroke[len(stroke)-1]); err != nil {
		t.Fatal(err)
	}
	// The model's view holds ink, and every class has a probability row.
	ink := eval[float64](t, p, `(() => { const d = document.getElementById("seen").getContext("2d").getImageData(0, 0, 28, 28).data; let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i]; return s / 255; })()`)
	if ink < 10 {
		t.Errorf("the model's view of the drawing holds %.1f pixels of ink, want a stroke", ink)
	}
	waitTrue(t, p, `document.querySelectorAll("#probs .pcol").length === 10`)
	waitTrue(t, p, explained)
	// LIME on an image: segments listed by number, the picture drawn.
	rows := eval[[]string](t, p, `[...document.querySelectorAll("#top tr td:first-child")].map(td => td.textContent)`)
	if len(rows) == 0 || !strings.HasPrefix(rows[0], "segment ") {
		t.Errorf("LIME's list %q, want numbered segments", rows)
	}
	if n, _ := p.Count("canvas#evidence"); n != 1 {
		t.Errorf("%d evidence pictures, want 1", n)
	}
	ticks := eval[[]string](t, p, `[...document.querySelectorAll("#key .keyscale span")].map(s => s.textContent)`)
	if len(ticks) != 5 || ticks[2] != "0.0000" || !strings.HasPrefix(ticks[0], "-") {
		t.Errorf("colour key ticks %q, want five numbers from -max through 0 to max", ticks)
	}
	trust := eval[[]string](t, p, `[...document.querySelectorAll("#trust tr")].map(tr => tr.textContent)`)
	// The server judges every explanation (explain/check): the page shows
	// its checks, the deletion curve and LIME's fit among them, in words.
	if all := strings.Join(trust, "\n"); len(trust) < 3 || !strings.Contains(all, "deletion") || !strings.Contains(all, "surrogate") || !strings.Contains(all, "removing the pixels") {
		t.Errorf("trust rows %q, want the deletion and insertion curves and LIME's fit in words", trust)
	}
	if !eval[bool](t, p, `["good", "doubtful", "poor"].includes(document.getElementById("verdict").className)`) {
		t.Error("no trust verdict banner")
	}
	// Another method and a contrast: "why 3 and not 8", by Grad-CAM.
	eval[any](t, p, `(() => { document.getElementById("method").value = "gradcam"; document.getElementById("target").value = "3"; document.getElementById("contrast").value = "8"; document.getElementById("explain").click(); })()`)
	waitTrue(t, p, explained+` && document.getElementById("exAbout").textContent.startsWith("Grad-CAM: why 3 rather than 8")`)
	if n, _ := p.Count("#top tr"); n != 0 {
		t.Errorf("Grad-CAM listed %d features; a pixel map has none", n)
	}
	if txt, _ := p.Text("#trust"); strings.Contains(txt, "layer") {
		t.Errorf("the layer is shown as a trust figure: %q", txt)
	}
	noConsoleErrors(t, p, "playground-draw")
}

// A stroke drawn with a finger is predicted and explained; after a file
// the server cannot read, the old prediction and
// explanation are gone and the server's error is shown.
func badFileClears(t *testing.T, b *browsertest.Browser) {
	m, meta := convModel()
	ts := newServer(t, m, meta, Options{})
	p := open(t, b, ts, "#draw")
	// A "1" drawn with a finger.
	if err := p.TouchStroke("#draw", [][2]float64{{140, 40}, {140, 90}, {140, 140}, {140, 190}, {140, 240}}); err != nil {
		t.Fatal(err)
	}
	waitTrue(t, p, explained)
	// A good file replaces the drawing: predicted and explained.
	png, _ := digitPNG(t)
	eval[any](t, p, `(() => { const f = document.getElementById("file"); const dt = new DataTransfer();
		dt.items.add(new File([Uint8Array.from(atob("`+png+`"), c => c.charCodeAt(0))], "digit.png", {type: "image/png"}));
		f.files = dt.files; f.dispatchEvent(new Event("change")); })()`)
	waitTrue(t, p, `document.getElementById("exampleNote").textContent === "file digit.png" && document.querySelectorAll("#probs .pcol").length === 10 && `+explained)
	// Then one the server cannot read.
	eval[any](t, p, `(() => { const f = document.getElementById("file"); const dt = new DataTransfer(); dt.items.add(new File(["not an image"], "bad.png", {type: "image/png"})); f.files = dt.files; f.dispatchEvent(new Event("change")); })()`)
	waitTrue(t, p, `document.getElementById("status").className === "err"`)
	if n, _ := p.Count("#probs"); n != 0 {
		t.Error("the previous prediction is still on screen after a refused file")
	}
	if !eval[bool](t, p, `document.getElementById("ex").hidden`) {
		t.Error("the previous explanation is still on screen after a refused file")
	}
	if msg, _ := p.Text("#status"); !strings.Contains(msg, "image") {
		t.Errorf("status %q, want the server's reason", msg)
	}
	// The refusal is a 400 the page handles: the browser logs the failed
	// request itself, which is not a page error.
	var errs []string
	for _, e := range p.Errors() {
		if !strings.Contains(e, "status of 400") {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// A table model: a field per feature with its training range, a test row
// loaded, and a what-if edit that re-predicts and re-explains.
func tableWhatIf(t *testing.T, b *browsertest.Browser) {
	f := iris(t)
	train := f.train.Data()
	targets := []float32{0, 1, 2}
	examples := append(append(append([]float32{}, train[0:4]...), train[50*4:51*4]...), train[100*4:101*4]...)
	ts := newServer(t, f.m, f.meta, Options{Examples: examples, ExampleTargets: targets}, f.train)
	p := open(t, b, ts, "#fields")
	if n, _ := p.Count("#fields input[type=range]"); n != 4 {
		t.Fatalf("%d sliders, want one per iris feature", n)
	}
	if txt, _ := p.Text("#fields"); !strings.Contains(txt, "petal length") || !strings.Contains(txt, "training: 1.000 to 6.900") {
		t.Errorf("the fields do not show names and training ranges: %q", txt)
	}
	// The page picks a test row at random; this test takes the first, a setosa.
	eval[any](t, p, `Math.random = () => 0; document.getElementById("loadRow").click()`)
	waitTrue(t, p, `document.getElementById("rowNote").textContent.includes("example 1 of 3 (test split, true class setosa)")`)
	waitTrue(t, p, explained)
	before := eval[string](t, p, `document.getElementById("probs").textContent`)
	// What if the petals were as long and wide as the largest seen?
	eval[any](t, p, `for (const j of [2, 3]) { const s = document.querySelectorAll("#fields input[type=range]")[j]; s.value = s.max; s.dispatchEvent(new Event("input")); }`)
	waitTrue(t, p, `document.getElementById("probs").textContent !== `+jsQuote(before))
	waitTrue(t, p, explained)
	if !eval[bool](t, p, `document.getElementById("headline").textContent.startsWith("virginica")`) {
		t.Errorf("after the longest petals the prediction is %q, want virginica", eval[string](t, p, `document.getElementById("headline").textContent`))
	}
	if n, _ := p.Count("#fields tr.changed"); n != 2 {
		t.Errorf("%d fields marked as edited, want 2", n)
	}
	if n, _ := p.Count("#fields td.ev .dbar"); n != 4 {
		t.Errorf("%d evidence bars beside the fields, want 4", n)
	}
	// A pasted CSV row fills the fields; a short one is refused in words.
	eval[any](t, p, `document.getElementById("paste").value = "5.1, 3.5, 1.4"; document.getElementById("fill").click()`)
	if msg, _ := p.Text("#status"); msg != "a pasted row needs 4 numbers, got 3" {
		t.Errorf("short pasted row: status %q", msg)
	}
	eval[any](t, p, `document.getElementById("paste").value = "5.1, 3.5, 1.4, 0.2"; document.getElementById("fill").click()`)
	waitTrue(t, p, `document.getElementById("f2").value === "1.4" && document.getElementById("headline").textContent.startsWith("setosa")`)
	noConsoleErrors(t, p, "playground-table")
}

func jsQuote(s string) string {
	return "`" + strings.NewReplacer("\\", "\\\\", "`", "\\`", "$", "\\$").Replace(s) + "`"
}

// The text rendering path, with a stubbed answer in the words contract
// ({"words": [{"text", "weight"}]} in input order): each word highlighted
// in the key's colour for its sign and strength.
func textWords(t *testing.T, b *browsertest.Browser) {
	f := iris(t)
	ts := newServer(t, f.m, f.meta, Options{}, f.train)
	p := open(t, b, ts, "#fields")
	waitTrue(t, p, explained) // the page's own first explanation, which would replace the stub
	eval[any](t, p, `glassbox.showExplanation({prediction: {class: 1, label: "versicolor", probabilities: [0.1, 0.8, 0.1]},
		explanation: {method: "lime", label: 1, label_name: "versicolor", features: 3, seconds: 0.01, quality: {}, top: []},
		words: [{text: "a", weight: 0.02}, {text: "wonderful", weight: 0.8}, {text: "but", weight: -0.1}, {text: "dull", weight: -0.4}]})`)
	words := eval[[]string](t, p, `[...document.querySelectorAll("#words span")].map(s => s.textContent + " " + getComputedStyle(s).backgroundColor)`)
	// The key runs from a neutral grey to the full colour of the sign at
	// the largest |weight| (0.8 here).
	keyRGB := func(w float64) string {
		to, neutral := [3]float64{192, 57, 43}, [3]float64{238, 238, 238}
		if w < 0 {
			to = [3]float64{33, 113, 181}
		}
		var c [3]int
		for i := range c {
			c[i] = int(math.Floor(neutral[i] + (to[i]-neutral[i])*math.Abs(w)/0.8 + 0.5))
		}
		return fmt.Sprintf("rgb(%d, %d, %d)", c[0], c[1], c[2])
	}
	want := []string{"a " + keyRGB(0.02), "wonderful " + keyRGB(0.8), "but " + keyRGB(-0.1), "dull " + keyRGB(-0.4)}
	if strings.Join(words, "|") != strings.Join(want, "|") {
		t.Errorf("highlighted words %q, want %q", words, want)
	}
	if ticks, _ := p.Text("#key .keyscale"); !strings.Contains(ticks, "0.8000") {
		t.Errorf("key ticks %q, want the scale to reach the largest weight 0.8", ticks)
	}
	// The self-checks contract: explanation.checks as a table with a
	// verdict each, explanation.verdict as the banner.
	eval[any](t, p, `glassbox.showExplanation({prediction: {class: 1, label: "versicolor", probabilities: [0.1, 0.8, 0.1]},
		explanation: {method: "lime", label: 1, features: 4, seconds: 0.01, quality: {r2: 0.9}, top: [{feature: 2, name: "petal length (cm) > 4", weight: 0.3}],
			checks: [{name: "randomised model", family: "sanity", value: 0.12, verdict: "good", words: "the map changes when the weights are randomised", model_calls: 40},
				{name: "seed stability", family: "stability", value: 0.41, verdict: "poor", words: "another seed ranks other features first", model_calls: 80}],
			verdict: {level: "poor", words: "another seed tells another story"}}})`)
	checks := eval[[]string](t, p, `[...document.querySelectorAll("#trust tr")].slice(1).map(tr => [...tr.cells].map(c => c.textContent).join("|"))`)
	want = []string{"randomised modelsanity|0.1200|good|the map changes when the weights are randomised|40", "seed stabilitystability|0.4100|poor|another seed ranks other features first|80"}
	if strings.Join(checks, "\n") != strings.Join(want, "\n") {
		t.Errorf("checks table %q, want %q", checks, want)
	}
	if v, _ := p.Text("#verdict"); eval[string](t, p, `document.getElementById("verdict").className`) != "poor" || !strings.Contains(v, "another seed tells another story") {
		t.Errorf("verdict banner %q, want the server's poor verdict", v)
	}
	noConsoleErrors(t, p, "playground-text-stub")
}

// textPage drives the page of a real text model (a GRU trained in the test
// on sentences where one planted word decides the class): text typed key
// by key is predicted and explained, the words come back highlighted in
// input order, and the planted word is the strongest, in the key's full
// colour for the class; taking the word out flips the prediction.
func textPage(t *testing.T, b *browsertest.Browser) {
	_, ts := plantedText(t)
	p := open(t, b, ts, "#text")
	if methods := eval[[]string](t, p, `[...document.querySelectorAll("#method option")].map(o => o.value)`); strings.Join(methods, ",") != "lime" {
		t.Errorf("the method choice offers %q; a text server runs only lime", methods)
	}
	if !eval[bool](t, p, `getComputedStyle(document.getElementById("ruleBox")).display === "none"`) {
		t.Error("the LRP rule choice is on screen for LIME")
	}
	if help, _ := p.Text("#textHelp"); !strings.Contains(help, "the last 5 tokens") {
		t.Errorf("the text box's help %q does not say how much of a text the model reads", help)
	}
	doc := "the movie " + plantedtext.Word + " was quite long"
	eval[any](t, p, `document.getElementById("text").focus()`)
	if err := p.Do(10*time.Second, chromedp.KeyEvent(doc)); err != nil {
		t.Fatal(err)
	}
	waitTrue(t, p, explained+` && [...document.querySelectorAll("#words span")].map(s => s.textContent).join(" ") === `+jsQuote(doc))
	if h, _ := p.Text("#headline"); !strings.HasPrefix(h, "pos") {
		t.Errorf("headline %q, want pos for a sentence with the planted word", h)
	}
	type word struct {
		Text, Title, Colour string
	}
	words := eval[[]word](t, p, `[...document.querySelectorAll("#words span")].map(s => ({text: s.textContent, title: s.title, colour: getComputedStyle(s).backgroundColor}))`)
	best := 0
	for i, w := range words {
		var v float64
		if _, err := fmt.Sscan(w.Title, &v); err != nil {
			t.Fatalf("word %q has the tooltip %q, want its weight", w.Text, w.Title)
		}
		var bv float64
		fmt.Sscan(words[best].Title, &bv)
		if v > bv {
			best = i
		}
	}
	if w := words[best]; w.Text != plantedtext.Word || w.Colour != "rgb(192, 57, 43)" {
		t.Errorf("the strongest word is %q in %s, want the planted word in the key's full red: %+v", w.Text, w.Colour, words)
	}
	if about, _ := p.Text("#exAbout"); !strings.Contains(about, "why pos") {
		t.Errorf("the explanation is headed %q, want it to say it explains pos", about)
	}
	noConsoleErrors(t, p, "playground-text")
	// Without the planted word the sentence is neg.
	eval[any](t, p, `(() => { const a = document.getElementById("text"); a.value = "the movie was quite long"; a.dispatchEvent(new Event("input")); })()`)
	waitTrue(t, p, explained+` && document.querySelectorAll("#words span").length === 5 && document.getElementById("headline").textContent.startsWith("neg")`)
	noConsoleErrors(t, p, "playground-text-neg")
}
