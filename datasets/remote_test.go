package datasets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeSet builds a tiny MNIST-like set (train: 3 images, test: 2, each 2×2)
// and returns it with the gzip bytes of its files by name.
func fakeSet(t *testing.T, name string) (*remoteSet, map[string][]byte) {
	t.Helper()
	s := &remoteSet{name: name, classes: []string{"x", "y", "z"}}
	raw := [4][]byte{
		idxBytes(t, &IDX{Type: IDXUint8, Dims: []int{3, 2, 2}, Data: []byte{0, 255, 0, 255, 1, 2, 3, 4, 9, 9, 9, 9}}),
		idxBytes(t, &IDX{Type: IDXUint8, Dims: []int{3}, Data: []byte{2, 0, 1}}),
		idxBytes(t, &IDX{Type: IDXUint8, Dims: []int{2, 2, 2}, Data: []byte{5, 5, 5, 5, 6, 6, 6, 6}}),
		idxBytes(t, &IDX{Type: IDXUint8, Dims: []int{2}, Data: []byte{1, 1}}),
	}
	files := map[string][]byte{}
	for i, n := range mnistFileNames {
		sum := sha256.Sum256(raw[i])
		s.files[i] = remoteFile{n, int64(len(raw[i])), hex.EncodeToString(sum[:])}
		files[n+".gz"] = gzipBytes(t, raw[i])
	}
	return s, files
}

// serve serves files under /; counts requests.
func serve(t *testing.T, files map[string][]byte) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// dirNames lists a folder, hidden files included.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestDownloadFakeSetAndCache(t *testing.T) {
	s, files := fakeSet(t, "fake")
	srv, hits := serve(t, files)
	dir := t.TempDir()
	var progressed int64
	ctx := context.Background()
	// The first mirror answers 404 for everything; the second has the files.
	d, err := s.load(ctx, Options{Dir: dir, Mirrors: []string{srv.URL + "/missing/", srv.URL + "/"},
		Progress: func(_ string, done, _ int64) { progressed = max(progressed, done) }})
	if err != nil {
		t.Fatal(err)
	}
	if d.Location != dir || d.Train.N != 3 || d.Test.N != 2 || d.Train.H != 2 || d.Train.W != 2 || d.Train.C != 1 {
		t.Fatalf("got %+v", d)
	}
	if !slices.Equal(d.Train.Labels, []int{2, 0, 1}) || d.Train.Image(0)[1] != 1 || d.Test.Image(1)[0] != 6.0/255 {
		t.Fatalf("contents: labels %v pixels %v", d.Train.Labels, d.Train.Pixels)
	}
	if progressed == 0 {
		t.Fatal("Progress never called")
	}
	want := []string{"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Fatalf("folder holds %q, want %q (no temporary files)", got, want)
	}
	if hits.Load() != 8 {
		t.Fatalf("%d requests, want 8 (4 misses on the first mirror, 4 downloads)", hits.Load())
	}
	// Second load: from the folder, no requests, even offline.
	if _, err := s.load(ctx, Options{Dir: dir, Offline: true}); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 8 {
		t.Fatal("a cached set was downloaded again")
	}
	// A partly present folder downloads only what is missing.
	os.Remove(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"))
	if _, err := s.load(ctx, Options{Dir: dir, Mirrors: []string{srv.URL + "/"}}); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 9 {
		t.Fatalf("%d requests after removing one file, want 9", hits.Load())
	}
}

func TestDownloadBadFiles(t *testing.T) {
	s, good := fakeSet(t, "fake")
	labels := "train-labels-idx1-ubyte.gz" // fetched first
	raw := idxBytes(t, &IDX{Type: IDXUint8, Dims: []int{3}, Data: []byte{2, 0, 2}})
	cases := []struct {
		name, want string
		body       []byte
	}{
		{"altered content", "checksum mismatch: SHA-256", gzipBytes(t, raw)},
		{"longer content", "checksum mismatch: decompresses to", gzipBytes(t, append(bytes.Clone(raw), 7))},
		{"truncated", "download interrupted or file corrupt", good[labels][:len(good[labels])-12]},
		{"not gzip", "not a gzip file", []byte("<html>captive portal</html>")},
	}
	for _, c := range cases {
		files := map[string][]byte{}
		for k, v := range good {
			files[k] = v
		}
		files[labels] = c.body
		srv, _ := serve(t, files)
		dir := t.TempDir()
		_, err := s.load(context.Background(), Options{Dir: dir, Mirrors: []string{srv.URL + "/"}})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "download fake") || !strings.Contains(err.Error(), "GLASSBOX_DATA") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if got := dirNames(t, dir); len(got) != 0 {
			t.Errorf("%s: folder holds %q after a failed download, want nothing", c.name, got)
		}
	}
}

