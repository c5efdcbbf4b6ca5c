package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/predictor"
)

// command is one subcommand of glassbox.
type command struct {
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// Env carries a command's output streams and shared flags.
type Env struct {
	Stdout, Stderr io.Writer
	// JSON selects one JSON object on stdout instead of text (and JSON
	// lines of training progress on stderr).
	JSON bool
	// Quiet silences progress output.
	Quiet bool
}

var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, env *Env, args []string) error) {
	commands[name] = command{summary: summary, run: run}
}

// Exit codes of Run.
const (
	ExitOK       = 0 // the command did its work
	ExitFailed   = 1 // bad input or a failed operation: the message names it and the fix
	ExitUsage    = 2 // a bad command line
	ExitInternal = 3 // a bug in glassbox: the message asks for a report
)

// Run executes the command line args (without the program name) and
// returns the process exit code (ExitOK, ExitFailed, ExitUsage or
// ExitInternal). Errors are printed to stderr; a panic inside a command is
// caught and reported as an internal error, with its trace and a request
// to report it (ExitInternal), not as a crash.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	switch {
	case len(args) == 0:
		usage(stderr)
		return ExitUsage
	case args[0] == "-h" || args[0] == "--help" || args[0] == "help" && len(args) == 1:
		usage(stdout)
		return ExitOK
	case args[0] == "help":
		// glassbox help CMD is glassbox CMD -h.
		if _, ok := commands[args[1]]; !ok {
			return unknownCommand(args[1], stderr)
		}
		args = []string{args[1], "-h"}
	}
	cmd, ok := commands[args[0]]
	if !ok {
		return unknownCommand(args[0], stderr)
	}
	env := &Env{Stdout: stdout, Stderr: stderr}
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "glassbox %s: internal error: %v\n\nThis is a bug in glassbox, not in your input. Please report it with the command line above and this trace:\n%s", args[0], p, debug.Stack())
			code = ExitInternal
		}
	}()
	err := cmd.run(ctx, env, args[1:])
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "glassbox %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "glassbox %s: %v\n", args[0], err)
		return 1
	}
}

// usage prints the top-level help: every command with its summary.
func usage(w io.Writer) {
	fmt.Fprintln(w, "glassbox: deep learning you can see through\n\nUsage: glassbox COMMAND [flags]   (every command takes --json)\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'glassbox help COMMAND' (or 'glassbox COMMAND -h') for a command's usage, an example and its flags.")
}

// unknownCommand says so, with the closest command for a typo, and
// lists the commands.
func unknownCommand(name string, stderr io.Writer) int {
	names := []string{"help"}
	for n := range commands {
		names = append(names, n)
	}
	fmt.Fprintf(stderr, "glassbox: unknown command %q", name)
	if near := explain.Closest(name, names); near != "" {
		fmt.Fprintf(stderr, "; did you mean %q?", near)
	}
	fmt.Fprint(stderr, "\n\n")
	usage(stderr)
	return ExitUsage
}

// usageError marks a bad command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// newFlags returns a command's flag set with the shared --json and
// --quiet flags. -h prints the command's help page on stdout; a flag
// error is returned by parse (the flag package's own messages go to a
// buffer, whose being empty is how Usage tells -h from an error).
func newFlags(name string, env *Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var msgs bytes.Buffer
	fs.SetOutput(&msgs)
	fs.Usage = func() {
		if msgs.Len() == 0 {
			writeHelp(env.Stdout, fs)
		}
	}
	fs.BoolVar(&env.JSON, "json", false, "print JSON on stdout instead of text (training progress: JSON lines on stderr)")
	fs.BoolVar(&env.Quiet, "quiet", false, "no progress output")
	return fs
}

// parse parses flags, turning flag errors into usage errors and refusing
// stray positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return flagError(fs, err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", strings.Join(fs.Args(), " "))
	}
	return nil
}

// emit prints v as JSON when --json is set, else calls text.
func (env *Env) emit(v any, text func(w io.Writer)) error {
	if env.JSON {
		enc := json.NewEncoder(env.Stdout)
		return enc.Encode(v)
	}
	text(env.Stdout)
	return nil
}

// progress is where the demo's training progress goes: stderr unless
// quiet or JSON.
func (env *Env) progress() (io.Writer, bool) {
	return env.Stderr, env.Quiet || env.JSON
}

// trainProgress says where training progress goes: stderr, as a bar on a
// terminal, plain lines when piped, JSON lines with --json; nothing with
// --quiet.
func (env *Env) trainProgress() predictor.TrainOptions {
	return predictor.TrainOptions{Progress: env.Stderr, JSON: env.JSON, Quiet: env.Quiet}
}
