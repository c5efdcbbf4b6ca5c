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

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/predictor"
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
}

// ExplainResponse is the answer of POST /v1/explain.
type ExplainResponse struct {
	Prediction predictor.Prediction `json:"prediction"`
	// Explanation carries the method, seed, budget, quality figures, top
	// features, warnings and cost.
	Explanation *explain.Result `json:"explanation"`
	// Picture is a base64 PNG of the explanation.
	Picture string `json:"picture,omitempty"`
}

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
		return httpErrorf(http.StatusUnprocessableEntity, "%v", err)
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

// input turns a request's rows, CSV or image into a preprocessed batch.
func (s *Server) input(req *PredictRequest) (*tensor.Tensor, error) {
	given := 0
	for _, set := range []bool{req.Rows != nil, req.CSV != "", req.Image != ""} {
		if set {
			given++
		}
	}
	if given != 1 {
		return nil, httpErrorf(http.StatusBadRequest, `send exactly one of "rows" (an array of rows of %d numbers), "csv" or "image" (base64 PNG/JPEG); got %d`, tensor.Numel(s.p.InputShape), given)
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
		x, err = s.p.DecodeImage(b)
	case req.CSV != "":
		x, err = s.p.ParseCSV([]byte(req.CSV))
	default:
		if len(req.Rows) > s.opt.MaxBatch {
			return nil, httpErrorf(http.StatusRequestEntityTooLarge, "%d rows: at most %d per request on this server; split the batch", len(req.Rows), s.opt.MaxBatch)
		}
		x, err = s.p.Rows(req.Rows)
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
	method, opt, err := s.explainOptions(&req)
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
	if opt.Label != nil && *opt.Label >= s.p.Outputs {
		return httpErrorf(http.StatusBadRequest, "label %d: the model has %d outputs (0 to %d; leave label out for the predicted class)", *opt.Label, s.p.Outputs, s.p.Outputs-1)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opt.Timeout)
	defer cancel()
	preds, err := s.p.Predict(ctx, x)
	if err != nil {
		return s.modelError(ctx, err)
	}
	t0 := time.Now()
	res, err := s.p.Explain(ctx, method, x.Data(), opt)
	if err != nil {
		if ctx.Err() != nil {
			return s.contextError(ctx.Err())
		}
		var nf *predictor.NonFiniteError
		if errors.As(err, &nf) {
			return httpErrorf(http.StatusUnprocessableEntity, "explain %s: %v", method, err)
		}
		return httpErrorf(http.StatusBadRequest, "explain %s: %v", method, err)
	}
	s.met.explained(method, time.Since(t0).Seconds())
	finiteResult(res)
	out := ExplainResponse{Prediction: preds[0], Explanation: res}
	if req.Picture == nil || *req.Picture {
		if pic := s.p.Picture(res, x.Data()); pic != nil {
			var buf bytes.Buffer
			if err := png.Encode(&buf, pic); err != nil {
				return fmt.Errorf("encoding the picture: %w", err)
			}
			out.Picture = base64.StdEncoding.EncodeToString(buf.Bytes())
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// explainOptions checks an explain request's options against the model.
func (s *Server) explainOptions(req *ExplainRequest) (string, explain.Options, error) {
	if req.Label != nil && *req.Label == -1 {
		req.Label = nil // the old spelling of "the predicted class"
	}
	opt := explain.Options{Seed: 1, Samples: req.Samples, Label: req.Label, Hide: explain.Hide(req.Hide), HideValue: float32(req.HideValue)}
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
	if !slices.Contains(s.methods, method) {
		if _, err := explain.Lookup(method); err != nil {
			return "", opt, httpErrorf(http.StatusBadRequest, "%v; this server offers %v", err, s.methods)
		}
		why := explain.MethodInfo{Name: method}
		if m, err := explain.Lookup(method); err == nil {
			why = m.Info()
		}
		reason := why.Applies(s.p.Subject())
		if reason == nil {
			reason = fmt.Errorf("%s does not apply to this model", method)
		}
		return "", opt, httpErrorf(http.StatusBadRequest, "method %s: %v; this server offers %v", method, reason, s.methods)
	}
	switch {
	case opt.Samples < 0 || opt.Samples > s.opt.MaxSamples:
		return "", opt, httpErrorf(http.StatusBadRequest, "samples %d: want 0 (the method's default) to %d", opt.Samples, s.opt.MaxSamples)
	case opt.Label != nil && *opt.Label < 0:
		return "", opt, httpErrorf(http.StatusBadRequest, "label %d: want an output index; leave it out for the predicted class", *opt.Label)
	case !slices.Contains(hides, string(opt.Hide)):
		return "", opt, httpErrorf(http.StatusBadRequest, "hide %q: want one of %v", opt.Hide, hides)
	case !finite(req.HideValue):
		return "", opt, httpErrorf(http.StatusBadRequest, "hide_value %v is not a finite number", req.HideValue)
	}
	return method, opt, nil
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
