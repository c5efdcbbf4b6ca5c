package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Optimizer is what the fit loop needs from an optimizer; the types in
// package optim satisfy it.
type Optimizer interface {
	Step() error
	ZeroGrad()
}

// LRSetter is implemented by optimizers whose learning rate can change.
type LRSetter interface {
	LR() float64
	SetLR(lr float64)
}

// StatefulOptimizer is implemented by optimizers whose state (moments,
// step counts) must be saved in checkpoints for an exact resume; every
// optimizer of package optim is one.
type StatefulOptimizer interface {
	State() optim.State
	LoadState(optim.State) error
}

// LossFunc turns a model output and a batch into a scalar loss.
type LossFunc func(tp *autograd.Tape, out *autograd.Var, b *data.Batch) *autograd.Var

// EarlyStopping stops training when the monitored validation figure has
// not improved by MinDelta for Patience epochs.
type EarlyStopping struct {
	// Monitor is "loss" (lower is better) or "accuracy"/"r2" (higher).
	Monitor  string
	Patience int
	MinDelta float64
	// RestoreBest puts back the weights of the best epoch at the end.
	RestoreBest bool
}

// Config configures Fit.
type Config struct {
	Epochs    int
	Optimizer Optimizer
	// Loss defaults to cross-entropy from logits for classification and
	// mean squared error for regression.
	Loss    LossFunc
	Task    Task
	Classes int
	// Val, when set, is evaluated after every epoch.
	Val           *data.Loader
	EarlyStopping *EarlyStopping
	// ClipNorm > 0 rescales gradients whose global L2 norm exceeds it.
	ClipNorm float64
	// Schedule, when set, gives the learning rate for each global step
	// (the optimizer must implement LRSetter).
	Schedule func(step int) float64
	// Seed drives dropout and other randomness inside the model.
	Seed uint64
	// Progress receives the progress display (default os.Stderr). A
	// terminal gets a live bar (running loss and accuracy, time left),
	// anything else one plain line per epoch, or with JSONProgress one
	// JSON object (EpochInfo) per epoch. Quiet silences it.
	Progress     io.Writer
	JSONProgress bool
	Quiet        bool
	// Checkpoint, when set, is written atomically after every epoch.
	Checkpoint string
	// Resume, when set, restores weights, optimizer state and history from
	// a checkpoint and continues with the next epoch.
	Resume  string
	OnStep  func(StepInfo) error
	OnEpoch func(EpochInfo) error
}

// StepInfo describes one optimisation step, for hooks.
type StepInfo struct {
	Epoch, Step, GlobalStep int
	Loss                    float64
	LR                      float64
}

// EpochInfo summarises one epoch.
type EpochInfo struct {
	Epoch         int                `json:"epoch"`
	Train         map[string]float64 `json:"train"`
	Val           map[string]float64 `json:"val,omitempty"`
	LR            float64            `json:"lr,omitempty"`
	Seconds       float64            `json:"seconds"`
	SamplesPerSec float64            `json:"samples_per_sec"`
}

// History is the record of a training run.
type History struct {
	Epochs []EpochInfo `json:"epochs"`
	// Stopped says why training ended early ("" when all epochs ran).
	Stopped string `json:"stopped,omitempty"`
}

// Last returns the final epoch's record.
func (h *History) Last() EpochInfo {
	if len(h.Epochs) == 0 {
		return EpochInfo{}
	}
	return h.Epochs[len(h.Epochs)-1]
}

