package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/predictor"
)

// PredictRequest is the body of POST /v1/predict: exactly one of Rows,
// CSV, Image or Text.
type PredictRequest struct {
	// Rows are feature rows in the data's own units (the server
	// standardises them as in training); for an image model, a row is
	// its C·H·W pixels in [0, 1].
	Rows [][]float64 `json:"rows,omitempty"`
	// CSV is the same rows as CSV text, with or without a header line.
	CSV string `json:"csv,omitempty"`
	// Image is a base64 PNG or JPEG (a data: URL is accepted too), resized
	// to the model's input.
	Image string `json:"image,omitempty"`
	// Text is a document for a text model (/healthz's kind "text"),
	// encoded with the model's vocabulary as in training.
	Text string `json:"text,omitempty"`
}

// PredictResponse is the answer of POST /v1/predict: one prediction per
// row, in order.
type PredictResponse struct {
	Predictions []predictor.Prediction `json:"predictions"`
}

// ExplainRequest is the body of POST /v1/explain: one row or image and
// how to explain it.
type ExplainRequest struct {
	PredictRequest
	// Method is one of /healthz's methods (default lime).
	Method string `json:"method,omitempty"`
	// Seed: the same seed gives the same explanation (default 1).
	Seed *uint64 `json:"seed,omitempty"`
	// Samples is the budget (0: the method's default).
	Samples int `json:"samples,omitempty"`
	// Label is the output to explain (default: the predicted class).
	Label *int `json:"label,omitempty"`
	// Hide is how image LIME hides superpixels: auto (default), mean,
	// constant or blur; HideValue is the constant.
	Hide      string  `json:"hide,omitempty"`
	HideValue float64 `json:"hide_value,omitempty"`
	// Picture: false leaves the picture out of the answer.
	Picture *bool `json:"picture,omitempty"`
	// Rule chooses LRP's rules: composite (default), epsilon, gamma or
	// zplus, optionally with a parameter ("epsilon=0.25").
	Rule string `json:"rule,omitempty"`
	// Layer names the hidden layer of layerig, layerconductance,
	// neuronig and neuronconductance (default: the method's); Neuron is
	// the unit of the neuron methods (default: the most activated).
	Layer  string `json:"layer,omitempty"`
	Neuron *int   `json:"neuron,omitempty"`
	// Checks: "default" (the cheap checks), "all" (also randomisation,
	// random logit and robustness, which re-run the method) or "none".
	Checks string `json:"checks,omitempty"`
}

// ExplainResponse is the answer of POST /v1/explain.
type ExplainResponse struct {
	Prediction predictor.Prediction `json:"prediction"`
	// Explanation carries the method, seed, budget, quality figures, top
	// features, warnings and cost.
	Explanation *explain.Result `json:"explanation"`
	// Picture is a base64 PNG of the explanation.
	Picture string `json:"picture,omitempty"`
	// Words are a text model's document, word by word in input order,
	// with each word's weight for the explained class (0 for words the
	// explanation did not keep): Explanation.Words, here for pages.
	Words []explain.WordWeight `json:"words,omitempty"`
	// Map is an image explanation's numbers, for a client that draws
	// them itself (the web page does, with one colour scale for every
	// picture and bar).
	Map *PixelMap `json:"map,omitempty"`
}

// PixelMap is an image explanation as numbers.
type PixelMap struct {
	// Channels, Height and Width are the input's shape; Input its pixels
	// (C·H·W, in [0, 1]) as the model saw them, after resizing.
	Channels int       `json:"channels"`
	Height   int       `json:"height"`
	Width    int       `json:"width"`
	Input    []float32 `json:"input"`
	// Attribution is the H·W per-pixel map, row-major; positive is
	// evidence for the explained output.
	Attribution []float32 `json:"attribution"`
	// Segments, for methods that explain superpixels, is each pixel's
	// segment (H·W, row-major, 0 to len(SegmentWeights)-1); the segment
	// named "segment K" in the explanation's top list is K here.
	Segments       []int     `json:"segments,omitempty"`
	SegmentWeights []float64 `json:"segment_weights,omitempty"`
}

// pixelMap is res as a PixelMap, or nil when it has no image map.
func (s *Server) pixelMap(res *explain.Result, x []float32) *PixelMap {
	if s.p.Kind != explain.Image || len(s.p.InputShape) != 3 || res.Attribution == nil {
		return nil
	}
	c, h, w := s.p.InputShape[0], s.p.InputShape[1], s.p.InputShape[2]
	m := &PixelMap{Channels: c, Height: h, Width: w, Input: x, Attribution: finiteOrZero(res.Attribution)}
	if sg := res.Segments; sg != nil && sg.H == h && sg.W == w && len(res.SegmentWeights) == sg.N {
		m.Segments = sg.Labels
		m.SegmentWeights = make([]float64, sg.N)
		for i, v := range res.SegmentWeights {
			if finite(v) {
				m.SegmentWeights[i] = v
			}
		}
	}
	return m
}

