package explain

import (
	"context"
	"fmt"
	"math"

	"github.com/glassbox-ml/glassbox/explain/segment"
)

// The perturbation family (feature ablation, feature permutation, Shapley
// value sampling) explains "players": groups of input values switched
// between the input's own values and a reference's. A table's players are
// its columns (or groups of them); an image's are its superpixels, hidden
// the way image LIME hides them.

// players are the interpretable features a perturbation method switches.
type players struct {
	// groups[g] lists the flat input indices player g covers (every
	// channel of a superpixel's pixels).
	groups [][]int
	names  []string
	// seg is the segmentation of an image's players (nil for tables).
	seg *segment.Segmentation
}

// columnPlayers makes one player per column of a d-column table, or one
// per group when groups is not nil (every column in exactly one group).
func columnPlayers(d int, names []string, groups [][]int) (players, error) {
	colName := func(j int) string {
		if j < len(names) {
			return names[j]
		}
		return fmt.Sprintf("x%d", j)
	}
	if groups == nil {
		p := players{groups: make([][]int, d), names: make([]string, d)}
		for j := range d {
			p.groups[j], p.names[j] = []int{j}, colName(j)
		}
		return p, nil
	}
	seen := make([]bool, d)
	p := players{groups: make([][]int, len(groups)), names: make([]string, len(groups))}
	for g, cols := range groups {
		if len(cols) == 0 {
			return players{}, fmt.Errorf("feature group %d is empty; every group needs at least one column", g)
		}
		name := ""
		for k, j := range cols {
			if j < 0 || j >= d {
				return players{}, fmt.Errorf("feature group %d names column %d; the table has columns 0 to %d", g, j, d-1)
			}
			if seen[j] {
				return players{}, fmt.Errorf("column %d is in two feature groups; groups must not overlap", j)
			}
			seen[j] = true
			if k > 0 {
				name += "+"
			}
			name += colName(j)
		}
		p.groups[g], p.names[g] = append([]int(nil), cols...), name
	}
	for j, ok := range seen {
		if !ok {
			return players{}, fmt.Errorf("column %d is in no feature group; put every column in one group", j)
		}
	}
	return p, nil
}

// superpixelPlayers segments image x (s.Shape is [C, H, W]) with
// segment.Auto and makes one player per superpixel. hidden is the image
// with every superpixel hidden as image LIME hides it by default: painted
// black on grey images (whose background is black) and with its own mean
// colour on colour images.
func superpixelPlayers(s *Subject, x []float32) (p players, hidden []float32, err error) {
	c, h, w := s.Shape[0], s.Shape[1], s.Shape[2]
	seg, err := segment.Auto(x, c, h, w)
	if err != nil {
		return players{}, nil, err
	}
	hide := HideMean
	if c == 1 {
		hide = HideConstant
	}
	if hidden, err = fudgeImage(x, c, h, w, seg, hide, 0, 0); err != nil {
		return players{}, nil, err
	}
	hw := h * w
	p = players{groups: make([][]int, seg.N), names: make([]string, seg.N), seg: seg}
	for px, sp := range seg.Labels {
		for ch := range c {
			p.groups[sp] = append(p.groups[sp], ch*hw+px)
		}
	}
	for i := range p.names {
		p.names[i] = fmt.Sprintf("segment %d", i)
	}
	return p, hidden, nil
}

// perturbBatchRows is how many perturbed inputs go to the model at once:
// 256, fewer for large inputs so a batch stays within 4 Mi values.
func perturbBatchRows(dim int) int { return max(1, min(256, (4<<20)/max(dim, 1))) }

// evalRows evaluates total perturbed inputs of dim values each, batch by
// batch: fill(i, row) paints input i (called in parallel, each call on
// its own row), use(i, out) receives the model's outputs for it (in
// order; out is reused after use returns). label is checked against the
// number of outputs. Batches are painted into one reused buffer.
func evalRows(ctx context.Context, f Func, what string, total, dim, label int, fill func(i int, row []float32), use func(i int, out []float32)) error {
	batch := perturbBatchRows(dim)
	buf := make([]float32, min(batch, total)*dim)
	var t Timing
	o := outputs{what: what, timing: &t}
	for lo := 0; lo < total; lo += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+batch, total)
		parallelChunks(hi-lo, 16, func(_, a, b int) {
			for i := a; i < b; i++ {
				fill(lo+i, buf[i*dim:(i+1)*dim])
			}
		})
		o.y = o.y[:0]
		if err := o.add(hi-lo, lo, func() ([]float32, error) { return f(ctx, buf[:(hi-lo)*dim], hi-lo) }); err != nil {
			return err
		}
		if label >= o.k {
			return fmt.Errorf("%s: label %d out of range: the model returns %d outputs (labels 0..%d)", what, label, o.k, o.k-1)
		}
		for i := lo; i < hi; i++ {
			use(i, o.y[(i-lo)*o.k:(i-lo+1)*o.k])
		}
	}
	return nil
}

