package onnx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/glassbox-ml/glassbox/internal/atomicfile"
)

// ReadFile reads an ONNX model file. Tensors whose data_location is
// EXTERNAL are read from files in the model's folder (or opt.Dir, when
// set): only from files inside it, never through an absolute path, a ".."
// or a symbolic link leading out of it.
func ReadFile(path string, opt ReadOptions) (*Model, error) {
	lim := opt.Limits.withDefaults()
	b, err := readLimited(path, lim.MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	if opt.Dir == "" {
		opt.Dir = filepath.Dir(path)
	}
	d := newDecoder(opt)
	defer d.close()
	m, err := d.model(b)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	return m, nil
}

// readLimited reads the file at path, failing before it reads when the
// file is larger than max bytes.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, fmt.Errorf("%s is a folder, not an ONNX file", path)
	}
	if info.Mode().IsRegular() && info.Size() > max {
		return nil, fmt.Errorf("%s: %w", path, limitError("the file's size", info.Size(), "MaxFileBytes", max))
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w", path, limitError("the file's size", "more than "+fmt.Sprint(max), "MaxFileBytes", max))
	}
	return b, nil
}

// WriteFile writes m to path as an ONNX file, atomically: the file is
// replaced whole or, on any error, left as it was.
func WriteFile(path string, m *Model) error {
	b, err := m.Encode()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(path, b); err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	return nil
}

// externalFiles are the external data files of one read, each opened
// once, all through one os.Root so that no path leaves the folder.
type externalFiles struct {
	root  *os.Root
	files map[string]*os.File
}

func (e *externalFiles) close() {
	for _, f := range e.files {
		f.Close()
	}
	if e.root != nil {
		e.root.Close()
	}
}

// externalPath checks an external data location: a relative path, with
// "/" separators, naming a file below the model's folder.
func externalPath(loc string) (string, error) {
	if loc == "" {
		return "", errors.New("external_data has no location")
	}
	bad := func(why string) error {
		return fmt.Errorf("external data location %q %s; glassbox reads external data only from files inside the model's folder", loc, why)
	}
	if strings.ContainsRune(loc, 0) {
		return "", bad("contains a NUL byte")
	}
	p := filepath.FromSlash(loc)
	if filepath.IsAbs(p) || strings.HasPrefix(loc, "/") || filepath.VolumeName(p) != "" {
		return "", bad("is an absolute path")
	}
	if slices.Contains(strings.FieldsFunc(loc, func(r rune) bool { return r == '/' || r == '\\' }), "..") {
		return "", bad("contains ..")
	}
	if !filepath.IsLocal(p) {
		return "", bad("is not a local path")
	}
	return p, nil
}

// open opens the external file at the checked path p below dir.
func (e *externalFiles) open(dir, p string) (*os.File, int64, error) {
	if e.root == nil {
		root, err := os.OpenRoot(dir)
		if err != nil {
			return nil, 0, fmt.Errorf("opening the folder of external data: %w", err)
		}
		e.root, e.files = root, map[string]*os.File{}
	}
	f, ok := e.files[p]
	if !ok {
		// Stat first: opening a FIFO or device would block or never end.
		info, err := e.root.Stat(p)
		if err != nil {
			return nil, 0, fmt.Errorf("external data: %w", err)
		}
		if !info.Mode().IsRegular() {
			return nil, 0, fmt.Errorf("external data %s in %s is not a regular file", p, dir)
		}
		if f, err = e.root.Open(p); err != nil {
			return nil, 0, fmt.Errorf("external data: %w", err)
		}
		e.files[p] = f
	}
	info, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("external data: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("external data %s in %s is not a regular file", p, dir)
	}
	return f, info.Size(), nil
}

// external reads the n elements (size bytes each) of t from the external
// data file that keys (external_data: location, offset, length) name.
// Offset and length are checked against the file's size and the tensor's
// dims before the payload is allocated.
func (d *decoder) external(t *Tensor, keys map[string]string, n, size int64) error {
	loc := keys["location"]
	if d.dir == "" {
		return fmt.Errorf("the tensor's data is in the external file %q, and Decode has no folder to read it from: use ReadFile, or set ReadOptions.Dir to the model's folder", loc)
	}
	p, err := externalPath(loc)
	if err != nil {
		return err
	}
	num := func(key string) (int64, bool, error) {
		s, ok := keys[key]
		if !ok {
			return 0, false, nil
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			return 0, false, fmt.Errorf("external data %q: %s %q is not a non-negative integer", loc, key, s)
		}
		return v, true, nil
	}
	offset, _, err := num("offset")
	if err != nil {
		return err
	}
	length, hasLength, err := num("length")
	if err != nil {
		return err
	}
	if d.ext == nil {
		d.ext = &externalFiles{}
	}
	f, fileSize, err := d.ext.open(d.dir, p)
	if err != nil {
		return err
	}
	if offset > fileSize {
		return fmt.Errorf("external data %q: offset %d is past the end of the file (%d bytes)", loc, offset, fileSize)
	}
	if !hasLength {
		length = fileSize - offset
	}
	want := n * size
	if length != want {
		return fmt.Errorf("external data %q: length %d, but dims %v of %v need %d bytes", loc, length, fmtDims(t.Dims), t.DataType, want)
	}
	if length > fileSize-offset {
		return fmt.Errorf("external data %q: offset %d + length %d is past the end of the file (%d bytes)", loc, offset, length, fileSize)
	}
	allocPayload(t, n)
	buf := make([]byte, min(length, (1<<20)/size*size))
	for done := int64(0); done < length; {
		c := min(int64(len(buf)), length-done)
		if _, err := f.ReadAt(buf[:c], offset+done); err != nil {
			return fmt.Errorf("reading external data %q: %w", loc, err)
		}
		i, j := done/size, (done+c)/size
		if isFloat(t.DataType) {
			decodeRawFloats(t.DataType, buf[:c], t.Floats[i:j])
		} else {
			decodeRawInts(t.DataType, buf[:c], t.Ints[i:j])
		}
		done += c
	}
	return nil
}
