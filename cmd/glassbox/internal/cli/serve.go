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
	"time"

	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/serve"
)

func init() {
	register("serve", "serve a model over HTTP: predict, explain, health, metrics and a web page", runServe)
}

// shutdownGrace is how long requests in flight may finish after the
// command is stopped; then their connections are closed and their work
// cancelled.
const shutdownGrace = 10 * time.Second

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
	p, err := predictor.Load(*modelPath)
	if err != nil {
		return err
	}
	opts := serve.Options{Name: filepath.Base(*modelPath), Timeout: *timeout, MaxConcurrentExplain: *maxExplain}
	if err := p.LoadBackground(ctx, *dataSpec); err != nil {
		if *dataSpec != "" {
			return err
		}
		if !env.Quiet {
			fmt.Fprintf(env.Stderr, "glassbox serve: no training rows (%v): LIME and Kernel SHAP are off for this table model\n", err)
		}
	}
	errorLog := log.New(io.Discard, "", 0)
	if !env.Quiet {
		h := slog.NewTextHandler(env.Stderr, nil)
		opts.Logger = slog.New(h)
		errorLog = slog.NewLogLogger(h, slog.LevelWarn)
	}
	s, err := serve.New(p, opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", *addr, err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      *timeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          errorLog,
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
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if !env.JSON && !env.Quiet {
		fmt.Fprintln(env.Stderr, "stopped")
	}
	return nil
}
