package modelreport

import (
	"fmt"
	"slices"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/inspect"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/tensor"
)

// notImage is the reason image views are left out.
func (b *builder) notImage() string {
	if b.in.Model.Kind == explain.Text {
		return fmt.Sprintf("a text model reads sequences of %d word ids, not images; pictures of weights and synthesised inputs need a [C H W] image input "+
			"(the explained examples above show which words the model weighs).", tensor.Numel(b.in.Model.InputShape))
	}
	return fmt.Sprintf("the model takes %s inputs of shape %v, not images; pictures of weights and synthesised inputs need a [C H W] image input.",
		b.in.Model.Kind, b.in.Model.InputShape)
}

// linearTemplates returns the per-output weight maps of p's first layer
// when it is a Linear layer reading the flattened image (one h×w map per
// output, channels averaged), up to n of them.
func linearTemplates(p *predictor.Predictor, n int) ([][]float32, *nn.Linear) {
	layers, err := inspect.Layers(p.Module)
	if err != nil || len(p.InputShape) != 3 {
		return nil, nil
	}
	c, hw := p.InputShape[0], p.InputShape[1]*p.InputShape[2]
	for _, l := range layers {
		switch l := l.(type) {
		case *nn.Linear:
			if l.In != c*hw {
				return nil, nil
			}
			w := l.Weight.Value.Contiguous().Data() // [in, out]
			out := make([][]float32, min(n, l.Out))
			for j := range out {
				out[j] = make([]float32, hw)
				for ch := range c {
					for i := range hw {
						out[j][i] += w[(ch*hw+i)*l.Out+j] / float32(c)
					}
				}
			}
			return out, l
		case *nn.Conv2D:
			return nil, nil
		}
	}
	return nil, nil
}

func (b *builder) firstLayer() (Section, error) {
	s := Section{ID: "first-layer", Title: "What the first layer looks for"}
	if !b.image() {
		s.Omitted = b.notImage()
		return s, nil
	}
	p := b.in.Model
	hh, ww := p.InputShape[1], p.InputShape[2]
	var h html
	drawn := false
	addTemplates := func(q *predictor.Predictor, title, caption string) {
		maps, l := linearTemplates(q, 16)
		if maps == nil {
			return
		}
		drawn = true
		labels := make([]string, len(maps))
		for j := range labels {
			labels[j] = fmt.Sprintf("unit %d", j)
			if l.Out == len(q.Classes) {
				labels[j] = "class " + name(q.Classes, j)
			}
		}
		pic, m := signedTiles(maps, hh, ww, max(2, 84/max(hh, ww)), min(len(maps), 8), labels)
		h.add(`<h3>%s</h3><div class="row">`, esc(title))
		h.figure(img(pngURI(pic), title), caption)
		h.figure(colourBar(m, "weight", true, 150), "")
		h.add(`</div>`)
	}
	if b.in.Linear != nil && b.in.Linear != p {
		addTemplates(b.in.Linear, "The linear model's class templates",
			"one map per class, left to right from class 0: the weight of each pixel in that class's score. Ink on red pixels raises the score, on blue lowers it.")
	}
	addTemplates(p, "This model's first layer: one weight map per unit",
		"the weights from each pixel to a unit of the first layer (the first 16 units); a linear model's units are its classes.")
	layers, err := inspect.Layers(p.Module)
	if err == nil {
		if convs, _ := inspect.ConvLayers(p.Module); len(convs) > 0 {
			conv := layers[convs[0]].(*nn.Conv2D)
			w := conv.Weight.Value.Contiguous().Data() // [out, in, kh, kw]
			in := len(w) / (conv.Out * conv.KH * conv.KW)
			var maps [][]float32
			for o := 0; o < min(conv.Out, 16); o++ {
				for i := 0; i < min(in, 3); i++ {
					k := (o*in + i) * conv.KH * conv.KW
					maps = append(maps, w[k:k+conv.KH*conv.KW])
				}
			}
			drawn = true
			sc := max(4, 100/max(conv.KH, conv.KW))
			pic, m := signedTiles(maps, conv.KH, conv.KW, sc, min(len(maps), 8*min(in, 3)), nil)
			h.add(`<h3>First convolution: %d filters of %d×%d</h3><div class="row">`, conv.Out, conv.KH, conv.KW)
			cap := fmt.Sprintf("each filter of %s enlarged (%d screen pixels per weight) on one scale: a filter responds to ink on its red weights and to background on its blue ones, so a red stripe beside a blue one is an edge detector.",
				inspect.LayerName(conv, convs[0]), sc)
			if in > 1 {
				cap += fmt.Sprintf(" Each filter reads %d input channels; the first %d are drawn side by side.", in, min(in, 3))
			}
			h.figure(img(pngURI(pic), "filters"), cap)
			h.figure(colourBar(m, "weight", true, 150), "")
			h.add(`</div>`)
		}
	}
	if !drawn {
		s.Omitted = "the model's first layer is neither a convolution nor a linear layer on the pixels."
		return s, nil
	}
	s.Intro = "A linear model can only compare the image with one template per class. A CNN's first layer instead learns small filters that " +
		"slide over the whole image; deeper layers combine their responses. Weights are drawn in the page's colour key, each picture on its own scale."
	s.Body = h.out()
	return s, nil
}