// Fit trains m on the batches of trainData according to cfg.
//
// The parameters' gradients stay readable (Var.Grad) from the end of a
// step's backward pass until the next step begins, through Step and
// OnStep; then their storage goes to the next step's gradients, as
// PyTorch's optimizers reuse .grad. A callback that keeps a gradient for
// longer must Clone it.
func Fit(ctx context.Context, m nn.Module, trainData *data.Loader, cfg Config) (*History, error) {
	if cfg.Epochs <= 0 {
		return nil, fmt.Errorf("train: epochs must be positive, got %d", cfg.Epochs)
	}
	if cfg.Optimizer == nil {
		return nil, errors.New("train: no optimizer")
	}
	if cfg.Loss == nil {
		if cfg.Task == Classification {
			cfg.Loss = CrossEntropyLoss
		} else {
			cfg.Loss = MSELoss
		}
	}
	if cfg.Schedule != nil {
		if _, ok := cfg.Optimizer.(LRSetter); !ok {
			return nil, errors.New("train: a schedule needs an optimizer with SetLR")
		}
	}
	prog := newProgress(cfg.Progress, cfg.Quiet, cfg.JSONProgress)
	hist := &History{}
	start := 0
	if cfg.Resume != "" {
		var err error
		start, err = restore(cfg.Resume, m, cfg.Optimizer, hist)
		if err != nil {
			return nil, err
		}
	}
	var best float64
	var bestWeights map[string]*tensor.Tensor
	sinceBest := 0
	if es := cfg.EarlyStopping; es != nil {
		if es.Monitor == "" {
			es.Monitor = "loss"
		}
		if cfg.Val == nil {
			return nil, errors.New("train: early stopping needs a validation loader")
		}
		best = math.Inf(1)
		for _, e := range hist.Epochs {
			if v := monitorValue(es.Monitor, e.Val); v < best-es.MinDelta {
				best = v
			}
		}
	}
	nb := trainData.Len()
	tape := autograd.NewTape()
	params := m.Params()
	for epoch := start; epoch < cfg.Epochs; epoch++ {
		t0 := time.Now()
		met := NewMetrics(cfg.Task, cfg.Classes)
		seen := 0
		var stepErr error
		for b := range trainData.Batches(ctx, epoch) {
			global := epoch*nb + b.Step
			if cfg.Schedule != nil {
				cfg.Optimizer.(LRSetter).SetLR(cfg.Schedule(global))
			}
			var lossV float64
			var lossErr error
			stepErr = tensor.Catch(func() {
				c := &nn.Ctx{Tape: tape, Training: true, RNG: rand.New(rand.NewPCG(cfg.Seed, uint64(global)))}
				out := m.Forward(c, autograd.Const(b.X))
				loss := cfg.Loss(tape, out, b)
				lossV = float64(loss.Value.Item())
				if math.IsNaN(lossV) || math.IsInf(lossV, 0) {
					lossErr = fmt.Errorf("train: loss is %v at epoch %d step %d; training stopped (lower the learning rate, clip gradients, or check the data for NaN)", lossV, epoch+1, b.Step)
					return
				}
				RecycleGrads(params)
				cfg.Optimizer.ZeroGrad()
				if err := tape.Backward(loss); err != nil {
					lossErr = err
					return
				}
				scoreBatch(met, cfg.Task, out.Value, b)
			})
			// The step's activations and gradients go back for the next
			// step to reuse (scoreBatch has read the outputs; the
			// optimizer reads only the parameters' gradients, which stay).
			tape.Release()
			if stepErr == nil {
				stepErr = lossErr
			}
			if stepErr != nil {
				break
			}
			if cfg.ClipNorm > 0 {
				optim.ClipGradNorm(params, cfg.ClipNorm)
			}
			if err := cfg.Optimizer.Step(); err != nil {
				stepErr = fmt.Errorf("train: epoch %d step %d: %w", epoch+1, b.Step, err)
				break
			}
			met.AddLoss(lossV, b.X.Dim(0))
			seen += b.X.Dim(0)
			if cfg.OnStep != nil {
				if err := cfg.OnStep(StepInfo{Epoch: epoch, Step: b.Step, GlobalStep: global, Loss: lossV, LR: currentLR(cfg.Optimizer)}); err != nil {
					stepErr = err
					break
				}
			}
			acc := -1.0
			if cfg.Task == Classification {
				acc = met.Accuracy()
			}
			prog.step(epoch, cfg.Epochs, b.Step+1, nb, met.Loss(), acc, float64(seen)/time.Since(t0).Seconds(), start)
		}
		if stepErr != nil {
			prog.done()
			return hist, stepErr
		}
		if err := ctx.Err(); err != nil {
			prog.done()
			hist.Stopped = "cancelled"
			return hist, fmt.Errorf("train: stopped at epoch %d: %w", epoch+1, err)
		}
		info := EpochInfo{Epoch: epoch + 1, Train: met.Summary(), LR: currentLR(cfg.Optimizer)}
		info.Seconds = time.Since(t0).Seconds()
		info.SamplesPerSec = float64(seen) / info.Seconds
		if cfg.Val != nil {
			vm, err := Evaluate(ctx, m, cfg.Val, cfg.Task, cfg.Classes, cfg.Loss)
			if err != nil {
				return hist, err
			}
			info.Val = vm.Summary()
		}
		hist.Epochs = append(hist.Epochs, info)
		prog.epoch(info, cfg.Epochs)
		if cfg.Checkpoint != "" {
			if err := SaveCheckpoint(cfg.Checkpoint, m, cfg.Optimizer, hist); err != nil {
				return hist, err
			}
		}
		if cfg.OnEpoch != nil {
			if err := cfg.OnEpoch(info); err != nil {
				return hist, err
			}
		}
		if es := cfg.EarlyStopping; es != nil {
			if v := monitorValue(es.Monitor, info.Val); v < best-es.MinDelta {
				best, sinceBest = v, 0
				if es.RestoreBest {
					bestWeights = snapshot(m)
				}
			} else if sinceBest++; sinceBest >= es.Patience {
				hist.Stopped = fmt.Sprintf("early stopping: validation %s did not improve for %d epochs", es.Monitor, es.Patience)
				break
			}
		}
	}
	if bestWeights != nil {
		state, _, _ := model.State(m)
		for n, t := range bestWeights {
			state[n].Value.CopyFrom(t)
		}
	}
	return hist, nil
}

