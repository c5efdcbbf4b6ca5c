package zoo

import (
	"fmt"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/nn"
)

// embedDim is the token embedding width of the recurrent zoo models.
const embedDim = 64

func init() {
	for _, kind := range []string{"rnn", "lstm", "gru"} {
		models[kind] = builder{
			fmt.Sprintf("sequence classifier: embedding-%d, %s (last hidden state, width 128 unless --hidden), Linear-out; input [T] token ids", embedDim, kind),
			recurrentClassifier(kind),
		}
		models[kind+"-lm"] = builder{
			fmt.Sprintf("character language model: embedding-%d, %s returning every step (width 256 unless --hidden), Linear-vocab per step", embedDim, kind),
			recurrentLM(kind),
		}
	}
}

func recurrentLayer(kind string, in, hidden int, rng *rand.Rand, opts ...nn.RecurrentOption) nn.Module {
	switch kind {
	case "rnn":
		return nn.NewRNN(in, hidden, rng, opts...)
	case "gru":
		return nn.NewGRU(in, hidden, rng, opts...)
	}
	return nn.NewLSTM(in, hidden, rng, opts...)
}

func sequenceInput(name string, cfg Config) error {
	if len(cfg.InputShape) != 1 {
		return fmt.Errorf("zoo: %s needs token-id input [sequence length], got %v", name, cfg.InputShape)
	}
	if cfg.Vocab < 3 {
		return fmt.Errorf("zoo: %s needs the vocabulary size (got %d)", name, cfg.Vocab)
	}
	return nil
}

func recurrentClassifier(kind string) func(Config, *rand.Rand) (nn.Module, error) {
	return func(cfg Config, rng *rand.Rand) (nn.Module, error) {
		if err := sequenceInput(kind, cfg); err != nil {
			return nil, err
		}
		h := hidden(cfg, 128)
		return nn.NewSequential(
			nn.NewEmbedding(cfg.Vocab, embedDim, rng),
			recurrentLayer(kind, embedDim, h, rng),
			nn.NewLinear(h, cfg.Outputs, rng),
		), nil
	}
}

func recurrentLM(kind string) func(Config, *rand.Rand) (nn.Module, error) {
	return func(cfg Config, rng *rand.Rand) (nn.Module, error) {
		if err := sequenceInput(kind+"-lm", cfg); err != nil {
			return nil, err
		}
		h := hidden(cfg, 256)
		return nn.NewSequential(
			nn.NewEmbedding(cfg.Vocab, embedDim, rng),
			recurrentLayer(kind, embedDim, h, rng, nn.ReturnSequences()),
			nn.NewLinear(h, cfg.Vocab, rng),
		), nil
	}
}