// skipType are layers whose output repeats or reshapes the previous one.
var skipType = []string{"flatten", "dropout", "reshape", "identity"}

func (b *builder) activations() (Section, error) {
	s := Section{ID: "activations", Title: "Activations, layer by layer"}
	p := b.in.Model
	if _, err := inspect.Layers(p.Module); err != nil {
		s.Omitted = "the model is not a sequence of layers, so its inner outputs cannot be listed: " + err.Error()
		return s, nil
	}
	i := 0
	x := append([]float32(nil), b.xs[i]...)
	p.ToModel(x)
	acts, err := inspect.Activations(b.ctx, p.Module, x, p.InputShape)
	if err != nil {
		return s, err
	}
	s.Intro = "What each layer computes for one test example, from the input to the output. Convolution layers give one map per channel " +
		"(the same place in the image, what that channel found there): low layers trace strokes and edges, high layers are coarse and abstract. " +
		"Dense layers give one number per unit; they have no spatial layout, so they are drawn as bars, not pictures."
	var h html
	if b.in.Model.Kind == explain.Text {
		s.Intro += " A text model's input is the document's word ids: the embedding gives each word a vector (a word-by-dimension " +
			"output, not drawn); a recurrent layer's output is its state after the last word."
		h.add(`<p>test example %d (true %s): %s</p>`, i, esc(b.trueName(i)), esc(b.doc(i)))
	}
	if b.image() {
		h.add(`<div class="row">`)
		h.figure(img(pngURI(inputTile(b.xs[i], p.InputShape, imageScale(p.InputShape[1], p.InputShape[2]))), "input"),
			fmt.Sprintf("test example %d (true %s)", i, b.trueName(i)))
		h.add(`</div>`)
	}
	skipped := []string{}
	for k, a := range acts {
		if slices.Contains(skipType, a.Type) {
			skipped = append(skipped, a.Name)
			continue
		}
		title := fmt.Sprintf("layer %d: %s %v", a.Index, a.Name, a.Shape)
		switch len(a.Shape) {
		case 3:
			ch, hh, ww := a.Shape[0], a.Shape[1], a.Shape[2]
			n := min(ch, 16)
			maps := make([][]float32, n)
			for c := range n {
				maps[c] = a.Values[c*hh*ww : (c+1)*hh*ww]
			}
			pic, m := signedTiles(maps, hh, ww, max(1, 84/max(hh, ww)), 8, nil)
			h.add(`<div class="row">`)
			cap := title
			if n < ch {
				cap += fmt.Sprintf(" (first %d of %d channels)", n, ch)
			}
			h.figure(img(pngURI(pic), a.Name), cap)
			h.figure(colourBar(m, "activation", true, 110), "")
			h.add(`</div>`)
		case 1:
			var labels []string
			if k == len(acts)-1 && a.Shape[0] == len(p.Classes) {
				labels = p.Classes
			}
			w := min(900, max(260, 60+6*a.Shape[0]))
			h.figure(barsChart(title, a.Values, labels, w, 150, signedColour), "")
		default:
			h.add(`<p>%s: not drawn (a %d-axis output).</p>`, esc(title), len(a.Shape))
		}
	}
	if len(skipped) > 0 {
		h.add(`<p>Not drawn, since they only reshape or (at inference) copy the layer before: %s.</p>`, esc(fmt.Sprint(skipped)))
	}
	s.Body = h.out()
	return s, nil
}

