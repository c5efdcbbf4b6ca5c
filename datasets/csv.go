package datasets

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Header says whether the first CSV row holds column names.
type Header int

const (
	// HeaderAuto treats the first row as a header when none of its fields
	// is a number and it does not look like data (some column below it is
	// numeric, or none of its values repeats in its column).
	HeaderAuto Header = iota
	// HeaderYes: the first row holds column names.
	HeaderYes
	// HeaderNo: every row is data; columns are named col0, col1, ...
	HeaderNo
)

// Task says what kind of target a table has.
type Task int

const (
	// TaskAuto: a target with non-numeric values is a class; a numeric one
	// is a class when all its values are integers and there are at most 20
	// distinct values, else a regression target.
	TaskAuto Task = iota
	// TaskClassification: the target is a class label (numeric or not).
	TaskClassification
	// TaskRegression: the target is a number.
	TaskRegression
)

// MissingPolicy says what to do with missing feature values.
type MissingPolicy int

const (
	// MissingError: a missing value is an error naming its line and column.
	MissingError MissingPolicy = iota
	// MissingImpute fills a missing numeric value with its column's mean
	// and a missing categorical value with its column's most frequent
	// category (the lowest code on a tie). Missing targets are always an
	// error.
	MissingImpute
)

// CSVOptions configures [ReadCSV]. The zero value reads a comma-separated
// file, detects a header, takes the last column as the target, detects
// categorical columns and reports missing values as errors.
type CSVOptions struct {
	Header Header
	// Target is the target column: a header name, or a 0-based index
	// ("0", "3"; negative counts from the end, "-1" is the last column).
	// Empty means the last column.
	Target string
	// NoTarget reads every column as a feature (for example the inputs of
	// a prediction); Target and Task are then ignored.
	NoTarget bool
	Task     Task
	// Categorical lists columns (names or 0-based indices) to read as
	// categories even if their values are numbers.
	Categorical []string
	// NoAutoCategorical makes a non-numeric value in an undeclared column
	// an error instead of turning the column into categories.
	NoAutoCategorical bool
	// Comma is the field separator (default ',').
	Comma rune
	// Missing says what to do with missing feature values.
	Missing MissingPolicy
	// MissingValues are the field values that mean "missing"; an empty
	// field always does. Nil means "", "NA", "N/A", "NaN" and "?" (the
	// letters in any case).
	MissingValues []string
}

var defaultMissing = []string{"na", "n/a", "nan", "?"}

// maxAutoClasses is the most distinct integer values a numeric target may
// have for TaskAuto to call it a class.
const maxAutoClasses = 20

