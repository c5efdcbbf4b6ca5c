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
	"time"

	"github.com/glassbox-ml/glassbox/internal/infer"
	"github.com/glassbox-ml/glassbox/tensor"
)

// PredictRequest is the body of POST /v1/predict: exactly one of Rows,
// CSV or Image.
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
}

// PredictResponse is the answer of POST /v1/predict: one prediction per
// row, in order.
type PredictResponse struct {
	Predictions []infer.Prediction `json:"predictions"`
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
	// Label is the output to explain (default -1: the predicted class).
	Label *int `json:"label,omitempty"`
	// Hide is how image LIME hides superpixels: auto (default), mean,
	// constant or blur; HideValue is the constant.
	Hide      string  `json:"hide,omitempty"`
	HideValue float64 `json:"hide_value,omitempty"`
	// Picture: false leaves the picture out of the answer.
	Picture *bool `json:"picture,omitempty"`
}

// ExplainResponse is the answer of POST /v1/explain.
type ExplainResponse struct {
	Prediction infer.Prediction `json:"prediction"`
	// Explanation carries the method, seed, budget, quality figures, top
	// features and warnings.
	Explanation *infer.Result `json:"explanation"`
	// Picture is a base64 PNG of the explanation.
	Picture string `json:"picture,omitempty"`
}

// predictChunk is how many rows run between checks of the request's
// context, so a large batch stops soon after its client went away.
const predictChunk = 128

func (s *Server) predict(w http.ResponseWriter, r *http.Request) error {
	var req PredictRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	x, err := s.input(&req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opt.Timeout)
	defer cancel()
	preds, err := s.predictRows(ctx, x)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, PredictResponse{Predictions: preds})
}

func (s *Server) predictRows(ctx context.Context, x *tensor.Tensor) ([]infer.Prediction, error) {
	n := x.Dim(0)
	preds := make([]infer.Prediction, 0, n)
	for lo := 0; lo < n; lo += predictChunk {
		if err := ctx.Err(); err != nil {
			return nil, s.contextError(err)
		}
		part := x
		if n > predictChunk {
			part = x.Slice(0, lo, min(lo+predictChunk, n)).Contiguous()
		}
		p, err := infer.PredictRows(s.m, s.meta, part)
		if err != nil {
			return nil, err
		}
		preds = append(preds, p...)
	}
	for i, p := range preds {
		bad := p.Value != nil && !finite(float64(*p.Value))
		for _, v := range p.Probabilities {
			bad = bad || !finite(float64(v))
		}
		if bad {
			return nil, fmt.Errorf("the model's output for row %d is not finite (NaN or ±Inf)", i)
		}
	}
	return preds, nil
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

// input turns a request's rows, CSV or image into a preprocessed batch.
func (s *Server) input(req *PredictRequest) (*tensor.Tensor, error) {
	given := 0
	for _, set := range []bool{req.Rows != nil, req.CSV != "", req.Image != ""} {
		if set {
			given++
		}
	}
	if given != 1 {
		return nil, httpErrorf(http.StatusBadRequest, `send exactly one of "rows" (an array of rows of %d numbers), "csv" or "image" (base64 PNG/JPEG); got %d`, tensor.Numel(s.meta.InputShape), given)
	}
	var x *tensor.Tensor
	var err error
	switch {
	case req.Image != "":
		raw := req.Image
		if strings.HasPrefix(raw, "data:") {
			_, raw, _ = strings.Cut(raw, ",")
		}
		b, derr := base64.StdEncoding.DecodeString(raw)
		if derr != nil {
			return nil, httpErrorf(http.StatusBadRequest, "image: not valid base64: %v", derr)
		}
		x, err = infer.DecodeImage(b, s.meta)
	case req.CSV != "":
		x, err = infer.ParseRows([]byte(req.CSV), s.meta)
		if err != nil {
			err = fmt.Errorf("csv: %w", err)
		}
	default:
		if len(req.Rows) > s.opt.MaxBatch {
			return nil, httpErrorf(http.StatusRequestEntityTooLarge, "%d rows: at most %d per request on this server; split the batch", len(req.Rows), s.opt.MaxBatch)
		}
		x, err = infer.Rows(req.Rows, s.meta)
	}
	if err != nil {
		return nil, httpErrorf(http.StatusBadRequest, "%v", err)
	}
	if x.Dim(0) > s.opt.MaxBatch {
		return nil, httpErrorf(http.StatusRequestEntityTooLarge, "%d rows: at most %d per request on this server; split the batch", x.Dim(0), s.opt.MaxBatch)
	}
	return x, nil
}

var hides = []string{"auto", "mean", "constant", "blur"}

func (s *Server) explain(w http.ResponseWriter, r *http.Request) error {
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		return httpErrorf(http.StatusTooManyRequests, "all %d explanation slots are busy; retry in a moment", cap(s.slots))
	}
	var req ExplainRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	opt, err := s.explainOptions(&req)
	if err != nil {
		return err
	}
	x, err := s.input(&req.PredictRequest)
	if err != nil {
		return err
	}
	if x.Dim(0) != 1 {
		return httpErrorf(http.StatusBadRequest, "explain takes one row or image, got %d rows; send them one request each", x.Dim(0))
	}
	if opt.Label >= s.outputs {
		return httpErrorf(http.StatusBadRequest, "label %d: the model has %d outputs (0 to %d, or -1 for the predicted class)", opt.Label, s.outputs, s.outputs-1)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opt.Timeout)
	defer cancel()
	preds, err := s.predictRows(ctx, x)
	if err != nil {
		return err
	}
	t0 := time.Now()
	res, err := infer.Explain(ctx, s.m, s.meta, x.Data(), opt)
	if err != nil {
		if ctx.Err() != nil {
			return s.contextError(ctx.Err())
		}
		return httpErrorf(http.StatusBadRequest, "explain %s: %v", opt.Method, err)
	}
	s.met.explained(opt.Method, time.Since(t0).Seconds())
	finiteResult(res)
	out := ExplainResponse{Prediction: preds[0], Explanation: res}
	if (req.Picture == nil || *req.Picture) && res.Picture != nil {
		var buf bytes.Buffer
		if err := png.Encode(&buf, res.Picture); err != nil {
			return fmt.Errorf("encoding the picture: %w", err)
		}
		out.Picture = base64.StdEncoding.EncodeToString(buf.Bytes())
	}
	return writeJSON(w, http.StatusOK, out)
}