func (b *builder) trueName(i int) string {
	if b.truth == nil {
		return "?"
	}
	return name(b.in.Model.Classes, b.truth[i])
}

// inputRange is the [lo, hi] of image inputs in the model's units.
func inputRange(p *predictor.Predictor) (float32, float32) {
	n := tensor.Numel(p.InputShape)
	lo, hi := make([]float32, n), make([]float32, n)
	for i := range hi {
		hi[i] = 1
	}
	p.ToModel(lo)
	p.ToModel(hi)
	return slices.Min(lo), slices.Max(hi)
}

func (b *builder) maximisation() (Section, error) {
	s := Section{ID: "maximisation", Title: "What excites a channel, and what the network thinks each class looks like"}
	if !b.image() {
		s.Omitted = b.notImage()
		return s, nil
	}
	p := b.in.Model
	layers, err := inspect.Layers(p.Module)
	if err != nil {
		s.Omitted = "the model is not a sequence of layers: " + err.Error()
		return s, nil
	}
	lo, hi := inputRange(p)
	type target struct {
		layer, n int
		what     string
		crop     int // >0: show only the centre crop×crop (a small receptive field)
	}
	var targets []target
	convs, _ := inspect.ConvLayers(p.Module)
	if len(convs) > 0 {
		first := layers[convs[0]].(*nn.Conv2D)
		targets = append(targets, target{convs[0], 8, "low: the first convolution, one neuron at the centre (its receptive field, enlarged)", min(p.InputShape[1], p.InputShape[2], 2*max(first.KH, first.KW)+2)})
		if last := convs[len(convs)-1]; last != convs[0] {
			targets = append(targets, target{last, 8, "high: the last convolution, one neuron at the centre", 0})
		}
	}
	out := len(layers) - 1
	for out > 0 && slices.Contains([]string{"softmax", "logsoftmax", "flatten", "dropout"}, layers[out].Spec().Type) {
		out--
	}
	classes := min(len(p.Classes), 10)
	if p.Task == predictor.Classification && classes > 0 {
		targets = append(targets, target{out, classes, "the output: one picture per class", 0})
	}
	s.Intro = fmt.Sprintf("Activation maximisation: start from grey noise and climb the gradient of one channel's mean activation (or one class's score) "+
		"with respect to the input, %d steps, with blur, jitter and a pull toward grey so the result is a pattern rather than adversarial noise. "+
		"Low layers want strokes of one direction; the class pictures are what the whole network takes for a 0, a 1, …: rarely a clean digit, "+
		"but its strokes sit where that class has ink and others do not.", b.in.Steps)
	var h html
	shape := p.InputShape
	sc := max(2, 84/max(shape[1], shape[2]))
	for _, t := range targets {
		layerName := inspect.LayerName(layers[t.layer], t.layer)
		var tiles [][]float32
		for ch := 0; ch < t.n; ch++ {
			x, err := inspect.Maximize(b.ctx, p.Module, shape, t.layer, ch, inspect.MaximizeOptions{Seed: b.in.Seed + uint64(ch), Steps: b.in.Steps, Min: lo, Max: hi, Centre: t.layer != out})
			if err != nil {
				break // fewer channels than asked
			}
			p.FromModel(x)
			if t.crop > 0 {
				x = centreCrop(x, shape, t.crop)
			}
			tiles = append(tiles, x)
		}
		if len(tiles) == 0 {
			continue
		}
		h.add(`<h3>%s (%s)</h3><div class="row">`, esc(t.what), esc(layerName))
		for ch, x := range tiles {
			label := fmt.Sprintf("channel %d", ch)
			if t.layer == out && p.Task == predictor.Classification {
				label = name(p.Classes, ch)
			}
			tshape, tsc := shape, sc
			if t.crop > 0 {
				tshape, tsc = []int{shape[0], t.crop, t.crop}, max(2, 84/t.crop)
			}
			h.figure(img(pngURI(inputTile(x, tshape, tsc)), label), label)
		}
		h.add(`</div>`)
	}
	s.Body = h.out()
	return s, nil
}