// ReadCSV reads a table from CSV text. It handles quoted fields (with
// commas, quotes and newlines inside), a UTF-8 byte-order mark, CRLF line
// ends and empty lines. Numeric columns are parsed as float32; columns with
// non-numeric values (or declared in opts.Categorical) become categorical:
// their distinct values are sorted (numerically if they are all numbers)
// and stored as codes 0, 1, ... with the names kept in Table.Categorical.
// A string target becomes class codes with names in Table.Classes.
//
// Errors name the line (1-based, counting the header) and column: a row
// with the wrong number of fields, a missing value (unless opts.Missing is
// MissingImpute), a stray non-number in a mostly numeric column.
func ReadCSV(r io.Reader, opts CSVOptions) (*Table, error) {
	comma := opts.Comma
	if comma == 0 {
		comma = ','
	}
	if comma == '"' || comma == '\r' || comma == '\n' || comma == utf8.RuneError || !utf8.ValidRune(comma) {
		return nil, fmt.Errorf("csv: %q cannot separate fields; use ',', ';', '\\t' or similar", comma)
	}
	isMissing := missingFunc(opts.MissingValues)

	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); len(bom) == 3 && bom[0] == 0xEF && bom[1] == 0xBB && bom[2] == 0xBF {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	var recs [][]string
	var lines []int
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("csv: line %d, column %d: %v (check the quotes on that line)", pe.Line, pe.Column, pe.Err)
			}
			return nil, fmt.Errorf("csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if len(rec) == 1 && rec[0] == "" {
			continue // a blank line (maybe spaces only)
		}
		recs = append(recs, rec)
		lines = append(lines, line)
	}
	if len(recs) == 0 {
		return nil, errors.New("csv: no rows")
	}
	ncols := len(recs[0])
	for i, rec := range recs {
		if len(rec) != ncols {
			return nil, fmt.Errorf("csv: line %d has %d fields, line %d has %d; every row needs the same number of fields (is a field with %q missing its quotes?)", lines[i], len(rec), lines[0], ncols, comma)
		}
	}

	header := opts.Header == HeaderYes || (opts.Header == HeaderAuto && looksLikeHeader(recs, isMissing))
	names := make([]string, ncols)
	for j := range names {
		names[j] = "col" + strconv.Itoa(j)
	}
	if header {
		seen := map[string]int{}
		for j, n := range recs[0] {
			if n == "" {
				continue
			}
			if k, dup := seen[n]; dup {
				return nil, fmt.Errorf("csv: header names column %q twice (columns %d and %d); rename one", n, k, j)
			}
			seen[n] = j
			names[j] = n
		}
		recs, lines = recs[1:], lines[1:]
	}
	if len(recs) == 0 {
		return nil, errors.New("csv: no data rows after the header")
	}

	target := -1
	if !opts.NoTarget {
		var err error
		if target, err = resolveColumn(opts.Target, names, true); err != nil {
			return nil, fmt.Errorf("csv: target: %w", err)
		}
	}
	if target >= 0 && ncols < 2 {
		return nil, fmt.Errorf("csv: only one column (%q, the target); a table needs at least one feature column besides the target (or set NoTarget)", names[target])
	}
	declared := make([]bool, ncols)
	for _, c := range opts.Categorical {
		j, err := resolveColumn(c, names, false)
		if err != nil {
			return nil, fmt.Errorf("csv: categorical: %w", err)
		}
		declared[j] = true
	}
	if target >= 0 && opts.Task == TaskClassification {
		declared[target] = true
	}

	// Classify every column and parse numbers.
	nrows := len(recs)
	num := make([]float32, nrows*ncols) // parsed numbers (NaN where missing or non-numeric)
	isCat := make([]bool, ncols)
	for j := range ncols {
		numeric, other, firstOther := 0, 0, -1
		for i, rec := range recs {
			s := rec[j]
			v := float32(math.NaN())
			if !isMissing(s) {
				if f, ok := parseNumber(s); ok {
					v = f
					numeric++
				} else {
					other++
					if firstOther < 0 {
						firstOther = i
					}
				}
			}
			num[i*ncols+j] = v
		}
		switch {
		case declared[j]:
			isCat[j] = true
		case other == 0:
		case j == target && opts.Task == TaskRegression:
			return nil, fmt.Errorf("csv: target column %q has the non-number %q at line %d, but Task is TaskRegression; fix the value or use TaskClassification", names[j], recs[firstOther][j], lines[firstOther])
		case numeric > other:
			return nil, &ValueError{Line: lines[firstOther], Column: names[j], Value: recs[firstOther][j], Missing: false,
				hint: "fix the value, mark it missing, or declare the column in CSVOptions.Categorical", detail: "is numeric except"}
		case opts.NoAutoCategorical && j != target:
			return nil, &ValueError{Line: lines[firstOther], Column: names[j], Value: recs[firstOther][j],
				hint: "declare the column in CSVOptions.Categorical or fix the value", detail: "has the non-number"}
		default:
			isCat[j] = true
		}
	}
	if target >= 0 && !isCat[target] && opts.Task == TaskAuto && integerClasses(num, nrows, ncols, target) {
		isCat[target] = true
	}

	// Categories: keyed by the number's canonical form when every value is
	// a number, else by the string.
	cats := make([][]string, ncols)
	codes := make([]map[string]int, ncols)
	for j := range ncols {
		if !isCat[j] {
			continue
		}
		allNum := true
		for i := range nrows {
			if !isMissing(recs[i][j]) && math.IsNaN(float64(num[i*ncols+j])) {
				allNum = false
				break
			}
		}
		key := func(i int) string {
			if allNum {
				return strconv.FormatFloat(float64(num[i*ncols+j]), 'g', -1, 32)
			}
			return recs[i][j]
		}
		set := map[string]float32{}
		for i := range nrows {
			if !isMissing(recs[i][j]) {
				set[key(i)] = num[i*ncols+j]
			}
		}
		catNames := make([]string, 0, len(set))
		for k := range set {
			catNames = append(catNames, k)
		}
		slices.SortFunc(catNames, func(a, b string) int {
			if allNum && set[a] != set[b] {
				if set[a] < set[b] {
					return -1
				}
				return 1
			}
			return strings.Compare(a, b)
		})
		cats[j] = catNames
		codes[j] = make(map[string]int, len(catNames))
		for c, n := range catNames {
			codes[j][n] = c
		}
		for i := range nrows {
			if !isMissing(recs[i][j]) {
				num[i*ncols+j] = float32(codes[j][key(i)])
			}
		}
	}

	// Missing values.
	for i := range nrows {
		for j := range ncols {
			if !isMissing(recs[i][j]) {
				continue
			}
			if j == target {
				return nil, fmt.Errorf("csv: missing target (%q) at line %d, column %q; fill it in or remove the row", recs[i][j], lines[i], names[j])
			}
			if opts.Missing != MissingImpute {
				return nil, &ValueError{Line: lines[i], Column: names[j], Value: recs[i][j], Missing: true,
					hint: "fill it in, or set CSVOptions.Missing to datasets.MissingImpute to use the column mean (most frequent category for categorical columns)"}
			}
		}
	}
	if opts.Missing == MissingImpute {
		for j := range ncols {
			if err := impute(num, recs, nrows, ncols, j, isCat[j], len(cats[j]), isMissing); err != nil {
				return nil, fmt.Errorf("csv: column %q: %w", names[j], err)
			}
		}
	}

	t := &Table{Rows: nrows}
	var featCols []int
	for j := range ncols {
		if j != target {
			featCols = append(featCols, j)
		}
	}
	t.Cols = len(featCols)
	t.X = make([]float32, nrows*t.Cols)
	for k, j := range featCols {
		t.Features = append(t.Features, names[j])
		if isCat[j] {
			if t.Categorical == nil {
				t.Categorical = map[int][]string{}
			}
			t.Categorical[k] = cats[j]
		}
		for i := range nrows {
			t.X[i*t.Cols+k] = num[i*ncols+j]
		}
	}
	if target >= 0 {
		t.Target = names[target]
		t.Y = make([]float32, nrows)
		for i := range nrows {
			t.Y[i] = num[i*ncols+target]
		}
		if isCat[target] {
			t.Classes = cats[target]
		}
	}
	return t, nil
}