// explainOptions checks an explain request's options against the model.
func (s *Server) explainOptions(req *ExplainRequest) (infer.Options, error) {
	opt := infer.Options{Method: req.Method, Seed: 1, Samples: req.Samples, Label: -1, Hide: req.Hide, HideValue: req.HideValue, Train: s.opt.Train}
	if opt.Method == "" {
		opt.Method = "lime"
	}
	if req.Seed != nil {
		opt.Seed = *req.Seed
	}
	if req.Label != nil {
		opt.Label = *req.Label
	}
	if opt.Hide == "" {
		opt.Hide = "auto"
	}
	table := len(s.meta.InputShape) != 3
	switch {
	case !slices.Contains(infer.Methods, opt.Method):
		return opt, httpErrorf(http.StatusBadRequest, "unknown method %q: this server offers %v", opt.Method, s.methods)
	case table && (opt.Method == "lime" || opt.Method == "kernelshap") && s.opt.Train == nil:
		return opt, httpErrorf(http.StatusBadRequest, "%s on a table needs training rows to sample from; start the server with them (glassbox serve --data SPEC, or Options.Train), or use one of %v", opt.Method, s.methods)
	case !slices.Contains(s.methods, opt.Method):
		return opt, httpErrorf(http.StatusBadRequest, "method %s does not apply to this model; it offers %v", opt.Method, s.methods)
	case opt.Samples < 0 || opt.Samples > s.opt.MaxSamples:
		return opt, httpErrorf(http.StatusBadRequest, "samples %d: want 0 (the method's default) to %d", opt.Samples, s.opt.MaxSamples)
	case opt.Label < -1:
		return opt, httpErrorf(http.StatusBadRequest, "label %d: want an output index, or -1 for the predicted class", opt.Label)
	case !slices.Contains(hides, opt.Hide):
		return opt, httpErrorf(http.StatusBadRequest, "hide %q: want one of %v", opt.Hide, hides)
	case !finite(opt.HideValue):
		return opt, httpErrorf(http.StatusBadRequest, "hide_value %v is not a finite number", opt.HideValue)
	}
	return opt, nil
}

// finiteResult drops figures JSON cannot carry (NaN, ±Inf) from res,
// saying so in its warnings.
func finiteResult(res *infer.Result) {
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
