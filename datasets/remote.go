package datasets

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// remoteFile is one IDX file of a downloadable set. Size and SHA256 are of
// the decompressed bytes: the same file gzip-compressed by another tool
// (Debian's Fashion-MNIST has different gzip headers from upstream's) or
// stored uncompressed checks out the same.
type remoteFile struct {
	name   string // without ".gz"
	size   int64
	sha256 string
}

// remoteSet is an MNIST-like set of four IDX files that can be downloaded.
type remoteSet struct {
	name       string
	mirrors    []string
	systemDirs []string
	files      [4]remoteFile // in mnistFileNames order
	classes    []string
}

// Digests of the decompressed original files. MNIST: computed from the
// GoMNIST module's copies of the originals (their .gz files also match the
// published SHA-256 of the upstream .gz files). Fashion-MNIST: computed from
// Debian's dataset-fashion-mnist files, which decompress to the upstream
// IDX bytes (the .gz files themselves differ from upstream's only in their
// gzip headers).
var mnistSet = &remoteSet{
	name: "mnist",
	mirrors: []string{
		"https://ossci-datasets.s3.amazonaws.com/mnist/",
		"https://storage.googleapis.com/cvdf-datasets/mnist/",
	},
	files: [4]remoteFile{
		{"train-images-idx3-ubyte", 47040016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
		{"train-labels-idx1-ubyte", 60008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
		{"t10k-images-idx3-ubyte", 7840016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
		{"t10k-labels-idx1-ubyte", 10008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
	},
	classes: digitClasses,
}

var fashionSet = &remoteSet{
	name:       "fashion-mnist",
	mirrors:    []string{"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"},
	systemDirs: []string{"/usr/share/datasets/fashion-mnist"},
	files: [4]remoteFile{
		{"train-images-idx3-ubyte", 47040016, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
		{"train-labels-idx1-ubyte", 60008, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
		{"t10k-images-idx3-ubyte", 7840016, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
		{"t10k-labels-idx1-ubyte", 10008, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
	},
	classes: []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"},
}

// downloadOrder fetches the small label files first, so a bad mirror is
// found before the large downloads.
var downloadOrder = [4]int{1, 3, 2, 0}

// dirs returns the folders to search, in order, and the folder to
// download into ("" if there is none).
func (s *remoteSet) dirs(opts Options) (search []string, target string) {
	return searchDirs(s.name, s.systemDirs, opts)
}

// searchDirs returns the folders where the files of data set name are
// looked for, in order (opts.Dir alone if set, else $GLASSBOX_DATA/name,
// the user cache's glassbox/name, then systemDirs), and the folder to
// download into ("" if there is none).
func searchDirs(name string, systemDirs []string, opts Options) (search []string, target string) {
	if opts.Dir != "" {
		return []string{opts.Dir}, opts.Dir
	}
	if env := os.Getenv("GLASSBOX_DATA"); env != "" {
		target = filepath.Join(env, name)
		search = append(search, target)
	}
	if cache, err := os.UserCacheDir(); err == nil {
		c := filepath.Join(cache, "glassbox", name)
		search = append(search, c)
		if target == "" {
			target = c
		}
	}
	return append(search, systemDirs...), target
}

// find returns the path of a file in dir (name.gz or name), or "".
func find(dir, name string) string {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

func (s *remoteSet) fileList() string {
	var names []string
	for _, f := range s.files {
		names = append(names, f.name+".gz")
	}
	return strings.Join(names, ", ")
}

func (s *remoteSet) load(ctx context.Context, opts Options) (*Dataset, error) {
	search, target := s.dirs(opts)
	for _, d := range search {
		n := 0
		for _, f := range s.files {
			if find(d, f.name) != "" {
				n++
			}
		}
		if n == len(s.files) {
			return s.loadDir(ctx, d)
		}
	}
	if opts.Offline {
		return nil, fmt.Errorf("%s: files not found and downloads are off (Options.Offline); looked in %s; put %s there (or set GLASSBOX_DATA to a folder holding %s/ with them)",
			s.name, strings.Join(search, ", "), s.fileList(), s.name)
	}
	if target == "" {
		return nil, fmt.Errorf("%s: no folder to download into (no $GLASSBOX_DATA and no user cache folder); set GLASSBOX_DATA or Options.Dir", s.name)
	}
	if err := os.MkdirAll(target, 0o755); err != nil {
		return nil, fmt.Errorf("download %s: %w (set GLASSBOX_DATA to a writable folder)", s.name, err)
	}
	for _, i := range downloadOrder {
		f := s.files[i]
		if find(target, f.name) != "" {
			continue
		}
		if err := s.download(ctx, target, f, opts); err != nil {
			return nil, err
		}
	}
	return s.loadDir(ctx, target)
}

// loadDir reads and verifies the four files in dir.
func (s *remoteSet) loadDir(ctx context.Context, dir string) (*Dataset, error) {
	var xs [4]*IDX
	for i, f := range s.files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x, err := readVerified(find(dir, f.name), f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		xs[i] = x
	}
	train, err := idxImages(xs[0], xs[1], s.classes)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", s.name, dir, err)
	}
	test, err := idxImages(xs[2], xs[3], s.classes)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", s.name, dir, err)
	}
	return &Dataset{Location: dir, Train: train, Test: test}, nil
}

// readVerified reads an IDX file (gzip or raw) and checks the SHA-256 and
// size of its decompressed bytes.
func readVerified(path string, f remoteFile) (*IDX, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	br := bufio.NewReader(fh)
	var src io.Reader = br
	if h, _ := br.Peek(2); len(h) == 2 && h[0] == 0x1f && h[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w; delete the file (it will be downloaded again) or replace it with the original", path, err)
		}
		defer gz.Close()
		src = gz
	}
	h := sha256.New()
	x, err := readIDX(io.TeeReader(src, h), f.size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; the file is not the original: delete it (it will be downloaded again) or replace it", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.sha256 {
		return nil, fmt.Errorf("%s: SHA-256 of the decompressed data is %s, want %s; the file is corrupt or not the original: delete it (it will be downloaded again) or replace it", path, got, f.sha256)
	}
	return x, nil
}

// download fetches one file into dir, trying each mirror in turn.
func (s *remoteSet) download(ctx context.Context, dir string, f remoteFile, opts Options) error {
	return fromMirrors(ctx, s.name, s.mirrors, opts, `set GLASSBOX_DATA to a folder with the files, or use the embedded "mnist-small"`,
		func(client *http.Client, base string) error {
			return fetch(ctx, client, base+f.name+".gz", dir, f, opts.Progress)
		})
}

// fromMirrors calls get with each mirror base URL in turn (opts.Mirrors
// replacing builtin) until one succeeds; the error lists every failure
// and ends with hint, what to do without the network.
func fromMirrors(ctx context.Context, set string, builtin []string, opts Options, hint string, get func(client *http.Client, base string) error) error {
	mirrors := builtin
	if len(opts.Mirrors) > 0 {
		mirrors = opts.Mirrors
	}
	client := opts.Client
	if client == nil {
		client = http.DefaultClient
	}
	var errs []string
	for _, base := range mirrors {
		err := get(client, base)
		if err == nil {
			return nil
		}
		errs = append(errs, err.Error())
		if ctx.Err() != nil {
			return fmt.Errorf("download %s: %w", set, ctx.Err())
		}
	}
	return fmt.Errorf("download %s: %s (no network? %s)", set, strings.Join(errs, "; "), hint)
}

// errChecksum marks a download whose content is not the expected file.
var errChecksum = errors.New("checksum mismatch")

// fetch downloads url into dir/<f.name>.gz atomically (temporary file in the
// same folder, renamed once the decompressed bytes match f's size and
// SHA-256).
func fetch(ctx context.Context, client *http.Client, url, dir string, f remoteFile, progress func(string, int64, int64)) error {
	return fetchAtomic(ctx, client, url, dir, f.name+".gz", func(resp io.Reader, length int64, tmp *os.File) error {
		// gzip of incompressible data is only slightly larger than the data.
		maxGz := f.size + f.size/64 + 1<<16
		pw := &progressWriter{name: f.name + ".gz", total: length, fn: progress}
		body := io.TeeReader(io.LimitReader(resp, maxGz+1), io.MultiWriter(tmp, pw))
		gz, err := gzip.NewReader(body)
		if err != nil {
			return fmt.Errorf("%s: not a gzip file: %w", url, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(gz, f.size+1))
		if err != nil {
			return fmt.Errorf("%s: %w after %d bytes (download interrupted or file corrupt)", url, err, pw.done)
		}
		if n != f.size {
			return fmt.Errorf("%s: %w: decompresses to %d bytes, want %d", url, errChecksum, n, f.size)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != f.sha256 {
			return fmt.Errorf("%s: %w: SHA-256 of the decompressed data is %s, want %s", url, errChecksum, got, f.sha256)
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return fmt.Errorf("%s: %w", url, err)
		}
		if pw.done > maxGz {
			return fmt.Errorf("%s: more than %d bytes; not the expected file", url, maxGz)
		}
		return nil
	})
}

// fetchAtomic GETs url and has fill copy the answer's body (of length
// bytes, -1 if unknown) into a temporary file in dir, checking it as it
// goes; the file is renamed to dir/name only when fill succeeds, and
// removed otherwise, so dir never holds a partial or wrong file.
func fetchAtomic(ctx context.Context, client *http.Client, url, dir, name string, fill func(body io.Reader, length int64, tmp *os.File) error) (err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %s", url, resp.Status)
	}
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := fill(resp.Body, resp.ContentLength, tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}

type progressWriter struct {
	name        string
	done, total int64
	fn          func(string, int64, int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.fn != nil {
		p.fn(p.name, p.done, p.total)
	}
	return len(b), nil
}