// finiteOrZero copies v with NaN and ±Inf (which JSON cannot carry) as 0.
func finiteOrZero(v []float32) []float32 {
	out := make([]float32, len(v))
	for i, f := range v {
		if f-f == 0 {
			out[i] = f
		}
	}
	return out
}

// A request's body is read before it takes a slot (under the memory
// budget, as it arrives), so that a client sending slowly holds no slot;
// the slot covers decoding the input and running the model.

func (s *Server) predict(w http.ResponseWriter, r *http.Request) error {
	l := &lease{s: s}
	defer l.done()
	var req predictWire
	if err := s.decodeBody(w, r, l, &req); err != nil {
		return err
	}
	release, err := s.acquireSlot(r.Context(), s.predictSlots, s.opt.QueueWait, "prediction")
	if err != nil {
		return err
	}
	defer release()
	x, err := s.input(r.Context(), l, &req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opt.Timeout)
	defer cancel()
	preds, err := s.p.Predict(ctx, x)
	if err != nil {
		return s.modelError(ctx, err)
	}
	return writeJSON(w, http.StatusOK, PredictResponse{Predictions: preds})
}

// modelError is the answer for an error of the model's run: 422 for an
// input the model turns into NaN or ±Inf, 503 past the time limit.
func (s *Server) modelError(ctx context.Context, err error) error {
	var nf *predictor.NonFiniteError
	switch {
	case errors.As(err, &nf):
		row := ""
		var i int
		if _, serr := fmt.Sscanf(err.Error(), "row %d:", &i); serr == nil {
			row = fmt.Sprintf("row %d: ", i)
		}
		return httpErrorf(http.StatusUnprocessableEntity, "%sthe model's output %d is %v for this input, not a finite number: no prediction can be made from it; check the input's scale and units", row, nf.Output, nf.Value)
	case ctx.Err() != nil:
		return s.contextError(ctx.Err())
	}
	return err
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// contextError turns a context error into the answer for it: 503 past
// the time limit. A client that went away is recognised by endpoint.
func (s *Server) contextError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return httpErrorf(http.StatusServiceUnavailable, "the request ran past this server's limit of %v; ask for fewer samples or rows", s.opt.Timeout)
	}
	return err
}

var hides = []string{"auto", "mean", "constant", "blur"}

func (s *Server) explain(w http.ResponseWriter, r *http.Request) error {
	l := &lease{s: s}
	defer l.done()
	var req explainWire
	if err := s.decodeBody(w, r, l, &req); err != nil {
		return err
	}
	method, opt, err := s.explainOptions(&req)
	if err != nil {
		return err
	}
	var release func()
	select {
	case s.slots <- struct{}{}:
		// The slot is freed once the answer is ready, before it is sent: a
		// client may read the headers of a long answer and ask again
		// before its last bytes leave.
		release = sync.OnceFunc(func() { <-s.slots })
		defer release()
	default:
		return httpErrorf(http.StatusTooManyRequests, "the server is busy: all %d explanation slots are in use; retry in a moment", cap(s.slots))
	}
	x, err := s.input(r.Context(), l, &req.predictWire)
	if err != nil {
		return err
	}
	if x.Dim(0) != 1 {
		return httpErrorf(http.StatusBadRequest, "explain takes one row or image, got %d rows; send them one request each", x.Dim(0))
	}
	if opt.Label != nil && *opt.Label >= s.p.Outputs {
		return httpErrorf(http.StatusBadRequest, "label %d: the model has %d outputs (0 to %d; leave label out for the predicted class)", *opt.Label, s.p.Outputs, s.p.Outputs-1)
	}
	if c := s.explainCost(method, opt.Samples); l.held+c.bytes() > s.mem.total {
		return httpErrorf(http.StatusRequestEntityTooLarge, "explain %s with %s needs about %s of memory, more than this server's budget of %s for work in progress; ask for at most %d samples",
			method, c.samplesPhrase(opt.Samples), mib(l.held+c.bytes()), mib(s.mem.total), c.maxSamples(s.mem.total-l.held))
	} else if err := l.take(r.Context(), c.bytes(), "explain "+method); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opt.Timeout)
	defer cancel()
	preds, err := s.p.Predict(ctx, x)
	if err != nil {
		return s.modelError(ctx, err)
	}
	t0 := time.Now()
	var res *explain.Result
	if s.p.Kind == explain.Text {
		if req.Text == "" {
			return httpErrorf(http.StatusBadRequest, `explaining a text model takes "text": the document (words are what the explanation weighs)`)
		}
		res, err = s.p.ExplainText(ctx, method, req.Text, opt)
	} else {
		res, err = s.runExplain(ctx, method, x.Data(), opt)
	}
	if err != nil {
		var nf *predictor.NonFiniteError
		switch {
		case ctx.Err() != nil:
			return s.contextError(ctx.Err())
		case errors.As(err, &nf):
			return httpErrorf(http.StatusUnprocessableEntity, "explain %s: the model's output %d is %v, not a finite number, on an input near this one that the method tried; the model cannot be explained here: check the input's scale and units", method, nf.Output, nf.Value)
		}
		return httpErrorf(http.StatusBadRequest, "explain %s: %s", method, userWords(err.Error()))
	}
	// The method may finish its last batch after the client went away (or
	// the time ran out) without asking again: nobody will get the answer,
	// so it is the 499 or 503 it would have been. The request's own
	// context is asked too: a parent's cancellation reaches its children
	// a moment after the parent's Done closes, and in that moment ctx
	// still looks alive.
	if err := ctx.Err(); err != nil {
		return s.contextError(err)
	} else if err := r.Context().Err(); err != nil {
		return s.contextError(err)
	}
	s.met.explained(method, time.Since(t0).Seconds())
	finiteResult(res)
	out := ExplainResponse{Prediction: preds[0], Explanation: res, Words: res.Words, Map: s.pixelMap(res, x.Data())}
	if (req.Picture == nil || *req.Picture) && s.p.Kind != explain.Text {
		if pic := s.p.Picture(res, x.Data()); pic != nil {
			var buf bytes.Buffer
			if err := png.Encode(&buf, pic); err != nil {
				return fmt.Errorf("encoding the picture: %w", err)
			}
			out.Picture = base64.StdEncoding.EncodeToString(buf.Bytes())
		}
	}
	release()
	return writeJSON(w, http.StatusOK, out)
}

