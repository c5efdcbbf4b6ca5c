package zoo

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Config sizes a zoo model for its data.
type Config struct {
	// InputShape is one example's shape: [C, H, W] for images, [F] for
	// tables, [T] for token sequences.
	InputShape []int
	// Outputs is the number of classes (or 1 for regression).
	Outputs int
	// Vocab is the vocabulary size of a text model.
	Vocab int
	// Hidden overrides the hidden width of mlp/deep/recurrent models.
	Hidden int
	// Dropout, when > 0, adds dropout before the output layer of mlp/deep.
	Dropout float64
}

type builder struct {
	summary string
	build   func(cfg Config, rng *rand.Rand) (nn.Module, error)
}

var models = map[string]builder{
	"linear":     {"a linear model: flatten, then one Linear layer (softmax regression / linear regression)", buildLinear},
	"mlp":        {"multilayer perceptron: flatten, Linear-256, ReLU, Linear-128, ReLU, Linear-out", buildMLP},
	"deep":       {"deep net: flatten, five hidden Linear-128 + BatchNorm + ReLU layers, Linear-out", buildDeep},
	"perceptron": {"Rosenblatt's perceptron: flatten, weighted sums and a step (trained with the perceptron rule)", buildPerceptron},
	"lenet":      {"LeNet-5: conv6(5×5, pad 2)-pool-conv16(5×5)-pool-fc120-fc84-out (for 28×28 grey images)", buildLeNet},
	"cnn":        {"small VGG-style CNN: conv32-conv32-pool-conv64-conv64-pool-fc256-out (for 32×32 colour images)", buildCNN},
}

// Names lists the zoo's models, sorted.
func Names() []string {
	out := make([]string, 0, len(models))
	for n := range models {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Describe returns a one-line description of a zoo model.
func Describe(name string) string { return models[name].summary }

// New builds the named model for cfg with weights drawn from rng.
func New(name string, cfg Config, rng *rand.Rand) (m nn.Module, err error) {
	b, ok := models[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("zoo: unknown model %q; known: %s", name, strings.Join(Names(), ", "))
	}
	if len(cfg.InputShape) == 0 {
		return nil, fmt.Errorf("zoo: %s needs the input shape", name)
	}
	if cfg.Outputs < 1 {
		return nil, fmt.Errorf("zoo: %s needs at least one output, got %d", name, cfg.Outputs)
	}
	var buildErr error
	if err := tensor.Catch(func() { m, buildErr = b.build(cfg, rng) }); err != nil {
		return nil, err
	}
	return m, buildErr
}

func flatIn(cfg Config) int { return tensor.Numel(cfg.InputShape) }

func hidden(cfg Config, def int) int {
	if cfg.Hidden > 0 {
		return cfg.Hidden
	}
	return def
}

func buildLinear(cfg Config, rng *rand.Rand) (nn.Module, error) {
	return nn.NewSequential(nn.NewFlatten(), nn.NewLinear(flatIn(cfg), cfg.Outputs, rng)), nil
}

func buildMLP(cfg Config, rng *rand.Rand) (nn.Module, error) {
	h1 := hidden(cfg, 256)
	h2 := max(h1/2, 1)
	layers := []nn.Module{
		nn.NewFlatten(),
		nn.NewLinear(flatIn(cfg), h1, rng), nn.NewReLU(),
		nn.NewLinear(h1, h2, rng), nn.NewReLU(),
	}
	if cfg.Dropout > 0 {
		layers = append(layers, nn.NewDropout(cfg.Dropout))
	}
	layers = append(layers, nn.NewLinear(h2, cfg.Outputs, rng))
	return nn.NewSequential(layers...), nil
}

func buildPerceptron(cfg Config, rng *rand.Rand) (nn.Module, error) {
	return nn.NewSequential(nn.NewFlatten(), nn.NewPerceptron(flatIn(cfg), cfg.Outputs, rng)), nil
}

func buildDeep(cfg Config, rng *rand.Rand) (nn.Module, error) {
	h := hidden(cfg, 128)
	layers := []nn.Module{nn.NewFlatten()}
	in := flatIn(cfg)
	for range 5 {
		layers = append(layers, nn.NewLinear(in, h, rng), nn.NewBatchNorm1D(h), nn.NewReLU())
		in = h
	}
	if cfg.Dropout > 0 {
		layers = append(layers, nn.NewDropout(cfg.Dropout))
	}
	layers = append(layers, nn.NewLinear(in, cfg.Outputs, rng))
	return nn.NewSequential(layers...), nil
}

// imageShape checks that the input is [C, H, W] and large enough for two
// 2×2 poolings after the convolutions.
func imageShape(name string, cfg Config, minHW int) (c, h, w int, err error) {
	if len(cfg.InputShape) != 3 {
		return 0, 0, 0, fmt.Errorf("zoo: %s needs image input [channels, height, width], got %v", name, cfg.InputShape)
	}
	c, h, w = cfg.InputShape[0], cfg.InputShape[1], cfg.InputShape[2]
	if h < minHW || w < minHW {
		return 0, 0, 0, fmt.Errorf("zoo: %s needs images of at least %d×%d, got %d×%d", name, minHW, minHW, h, w)
	}
	return c, h, w, nil
}

func buildLeNet(cfg Config, rng *rand.Rand) (nn.Module, error) {
	c, h, w, err := imageShape("lenet", cfg, 12)
	if err != nil {
		return nil, err
	}
	// conv1 keeps the size (pad 2), pool halves, conv2 (5×5, no pad)
	// takes 4 off, pool halves again.
	h2, w2 := (h/2-4)/2, (w/2-4)/2
	return nn.NewSequential(
		nn.NewConv2D(c, 6, 5, rng, nn.ConvPadding(2)), nn.NewReLU(), nn.NewMaxPool2D(2, 0, 0),
		nn.NewConv2D(6, 16, 5, rng), nn.NewReLU(), nn.NewMaxPool2D(2, 0, 0),
		nn.NewFlatten(),
		nn.NewLinear(16*h2*w2, 120, rng), nn.NewReLU(),
		nn.NewLinear(120, 84, rng), nn.NewReLU(),
		nn.NewLinear(84, cfg.Outputs, rng),
	), nil
}

func buildCNN(cfg Config, rng *rand.Rand) (nn.Module, error) {
	c, h, w, err := imageShape("cnn", cfg, 4)
	if err != nil {
		return nil, err
	}
	return nn.NewSequential(
		nn.NewConv2D(c, 32, 3, rng, nn.ConvPadding(1)), nn.NewReLU(),
		nn.NewConv2D(32, 32, 3, rng, nn.ConvPadding(1)), nn.NewReLU(), nn.NewMaxPool2D(2, 0, 0),
		nn.NewConv2D(32, 64, 3, rng, nn.ConvPadding(1)), nn.NewReLU(),
		nn.NewConv2D(64, 64, 3, rng, nn.ConvPadding(1)), nn.NewReLU(), nn.NewMaxPool2D(2, 0, 0),
		nn.NewFlatten(),
		nn.NewLinear(64*(h/4)*(w/4), hidden(cfg, 256), rng), nn.NewReLU(),
		nn.NewLinear(hidden(cfg, 256), cfg.Outputs, rng),
	), nil
}