// ReadCSVFile reads a CSV file (gzip-compressed or not: detected) with
// [ReadCSV]; errors name the file.
func ReadCSVFile(path string, opts CSVOptions) (*Table, error) {
	var t *Table
	err := withFile(path, func(r io.Reader) (err error) {
		t, err = ReadCSV(r, opts)
		return err
	})
	return t, err
}

// looksLikeHeader decides HeaderAuto.
func looksLikeHeader(recs [][]string, isMissing func(string) bool) bool {
	first := recs[0]
	for _, f := range first {
		if isMissing(f) {
			return false
		}
		if _, ok := parseNumber(f); ok {
			return false
		}
	}
	if len(recs) == 1 {
		return true
	}
	end := min(len(recs), 101)
	for j := range first {
		for _, rec := range recs[1:end] {
			if _, ok := parseNumber(rec[j]); ok {
				return true
			}
		}
	}
	for j := range first {
		for _, rec := range recs[1:end] {
			if rec[j] == first[j] {
				return false
			}
		}
	}
	return true
}

// resolveColumn finds a column by name or 0-based index.
func resolveColumn(s string, names []string, emptyIsLast bool) (int, error) {
	if s == "" && emptyIsLast {
		return len(names) - 1, nil
	}
	if j := slices.Index(names, s); j >= 0 {
		return j, nil
	}
	if k, err := strconv.Atoi(s); err == nil {
		if k < 0 {
			k += len(names)
		}
		if k >= 0 && k < len(names) {
			return k, nil
		}
		return 0, fmt.Errorf("column index %s out of range for %d columns (0-based; -1 is the last)", s, len(names))
	}
	return 0, fmt.Errorf("no column %q; columns are %q (or give a 0-based index)", s, names)
}

// parseNumber parses a finite float32.
func parseNumber(s string) (float32, bool) {
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 32)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return float32(f), true
}

func missingFunc(values []string) func(string) bool {
	if values == nil {
		return func(s string) bool {
			if s == "" {
				return true
			}
			if len(s) > 3 {
				return false
			}
			return slices.Contains(defaultMissing, strings.ToLower(s))
		}
	}
	return func(s string) bool { return s == "" || slices.Contains(values, s) }
}

// integerClasses reports whether a numeric column holds integers with at
// most maxAutoClasses distinct values.
func integerClasses(num []float32, nrows, ncols, j int) bool {
	seen := map[float32]bool{}
	for i := range nrows {
		v := num[i*ncols+j]
		if math.IsNaN(float64(v)) {
			continue
		}
		if v != float32(math.Trunc(float64(v))) {
			return false
		}
		seen[v] = true
		if len(seen) > maxAutoClasses {
			return false
		}
	}
	return len(seen) > 0
}

// impute fills the missing values of column j.
func impute(num []float32, recs [][]string, nrows, ncols, j int, cat bool, ncat int, isMissing func(string) bool) error {
	var fill float32
	found := false
	if cat {
		counts := make([]int, ncat)
		for i := range nrows {
			if !isMissing(recs[i][j]) {
				counts[int(num[i*ncols+j])]++
				found = true
			}
		}
		best := 0
		for c, n := range counts {
			if n > counts[best] {
				best = c
			}
		}
		fill = float32(best)
	} else {
		var sum float64
		n := 0
		for i := range nrows {
			if !isMissing(recs[i][j]) {
				sum += float64(num[i*ncols+j])
				n++
			}
		}
		found = n > 0
		if found {
			fill = float32(sum / float64(n))
		}
	}
	for i := range nrows {
		if isMissing(recs[i][j]) {
			if !found {
				return errors.New("every value is missing; nothing to impute from (drop the column)")
			}
			num[i*ncols+j] = fill
		}
	}
	return nil
}

// ValueError is a feature value ReadCSV cannot use: a non-number in a
// column read as numbers, or (Missing) a missing value without
// MissingImpute. Front ends that do not expose CSVOptions read its fields
// to give their own advice; its Error text advises a library user.
type ValueError struct {
	Line    int
	Column  string
	Value   string
	Missing bool
	hint    string
	detail  string
}

func (e *ValueError) Error() string {
	if e.Missing {
		return fmt.Sprintf("csv: missing value (%q) at line %d, column %q; %s", e.Value, e.Line, e.Column, e.hint)
	}
	return fmt.Sprintf("csv: column %q %s %q at line %d; %s", e.Column, e.detail, e.Value, e.Line, e.hint)
}
