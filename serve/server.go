package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"time"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/predictor"
)

// Defaults for the zero fields of Options.
const (
	DefaultMaxBodyBytes = 8 << 20
	DefaultMaxBatch     = 1024
	DefaultTimeout      = 30 * time.Second
	DefaultMaxSamples   = 50000
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
	// (default 50000).
	MaxSamples int
	// Logger receives one line per request and the faults (nil: none).
	Logger *slog.Logger
}

// Server answers predict and explain requests for one model. It is safe
// for concurrent use: every request runs the model on its own tape.
type Server struct {
	p       *predictor.Predictor
	opt     Options
	methods []string
	slots   chan struct{}
	met     *metrics
	log     *slog.Logger
	page    []byte
	handler http.Handler
}

// New prepares a server for predictor p (as predictor.Load returns it;
// a table model explains with LIME and Kernel SHAP when p.Background
// holds its training rows). It checks that opts are sound.
func New(p *predictor.Predictor, opts Options) (*Server, error) {
	if p == nil || p.Module == nil {
		return nil, errors.New("serve: the predictor is nil")
	}
	if opts.MaxBodyBytes < 0 || opts.MaxBatch < 0 || opts.Timeout < 0 || opts.MaxConcurrentExplain < 0 || opts.MaxSamples < 0 {
		return nil, fmt.Errorf("serve: negative limit in Options (MaxBodyBytes %d, MaxBatch %d, Timeout %v, MaxConcurrentExplain %d, MaxSamples %d); use 0 for the default",
			opts.MaxBodyBytes, opts.MaxBatch, opts.Timeout, opts.MaxConcurrentExplain, opts.MaxSamples)
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
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Name == "" {
		opts.Name = p.Module.Spec().Type
	}
	s := &Server{p: p, opt: opts, slots: make(chan struct{}, opts.MaxConcurrentExplain), met: newMetrics(), log: opts.Logger}
	for _, mi := range p.Methods() {
		s.methods = append(s.methods, mi.Name)
	}
	var err error
	if s.page, err = renderPage(s.health()); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/predict", s.endpoint("/v1/predict", http.MethodPost, s.predict))
	mux.Handle("/v1/explain", s.endpoint("/v1/explain", http.MethodPost, s.explain))
	mux.Handle("/healthz", s.endpoint("/healthz", http.MethodGet, s.healthz))
	mux.Handle("/metrics", s.endpoint("/metrics", http.MethodGet, s.metrics))
	mux.Handle("/", s.endpoint("/", http.MethodGet, s.index))
	s.handler = mux
	return s, nil
}

// Handler returns the server's HTTP handler, to mount on an http.Server
// or a mux of your own.
func (s *Server) Handler() http.Handler { return s.handler }

// Health is the answer of GET /healthz.
type Health struct {
	Status     string   `json:"status"`
	Model      string   `json:"model"`
	Task       string   `json:"task"`
	InputShape []int    `json:"input_shape"`
	Outputs    int      `json:"outputs"`
	Classes    []string `json:"classes,omitempty"`
	Features   []string `json:"features,omitempty"`
	// Methods are the explanation methods this server runs for the model
	// (names of the explain registry).
	Methods []string `json:"methods"`
	// MethodInfo describes each of them.
	MethodInfo []explain.MethodInfo `json:"method_info"`
}

func (s *Server) health() Health {
	return Health{Status: "ok", Model: s.opt.Name, Task: string(s.p.Task), InputShape: s.p.InputShape, Outputs: s.p.Outputs,
		Classes: s.p.Classes, Features: s.p.Features, Methods: s.methods, MethodInfo: s.p.Methods()}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, s.health())
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	var buf bytes.Buffer
	s.met.write(&buf, len(s.slots), s.opt.Name, string(s.p.Task))
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

// httpError is an error with the status it is answered with.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func httpErrorf(status int, format string, args ...any) *httpError {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// statusClientGone is recorded (not sent) when the client went away
// before the answer was ready, as nginx does.
const statusClientGone = 499

// endpoint wraps a handler: it checks the method, counts the request,
// turns returned errors and panics into JSON error answers and logs.
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
					writeError(rec, &httpError{status: http.StatusInternalServerError, msg: "internal error while serving the request"})
				}
			}
			s.met.inFlight.Add(-1)
			s.met.request(label, rec.status)
			s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "seconds", time.Since(t0).Seconds())
		}()
		if label == "other" {
			writeError(rec, httpErrorf(http.StatusNotFound, "no such page %q: the API is POST /v1/predict, POST /v1/explain, GET /healthz, GET /metrics and the page at /", r.URL.Path))
			return
		}
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			allow := method
			if method == http.MethodGet {
				allow = "GET, HEAD"
			}
			rec.Header().Set("Allow", allow)
			writeError(rec, httpErrorf(http.StatusMethodNotAllowed, "%s %s: use %s", r.Method, r.URL.Path, method))
			return
		}
		err := h(rec, r)
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
				he = &httpError{status: http.StatusInternalServerError, msg: err.Error()}
			}
			if !rec.wrote {
				writeError(rec, he)
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

func writeError(w http.ResponseWriter, e *httpError) {
	switch e.status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.status, map[string]string{"error": e.msg})
}

// decodeBody reads one JSON object from the request body into v, with
// the body size limit and unknown fields refused.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, s.opt.MaxBodyBytes)
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
	case errors.As(err, &tooBig):
		return httpErrorf(http.StatusRequestEntityTooLarge, "request body is larger than this server's limit of %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return httpErrorf(http.StatusBadRequest, `empty request body: send a JSON object such as {"rows": [[5.1, 3.5, 1.4, 0.2]]}`)
	case errors.As(err, &syn):
		return httpErrorf(http.StatusBadRequest, "malformed JSON at byte %d: %v", syn.Offset, err)
	case errors.As(err, &typ):
		return httpErrorf(http.StatusBadRequest, "field %q: got a JSON %s, want %s", typ.Field, typ.Value, jsonKind(typ.Type.String()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return httpErrorf(http.StatusBadRequest, "malformed JSON: the body ends inside the object")
	}
	return httpErrorf(http.StatusBadRequest, "bad request body: %v", err)
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
	}
	return goType
}
