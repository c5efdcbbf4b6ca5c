package predictor

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// The seed corpora of the fuzz targets below live in testdata/fuzz/<Name>
// and are written by TestWriteFuzzCorpora.

// FuzzMeta: any JSON read into a model.Meta either makes New fail with an
// error or gives a predictor that predicts on a zero input without a
// panic, whose Meta makes the same predictor again.
func FuzzMeta(f *testing.F) {
	models := []nn.Module{nn.NewLinear(4, 3, tensor.NewRNG(1)), nn.NewLinear(4, 1, tensor.NewRNG(2))}
	f.Fuzz(func(t *testing.T, in []byte) {
		var meta model.Meta
		if json.Unmarshal(in, &meta) != nil {
			return
		}
		for _, m := range models {
			p, err := New(m, meta)
			if err != nil {
				if err.Error() == "" {
					t.Fatal("empty error message")
				}
				continue
			}
			if p.Outputs < 1 || p.dim() < 1 || p.dim() > MaxInputValues {
				t.Fatalf("accepted a predictor with %d outputs and %d input values", p.Outputs, p.dim())
			}
			again, err := p.Meta()
			if err != nil {
				t.Fatalf("Meta of an accepted predictor: %v", err)
			}
			q, err := New(m, again)
			if err != nil {
				t.Fatalf("the predictor's own Meta is refused: %v", err)
			}
			if q.Kind != p.Kind || q.Outputs != p.Outputs || q.Task != p.Task {
				t.Fatalf("the predictor's own Meta gives another predictor: %v %d %s, was %v %d %s", q.Kind, q.Outputs, q.Task, p.Kind, p.Outputs, p.Task)
			}
			x := tensor.New(append([]int{1}, p.InputShape...)...)
			preds, err := p.Predict(context.Background(), x)
			if err == nil && len(preds) != 1 {
				t.Fatalf("%d predictions for one input", len(preds))
			}
			if p.Kind == explain.Text {
				if _, err := p.EncodeText([]string{"a few words", ""}); err != nil {
					t.Fatalf("EncodeText: %v", err)
				}
			}
		}
	})
}

// imagePredictors are predictors of small image models: one grey [1 28
// 28], one colour [3 32 32].
func imagePredictors(tb testing.TB) []*Predictor {
	var out []*Predictor
	for _, shape := range [][]int{{1, 28, 28}, {3, 32, 32}} {
		m := nn.NewSequential(nn.NewFlatten(), nn.NewLinear(tensor.Numel(shape), 2, tensor.NewRNG(1)))
		p, err := New(m, model.Meta{InputShape: shape})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// FuzzDecodeImage: any bytes either fail to decode with an error or give
// one input of the model's shape, every pixel in [0, 1].
func FuzzDecodeImage(f *testing.F) {
	ps := imagePredictors(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, p := range ps {
			x, err := p.DecodeImage(in)
			if err != nil {
				continue
			}
			if !tensor.SameShape(x.Shape(), append([]int{1}, p.InputShape...)) {
				t.Fatalf("decoded shape %v for a model of %v", x.Shape(), p.InputShape)
			}
			for i, v := range x.Data() {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("pixel %d is %v", i, v)
				}
			}
		}
	})
}

// tablePredictor is a predictor of a 4-feature table model.
func tablePredictor(tb testing.TB) *Predictor {
	p, err := New(nn.NewLinear(4, 3, tensor.NewRNG(1)), model.Meta{InputShape: []int{4}, Features: []string{"a", "b", "c", "d"}})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// FuzzParseCSV: any bytes either fail to parse with an error or give rows
// of the model's 4 features, every value finite.
func FuzzParseCSV(f *testing.F) {
	p := tablePredictor(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		x, err := p.ParseCSV(in)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if x.Rank() != 2 || x.Dim(0) < 1 || x.Dim(1) != 4 {
			t.Fatalf("parsed shape %v, want [n 4]", x.Shape())
		}
		for i, v := range x.Data() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("value %d is %v", i, v)
			}
		}
	})
}

