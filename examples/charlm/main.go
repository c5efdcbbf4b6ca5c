// Command charlm trains a character-level LSTM language model and compares
// its validation loss (nats per character) with the unigram baseline, the
// loss of a model that knows only how often each character occurs.
//
//	go run ./examples/charlm                  # the embedded movie reviews as text
//	go run ./examples/charlm -file book.txt   # any UTF-8 text (e.g. Debian's jargon-text)
//
// Recipe: sequences of 64 characters, embedding 64, LSTM 256 returning
// every step, a Linear layer to the vocabulary at each step; Adam lr 2e-3,
// batch 64, gradient norm clipped at 5, seed 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"strings"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/loss"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
	"github.com/glassbox-ml/glassbox/zoo"
)

func main() {
	file := flag.String("file", "", "a UTF-8 text file (default: the embedded reviews joined)")
	cell := flag.String("cell", "lstm", "lstm, gru or rnn")
	epochs := flag.Int("epochs", 3, "epochs")
	chars := flag.Int("chars", 400000, "characters of text to use")
	hidden := flag.Int("hidden", 256, "recurrent width")
	flag.Parse()
	ctx := context.Background()
	var text string
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			log.Fatal(err)
		}
		text = string(b)
	} else {
		ds, err := datasets.Load(ctx, "imdb-5000", datasets.Options{})
		if err != nil {
			log.Fatal(err)
		}
		text = strings.Join(ds.Text.Docs, "\n")
	}
	if len(text) > *chars {
		text = text[:*chars]
	}
	const seqLen = 64
	corpus, err := datasets.ReadCorpus(strings.NewReader(text), datasets.CorpusOptions{SeqLen: seqLen, MaxVocab: 96})
	if err != nil {
		log.Fatal(err)
	}
	v := corpus.Vocab.Size()
	x := tensor.New(corpus.N, seqLen)
	y := tensor.New(corpus.N, seqLen)
	for i := range corpus.Inputs {
		x.Data()[i] = float32(corpus.Inputs[i])
		y.Data()[i] = float32(corpus.Targets[i])
	}
	all, _ := data.NewTensors(x, y)
	tr, va, _ := data.Split(all, 0.1, 1)
	// Unigram baseline: cross-entropy of the training character frequencies
	// on the validation targets.
	counts := make([]float64, v)
	_, ytr := data.Materialize(tr)
	for _, c := range ytr.Data() {
		counts[int(c)]++
	}
	_, yva := data.Materialize(va)
	var base float64
	for _, c := range yva.Data() {
		base -= math.Log((counts[int(c)] + 1) / (float64(ytr.Len()) + float64(v)))
	}
	base /= float64(yva.Len())
	m, err := zoo.New(*cell+"-lm", zoo.Config{InputShape: []int{seqLen}, Outputs: v, Vocab: v, Hidden: *hidden}, tensor.NewRNG(1))
	if err != nil {
		log.Fatal(err)
	}
	perStep := func(tp *autograd.Tape, out *autograd.Var, b *data.Batch) *autograd.Var {
		return loss.CrossEntropy(tp, tp.Reshape(out, -1, v), b.Labels())
	}
	tl, _ := data.NewLoader(tr, data.Options{BatchSize: 64, Shuffle: true, Seed: 1})
	vl, _ := data.NewLoader(va, data.Options{BatchSize: 256})
	opt, _ := optim.NewAdam(m.Params(), 2e-3)
	fmt.Printf("%s-lm on %d characters: %d sequences of %d, vocabulary %d; unigram baseline %.3f nats/char\n", *cell, len(text), corpus.N, seqLen, v, base)
	h, err := train.Fit(ctx, m, tl, train.Config{Epochs: *epochs, Optimizer: opt, Loss: perStep, Classes: v, Val: vl, ClipNorm: 5, Progress: os.Stderr})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range h.Epochs {
		fmt.Printf("epoch %d  train %.3f  validation %.3f nats/char, next-character accuracy %.1f%% (%.0f sequences/s)\n",
			e.Epoch, e.Train["loss"], e.Val["loss"], 100*e.Val["accuracy"], e.SamplesPerSec)
	}
	fmt.Printf("validation loss %.3f vs unigram %.3f nats/char\n", h.Last().Val["loss"], base)
}
