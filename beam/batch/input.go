package batch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // local paths; the command links gs:// and s3:// too
	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/predictor"
)

// Row is one input to explain, as the reader hands it to the explainer:
// a table row, a document or an encoded image, with its id. A row the
// reader could not read carries Err and goes to the dead letters.
type Row struct {
	// ID names the row; the row's seed derives from it (explain.RowSeed).
	ID string
	// Source is the file it came from.
	Source string
	// Values is a table row in the data's own units.
	Values []float32
	// Text is a document for a text model (JSON Lines "text").
	Text string
	// Image is a PNG or JPEG file's bytes.
	Image []byte
	// Err says why the row could not be read ("" when it was).
	Err string
}

// Limits on what the reader holds in memory at once.
const (
	// MaxFileBytes bounds one CSV table, image or list file (the same
	// bound as `glassbox explain` puts on its input).
	MaxFileBytes = predictor.MaxInputBytes
	// MaxLineBytes bounds one JSON Lines record.
	MaxLineBytes = 16 << 20
)

// Ids, which `glassbox explain --id` takes to reproduce a row:
//   - CSV rows: NAME:ROW, NAME the file's base name and ROW the 0-based
//     data row (the --row of glassbox explain);
//   - JSON Lines: the record's "id", else NAME:LINE (0-based line);
//   - images of a folder: the path inside the folder (cat/01.png); images
//     matched by a glob: the base name; images of a .list file: the line
//     as written.

// readFn expands one input pattern (a file, a glob, a folder of images)
// into rows. It runs on the workers, so patterns are read through Beam's
// filesystems (local paths, and gs:// or s3:// where the binary links
// them).
type readFn struct{}

func (f *readFn) ProcessElement(ctx context.Context, pattern string, emit func(Row)) error {
	files, base, err := expand(ctx, pattern)
	if err != nil {
		emit(Row{ID: pattern, Source: pattern, Err: err.Error()})
		return nil
	}
	for _, file := range files {
		readFile(ctx, file, base, emit)
	}
	return nil
}