// DropExplanation is a feature ablation or permutation result: for each
// player, how much the explained output falls when it takes reference
// values instead of its own.
type DropExplanation struct {
	Method string `json:"method"`
	Label  int    `json:"label"`
	// Names name the players (columns, column groups or superpixels).
	Names []string `json:"names"`
	// Drops[g] is f(x) − mean over references r of f(x with player g
	// taken from r); positive when the player's own value supports the
	// output.
	Drops []float64 `json:"drops"`
	// StdErrors are the standard errors of Drops over the references
	// (permutation only: one reference has none).
	StdErrors []float64 `json:"std_errors,omitempty"`
	// References is the number of reference values each player took.
	References int `json:"references"`
	// Output is f(x) for the label.
	Output float64 `json:"output"`
}

// playerDrops computes, for each player, f(x) − mean over refs of f(x with
// the player's values taken from the ref): feature ablation with one
// reference, feature permutation with many.
func playerDrops(ctx context.Context, f Func, what string, x []float32, label int, p players, refs [][]float32) (*DropExplanation, error) {
	dim, n, R := len(x), len(p.groups), len(refs)
	e := &DropExplanation{Method: what, Label: label, Names: p.names, Drops: make([]float64, n), References: R}
	sum, sumSq := make([]float64, n), make([]float64, n)
	// Row 0 is x; row 1 + g·R + r takes player g from reference r.
	err := evalRows(ctx, f, what, 1+n*R, dim, label, func(i int, row []float32) {
		copy(row, x)
		if i == 0 {
			return
		}
		g, r := (i-1)/R, (i-1)%R
		for _, k := range p.groups[g] {
			row[k] = refs[r][k]
		}
	}, func(i int, out []float32) {
		y := float64(out[label])
		if i == 0 {
			e.Output = y
			return
		}
		g := (i - 1) / R
		sum[g] += y
		sumSq[g] += y * y
	})
	if err != nil {
		return nil, err
	}
	for g := range n {
		mean := sum[g] / float64(R)
		e.Drops[g] = e.Output - mean
		if R > 1 {
			if e.StdErrors == nil {
				e.StdErrors = make([]float64, n)
			}
			v := max(0, (sumSq[g]-float64(R)*mean*mean)/float64(R-1))
			e.StdErrors[g] = math.Sqrt(v / float64(R))
		}
	}
	return e, nil
}

// setPlayerResult fills res from per-player values: Top for every input
// kind, and for images the superpixel weights and the per-pixel map that
// Run scores with the deletion and insertion curves.
func setPlayerResult(res *Result, s *Subject, p players, values []float64) {
	v32 := make([]float32, len(values))
	zero := true
	for i, v := range values {
		v32[i] = float32(v)
		zero = zero && v32[i] == 0
	}
	if zero {
		res.Warnings = append(res.Warnings, fmt.Sprintf("changing any one feature leaves output %d unchanged: the model's output is saturated here (a probability of %.3f), or it needs several features changed at once; try shapleysampling or kernelshap, which change many together", res.Label, res.Probability))
	}
	res.Features = len(values)
	res.Top = rankTop(v32, p.names)
	if p.seg != nil {
		res.Segments, res.SegmentWeights = p.seg, values
		res.Attribution = make([]float32, len(p.seg.Labels))
		for px, sp := range p.seg.Labels {
			res.Attribution[px] = v32[sp]
		}
	}
}

// ablationMethod is feature ablation: each player replaced by a reference.
type ablationMethod struct{}

func init() {
	Register(ablationMethod{})
	Register(permutationMethod{})
}

func (ablationMethod) Info() MethodInfo {
	return MethodInfo{Name: "ablation", Title: "Feature ablation",
		Summary: "how much the output drops when each feature is replaced by its training mean (columns), or each superpixel is hidden (images)",
		Inputs:  []InputKind{Table, Image}, Needs: NeedsBackground}
}

func (ablationMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	var p players
	var ref []float32
	var err error
	if s.Kind == Image {
		p, ref, err = superpixelPlayers(s, x)
	} else {
		p, err = columnPlayers(s.Dim(), s.FeatureNames, nil)
		ref = columnMeans(s.Background, s.Dim())
	}
	if err != nil {
		return err
	}
	e, err := playerDrops(ctx, s.Predict, "ablation", x, res.Label, p, [][]float32{ref})
	if err != nil {
		return err
	}
	res.Details, res.Samples = e, len(p.groups)
	setPlayerResult(res, s, p, e.Drops)
	return nil
}