// runExplain explains x as Predictor.Explain does, with the model's
// functions checked: an output or gradient that is not finite, on any
// input the method tries, is a *NonFiniteError (answered 422) instead of
// a method's own complaint.
func (s *Server) runExplain(ctx context.Context, method string, x []float32, opt explain.Options) (*explain.Result, error) {
	sub := s.p.Subject()
	if f := sub.Predict; f != nil {
		sub.Predict = func(ctx context.Context, x []float32, n int) ([]float32, error) {
			out, err := f(ctx, x, n)
			if err == nil {
				err = checkFinite(out, n)
			}
			return out, err
		}
	}
	if g := sub.Gradient; g != nil {
		sub.Gradient = func(ctx context.Context, x []float32, n, label int) ([]float32, []float32, error) {
			out, grad, err := g(ctx, x, n, label)
			if err == nil {
				err = checkFinite(out, n)
			}
			if err == nil {
				err = checkFinite(grad, n)
			}
			return out, grad, err
		}
	}
	if c := sub.CAM; c != nil {
		sub.CAM = func(ctx context.Context, x []float32, label int) ([]float32, []float32, int, int, int, []float32, error) {
			a, b, ch, h, w, out, err := c(ctx, x, label)
			for _, v := range [][]float32{a, b, out} {
				if err == nil {
					err = checkFinite(v, 1)
				}
			}
			return a, b, ch, h, w, out, err
		}
	}
	return explain.Run(ctx, method, sub, x, opt)
}

// checkFinite returns a *NonFiniteError for the first value of v (n rows)
// that is NaN or ±Inf.
func checkFinite(v []float32, n int) error {
	for i, f := range v {
		if f-f != 0 {
			return &predictor.NonFiniteError{Output: i % max(1, len(v)/max(n, 1)), Value: float64(f)}
		}
	}
	return nil
}

