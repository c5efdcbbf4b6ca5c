package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/serve"
)

func init() {
	register("serve", "serve a model over HTTP: predict, explain, health, metrics and a web page", runServe)
}

// defaultGrace is how long requests in flight may finish after the
// command is stopped (SIGTERM, SIGINT); then their work is cancelled and
// their connections closed.
const defaultGrace = 10 * time.Second

// Timeouts of the HTTP server. A request's headers must arrive within
// readHeaderTimeout and its whole body within readTimeout; its answer
// must be written within the time it may take to read the body, wait for
// a slot or memory, do the work (--timeout) and write the answer.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = time.Minute
	writeMargin       = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// listFlag is a repeatable flag whose values may also be comma separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l = append(*l, item)
		}
	}
	return nil
}

// serveResult is what serve --json prints once it listens.
type serveResult struct {
	Addr string `json:"addr"`
	URL  string `json:"url"`
}

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("serve", env)
	modelPath := fs.String("model", "", "a .gbx model file")
	addr := fs.String("addr", "127.0.0.1:8080", "host:port to listen on (port 0 picks a free port; 0.0.0.0 opens it to the network)")
	dataSpec := fs.String("data", "", "data SPEC whose training split LIME and Kernel SHAP sample from on tables (default: the model's own training data)")
	timeout := fs.Duration("timeout", serve.DefaultTimeout, "time limit of one request; past it the work stops and the answer is 503")
	maxExplain := fs.Int("max-explain", 0, "explanations running at once (0: one per CPU); more are answered 429")
	maxPredict := fs.Int("max-predict", 0, "predict requests running at once (0: four per CPU); more wait briefly, then are answered 429")
	memoryMiB := fs.Int64("memory-mib", serve.DefaultMemoryBudget>>20, "MiB that requests in progress may hold for bodies, decoded images and explanations; more wait briefly, then are answered 429 (one alone over it: 413)")
	grace := fs.Duration("grace", defaultGrace, "on SIGTERM or Ctrl-C, how long requests in flight may finish before they are cut off")
	var allowOrigins listFlag
	fs.Var(&allowOrigins, "allow-origin", "a web origin (https://host[:port], or *) whose pages may call the API; repeat it or separate with commas (default: only the server's own page)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		return usagef("--model is required")
	}
	if *timeout <= 0 {
		return usagef("--timeout %v: want a positive duration such as 30s", *timeout)
	}
	if *maxExplain < 0 {
		return usagef("--max-explain %d: want 0 (one per CPU) or more", *maxExplain)
	}
	if *maxPredict < 0 {
		return usagef("--max-predict %d: want 0 (four per CPU) or more", *maxPredict)
	}
	if *memoryMiB < 1 || *memoryMiB > 1<<30 {
		return usagef("--memory-mib %d: want a positive number of MiB such as 256", *memoryMiB)
	}
	if *grace < 0 {
		return usagef("--grace %v: want 0 or a positive duration such as 10s", *grace)
	}
	p, err := predictor.Load(*modelPath)
	if err != nil {
		return err
	}
	opts := serve.Options{Name: filepath.Base(*modelPath), Timeout: *timeout, MaxConcurrentExplain: *maxExplain,
		MaxConcurrentPredict: *maxPredict, MemoryBudget: *memoryMiB << 20, AllowOrigins: allowOrigins}
	// The model's own data, loaded once: a table's training rows are
	// LIME's and Kernel SHAP's background, the test split the page's
	// examples.
	d, err := p.OwnData(ctx, *dataSpec)
	if p.Kind == explain.Table {
		if err != nil {
			if *dataSpec != "" {
				return err
			}
			if !env.Quiet {
				fmt.Fprintf(env.Stderr, "glassbox serve: no training rows (%v): LIME and Kernel SHAP are off for this table model\n", err)
			}
		} else {
			p.Background = predictor.Rows(d.Train)
		}
	}
	opts.Examples, opts.ExampleTargets = serveExamples(d)
	errorLog := log.New(io.Discard, "", 0)
	if !env.Quiet {
		h := slog.NewTextHandler(env.Stderr, nil)
		opts.Logger = slog.New(h)
		errorLog = slog.NewLogLogger(h, slog.LevelWarn)
	}
	s, err := serve.New(p, opts)
	if err != nil {
		if len(allowOrigins) > 0 && strings.Contains(err.Error(), "allowed origin") {
			return usagef("--allow-origin: %s", strings.TrimPrefix(err.Error(), "serve: "))
		}
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", *addr, err)
	}
	// Requests run under base; cancelling it stops their work when the
	// grace period is over.
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      readTimeout + serve.DefaultQueueWait + *timeout + writeMargin,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          errorLog,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	res := serveResult{Addr: ln.Addr().String(), URL: "http://" + ln.Addr().String() + "/"}
	if err := env.emit(res, func(w io.Writer) {
		fmt.Fprintf(w, "serving %s on %s (Ctrl-C stops)\n", opts.Name, res.URL)
	}); err != nil {
		srv.Close()
		return err
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// Stop accepting, let the requests in flight finish within the grace
	// period, then cancel their work and close their connections.
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	cut := srv.Shutdown(sctx) != nil
	if cut {
		cancelBase()
		srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if !env.Quiet {
		if cut {
			fmt.Fprintf(env.Stderr, "glassbox serve: requests still running after the %v grace period were cut off\n", *grace)
		}
		if !env.JSON {
			fmt.Fprintln(env.Stderr, "stopped")
		}
	}
	return nil
}