// permutationMethod is feature permutation for one input: each player
// takes the values other examples have (training rows for a table, the
// other superpixels' colours for an image), averaged over many draws.
type permutationMethod struct{}

func (permutationMethod) Info() MethodInfo {
	return MethodInfo{Name: "permutation", Title: "Feature permutation",
		Summary: "how much the output drops, on average, when each feature takes other training rows' values (columns), or each superpixel another superpixel's colour (images)",
		Inputs:  []InputKind{Table, Image}, Needs: NeedsBackground,
		Budget: "reference draws per feature", DefaultBudget: "50 training rows (tables), 5 colour shuffles (images)"}
}

func (permutationMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	var p players
	var refs [][]float32
	if s.Kind == Image {
		var err error
		if p, _, err = superpixelPlayers(s, x); err != nil {
			return err
		}
		draws := opt.Samples
		if draws == 0 {
			draws = 5
		}
		refs = shuffledColours(x, s.Shape[0], p.seg, draws, opt.Seed)
	} else {
		d := s.Dim()
		var err error
		if p, err = columnPlayers(d, s.FeatureNames, nil); err != nil {
			return err
		}
		draws := opt.Samples
		if draws == 0 {
			draws = 50
		}
		rows := BackgroundRows(s.Background, d, draws, opt.Seed)
		for r := 0; r < len(rows)/d; r++ {
			refs = append(refs, rows[r*d:(r+1)*d])
		}
	}
	e, err := playerDrops(ctx, s.Predict, "permutation", x, res.Label, p, refs)
	if err != nil {
		return err
	}
	res.Details, res.Samples = e, len(refs)
	setPlayerResult(res, s, p, e.Drops)
	var worst float64
	for _, se := range e.StdErrors {
		worst = max(worst, se)
	}
	res.Quality["max_std_error"] = worst
	return nil
}

// shuffledColours returns n images in which every superpixel of seg is
// painted with the mean colour of a superpixel drawn by a random
// permutation of them: an image's own distribution of superpixel colours
// stands in for the column a table's permutation draws from.
func shuffledColours(x []float32, c int, seg *segment.Segmentation, n int, seed uint64) [][]float32 {
	means, _ := seg.Means(x, c) // x and seg come from the same checked image
	hw := len(seg.Labels)
	out := make([][]float32, n)
	for r := range out {
		perm := make([]int, seg.N)
		for i := range perm {
			perm[i] = i
		}
		shuffle(subStream(seed, streamOther, uint64(r)), perm)
		img := make([]float32, c*hw)
		for px, sp := range seg.Labels {
			for ch := range c {
				img[ch*hw+px] = means[perm[sp]*c+ch]
			}
		}
		out[r] = img
	}
	return out
}

// FeatureAblation explains model output label at table row x (d values) by
// replacing each group of columns at a time with the baseline's values
// (d values, e.g. the training means): Drops[g] = f(x) − f(x with group g
// from the baseline). groups nil makes one group per column; names name
// the columns.
func FeatureAblation(ctx context.Context, model Func, x, baseline []float32, label int, groups [][]int, names []string) (*DropExplanation, error) {
	if model == nil || len(x) == 0 || len(baseline) != len(x) || label < 0 {
		return nil, fmt.Errorf("feature ablation: want a model, a row, a baseline of the row's %d values and a label ≥ 0 (got %d baseline values, label %d)", len(x), len(baseline), label)
	}
	p, err := columnPlayers(len(x), names, groups)
	if err != nil {
		return nil, fmt.Errorf("feature ablation: %w", err)
	}
	return playerDrops(ctx, model, "ablation", x, label, p, [][]float32{baseline})
}

// FeaturePermutation explains model output label at table row x (d
// values) by giving each group of columns at a time the values of draws
// rows of background ([rows × d], seeded choice): Drops[g] = f(x) − the
// mean of f(x with group g from a background row), with its standard
// error. groups nil makes one group per column.
func FeaturePermutation(ctx context.Context, model Func, x, background []float32, label int, groups [][]int, names []string, draws int, seed uint64) (*DropExplanation, error) {
	d := len(x)
	if model == nil || d == 0 || len(background) < d || len(background)%d != 0 || label < 0 || draws < 1 {
		return nil, fmt.Errorf("feature permutation: want a model, a row, background rows of the row's %d values, a label ≥ 0 and draws ≥ 1 (got %d background values, label %d, draws %d)", d, len(background), label, draws)
	}
	p, err := columnPlayers(d, names, groups)
	if err != nil {
		return nil, fmt.Errorf("feature permutation: %w", err)
	}
	rows := BackgroundRows(background, d, draws, seed)
	refs := make([][]float32, len(rows)/d)
	for r := range refs {
		refs[r] = rows[r*d : (r+1)*d]
	}
	return playerDrops(ctx, model, "permutation", x, label, p, refs)
}