// monitorValue returns the figure early stopping minimises (negated for
// figures where higher is better).
func monitorValue(name string, val map[string]float64) float64 {
	v, ok := val[name]
	if !ok {
		return math.Inf(1)
	}
	if name == "loss" || name == "mse" || name == "mae" {
		return v
	}
	return -v
}

func snapshot(m nn.Module) map[string]*tensor.Tensor {
	state, _, _ := model.State(m)
	out := make(map[string]*tensor.Tensor, len(state))
	for n, v := range state {
		out[n] = v.Value.Clone()
	}
	return out
}

func currentLR(o Optimizer) float64 {
	if s, ok := o.(LRSetter); ok {
		return s.LR()
	}
	return 0
}

// scoreBatch adds a batch's predictions to the metrics. Classification
// outputs are logits over the last axis, one row per target: [batch, K]
// against [batch] labels, or [batch, T, K] against [batch, T] for
// per-step targets (a language model's next character).
func scoreBatch(met *Metrics, task Task, out *tensor.Tensor, b *data.Batch) {
	if task == Regression {
		if out.Len() == b.Y.Len() {
			met.AddRegression(out.Data(), b.Y.Data())
		}
		return
	}
	k := out.Dim(-1)
	if met.Classes == 0 {
		*met = *NewMetrics(Classification, k)
	}
	if out.Len() == b.Y.Len()*k {
		_ = met.AddClassification(tensor.ArgMax(out.Reshape(-1, k), -1), b.Labels())
	}
}