// textPredictors are predictors of small text models, one with a word and
// one with a character vocabulary.
func textPredictors(tb testing.TB) []*Predictor {
	docs := []string{"the cat sat on the mat", "a dog’s day, naïve café 🙂", "<b>html</b> &amp; words"}
	var out []*Predictor
	for i, level := range []datasets.Level{datasets.WordLevel, datasets.CharLevel} {
		v, err := datasets.BuildVocab(docs, datasets.VocabOptions{Level: level})
		if err != nil {
			tb.Fatal(err)
		}
		vj, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		seq := 5 + 3*i
		p, err := New(nn.NewLinear(seq, 2, tensor.NewRNG(1)), model.Meta{InputShape: []int{seq}, SeqLen: seq, Vocab: vj})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// FuzzEncodeText: any text, valid UTF-8 or not, one document a line,
// encodes to [documents, SeqLen] ids of the vocabulary.
func FuzzEncodeText(f *testing.F) {
	ps := textPredictors(f)
	f.Fuzz(func(t *testing.T, in string) {
		docs := strings.Split(in, "\n")
		for _, p := range ps {
			x, err := p.EncodeText(docs)
			if err != nil {
				t.Fatalf("EncodeText: %v", err)
			}
			if !tensor.SameShape(x.Shape(), []int{len(docs), p.Prep.SeqLen}) {
				t.Fatalf("encoded shape %v for %d documents of %d tokens", x.Shape(), len(docs), p.Prep.SeqLen)
			}
			for _, v := range x.Data() {
				if v < 0 || int(v) >= p.Prep.Vocab.Size() || v != float32(int(v)) {
					t.Fatalf("id %v outside a vocabulary of %d", v, p.Prep.Vocab.Size())
				}
			}
		}
	})
}

// TestWriteFuzzCorpora writes the seed corpora of the fuzz targets above:
// GLASSBOX_WRITE_FUZZ_CORPUS=1 go test -run TestWriteFuzzCorpora ./predictor/
func TestWriteFuzzCorpora(t *testing.T) {
	if os.Getenv("GLASSBOX_WRITE_FUZZ_CORPUS") == "" {
		t.Skip("set GLASSBOX_WRITE_FUZZ_CORPUS=1 to rewrite testdata/fuzz")
	}
	writeMetaCorpus(t)
	writeImageCorpus(t)
	for name, s := range map[string]string{
		"header":          "a,b,c,d\n1,2,3,4\n5,6,7,8\n",
		"no-header":       "1,2,3,4\n-1.5,2e3,0.25,7\n",
		"quoted-bom-crlf": "\uFEFF\"a\",\"b\",c,d\r\n\"1\",2,3,\" 4 \"\r\n\r\n",
		"missing":         "a,b,c,d\n1,,3,4\n",
		"na":              "1,NA,3,4\n",
		"ragged":          "1,2,3,4\n1,2,3\n",
		"three-columns":   "1,2,3\n",
		"text-value":      "a,b,c,d\n1,two,3,4\n",
		"overflow":        "1e39,2,3,4\n",
		"bare-quote":      "1,2\"x,3,4\n",
		"semicolons":      "1;2;3;4\n",
		"empty":           "",
		"header-only":     "a,b,c,d\n",
		"duplicate-names": "a,a,c,d\n1,2,3,4\n",
		"many-rows":       strings.Repeat("0.5,1,2,3\n", 40),
	} {
		writeCorpusFile(t, "FuzzParseCSV", name, fmt.Sprintf("[]byte(%q)", s))
	}
	for name, s := range map[string]string{
		"words":        "the cat sat on the mat",
		"unknown":      "zebra quagga",
		"lines":        "the cat\n\na dog’s day\nTHE MAT, the mat!",
		"long":         strings.Repeat("the cat ", 20),
		"html":         "<p>the <i>cat</i> &amp; &lt;dog&gt; &#x1F642;</p>",
		"unicode":      "naïve café 🙂 日本語 ﬁ",
		"invalid-utf8": "the \xff\xfe cat \xc3\x28 \xed\xa0\x80",
		"empty":        "",
		"spaces":       " \t\r\n\u00a0\u2028",
	} {
		if name != "invalid-utf8" && !utf8.ValidString(s) {
			t.Fatalf("%s is not UTF-8", name)
		}
		writeCorpusFile(t, "FuzzEncodeText", name, fmt.Sprintf("string(%q)", s))
	}
}

func writeMetaCorpus(t *testing.T) {
	vocab := `{"level":"word","tokens":["<pad>","<unk>","the","cat"]}`
	for name, s := range map[string]string{
		"table": `{"task":"classification","classes":["setosa","versicolor","virginica"],"input_shape":[4],` +
			`"features":["sepal_length","sepal_width","petal_length","petal_width"],` +
			`"mean":[5.8,3.1,3.8,1.2],"std":[0.8,0.4,1.8,0.8],` +
			`"recipe":{"data":"iris","seed":1,"test_fraction":0.2,"val_fraction":0.1,"model":"linear","optimizer":"adam","lr":0.01,"batch":16,"epochs":30,"epochs_run":30,"schedule":"cosine"},` +
			`"extra":{"trained_by":"glassbox"}}`,
		"regression": `{"task":"regression","input_shape":[4],"features":["a","b","c","d"],"mean":[0,0,0,0],"std":[1,2,3,4],"target_mean":120.5,"target_std":30.25}`,
		"image":      `{"task":"classification","input_shape":[3,2,4],"pixel_mean":[0.485,0.456,0.406],"pixel_std":[0.229,0.224,0.225]}`,
		"image-grey": `{"input_shape":[1,1,4],"pixel_mean":[0.13],"pixel_std":[0.31]}`,
		"text":       `{"task":"classification","classes":["neg","pos","neutral"],"input_shape":[4],"seq_len":4,"vocab":` + vocab + `}`,
		"text-char":  `{"input_shape":[4],"seq_len":4,"vocab":{"level":"char","tokens":["<pad>","<unk>","a","b"]}}`,
		"plain":      `{"input_shape":[4]}`,
		"empty":      `{}`,
		"bad-task":   `{"task":"ranking","input_shape":[4]}`,
		"bad-std":    `{"input_shape":[4],"mean":[0,0,0,0],"std":[1,0,-1,1e-45]}`,
		"bad-shape":  `{"input_shape":[4,-1]}`,
		"huge-shape": `{"input_shape":[65536,65536,4]}`,
		// The product of this shape wrapped to 0 before checkShape was
		// made overflow-safe.
		"overflow-shape": `{"input_shape":[4,4611686018427387904,4]}`,
		"bad-vocab":      `{"input_shape":[4],"seq_len":4,"vocab":{"level":"word","tokens":["<pad>","<pad>"]}}`,
		"bad-seqlen":     `{"input_shape":[4],"seq_len":7,"vocab":` + vocab + `}`,
		"bad-pixels":     `{"input_shape":[4],"pixel_mean":[0.5],"pixel_std":[0.5]}`,
		"classes":        `{"input_shape":[4],"classes":["a","b"]}`,
	} {
		var m model.Meta
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		writeCorpusFile(t, "FuzzMeta", name, fmt.Sprintf("[]byte(%q)", s))
	}
}

func writeImageCorpus(t *testing.T) {
	fill := func(img interface {
		image.Image
		Set(x, y int, c color.Color)
	}) image.Image {
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				img.Set(x, y, color.NRGBA64{uint16(x * 4099), uint16(y * 6007), uint16((x + y) * 3001), uint16(65535 - x*y*97)})
			}
		}
		return img
	}
	pngs := map[string]image.Image{
		"png-gray-28":     fill(image.NewGray(image.Rect(0, 0, 28, 28))),
		"png-gray16-9x7":  fill(image.NewGray16(image.Rect(0, 0, 9, 7))),
		"png-rgba-32":     fill(image.NewRGBA(image.Rect(0, 0, 32, 32))),
		"png-nrgba-5x3":   fill(image.NewNRGBA(image.Rect(0, 0, 5, 3))),
		"png-paletted-6":  fill(image.NewPaletted(image.Rect(0, 0, 6, 6), palette.Plan9)),
		"png-nrgba64-4":   fill(image.NewNRGBA64(image.Rect(0, 0, 4, 4))),
		"png-rgba64-3x11": fill(image.NewRGBA64(image.Rect(0, 0, 3, 11))),
		"png-gray-1":      fill(image.NewGray(image.Rect(0, 0, 1, 1))),
	}
	for name, img := range pngs {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		writeCorpusFile(t, "FuzzDecodeImage", name, fmt.Sprintf("[]byte(%q)", b.Bytes()))
	}
	jpegs := map[string]image.Image{
		"jpeg-gray-28":    fill(image.NewGray(image.Rect(0, 0, 28, 28))),
		"jpeg-rgba-17x13": fill(image.NewRGBA(image.Rect(0, 0, 17, 13))),
		"jpeg-cmyk-8":     fill(image.NewCMYK(image.Rect(0, 0, 8, 8))),
		"jpeg-rgba-1":     fill(image.NewRGBA(image.Rect(0, 0, 1, 1))),
	}
	for name, img := range jpegs {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 50}); err != nil {
			t.Fatal(err)
		}
		writeCorpusFile(t, "FuzzDecodeImage", name, fmt.Sprintf("[]byte(%q)", b.Bytes()))
	}
	// Headers that declare more pixels than MaxImagePixels, with no data.
	for name, wh := range map[string][2]uint32{"png-header-100000x100000": {100000, 100000}, "png-header-4097x4096": {4097, 4096}} {
		writeCorpusFile(t, "FuzzDecodeImage", name, fmt.Sprintf("[]byte(%q)", pngHeader(wh[0], wh[1])))
	}
	writeCorpusFile(t, "FuzzDecodeImage", "gif", fmt.Sprintf("[]byte(%q)", "GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
}

// pngHeader is the signature and IHDR chunk of a w×h 8-bit RGB PNG, then
// IEND: a valid header with no image data.
func pngHeader(w, h uint32) []byte {
	out := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
		body := append([]byte(typ), data...)
		out = append(out, body...)
		out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	chunk("IHDR", append(ihdr, 8, 2, 0, 0, 0))
	chunk("IEND", nil)
	return out
}

// writeCorpusFile writes one seed in the "go test fuzz v1" format; value
// is the Go literal of the one argument.
func writeCorpusFile(t *testing.T, target, name, value string) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte("go test fuzz v1\n"+value+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
