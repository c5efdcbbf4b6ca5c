package datasets

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func mustCSV(t *testing.T, in string, opts CSVOptions) *Table {
	t.Helper()
	tb, err := ReadCSV(strings.NewReader(in), opts)
	if err != nil {
		t.Fatalf("ReadCSV: %v", err)
	}
	if err := tb.Validate(); err != nil {
		t.Fatalf("result does not validate: %v", err)
	}
	return tb
}

func wantCSVError(t *testing.T, in string, opts CSVOptions, parts ...string) {
	t.Helper()
	_, err := ReadCSV(strings.NewReader(in), opts)
	if err == nil {
		t.Fatalf("ReadCSV(%q) accepted, want an error containing %q", in, parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}

func TestReadCSVBasicNumeric(t *testing.T) {
	tb := mustCSV(t, "a,b,y\n1,2,0.5\n3,4.5,-1\n", CSVOptions{})
	if !slices.Equal(tb.Features, []string{"a", "b"}) || tb.Target != "y" || tb.Rows != 2 || tb.Cols != 2 {
		t.Fatalf("got features %v target %q shape %dx%d", tb.Features, tb.Target, tb.Rows, tb.Cols)
	}
	if !slices.Equal(tb.X, []float32{1, 2, 3, 4.5}) || !slices.Equal(tb.Y, []float32{0.5, -1}) {
		t.Fatalf("X %v Y %v", tb.X, tb.Y)
	}
	if tb.IsClassification() || tb.Labels() != nil || tb.Categorical != nil {
		t.Fatalf("a fractional target is regression; got classes %v", tb.Classes)
	}
	if !slices.Equal(tb.Row(1), []float32{3, 4.5}) {
		t.Fatalf("Row(1) = %v", tb.Row(1))
	}
}

func TestReadCSVQuotesBOMCRLFBlankLines(t *testing.T) {
	in := "\uFEFF\"name, full\",\"x\"\r\n\r\n\"a \"\"quoted\"\", b\",1\r\n   \r\n\"multi\nline\",2\r\n\n"
	tb := mustCSV(t, in, CSVOptions{Target: "x", Task: TaskRegression})
	if !slices.Equal(tb.Features, []string{"name, full"}) {
		t.Fatalf("features %q: BOM or quotes mishandled", tb.Features)
	}
	if got := tb.Categorical[0]; !slices.Equal(got, []string{"a \"quoted\", b", "multi\nline"}) {
		t.Fatalf("categories %q", got)
	}
	if tb.Rows != 2 || !slices.Equal(tb.Y, []float32{1, 2}) || !slices.Equal(tb.X, []float32{0, 1}) {
		t.Fatalf("rows %d X %v Y %v", tb.Rows, tb.X, tb.Y)
	}
}

func TestReadCSVHeaderDetection(t *testing.T) {
	cases := []struct {
		in     string
		header bool
	}{
		{"a,b\n1,2\n3,4\n", true},
		{"1,2\n3,4\n", false},
		{"x,1\ny,2\n", false},                       // a number in the first row: data
		{"color,size\nred,big\nblue,small\n", true}, // nothing repeats: header
		{"red,big\nblue,small\nred,big\n", false},   // first row repeats below: data
	}
	for _, c := range cases {
		tb := mustCSV(t, c.in, CSVOptions{NoTarget: true})
		if got := tb.Features[0] != "col0"; got != c.header {
			t.Errorf("%q: header detected %v, want %v (features %v)", c.in, got, c.header, tb.Features)
		}
		wantRows := strings.Count(c.in, "\n")
		if c.header {
			wantRows--
		}
		if tb.Rows != wantRows {
			t.Errorf("%q: %d rows, want %d", c.in, tb.Rows, wantRows)
		}
	}
	tb := mustCSV(t, "a,b\n1,2\n", CSVOptions{Header: HeaderNo, NoTarget: true, Categorical: []string{"0", "1"}})
	if tb.Rows != 2 || !slices.Equal(tb.Features, []string{"col0", "col1"}) {
		t.Fatalf("HeaderNo: rows %d features %v", tb.Rows, tb.Features)
	}
	tb = mustCSV(t, "1,2\n3,4\n", CSVOptions{Header: HeaderYes})
	if tb.Rows != 1 || tb.Features[0] != "1" || tb.Target != "2" {
		t.Fatalf("HeaderYes: rows %d features %v target %q", tb.Rows, tb.Features, tb.Target)
	}
}

func TestReadCSVTargetSelection(t *testing.T) {
	in := "a,b,c\n1,2,3\n4,5,6\n"
	for _, c := range []struct {
		target string
		want   string
		y      []float32
	}{
		{"", "c", []float32{3, 6}}, {"a", "a", []float32{1, 4}}, {"1", "b", []float32{2, 5}},
		{"-1", "c", []float32{3, 6}}, {"-3", "a", []float32{1, 4}},
	} {
		tb := mustCSV(t, in, CSVOptions{Target: c.target, Task: TaskRegression})
		if tb.Target != c.want || !slices.Equal(tb.Y, c.y) || tb.Cols != 2 || slices.Contains(tb.Features, c.want) {
			t.Errorf("target %q: got %q Y %v features %v", c.target, tb.Target, tb.Y, tb.Features)
		}
	}
	wantCSVError(t, in, CSVOptions{Target: "zz"}, `no column "zz"`, `"a" "b" "c"`)
	wantCSVError(t, in, CSVOptions{Target: "3"}, "out of range", "3 columns")
	wantCSVError(t, "y\n1\n2\n", CSVOptions{}, "at least one feature")
	tb := mustCSV(t, in, CSVOptions{NoTarget: true})
	if tb.Y != nil || tb.Cols != 3 || tb.Target != "" {
		t.Fatalf("NoTarget: Y %v cols %d target %q", tb.Y, tb.Cols, tb.Target)
	}
}

func TestReadCSVClassesAndCategorical(t *testing.T) {
	in := "size,colour,weight,kind\n10,red,1.5,cat\n2,blue,2,dog\n10,green,3,cat\n3,red,4,bird\n"
	tb := mustCSV(t, in, CSVOptions{Categorical: []string{"size"}})
	if !slices.Equal(tb.Classes, []string{"bird", "cat", "dog"}) || !slices.Equal(tb.Labels(), []int{1, 2, 1, 0}) {
		t.Fatalf("classes %v labels %v", tb.Classes, tb.Labels())
	}
	// "size" is declared: numeric categories sorted by value (2 < 3 < 10), not as strings.
	if got := tb.Categorical[0]; !slices.Equal(got, []string{"2", "3", "10"}) {
		t.Fatalf("size categories %v", got)
	}
	if got := tb.Categorical[1]; !slices.Equal(got, []string{"blue", "green", "red"}) {
		t.Fatalf("colour categories %v", got)
	}
	if _, ok := tb.Categorical[2]; ok {
		t.Fatal("weight is numeric, not categorical")
	}
	want := []float32{2, 2, 1.5, 0, 0, 2, 2, 1, 3, 1, 2, 4}
	if !slices.Equal(tb.X, want) {
		t.Fatalf("X %v, want %v", tb.X, want)
	}
	// Numeric targets: few integers are classes (ordered numerically), many or fractional are regression.
	tb = mustCSV(t, "x,y\n1,10\n2,9\n3,10\n", CSVOptions{})
	if !slices.Equal(tb.Classes, []string{"9", "10"}) || !slices.Equal(tb.Y, []float32{1, 0, 1}) {
		t.Fatalf("integer target: classes %v Y %v", tb.Classes, tb.Y)
	}
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := range 30 {
		fmt.Fprintf(&b, "%d,%d\n", i, i*7)
	}
	if tb = mustCSV(t, b.String(), CSVOptions{}); tb.IsClassification() {
		t.Fatal("30 distinct integers should be a regression target under TaskAuto")
	}
	if tb = mustCSV(t, b.String(), CSVOptions{Task: TaskClassification}); len(tb.Classes) != 30 {
		t.Fatalf("TaskClassification: %d classes, want 30", len(tb.Classes))
	}
	if tb = mustCSV(t, "x,y\n1,0\n2,1\n", CSVOptions{Task: TaskRegression}); tb.IsClassification() {
		t.Fatal("TaskRegression gave classes")
	}
	wantCSVError(t, "x,y\n1,a\n2,b\n", CSVOptions{Task: TaskRegression}, `"y"`, `"a"`, "line 2", "TaskClassification")
}

func TestReadCSVBadValues(t *testing.T) {
	wantCSVError(t, "a,b\n1,2\n3\n4,5\n", CSVOptions{}, "line 3 has 1 fields")
	wantCSVError(t, "a,b\n1,2\n3,4,5\n", CSVOptions{}, "line 3 has 3 fields")
	wantCSVError(t, "a,b\n1,2\n\"3,4\n", CSVOptions{}, "line 3", "quote")
	wantCSVError(t, "a,b\n1,2\n3,2\n4,x5\n6,1\n", CSVOptions{}, `column "b" is numeric except "x5" at line 4`)
	wantCSVError(t, "a,b\nx,1\ny,2\n", CSVOptions{NoAutoCategorical: true}, `"a"`, `"x"`, "line 2", "Categorical")
	wantCSVError(t, "a,b\n1,2\n", CSVOptions{Categorical: []string{"nope"}}, "categorical", `"nope"`)
	wantCSVError(t, "a,a\n1,2\n", CSVOptions{}, `names column "a" twice`)
	wantCSVError(t, "", CSVOptions{}, "no rows")
	wantCSVError(t, "a,b\n", CSVOptions{Header: HeaderYes}, "no data rows")
	wantCSVError(t, "a,b\n1,2\n", CSVOptions{Comma: '"'}, "cannot separate")
	// Infinity and out-of-float32-range numbers are not numbers.
	wantCSVError(t, "a,b\n1,2\n2,3\n1e300,4\n", CSVOptions{}, `"1e300" at line 4`)
	wantCSVError(t, "a,b\n1,2\n2,3\ninf,4\n", CSVOptions{}, `"inf" at line 4`)
}

func TestReadCSVMissingValues(t *testing.T) {
	in := "a,b,c,y\n1,red,?,0\nNA,blue,5,1\n3,,7,0\n5,red,n/a,1\n"
	wantCSVError(t, in, CSVOptions{}, `missing value ("?") at line 2, column "c"`, "MissingImpute")
	tb := mustCSV(t, in, CSVOptions{Missing: MissingImpute})
	// a: mean of 1, 3, 5 = 3; b: mode red (code 1); c: mean of 5, 7 = 6.
	want := []float32{1, 1, 6, 3, 0, 5, 3, 1, 7, 5, 1, 6}
	if !slices.Equal(tb.X, want) {
		t.Fatalf("imputed X %v, want %v", tb.X, want)
	}
	if !slices.Equal(tb.Categorical[1], []string{"blue", "red"}) {
		t.Fatalf("categories %v", tb.Categorical[1])
	}
	wantCSVError(t, "a,y\n1,0\n2,\n", CSVOptions{Missing: MissingImpute}, "missing target", "line 3")
	wantCSVError(t, "a,b,y\n?,1,0\nNA,2,1\n", CSVOptions{Missing: MissingImpute}, `column "a"`, "every value is missing")
	// Custom missing markers replace the defaults ("NA" becomes a category).
	tb = mustCSV(t, "a,b\nNA,1\n-,2\nx,3\n", CSVOptions{MissingValues: []string{"-"}, Missing: MissingImpute, Task: TaskRegression})
	if !slices.Equal(tb.Categorical[0], []string{"NA", "x"}) || !slices.Equal(tb.X, []float32{0, 0, 1}) {
		t.Fatalf("custom missing: categories %v X %v", tb.Categorical[0], tb.X)
	}
}

func TestReadCSVSemicolonAndTabs(t *testing.T) {
	tb := mustCSV(t, "a;b\n1,5;2\n", CSVOptions{Comma: ';', Categorical: []string{"a"}, Header: HeaderYes, Task: TaskRegression})
	if tb.Categorical[0][0] != "1,5" || tb.Y[0] != 2 {
		t.Fatalf("semicolon: %v %v", tb.Categorical, tb.Y)
	}
	tb = mustCSV(t, "a\tb\n 1 \t 2 \n", CSVOptions{Comma: '\t', Task: TaskRegression})
	if tb.X[0] != 1 || tb.Y[0] != 2 {
		t.Fatalf("tab with spaces: X %v Y %v", tb.X, tb.Y)
	}
}
