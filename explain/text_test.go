package explain

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// wordModel is a two-class text classifier that reads only the words in
// pos (raising class 1) and neg (lowering it).
func wordModel(pos, neg []string) TextFunc {
	return func(_ context.Context, docs []string) ([]float32, error) {
		out := make([]float32, 2*len(docs))
		for i, doc := range docs {
			s := -0.5
			for _, w := range strings.FieldsFunc(doc, func(r rune) bool { return r == ' ' || r == ',' || r == '.' || r == '!' }) {
				if slices.Contains(pos, w) {
					s += 1.5
				}
				if slices.Contains(neg, w) {
					s -= 1.5
				}
			}
			p := 1 / (1 + math.Exp(-s))
			out[2*i], out[2*i+1] = float32(1-p), float32(p)
		}
		return out, nil
	}
}

func TestTextPlantedWords(t *testing.T) {
	doc := "The plot was excellent, the acting was great but the ending felt dull and the music was loud."
	model := wordModel([]string{"excellent", "great"}, []string{"dull"})
	e, err := ExplainText(context.Background(), model, doc, TextOptions{LIMEOptions: LIMEOptions{Seed: 1, NumFeatures: 5, Labels: []int{1}}})
	if err != nil {
		t.Fatal(err)
	}
	top := e.Top(3)
	var got []string
	for _, fw := range top {
		got = append(got, fw.Name)
	}
	slices.Sort(got)
	if !reflect.DeepEqual(got, []string{"dull", "excellent", "great"}) {
		t.Fatalf("top words %v, want excellent, great, dull; weights %+v", got, e.Labels[0].Weights)
	}
	for _, fw := range top {
		if (fw.Name == "dull") != (fw.Weight < 0) {
			t.Errorf("%s has weight %v: wrong sign", fw.Name, fw.Weight)
		}
	}
	for _, fw := range e.Labels[0].Weights[3:] {
		if math.Abs(fw.Weight) > 0.1*math.Abs(top[2].Weight) {
			t.Errorf("unread word %q got weight %v, comparable to planted words", fw.Name, fw.Weight)
		}
	}
	// Distinct words, case-sensitive as in lime: The plot was excellent the
	// acting great but ending felt dull and music loud.
	if e.NumFeatures != 14 {
		t.Errorf("NumFeatures %d, want 14 distinct words; names %v", e.NumFeatures, e.FeatureNames)
	}
	if want := []int{4, 9, 14}; !reflect.DeepEqual(e.Positions[slices.Index(e.FeatureNames, "the")], want) {
		t.Errorf("positions of \"the\" %v, want %v (tokens %v)", e.Positions[slices.Index(e.FeatureNames, "the")], want, e.Tokens)
	}
}

func TestTextModesReconstruct(t *testing.T) {
	doc := "good, bad good!"
	var seen []string
	spy := func(_ context.Context, docs []string) ([]float32, error) {
		seen = append(seen, docs...)
		out := make([]float32, len(docs))
		for i, d := range docs {
			out[i] = float32(strings.Count(d, "good"))
		}
		return out, nil
	}
	for _, tc := range []struct {
		mode  TextMode
		feats int
		allow func(string) bool
	}{
		{TextBagOfWords, 2, func(s string) bool {
			// bag of words: both "good"s go together; separators stay.
			return slices.Contains([]string{"good, bad good!", ",  !", "good,  good!", ", bad !"}, s)
		}},
		{TextPositional, 3, func(s string) bool {
			return strings.Count(s, "UNKWORDZ")+strings.Count(s, "good")+strings.Count(s, "bad") == 3 && strings.HasSuffix(s, "!")
		}},
		{TextChars, 13, func(s string) bool { return len(s) <= len(doc) && strings.Count(s, " ") == 2 }},
	} {
		seen = nil
		e, err := ExplainText(context.Background(), spy, doc, TextOptions{LIMEOptions: LIMEOptions{Seed: 2, Samples: 200}, Text: tc.mode, Mode: Regression})
		if err != nil {
			t.Fatal(err)
		}
		if e.NumFeatures != tc.feats {
			t.Errorf("%s: %d features, want %d (%v)", tc.mode, e.NumFeatures, tc.feats, e.FeatureNames)
		}
		if seen[0] != doc {
			t.Errorf("%s: first document %q, want the original", tc.mode, seen[0])
		}
		for _, s := range seen {
			if !tc.allow(s) {
				t.Errorf("%s: unexpected perturbed document %q", tc.mode, s)
				break
			}
		}
	}
}

func TestTextErrors(t *testing.T) {
	model := wordModel([]string{"a"}, nil)
	ctx := context.Background()
	if _, err := ExplainText(ctx, model, "", TextOptions{}); err == nil || !strings.Contains(err.Error(), "no words") {
		t.Errorf("empty text: err %v", err)
	}
	if _, err := ExplainText(ctx, model, " ,.! ", TextOptions{}); err == nil {
		t.Error("punctuation-only text must be an error")
	}
	if _, err := ExplainText(ctx, model, "a b", TextOptions{Text: "words"}); err == nil || !strings.Contains(err.Error(), "text mode") {
		t.Errorf("bad mode: err %v", err)
	}
	boom := errors.New("tokenizer exploded")
	bad := func(context.Context, []string) ([]float32, error) { return nil, boom }
	if _, err := ExplainText(ctx, bad, "a b", TextOptions{}); !errors.Is(err, boom) {
		t.Errorf("model error not surfaced: %v", err)
	}
	if _, err := ExplainText(ctx, model, "a b", TextOptions{LIMEOptions: LIMEOptions{Labels: []int{2}}}); err == nil || !strings.Contains(err.Error(), "label 2") {
		t.Errorf("label out of range: err %v", err)
	}
}