func (b *builder) representations() (Section, error) {
	s := Section{ID: "representations", Title: "Watching the classes separate, layer by layer"}
	p := b.in.Model
	layers, err := inspect.Layers(p.Module)
	if err != nil {
		s.Omitted = "the model is not a sequence of layers: " + err.Error()
		return s, nil
	}
	classes := 0
	if b.classification() {
		classes = len(p.Classes)
	}
	targets := []int{inspect.InputLayer}
	for i, l := range layers {
		if !slices.Contains(skipType, l.Spec().Type) {
			targets = append(targets, i)
		}
	}
	test := p.Prepared(b.in.Data.Test)
	n := min(b.in.Points, test.Len())
	if n < 4 {
		s.Omitted = fmt.Sprintf("the test split has %d examples; a projection needs at least 4.", test.Len())
		return s, nil
	}
	var projs []*inspect.Projection
	for _, layer := range targets {
		pr, err := inspect.ProjectDataset(b.ctx, p.Module, layer, test, n, classes)
		if err != nil {
			return s, err
		}
		projs = append(projs, pr)
	}
	if classes == 0 {
		s.Title = "The representation, layer by layer"
	}
	s.Intro = fmt.Sprintf("Each layer turns every input into a vector. Here %d test examples are shown at the input and after every layer, "+
		"projected onto the layer's two principal components (the plane of most variance), one colour per class. The separability score is a "+
		"linear probe: the accuracy of a nearest-class-mean classifier in the layer's full representation, its class means taken from half "+
		"of the examples and scored on the other half (chance is 1 in the number of classes). The silhouette (−1 to 1) says how well the "+
		"classes separate in the 2-D picture itself; a picture keeps only part of the variance, so it understates what the layer achieves.", n)
	if classes == 0 {
		s.Intro = fmt.Sprintf("Each layer turns every input into a vector. Here %d test examples are shown at the input and after every layer, "+
			"projected onto the layer's two principal components (the plane of most variance). A regression model has no classes, so the "+
			"points are not coloured and no separability is scored.", n)
	}
	var h html
	if classes > 0 {
		var probe, sil series
		probe = series{Name: "linear probe", Colour: "#2166ac"}
		sil = series{Name: "silhouette (2-D)", Colour: "#d6604d", Dashed: true}
		h.add(`<table><tr><th>layer</th><th class="num">dimensions</th><th class="num">separability (probe accuracy)</th><th class="num">silhouette (2-D)</th><th class="num">variance kept by 2 PCs</th></tr>`)
		for k, pr := range projs {
			if pr.Separation == nil {
				continue
			}
			h.add(`<tr><td>%s</td><td class="num">%d</td><td class="num">%.1f%%</td><td class="num">%+.2f</td><td class="num">%.0f%%</td></tr>`,
				esc(pr.Name), pr.Dim, 100*pr.Separation.Probe, pr.Separation.Silhouette, 100*(pr.Explained[0]+pr.Explained[1]))
			probe.X, probe.Y = append(probe.X, float64(k)), append(probe.Y, pr.Separation.Probe)
			sil.X, sil.Y = append(sil.X, float64(k)), append(sil.Y, pr.Separation.Silhouette)
		}
		h.add(`</table>`)
		names := make([]string, len(projs))
		for k, pr := range projs {
			names[k] = pr.Name
		}
		h.figure(stepChart("separability by depth", names, []series{probe, sil}, 620, 300), "left to right: the input, then each layer")
	}
	for _, pr := range projs {
		cap := pr.Name
		if pr.Separation != nil {
			cap = fmt.Sprintf("%s: probe %.1f%%, silhouette %+.2f", pr.Name, 100*pr.Separation.Probe, pr.Separation.Silhouette)
		}
		h.add(`<figure>%s</figure>`, scatterChart(pr, p.Classes, 200, cap))
	}
	s.Body = h.out()
	return s, nil
}

// centreCrop cuts the centre side×side window of a [C H W] image.
func centreCrop(x []float32, shape []int, side int) []float32 {
	c, h, w := shape[0], shape[1], shape[2]
	y0, x0 := (h-side)/2, (w-side)/2
	out := make([]float32, 0, c*side*side)
	for ch := range c {
		for y := y0; y < y0+side; y++ {
			out = append(out, x[ch*h*w+y*w+x0:ch*h*w+y*w+x0+side]...)
		}
	}
	return out
}
