package cli

import (
	"context"
	"strings"
	"testing"
)

func init() {
	register("test-panic", "a command that panics, for the exit-code test", func(ctx context.Context, env *Env, args []string) error {
		var m map[string]int
		m["boom"]++ // a nil-map write: a real runtime panic
		return nil
	})
}

// A panic inside a command is an internal error with exit code 3 and a
// request to report it, not a crash with Go's exit code 2 (which means a
// bad command line here).
func TestPanicIsAnInternalError(t *testing.T) {
	code, _, stderr := run(t, "test-panic")
	if code != ExitInternal || !strings.Contains(stderr, "internal error") || !strings.Contains(stderr, "Please report it") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := run(t, "trian"); code != ExitUsage || !strings.Contains(stderr, `did you mean "train"`) {
		t.Fatalf("typo: exit %d, %q", code, stderr)
	}
}