// A server that promises more bytes than it sends (a dropped connection).
func TestDownloadDroppedConnection(t *testing.T) {
	s, files := fakeSet(t, "fake")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := files[strings.TrimPrefix(r.URL.Path, "/")]
		w.Header().Set("Content-Length", "100000")
		w.Write(b[:len(b)/2])
	}))
	defer srv.Close()
	dir := t.TempDir()
	_, err := s.load(context.Background(), Options{Dir: dir, Mirrors: []string{srv.URL + "/"}})
	if err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Fatalf("error %v, want an unexpected EOF", err)
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Fatalf("folder holds %q after a failed download", got)
	}
}

func TestDownloadOfflineAndNoNetwork(t *testing.T) {
	s, _ := fakeSet(t, "fake")
	dir := t.TempDir()
	_, err := s.load(context.Background(), Options{Dir: dir, Offline: true})
	if err == nil || !strings.Contains(err.Error(), "Options.Offline") || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "train-images-idx3-ubyte.gz") {
		t.Fatalf("offline: %v", err)
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/"
	srv.Close() // nothing listens there now: like no network
	_, err = s.load(context.Background(), Options{Dir: dir, Mirrors: []string{url}})
	if err == nil || !strings.Contains(err.Error(), "download fake") || !strings.Contains(err.Error(), "no network? set GLASSBOX_DATA to a folder with the files") {
		t.Fatalf("no network: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err = s.load(ctx, Options{Dir: dir, Mirrors: []string{url}}); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestLocalFilesVerified(t *testing.T) {
	s, files := fakeSet(t, "fake")
	dir := t.TempDir()
	// Uncompressed files are accepted: digests are of the decompressed bytes.
	for name, b := range files {
		x, err := ReadIDX(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, strings.TrimSuffix(name, ".gz")), idxBytes(t, x), 0o644)
	}
	if _, err := s.load(context.Background(), Options{Dir: dir, Offline: true}); err != nil {
		t.Fatalf("uncompressed files: %v", err)
	}
	// A file that is not the original is an error naming it.
	bad := filepath.Join(dir, "t10k-labels-idx1-ubyte")
	os.WriteFile(bad, idxBytes(t, &IDX{Type: IDXUint8, Dims: []int{2}, Data: []byte{1, 2}}), 0o644)
	_, err := s.load(context.Background(), Options{Dir: dir, Offline: true})
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "SHA-256") || !strings.Contains(err.Error(), "delete it") {
		t.Fatalf("altered file: %v", err)
	}
	os.WriteFile(bad, []byte{0, 0, 8, 1, 0, 0, 0, 2, 1}, 0o644)
	if _, err := s.load(context.Background(), Options{Dir: dir, Offline: true}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("truncated file: %v", err)
	}
}

