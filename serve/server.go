package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Defaults for the zero fields of Options.
const (
	DefaultMaxBodyBytes = 8 << 20
	DefaultMaxBatch     = 1024
	DefaultTimeout      = 30 * time.Second
	DefaultMaxSamples   = 50000
	// DefaultMemoryBudget is the memory request bodies, image decoding
	// and explanations may hold at once.
	DefaultMemoryBudget = 256 << 20
	// DefaultQueueWait is how long a request waits for a prediction slot
	// or for memory before it is answered 429.
	DefaultQueueWait = 500 * time.Millisecond
)

// Options tune a Server. The zero value serves with the defaults.
type Options struct {
	// Name names the model in /healthz and on the page (default: the
	// model's architecture type, e.g. "Sequential").
	Name string
	// MaxBodyBytes bounds a request body (default 8 MiB); larger → 413.
	MaxBodyBytes int64
	// MaxBatch bounds the rows of one predict request (default 1024);
	// more → 413.
	MaxBatch int
	// Timeout bounds the work of one request (default 30 s); past it the
	// work stops and the answer is 503.
	Timeout time.Duration
	// MaxConcurrentExplain is how many explanations run at once (default
	// GOMAXPROCS); a request beyond them is answered 429 at once, with
	// Retry-After.
	MaxConcurrentExplain int
	// MaxSamples bounds the "samples" an explain request may ask for
	// (default 50000). An explanation's memory grows with its samples
	// (times the input's features and the model's outputs); it is
	// estimated and taken from MemoryBudget before the work starts.
	MaxSamples int
	// MaxConcurrentPredict is how many predict requests decode their
	// input and run the model at once (default 4×GOMAXPROCS); a request
	// beyond them waits up to QueueWait for a slot, then is answered 429
	// with Retry-After. Bodies are read before a slot is taken, so a
	// client sending slowly holds none (the same holds for explanations).
	MaxConcurrentPredict int
	// MemoryBudget bounds the bytes that requests in progress may hold
	// for their bodies, decoded images, parsed CSV and explanations
	// (default 256 MiB). Each request takes an estimate before it
	// allocates: a body's as it arrives (5× its bytes), an image's from
	// its header before it is decoded (width × height × the bytes per
	// pixel of its colour model, plus the float32 planes of the resize),
	// an explanation's from its method, samples, features and outputs. A
	// request that alone needs more than the budget is answered 413; one
	// that finds it in use by others waits up to QueueWait, then is
	// answered 429. Keep it at least 5×MaxBodyBytes, or the largest
	// bodies are refused.
	MemoryBudget int64
	// QueueWait is how long a request waits for a prediction slot or for
	// memory before it is answered 429 (default 500 ms). Explanations
	// beyond MaxConcurrentExplain are answered 429 at once.
	QueueWait time.Duration
	// AllowOrigins lists the web origins (scheme://host[:port], or "*"
	// for any) whose pages may call the API besides the server's own
	// page; their hosts are also accepted as Host on a loopback address.
	// Requests from other origins are answered 403.
	AllowOrigins []string
	// Logger receives one line per request and the faults (nil: none).
	Logger *slog.Logger
	// Examples are inputs the web page offers to load ("load a test
	// row", "load a test digit") through GET /v1/example: in the data's
	// own units, one input's values after another (e.g. the model's test
	// split). Empty: a table model offers its Background rows instead.
	Examples []float32
	// ExampleTargets, when not nil, holds each example's true class
	// index or value, for the page to show beside it.
	ExampleTargets []float32
}

// Server answers predict and explain requests for one model. It is safe
// for concurrent use: every request runs the model on its own tape.
type Server struct {
	p            *predictor.Predictor
	opt          Options
	methods      []string
	methodInfo   []explain.MethodInfo // of methods, for /healthz
	slots        chan struct{}        // explanations running
	predictSlots chan struct{}
	mem          *memBudget
	origins      origins
	met          *metrics
	log          *slog.Logger
	page         []byte
	handler      http.Handler
}