// explainOptions checks an explain request's options against the model.
func (s *Server) explainOptions(req *explainWire) (string, explain.Options, error) {
	if req.Label != nil && *req.Label == -1 {
		req.Label = nil // the old spelling of "the predicted class"
	}
	opt := explain.Options{Seed: 1, Samples: req.Samples, Label: req.Label, Hide: explain.Hide(req.Hide), HideValue: float32(req.HideValue),
		Rule: req.Rule, Layer: req.Layer, Neuron: req.Neuron}
	method := req.Method
	if method == "" {
		method = "lime"
	}
	if req.Seed != nil {
		opt.Seed = *req.Seed
	}
	if opt.Hide == "" {
		opt.Hide = "auto"
	}
	checks, err := explain.ParseCheckLevel(req.Checks)
	if err != nil {
		return "", opt, httpErrorf(http.StatusBadRequest, "%s", userWords(err.Error()))
	}
	opt.Checks = checks
	if !slices.Contains(s.methods, method) {
		m, err := explain.Lookup(method)
		if err != nil {
			return "", opt, httpErrorf(http.StatusBadRequest, "%s; this server offers %v", userWords(err.Error()), s.methods)
		}
		info := m.Info()
		reason := fmt.Sprintf("%s does not apply to this model", method)
		switch {
		case !slices.Contains(info.Inputs, s.p.Kind):
			reason = fmt.Sprintf("%s explains %s inputs, this model takes %s inputs", method, kinds(info.Inputs), s.p.Kind)
		case s.p.Kind == explain.Text:
			reason = fmt.Sprintf("%s explains a text model's token ids, not the words of a document (this server takes text)", method)
		case info.Needs&explain.NeedsBackground != 0 && s.p.Kind == explain.Table && len(s.p.Background) == 0:
			reason = fmt.Sprintf("%s on a table samples from the model's training rows, and this server has none", method)
		case info.Needs&explain.NeedsCAM != 0:
			reason = fmt.Sprintf("%s needs a convolutional layer in a sequential model; this model has none", method)
		case info.Needs&explain.NeedsRules != 0 && s.p.Subject().RuleGradient == nil:
			reason = fmt.Sprintf("%s back-propagates through the model's layers with modified rules, which this model does not support", method)
		case info.Needs&explain.NeedsExamples != 0:
			reason = fmt.Sprintf("%s needs examples besides the input (a concept's), which this server does not take; use glassbox explain --concept or the library", method)
		case info.Needs&explain.NeedsLayer != 0:
			reason = fmt.Sprintf("%s reads the model's hidden layers, which this model does not expose", method)
		case info.Needs&explain.NeedsGradient != 0:
			reason = fmt.Sprintf("%s needs the model's gradients, which this model does not provide", method)
		}
		return "", opt, httpErrorf(http.StatusBadRequest, "method %s: %s; this server offers %v", method, reason, s.methods)
	}
	switch {
	case opt.Samples < 0 || opt.Samples > s.opt.MaxSamples:
		return "", opt, httpErrorf(http.StatusBadRequest, "samples %d: want 0 (the method's default) to %d", opt.Samples, s.opt.MaxSamples)
	case opt.Samples == 1 && method == "lime":
		return "", opt, httpErrorf(http.StatusBadRequest, "samples 1: lime needs at least 2 (or 0 for its adaptive default)")
	case opt.Label != nil && *opt.Label < 0:
		return "", opt, httpErrorf(http.StatusBadRequest, "label %d: want an output index; leave it out for the predicted class", *opt.Label)
	case !slices.Contains(hides, string(opt.Hide)):
		return "", opt, httpErrorf(http.StatusBadRequest, "hide %q: want one of %v", opt.Hide, hides)
	case !finite(req.HideValue) || math.Abs(req.HideValue) > math.MaxFloat32:
		return "", opt, httpErrorf(http.StatusBadRequest, "hide_value %v: want a number between about ±3.4e38", req.HideValue)
	case opt.Neuron != nil && *opt.Neuron < 0:
		return "", opt, httpErrorf(http.StatusBadRequest, "neuron %d: want a unit index (a flat index into the layer's activations); leave it out for the most activated unit", *opt.Neuron)
	}
	if _, err := explain.ParseLRPRule(opt.Rule); err != nil {
		return "", opt, httpErrorf(http.StatusBadRequest, "rule: %s", userWords(err.Error()))
	}
	return method, opt, nil
}

// kinds lists input kinds for a message.
func kinds(ks []explain.InputKind) string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = string(k)
	}
	return strings.Join(names, " and ")
}

// finiteResult drops figures JSON cannot carry (NaN, ±Inf) from res,
// saying so in its warnings.
func finiteResult(res *explain.Result) {
	for _, k := range slices.Sorted(maps.Keys(res.Quality)) {
		if v := res.Quality[k]; !finite(v) {
			delete(res.Quality, k)
			res.Warnings = append(res.Warnings, fmt.Sprintf("quality figure %s is %v and was left out", k, v))
		}
	}
	kept := res.Top[:0]
	for _, f := range res.Top {
		if finite(f.Weight) {
			kept = append(kept, f)
		} else {
			res.Warnings = append(res.Warnings, fmt.Sprintf("feature %q has weight %v and was left out", f.Name, f.Weight))
		}
	}
	res.Top = kept
	if !finite(res.Probability) || !finite(res.Value) {
		res.Probability, res.Value = 0, 0
		res.Warnings = append(res.Warnings, "the model's output is not finite")
	}
}