func TestSearchOrderAndDownloadTarget(t *testing.T) {
	s, files := fakeSet(t, "fake")
	env, cacheHome := t.TempDir(), t.TempDir()
	t.Setenv("GLASSBOX_DATA", env)
	t.Setenv("XDG_CACHE_HOME", cacheHome)
	t.Setenv("HOME", cacheHome)
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	put := func(dir string) {
		os.MkdirAll(dir, 0o755)
		for n, b := range files {
			os.WriteFile(filepath.Join(dir, n), b, 0o644)
		}
	}
	sys := t.TempDir()
	s.systemDirs = []string{sys}
	put(sys)
	d, err := s.load(context.Background(), Options{Offline: true})
	if err != nil || d.Location != sys {
		t.Fatalf("system folder: %v, location %q", err, d.Location)
	}
	cacheDir := filepath.Join(cache, "glassbox", "fake")
	put(cacheDir)
	if d, err = s.load(context.Background(), Options{Offline: true}); err != nil || d.Location != cacheDir {
		t.Fatalf("cache before system folder: %v, location %q", err, d.Location)
	}
	envDir := filepath.Join(env, "fake")
	put(envDir)
	if d, err = s.load(context.Background(), Options{Offline: true}); err != nil || d.Location != envDir {
		t.Fatalf("GLASSBOX_DATA first: %v, location %q", err, d.Location)
	}
	// Downloads go to $GLASSBOX_DATA/<name> when set, else to the cache.
	srv, _ := serve(t, files)
	os.RemoveAll(envDir)
	os.RemoveAll(cacheDir)
	os.RemoveAll(sys)
	if d, err = s.load(context.Background(), Options{Mirrors: []string{srv.URL + "/"}}); err != nil || d.Location != envDir {
		t.Fatalf("download with GLASSBOX_DATA: %v, location %q", err, d.Location)
	}
	t.Setenv("GLASSBOX_DATA", "")
	if d, err = s.load(context.Background(), Options{Mirrors: []string{srv.URL + "/"}}); err != nil || d.Location != cacheDir {
		t.Fatalf("download without GLASSBOX_DATA: %v, location %q", err, d.Location)
	}
}

// The real MNIST files served by a local server: the hard-coded digests
// accept them, and the result has the known shape and values.
func TestDownloadRealMNIST(t *testing.T) {
	src := mnistDir(t)
	files := map[string][]byte{}
	for _, n := range mnistFileNames {
		b, err := os.ReadFile(filepath.Join(src, n+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		files["mnist/"+n+".gz"] = b
	}
	srv, _ := serve(t, files)
	dir := t.TempDir()
	d, err := Load(context.Background(), "MNIST", Options{Dir: dir, Mirrors: []string{srv.URL + "/mnist/"}})
	if err != nil {
		t.Fatal(err)
	}
	checkMNIST(t, d)
	if d.Name != "mnist" || d.Kind != KindImages || d.Location != dir {
		t.Fatalf("info %+v location %q", d.Info, d.Location)
	}
	srv.Close()
	if d, err = Load(context.Background(), "mnist", Options{Dir: dir}); err != nil {
		t.Fatalf("from the cache with the server gone: %v", err)
	}
	checkMNIST(t, d)
}

func checkMNIST(t *testing.T, d *Dataset) {
	t.Helper()
	for _, c := range []struct {
		im *Images
		n  int
	}{{d.Train, 60000}, {d.Test, 10000}} {
		if c.im.N != c.n || c.im.C != 1 || c.im.H != 28 || c.im.W != 28 || len(c.im.Classes) != 10 {
			t.Fatalf("shape %d×%d×%d×%d with %d classes, want %d×1×28×28, 10", c.im.N, c.im.C, c.im.H, c.im.W, len(c.im.Classes), c.n)
		}
		if err := c.im.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	if d.Train.Labels[0] != 5 || d.Test.Labels[0] != 7 {
		t.Fatalf("first labels %d, %d; want 5, 7", d.Train.Labels[0], d.Test.Labels[0])
	}
	if got := d.Train.Image(0)[14*28+14]; got != 240.0/255 {
		t.Fatalf("pixel (14,14) of the first image %v, want 240/255", got)
	}
}

// Fashion-MNIST offline: from the Debian package folder where it is
// installed, and otherwise an error that names that folder.
func TestFashionMNISTDebianFolder(t *testing.T) {
	t.Setenv("GLASSBOX_DATA", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	const deb = "/usr/share/datasets/fashion-mnist"
	d, err := Load(context.Background(), "fashion-mnist", Options{Offline: true})
	if find(deb, "train-images-idx3-ubyte") == "" {
		if err == nil || !strings.Contains(err.Error(), deb) {
			t.Fatalf("without the Debian package: error %v, want one naming %s", err, deb)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if d.Location != deb || d.Train.N != 60000 || d.Test.N != 10000 || d.Train.H != 28 {
		t.Fatalf("got location %q, %d/%d images", d.Location, d.Train.N, d.Test.N)
	}
	if d.Train.Classes[9] != "Ankle boot" || d.Train.Labels[0] != 9 {
		t.Fatalf("class names %v, first label %d (want 9, an ankle boot)", d.Train.Classes, d.Train.Labels[0])
	}
}
