package explain

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// denseNet is a plain-Go fully connected ReLU network with a softmax
// output: the stand-in model of the benchmarks (its cost is typical of a
// small MLP served in Go without a BLAS).
type denseNet struct {
	sizes []int
	w, b  [][]float32
}

func newDenseNet(seed uint64, sizes ...int) *denseNet {
	r := rand.New(rand.NewPCG(seed, 1))
	n := &denseNet{sizes: sizes}
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		w := make([]float32, in*out)
		for i := range w {
			w[i] = float32(r.NormFloat64() * math.Sqrt(2/float64(in)))
		}
		n.w = append(n.w, w)
		n.b = append(n.b, make([]float32, out))
	}
	return n
}

func (n *denseNet) predict(_ context.Context, x []float32, rows int) ([]float32, error) {
	in := n.sizes[0]
	k := n.sizes[len(n.sizes)-1]
	out := make([]float32, rows*k)
	maxW := 0
	for _, s := range n.sizes {
		maxW = max(maxW, s)
	}
	a := make([]float32, maxW)
	bb := make([]float32, maxW)
	for r := range rows {
		copy(a, x[r*in:(r+1)*in])
		for l := range n.w {
			ni, no := n.sizes[l], n.sizes[l+1]
			w := n.w[l]
			for o := range no {
				s := n.b[l][o]
				wr := w[o*ni : (o+1)*ni]
				for i, v := range a[:ni] {
					s += wr[i] * v
				}
				if l+1 < len(n.w) && s < 0 {
					s = 0
				}
				bb[o] = s
			}
			a, bb = bb, a
		}
		m := a[0]
		for _, v := range a[1:k] {
			m = max(m, v)
		}
		var z float32
		for o := range k {
			e := float32(math.Exp(float64(a[o] - m)))
			out[r*k+o] = e
			z += e
		}
		for o := range k {
			out[r*k+o] /= z
		}
	}
	return out, nil
}

// BenchmarkTabularLIME explains a 30-feature 30-64-64-2 MLP with 5000
// samples (quartile discretisation, 10 features). overhead% is the share of
// time outside the model.
func BenchmarkTabularLIME(b *testing.B) {
	const d = 30
	train := gaussianData(2000, d, 1, nil)
	ex, err := NewTabular(train, d, TabularConfig{})
	if err != nil {
		b.Fatal(err)
	}
	net := newDenseNet(2, d, 64, 64, 2)
	for _, disc := range []Discretizer{DiscretizeQuartile, DiscretizeNone} {
		b.Run(string(disc), func(b *testing.B) {
			ex := ex
			if disc == DiscretizeNone {
				ex, _ = NewTabular(train, d, TabularConfig{Discretizer: DiscretizeNone})
			}
			var model, total float64
			for i := 0; b.Loop(); i++ {
				e, err := ex.Explain(context.Background(), net.predict, train[:d], TabularOptions{LIMEOptions: LIMEOptions{Seed: uint64(i), Samples: 5000}})
				if err != nil {
					b.Fatal(err)
				}
				model += e.Timing.Model.Seconds()
				total += e.Timing.Total.Seconds()
			}
			b.ReportMetric(100*(1-model/total), "overhead%")
			b.ReportMetric(1e3*(total-model)/float64(b.N), "overhead-ms/op")
		})
	}
}

// freeModel costs almost nothing, so a benchmark using it times LIME's own
// work alone.
func freeModel(k int) Func {
	return func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, n*k)
		for i := range n {
			out[i*k] = x[i*len(x)/n] // depends on the input, nearly free
		}
		return out, nil
	}
}

// BenchmarkLIMEOverheadOnly runs tabular (5000 samples, 30 features) and
// image (1000 samples, 28×28) LIME on a free model: ns/op is the overhead.
func BenchmarkLIMEOverheadOnly(b *testing.B) {
	const d = 30
	train := gaussianData(2000, d, 1, nil)
	for _, disc := range []Discretizer{DiscretizeQuartile, DiscretizeNone} {
		ex, _ := NewTabular(train, d, TabularConfig{Discretizer: disc, Mode: Regression})
		b.Run("tabular-"+string(disc), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := ex.Explain(context.Background(), freeModel(1), train[:d], TabularOptions{LIMEOptions: LIMEOptions{Seed: uint64(i), Samples: 5000}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	pix := texturedImage(1, 28, 28, 1)
	b.Run("image", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := ExplainImage(context.Background(), freeModel(1), pix, 1, 28, 28, ImageOptions{LIMEOptions: LIMEOptions{Seed: uint64(i), Samples: 1000}, Mode: Regression}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkImageLIME explains a 784-128-10 MLP on a 28×28 image with 1000
// samples (segment.Auto superpixels, mean hiding).
func BenchmarkImageLIME(b *testing.B) {
	const h, w = 28, 28
	pix := texturedImage(1, h, w, 1)
	net := newDenseNet(3, h*w, 128, 10)
	var model, total float64
	for i := 0; b.Loop(); i++ {
		e, err := ExplainImage(context.Background(), net.predict, pix, 1, h, w, ImageOptions{LIMEOptions: LIMEOptions{Seed: uint64(i), Samples: 1000}})
		if err != nil {
			b.Fatal(err)
		}
		model += e.Timing.Model.Seconds()
		total += e.Timing.Total.Seconds()
	}
	b.ReportMetric(100*(1-model/total), "overhead%")
	b.ReportMetric(1e3*(total-model)/float64(b.N), "overhead-ms/op")
}

// BenchmarkTextLIME explains a bag-of-words model on a 40-word review with
// 5000 samples.
func BenchmarkTextLIME(b *testing.B) {
	doc := "the film opens with a slow and quiet scene but the acting is excellent and the score is great although the middle drags and the ending felt dull to me yet I would still watch it again with friends on a rainy day"
	model := wordModel([]string{"excellent", "great", "again"}, []string{"dull", "drags", "slow"})
	var mt, total float64
	for i := 0; b.Loop(); i++ {
		e, err := ExplainText(context.Background(), model, doc, TextOptions{LIMEOptions: LIMEOptions{Seed: uint64(i), Samples: 5000}})
		if err != nil {
			b.Fatal(err)
		}
		mt += e.Timing.Model.Seconds()
		total += e.Timing.Total.Seconds()
	}
	b.ReportMetric(100*(1-mt/total), "overhead%")
}

// BenchmarkKernelSHAP: 30 features, 20 background rows, 2108 coalitions.
func BenchmarkKernelSHAP(b *testing.B) {
	const d = 30
	bg := gaussianData(20, d, 1, nil)
	ks, _ := NewKernelSHAP(bg, d, nil)
	net := newDenseNet(2, d, 64, 64, 2)
	x := gaussianData(1, d, 2, nil)
	var mt, total float64
	for i := 0; b.Loop(); i++ {
		e, err := ks.Explain(context.Background(), net.predict, x, KernelSHAPOptions{Seed: uint64(i)})
		if err != nil {
			b.Fatal(err)
		}
		mt += e.Timing.Model.Seconds()
		total += e.Timing.Total.Seconds()
	}
	b.ReportMetric(100*(1-mt/total), "overhead%")
}