// New prepares a server for predictor p (as predictor.Load returns it;
// a table model explains with LIME and Kernel SHAP when p.Background
// holds its training rows). It checks that opts are sound.
func New(p *predictor.Predictor, opts Options) (*Server, error) {
	if p == nil || p.Module == nil {
		return nil, errors.New("serve: the predictor is nil")
	}
	if opts.MaxBodyBytes < 0 || opts.MaxBatch < 0 || opts.Timeout < 0 || opts.MaxConcurrentExplain < 0 || opts.MaxSamples < 0 ||
		opts.MaxConcurrentPredict < 0 || opts.MemoryBudget < 0 || opts.QueueWait < 0 {
		return nil, fmt.Errorf("serve: negative limit in Options (MaxBodyBytes %d, MaxBatch %d, Timeout %v, MaxConcurrentExplain %d, MaxSamples %d, MaxConcurrentPredict %d, MemoryBudget %d, QueueWait %v); use 0 for the default",
			opts.MaxBodyBytes, opts.MaxBatch, opts.Timeout, opts.MaxConcurrentExplain, opts.MaxSamples, opts.MaxConcurrentPredict, opts.MemoryBudget, opts.QueueWait)
	}
	if err := checkExamples(opts, tensor.Numel(p.InputShape)); err != nil {
		return nil, err
	}
	allowed, err := parseOrigins(opts.AllowOrigins)
	if err != nil {
		return nil, err
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxBatch == 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxConcurrentExplain == 0 {
		opts.MaxConcurrentExplain = runtime.GOMAXPROCS(0)
	}
	if opts.MaxSamples == 0 {
		opts.MaxSamples = DefaultMaxSamples
	}
	if opts.MaxConcurrentPredict == 0 {
		opts.MaxConcurrentPredict = 4 * runtime.GOMAXPROCS(0)
	}
	if opts.MemoryBudget == 0 {
		opts.MemoryBudget = DefaultMemoryBudget
	}
	if opts.QueueWait == 0 {
		opts.QueueWait = DefaultQueueWait
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Name == "" {
		opts.Name = p.Module.Spec().Type
	}
	s := &Server{p: p, opt: opts, slots: make(chan struct{}, opts.MaxConcurrentExplain),
		predictSlots: make(chan struct{}, opts.MaxConcurrentPredict), mem: newMemBudget(opts.MemoryBudget),
		origins: allowed, met: newMetrics(), log: opts.Logger}
	for _, mi := range p.Methods() {
		// A text model takes documents here, so only the methods that
		// explain a document's words are offered.
		if p.Kind == explain.Text && !predictor.ExplainsText(mi.Name) {
			continue
		}
		s.methods = append(s.methods, mi.Name)
		s.methodInfo = append(s.methodInfo, mi)
	}
	if s.page, err = renderPage(s.health()); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/predict", s.endpoint("/v1/predict", http.MethodPost, s.predict))
	mux.Handle("/v1/explain", s.endpoint("/v1/explain", http.MethodPost, s.explain))
	mux.Handle("/healthz", s.endpoint("/healthz", http.MethodGet, s.healthz))
	mux.Handle("/v1/example", s.endpoint("/v1/example", http.MethodGet, s.example))
	mux.Handle("/metrics", s.endpoint("/metrics", http.MethodGet, s.metrics))
	page := s.endpoint("/", http.MethodGet, s.index)
	mux.Handle("/", page)
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.RequestURI == "*" { // which ServeMux answers with an empty 400
			page.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	return s, nil
}

// Handler returns the server's HTTP handler, to mount on an http.Server
// or a mux of your own.
func (s *Server) Handler() http.Handler { return s.handler }

// Health is the answer of GET /healthz.
type Health struct {
	Status string `json:"status"`
	Model  string `json:"model"`
	Task   string `json:"task"`
	// Kind is what one input is: "table", "image" or "text" (send
	// "text" to a text model).
	Kind       string   `json:"kind"`
	InputShape []int    `json:"input_shape"`
	Outputs    int      `json:"outputs"`
	Classes    []string `json:"classes,omitempty"`
	Features   []string `json:"features,omitempty"`
	// Methods are the explanation methods this server runs for the model
	// (names of the explain registry).
	Methods []string `json:"methods"`
	// MethodInfo describes each of them.
	MethodInfo []explain.MethodInfo `json:"method_info"`
	// FeatureStats gives a table model's columns their range and mean
	// over its training rows (absent without them).
	FeatureStats []FeatureStat `json:"feature_stats,omitempty"`
	// Examples is how many inputs GET /v1/example offers.
	Examples int `json:"examples"`
}

func (s *Server) health() Health {
	h := Health{Status: "ok", Model: s.opt.Name, Task: string(s.p.Task), InputShape: s.p.InputShape, Outputs: s.p.Outputs,
		Classes: s.p.Classes, Features: s.p.Features, Methods: s.methods, MethodInfo: s.methodInfo,
		Kind: string(s.p.Kind), Examples: s.exampleCount()}
	if s.p.Kind == explain.Table {
		h.FeatureStats = featureStats(s.p.Background, s.p.Features, tensor.Numel(s.p.InputShape))
	}
	return h
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, s.health())
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	var buf bytes.Buffer
	s.met.write(&buf, gauges{explaining: len(s.slots), predicting: len(s.predictSlots), memInUse: s.mem.inUse(), memBudget: s.mem.total},
		s.opt.Name, string(s.p.Task))
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, err := w.Write(buf.Bytes())
	return err
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; connect-src 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	_, err := w.Write(s.page)
	return err
}

// httpError is an error with the status it is answered with, and for a
// refusal the reason /metrics counts it under.
type httpError struct {
	status int
	msg    string
	reason string // "" for the reason of its status (rejectReason)
}

func (e *httpError) Error() string { return e.msg }

func httpErrorf(status int, format string, args ...any) *httpError {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// rejectReason is the reason a refusal is counted under in
// glassbox_rejected_total ("" for an answer that is not one: a 400 says
// what is wrong with the request, a 500 is a fault).
func rejectReason(e *httpError) string {
	if e.reason != "" {
		return e.reason
	}
	switch e.status {
	case http.StatusUnsupportedMediaType:
		return "content_type"
	case http.StatusTooManyRequests:
		return "busy"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnprocessableEntity:
		return "non_finite"
	case http.StatusServiceUnavailable:
		return "timeout"
	}
	return ""
}

// statusClientGone is recorded (not sent) when the client went away
// before the answer was ready, as nginx does.
const statusClientGone = 499

// endpoint wraps a handler: it checks where the request comes from, its
// method and body type, counts the request, turns returned errors and
// panics into JSON error answers and logs.
func (s *Server) endpoint(name, method string, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		s.met.inFlight.Add(1)
		rec := &statusRecorder{ResponseWriter: w}
		label := name
		if name == "/" && r.URL.Path != "/" {
			label = "other"
		}
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic serving request", "path", r.URL.Path, "panic", p)
				if !rec.wrote {
					s.writeError(rec, &httpError{status: http.StatusInternalServerError, msg: "internal error while serving the request"})
				}
			}
			s.met.inFlight.Add(-1)
			s.met.request(label, rec.status)
			s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "seconds", time.Since(t0).Seconds())
		}()
		if err := s.checkHost(r); err != nil {
			s.writeError(rec, err.(*httpError))
			return
		}
		cors, err := s.checkOrigin(r)
		if err != nil {
			s.writeError(rec, err.(*httpError))
			return
		}
		if label == "other" {
			s.writeError(rec, httpErrorf(http.StatusNotFound, "no such page %q: the API is POST /v1/predict, POST /v1/explain, GET /v1/example, GET /healthz, GET /metrics and the page at /", r.URL.Path))
			return
		}
		if cors {
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				preflight(rec, r.Header.Get("Origin"), method)
				return
			}
			setCORS(rec.Header(), r.Header.Get("Origin"))
		}
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			allow := method
			if method == http.MethodGet {
				allow = "GET, HEAD"
			}
			rec.Header().Set("Allow", allow)
			s.writeError(rec, httpErrorf(http.StatusMethodNotAllowed, "%s %s: use %s", r.Method, r.URL.Path, method))
			return
		}
		if method == http.MethodPost {
			if err := checkContentType(r); err != nil {
				rec.Header().Set("Accept-Post", "application/json")
				s.writeError(rec, err.(*httpError))
				return
			}
		}
		err = h(rec, r)
		switch {
		case err == nil:
		case r.Context().Err() != nil:
			// The client went away: nobody reads an answer.
			rec.status = statusClientGone
			s.log.Info("client went away", "path", r.URL.Path, "error", err)
		default:
			var he *httpError
			if !errors.As(err, &he) {
				s.log.Error("serving request", "path", r.URL.Path, "error", err)
				he = &httpError{status: http.StatusInternalServerError, msg: "internal error while serving the request; the server's log has the details"}
			}
			if !rec.wrote {
				s.writeError(rec, he)
			}
		}
	})
}