// expand lists the files of pattern, and the folder image ids are
// relative to ("" for a glob or a single file).
func expand(ctx context.Context, pattern string) ([]string, string, error) {
	fs, err := filesystem.New(ctx, pattern)
	if err != nil {
		return nil, "", fmt.Errorf("input %s: %v", pattern, err)
	}
	defer fs.Close()
	dir := strings.HasSuffix(pattern, "/")
	if st, err := os.Stat(pattern); err == nil && st.IsDir() {
		dir = true
	}
	if !dir {
		files, err := fs.List(ctx, pattern)
		switch {
		case err != nil:
			return nil, "", fmt.Errorf("input %s: %v", pattern, err)
		case len(files) == 0:
			return nil, "", fmt.Errorf("input %s: no file matches", pattern)
		}
		return files, "", nil
	}
	root := strings.TrimSuffix(pattern, "/")
	var files []string
	// An image folder holds images, or one sub-folder of images per class.
	for _, glob := range []string{root + "/*", root + "/*/*"} {
		found, err := fs.List(ctx, glob)
		if err != nil {
			return nil, "", fmt.Errorf("input %s: %v", pattern, err)
		}
		for _, f := range found {
			if isImage(f) {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		return nil, "", fmt.Errorf("input %s: the folder holds no .png or .jpg image", pattern)
	}
	return files, root, nil
}

func isImage(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// readFile emits the rows of one file, chosen by its extension.
func readFile(ctx context.Context, file, root string, emit func(Row)) {
	name := path.Base(file)
	bad := func(id string, err error) { emit(Row{ID: id, Source: file, Err: err.Error()}) }
	switch ext := strings.ToLower(path.Ext(file)); {
	case isImage(file):
		raw, err := readAll(ctx, file)
		if err != nil {
			bad(name, err)
			return
		}
		id := name
		if root != "" {
			id = strings.TrimPrefix(strings.TrimPrefix(file, root), "/")
		}
		emit(Row{ID: id, Source: file, Image: raw})
	case ext == ".csv":
		raw, err := readAll(ctx, file)
		if err != nil {
			bad(name, err)
			return
		}
		tab, err := datasets.ReadCSV(bytes.NewReader(raw), datasets.CSVOptions{NoTarget: true, NoAutoCategorical: true})
		if err != nil {
			bad(name, fmt.Errorf("%s: %v (the table is skipped; every feature needs a number)", file, err))
			return
		}
		for r := range tab.Rows {
			emit(Row{ID: name + ":" + strconv.Itoa(r), Source: file, Values: tab.X[r*tab.Cols : (r+1)*tab.Cols]})
		}
	case ext == ".jsonl" || ext == ".ndjson" || ext == ".json":
		if err := scanLines(ctx, file, func(n int, line []byte) {
			emit(jsonRow(file, name+":"+strconv.Itoa(n), line))
		}); err != nil {
			bad(name, err)
		}
	case ext == ".list" || ext == ".txt":
		dir := path.Dir(file)
		if err := scanLines(ctx, file, func(_ int, line []byte) {
			p := string(line)
			full := p
			if !path.IsAbs(p) && !strings.Contains(p, "://") {
				full = path.Join(dir, p)
			}
			raw, err := readAll(ctx, full)
			if err != nil {
				bad(p, err)
				return
			}
			emit(Row{ID: p, Source: full, Image: raw})
		}); err != nil {
			bad(name, err)
		}
	default:
		bad(name, fmt.Errorf("%s: unknown input type %q; give .csv, .jsonl, .png/.jpg, a folder of images or a .list of image files", file, ext))
	}
}

// jsonRecord is one JSON Lines input: {"id": "...", "values": [...]} for
// a table, {"id": "...", "text": "..."} for a text model.
type jsonRecord struct {
	ID     *string   `json:"id"`
	Values []float64 `json:"values"`
	Text   *string   `json:"text"`
}

func jsonRow(file, defaultID string, line []byte) Row {
	var rec jsonRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return Row{ID: defaultID, Source: file, Err: fmt.Sprintf("not a JSON object: %v", err)}
	}
	id := defaultID
	if rec.ID != nil {
		id = *rec.ID
	}
	switch {
	case rec.Text != nil:
		return Row{ID: id, Source: file, Text: *rec.Text}
	case rec.Values == nil:
		return Row{ID: id, Source: file, Err: `the record has neither "values" (a table row) nor "text" (a document)`}
	}
	x := make([]float32, len(rec.Values))
	for i, v := range rec.Values {
		x[i] = float32(v)
		if math.IsInf(float64(x[i]), 0) || math.IsNaN(v) {
			return Row{ID: id, Source: file, Err: fmt.Sprintf("value %d: %g is not a finite float32", i, v)}
		}
	}
	return Row{ID: id, Source: file, Values: x}
}

// scanLines calls line for every non-blank line of file with its 0-based
// line number; a line over MaxLineBytes is an error.
func scanLines(ctx context.Context, file string, line func(n int, b []byte)) error {
	rc, err := open(ctx, file)
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	for n := 0; sc.Scan(); n++ {
		if b := bytes.TrimSpace(sc.Bytes()); len(b) > 0 {
			line(n, b)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %v (lines are limited to %d bytes)", file, err, MaxLineBytes)
	}
	return nil
}

func open(ctx context.Context, file string) (io.ReadCloser, error) {
	fs, err := filesystem.New(ctx, file)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	rc, err := fs.OpenRead(ctx, file)
	if err != nil {
		fs.Close()
		return nil, err
	}
	return closeBoth{rc, fs}, nil
}

type closeBoth struct {
	io.ReadCloser
	fs filesystem.Interface
}

func (c closeBoth) Close() error {
	err := c.ReadCloser.Close()
	c.fs.Close()
	return err
}

// readAll reads a whole file of at most MaxFileBytes.
func readAll(ctx context.Context, file string) ([]byte, error) {
	rc, err := open(ctx, file)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if len(raw) > MaxFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes; split it", file, MaxFileBytes)
	}
	return raw, nil
}