// Evaluate runs m in inference mode over every batch of l and returns the
// metrics (and the mean loss when lossFn is not nil).
func Evaluate(ctx context.Context, m nn.Module, l *data.Loader, task Task, classes int, lossFn LossFunc) (*Metrics, error) {
	met := NewMetrics(task, classes)
	var err error
	for b := range l.Batches(ctx, 0) {
		err = tensor.Catch(func() {
			c := nn.Eval()
			out := m.Forward(c, autograd.Const(b.X))
			if lossFn != nil {
				met.AddLoss(float64(lossFn(c.Tape, out, b).Value.Item()), b.X.Dim(0))
			}
			scoreBatch(met, task, out.Value, b)
		})
		if err != nil {
			return nil, err
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return met, nil
}

// SaveCheckpoint writes weights, optimizer state and history atomically.
func SaveCheckpoint(path string, m nn.Module, opt Optimizer, hist *History) error {
	state, _, err := model.State(m)
	if err != nil {
		return err
	}
	tensors := map[string]*tensor.Tensor{}
	for n, v := range state {
		tensors["model/"+n] = v.Value
	}
	var optState []byte
	if so, ok := opt.(StatefulOptimizer); ok {
		st := so.State()
		for n, t := range st.Tensors {
			tensors["optim/"+n] = t
		}
		st.Tensors = nil
		optState, _ = json.Marshal(st)
	}
	h, _ := json.Marshal(hist)
	arch, _ := json.Marshal(m.Spec())
	md := map[string]string{
		"format":                "glassbox-checkpoint",
		"glassbox.epoch":        strconv.Itoa(len(hist.Epochs)),
		"glassbox.history":      string(h),
		"glassbox.architecture": string(arch),
		"glassbox.optimizer":    string(optState),
	}
	if err := model.WriteTensors(path, tensors, md); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	return nil
}

// restore loads a checkpoint into m and opt and returns the epoch to
// continue from.
func restore(path string, m nn.Module, opt Optimizer, hist *History) (int, error) {
	tensors, md, err := model.ReadTensors(path)
	if err != nil {
		return 0, fmt.Errorf("train: resume: %w", err)
	}
	if md["format"] != "glassbox-checkpoint" {
		return 0, fmt.Errorf("train: resume: %s is not a glassbox checkpoint", path)
	}
	state, names, err := model.State(m)
	if err != nil {
		return 0, err
	}
	for _, n := range names {
		t, ok := tensors["model/"+n]
		if !ok {
			return 0, fmt.Errorf("train: resume: checkpoint lacks %q (saved from another architecture?)", n)
		}
		if !tensor.SameShape(t.Shape(), state[n].Value.Shape()) {
			return 0, fmt.Errorf("train: resume: %q has shape %v in the checkpoint, the model expects %v", n, t.Shape(), state[n].Value.Shape())
		}
		state[n].Value.CopyFrom(t)
	}
	if so, ok := opt.(StatefulOptimizer); ok {
		var st optim.State
		if err := json.Unmarshal([]byte(md["glassbox.optimizer"]), &st); err != nil {
			return 0, fmt.Errorf("train: resume: checkpoint has no optimizer state: %v", err)
		}
		st.Tensors = map[string]*tensor.Tensor{}
		for n, t := range tensors {
			if rest, ok := strings.CutPrefix(n, "optim/"); ok {
				st.Tensors[rest] = t
			}
		}
		if err := so.LoadState(st); err != nil {
			return 0, fmt.Errorf("train: resume: optimizer state: %w", err)
		}
	}
	if err := json.Unmarshal([]byte(md["glassbox.history"]), hist); err != nil {
		return 0, fmt.Errorf("train: resume: bad history: %v", err)
	}
	return len(hist.Epochs), nil
}

// isTerminal reports whether w is a character device (a live terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// RecycleGrads hands the parameters' gradients back for the next backward
// pass to reuse (see tensor.Recycle), except storage a gradient shares with
// a parameter, and clears each Grad as ZeroGrad does: a Grad left pointing
// at storage handed back would have the next backward pass add into memory
// that another tensor may own by then. Call it where ZeroGrad would go,
// when nothing reads the old gradients any more (so not between the steps
// of a loop that accumulates gradients over several batches). Fit does so
// at every step (a fresh 800 KB gradient for an MLP's first layer had been
// zeroed and then collected at every step); a loop of one's own can do the
// same.
func RecycleGrads(params []*autograd.Var) {
	var grads, keep []*tensor.Tensor
	for _, p := range params {
		keep = append(keep, p.Value)
		if p.Grad != nil {
			grads = append(grads, p.Grad)
		}
	}
	for _, p := range params {
		p.ZeroGrad()
	}
	if len(grads) > 0 {
		tensor.Recycle(grads, keep)
	}
}