// statusRecorder remembers the status written, for metrics and logs.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// writeJSON encodes v first, so that an encoding failure is a clean 500.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the answer: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeError answers e, counting a refusal under its reason.
func (s *Server) writeError(w http.ResponseWriter, e *httpError) {
	switch e.status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	}
	if reason := rejectReason(e); reason != "" {
		s.met.rejected(reason)
	}
	writeJSON(w, e.status, map[string]string{"error": e.msg})
}

// bodyFactor bounds what reading a body of n bytes holds, in units of
// n: the decoder's buffer (up to twice the body as it grows), the
// strings or raw rows it yields, and the values parsed from them.
const bodyFactor = 5

// bodyStep is how much body a request reserves memory for at a time.
const bodyStep = 64 << 10

// decodeBody reads one JSON object from the request body into v, with
// the body size limit and unknown fields refused. What it holds is taken
// from the request's memory lease as the body arrives (bodyFactor times
// its bytes), so that a client sending slowly holds only what it sent.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, l *lease, v any) error {
	if r.ContentLength > s.opt.MaxBodyBytes {
		return httpErrorf(http.StatusRequestEntityTooLarge, "request body is larger than this server's limit of %d bytes", s.opt.MaxBodyBytes)
	}
	body := &budgetReader{ctx: r.Context(), l: l, r: http.MaxBytesReader(w, r.Body, s.opt.MaxBodyBytes)}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.Decode(&struct{}{}) != io.EOF {
			err = errors.New("trailing data after the JSON object")
		}
	}
	if err == nil {
		return nil
	}
	var (
		tooBig *http.MaxBytesError
		syn    *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case body.err != nil:
		return body.err
	case errors.As(err, &tooBig):
		return httpErrorf(http.StatusRequestEntityTooLarge, "request body is larger than this server's limit of %d bytes", tooBig.Limit)
	case r.Context().Err() != nil:
		return r.Context().Err()
	case errors.Is(err, io.EOF):
		return httpErrorf(http.StatusBadRequest, `empty request body: send a JSON object such as {"rows": [[5.1, 3.5, 1.4, 0.2]]}`)
	case errors.As(err, &syn):
		return httpErrorf(http.StatusBadRequest, "malformed JSON at byte %d: %s", syn.Offset, userWords(syn.Error()))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return httpErrorf(http.StatusBadRequest, "the body is a JSON %s; send a JSON object", typ.Value)
		}
		return httpErrorf(http.StatusBadRequest, "field %q: got a JSON %s, want %s", field, typ.Value, jsonKind(typ.Type.String()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return httpErrorf(http.StatusBadRequest, "malformed JSON: the body ends inside the object")
	}
	return httpErrorf(http.StatusBadRequest, "bad request body: %s", userWords(err.Error()))
}

// budgetReader reserves memory from a lease for the bytes it reads,
// before reading them, bodyStep at a time.
type budgetReader struct {
	ctx      context.Context
	l        *lease
	r        io.Reader
	read     int64 // bytes read
	reserved int64 // bytes reserved for
	err      error // the reservation that failed
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) > bodyStep {
		p = p[:bodyStep]
	}
	if need := b.read + int64(len(p)); need > b.reserved {
		step := max(need-b.reserved, bodyStep)
		if err := b.l.take(b.ctx, bodyFactor*step, "the request body"); err != nil {
			b.err = err
			return 0, err
		}
		b.reserved += step
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	return n, err
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool" || goType == "*bool":
		return "true or false"
	case slices.Contains([]string{"int", "*int", "uint64", "*uint64"}, goType):
		return "an integer"
	case goType == "float64" || goType == "float32":
		return "a number"
	case goType == "[][]float64":
		return "an array of rows, each an array of numbers"
	case goType == "[]float64":
		return "an array of numbers"
	case goType == "json.RawMessage":
		return "an array of rows, each an array of numbers"
	case strings.HasPrefix(goType, "serve."), strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "struct"):
		return "an object"
	}
	return goType
}
