package predictor

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Text data SPECs: a CSV's text and target columns become documents
// encoded with a vocabulary of the training documents, front-padded to
// the longest; mistakes in the SPEC are errors naming the thing and the
// fix.
func TestTextDataSpec(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.csv")
	os.WriteFile(path, []byte("id,review,label\n1,\"good, fine film\",pos\n2,bad film,neg\n3,a good one,pos\n4,\"awful\",neg\n5,so good,pos\n"), 0o644)
	d, err := LoadData(context.Background(), Recipe{Data: "csv:" + path + "?text=review&target=label", Seed: 1, ValFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != "text" || !slices.Equal(d.Classes, []string{"neg", "pos"}) || d.Train.Len()+d.Test.Len() != 5 || d.Test.Len() != 1 {
		t.Fatalf("text data: kind %s, classes %v, %d train + %d test", d.Kind, d.Classes, d.Train.Len(), d.Test.Len())
	}
	if d.InputShape[0] != 3 || d.Vocab.ID("good") < 2 || len(d.TestDocs) != 1 {
		t.Fatalf("sequence length %d, vocabulary %d, test docs %v", d.InputShape[0], d.Vocab.Size(), d.TestDocs)
	}
	short, err := LoadData(context.Background(), Recipe{Data: "csv:" + path + "?text=review&target=label&len=2&vocab=3", Seed: 1, ValFraction: -1})
	if err != nil || short.InputShape[0] != 2 || short.Vocab.Size() != 3 {
		t.Fatalf("len=2&vocab=3: %v", err)
	}
	for spec, want := range map[string]string{
		"?text=review":                       "needs target=COL",
		"?text=reviw&target=label":           `no column "reviw" for text=; the header has id, review, label; did you mean "review"?`,
		"?text=review&target=labl":           `did you mean "label"?`,
		"?text=review&target=review":         "both column",
		"?text=review&target=label&len=0":    "len=0: want a whole number from 1",
		"?text=review&target=label&vocab=x":  "vocab=x",
		"?text=review&target=label&task=reg": `unknown option "task" for text`,
		"?text=&target=label":                "text= names no column",
	} {
		_, err := LoadData(context.Background(), Recipe{Data: "csv:" + path + spec, Seed: 1})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error saying %q", spec, err, want)
		}
	}
	for spec, want := range map[string]string{
		"imdb-5000?size=3": `unknown option "size" (text takes len=TOKENS, vocab=SIZE)`,
		"iris?len=3":       "iris takes no options",
		"imdb?len=0":       "len=0: want a whole number", // refused before anything is read or downloaded
	} {
		if _, err := LoadData(context.Background(), Recipe{Data: spec, Seed: 1}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", spec, err, want)
		}
	}
}

// A recipe's open fields get the model's own schedule (the
// convolutional models a larger rate and random shifts), the package's
// otherwise; fields the recipe sets are kept.
func TestModelDefaults(t *testing.T) {
	for _, c := range []struct {
		in            Recipe
		lr, clip      float64
		shift, epochs int
		scheduled     string
	}{
		{Recipe{Data: "mnist", Model: "lenet"}, 2e-3, 0, 2, DefaultEpochs, DefaultSchedule},
		{Recipe{Data: "mnist", Model: "mlp"}, DefaultLR, 0, 0, DefaultEpochs, DefaultSchedule},
		{Recipe{Data: "imdb-5000", Model: "gru"}, 2e-3, 5, 0, DefaultEpochs, DefaultSchedule},
		{Recipe{Data: "imdb-5000", Model: "lstm", Clip: -1, Epochs: 2}, 2e-3, -1, 0, 2, DefaultSchedule},
		{Recipe{Data: "mnist", Model: "lenet", LR: 0.01, Shift: -1, Schedule: "constant"}, 0.01, 0, -1, DefaultEpochs, "constant"},
	} {
		r, err := normalize(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if r.LR != c.lr || r.Shift != c.shift || r.Clip != c.clip || r.Epochs != c.epochs || r.Schedule != c.scheduled || r.Optimizer != DefaultOptimizer {
			t.Errorf("%s: lr %v shift %d clip %v epochs %d schedule %s optimizer %s; want lr %v shift %d clip %v epochs %d schedule %s",
				c.in.Model, r.LR, r.Shift, r.Clip, r.Epochs, r.Schedule, r.Optimizer, c.lr, c.shift, c.clip, c.epochs, c.scheduled)
		}
	}
	if _, err := normalize(Recipe{Data: "mnist", Model: "lenet", Shift: 9}); err == nil || !strings.Contains(err.Error(), "shift 9") {
		t.Errorf("shift 9: %v", err)
	}
	if got := ModelDefaultsText("lr"); got != "0.002 for cnn, gru, lenet, lstm, rnn; 0.001 otherwise" {
		t.Errorf("ModelDefaultsText(lr) = %q", got)
	}
}
