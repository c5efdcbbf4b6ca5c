package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteReplacesWholeFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	if err := WriteBytes(path, []byte("first version, long")); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(path, []byte("second")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "second" {
		t.Fatalf("read %q, %v; want %q", b, err, "second")
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d entries in the folder, want only the file (no temporaries left)", len(ents))
	}
}

func TestWriteFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.gbx")
	if err := WriteBytes(path, []byte("good")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk on fire")
	err := Write(path, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v: want one wrapping the fill error and naming %s", err, path)
	}
	if b, _ := os.ReadFile(path); string(b) != "good" {
		t.Fatalf("file now %q: a failed write must leave the old content", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d entries in the folder: the temporary file was not removed", len(ents))
	}
	if err := WriteBytes(filepath.Join(dir, "no", "such", "dir", "f"), nil); err == nil || !strings.Contains(err.Error(), "cannot write") {
		t.Errorf("missing folder: error %v", err)
	}
}

// A write killed between creating its temporary file and renaming it
// (kill -9) leaves the file behind; the next write of the same path
// removes it once it is stale, and leaves a fresh one (a writer at work)
// and other files alone.
func TestNextWriteRemovesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.gbx")
	stale := filepath.Join(dir, ".model.gbx.tmp123456")
	fresh := filepath.Join(dir, ".model.gbx.tmp999")
	other := filepath.Join(dir, ".other.gbx.tmp123456")
	look := filepath.Join(dir, ".model.gbx.tmpnotmine")
	for _, f := range []string{stale, fresh, other, look} {
		if err := os.WriteFile(f, make([]byte, 1000), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * StaleAfter)
	for _, f := range []string{stale, other, look} {
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteBytes(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale temporary file is still there: %v", err)
	}
	for _, f := range []string{fresh, other, look} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(f), err)
		}
	}
}
