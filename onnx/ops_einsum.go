package onnx

import (
	"slices"
	"strings"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Einsum, built from tape ops: each operand's repeated subscripts become a
// diagonal (a gather) and its private subscripts a sum; operands are then
// contracted pairwise as one batched MatMul each ([batch, left, shared] ·
// [batch, shared, right]), and the result summed and transposed to the
// output subscripts. Ellipses broadcast as in NumPy.

func init() {
	register("Einsum", nil, func(c *compiler) kernel {
		c.inputs(1, 1<<10)
		c.outputs(1)
		eq := strings.ReplaceAll(c.str("equation", ""), " ", "")
		if eq == "" {
			c.bad("attribute equation is required")
		}
		lhs, rhs, explicit := strings.Cut(eq, "->")
		terms := strings.Split(lhs, ",")
		if len(terms) != len(c.n.Inputs) {
			c.bad("equation %q has %d operands, the node %d inputs", eq, len(terms), len(c.n.Inputs))
		}
		for _, s := range append(slices.Clone(terms), rhs) {
			if strings.Count(s, "...") > 1 || strings.ContainsFunc(strings.ReplaceAll(s, "...", ""), func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
			}) {
				c.bad("equation %q: subscripts must be letters with at most one ellipsis per term", eq)
			}
		}
		return func(e *env, x []*val) []*val {
			vars := make([]*autograd.Var, len(x))
			for i, v := range x {
				vars[i] = v.asVar()
			}
			return []*val{floatVal(einsum(e.tp, terms, rhs, explicit, vars), floatType(x[0], x[0]))}
		}
	})
}

// einsum evaluates the equation terms -> rhs on xs.
func einsum(tp *autograd.Tape, terms []string, rhs string, explicit bool, xs []*autograd.Var) *autograd.Var {
	// Ellipsis axes become the runes '0', '1', ... right-aligned.
	ell := 0
	subs := make([][]rune, len(terms))
	for i, t := range terms {
		letters := len(strings.ReplaceAll(t, "...", ""))
		r := xs[i].Value.Rank()
		if strings.Contains(t, "...") {
			if r < letters {
				fail("operand %d has rank %d, fewer than the %d subscripts of %q", i, r, letters, t)
			}
			ell = max(ell, r-letters)
		} else if r != letters {
			fail("operand %d has rank %d, term %q has %d subscripts", i, r, t, letters)
		}
	}
	expand := func(t string, n int) []rune {
		before, after, found := strings.Cut(t, "...")
		if !found {
			return []rune(t)
		}
		out := []rune(before)
		for k := ell - n; k < ell; k++ {
			out = append(out, rune('0'+k))
		}
		return append(out, []rune(after)...)
	}
	for i, t := range terms {
		subs[i] = expand(t, xs[i].Value.Rank()-len(strings.ReplaceAll(t, "...", "")))
	}
	var out []rune
	if explicit {
		out = expand(rhs, ell)
		if strings.Contains(rhs, "...") != (ell > 0) && ell > 0 {
			fail("the output %q drops the ellipsis axes", rhs)
		}
	} else {
		count := map[rune]int{}
		for _, s := range subs {
			for _, r := range s {
				count[r]++
			}
		}
		for k := 0; k < ell; k++ {
			out = append(out, rune('0'+k))
		}
		var once []rune
		for r, n := range count {
			if n == 1 && !(r >= '0' && r <= '9') {
				once = append(once, r)
			}
		}
		slices.Sort(once)
		out = append(out, once...)
	}
	for i, r := range out {
		if slices.Contains(out[:i], r) {
			fail("output subscript %q repeats", string(r))
		}
	}
	// Sizes (a size-1 ellipsis axis broadcasts).
	size := map[rune]int{}
	for i, s := range subs {
		for j, r := range s {
			d := xs[i].Value.Dim(j)
			if old, ok := size[r]; ok && old != d && old != 1 && d != 1 {
				fail("subscript %q has sizes %d and %d", string(r), old, d)
			}
			if d != 1 || size[r] == 0 {
				size[r] = max(size[r], d)
			}
		}
	}
	for _, r := range out {
		if _, ok := size[r]; !ok {
			fail("output subscript %q appears in no operand", string(r))
		}
	}
	needed := func(from int) map[rune]bool { // subscripts used by operands from.., or the output
		m := map[rune]bool{}
		for _, r := range out {
			m[r] = true
		}
		for _, s := range subs[from:] {
			for _, r := range s {
				m[r] = true
			}
		}
		return m
	}
	acc, accS := einsumPrep(tp, xs[0], subs[0], needed(1))
	for i := 1; i < len(xs); i++ {
		b, bS := einsumPrep(tp, xs[i], subs[i], union(needed(i+1), accS))
		keep := needed(i + 1)
		acc, accS = einsumPair(tp, acc, accS, b, bS, keep, size)
	}
	// Sum what the output does not keep, then order as the output.
	keepOut := map[rune]bool{}
	for _, r := range out {
		keepOut[r] = true
	}
	acc, accS = sumOut(tp, acc, accS, keepOut)
	acc = expandTo(tp, acc, accS, size)
	perm := make([]int, len(out))
	for i, r := range out {
		perm[i] = slices.Index(accS, r)
	}
	if len(perm) > 1 && !slices.IsSorted(perm) {
		acc = contiguous(tp, tp.Transpose(acc, perm...))
	}
	if len(out) == 0 {
		acc = tp.Reshape(acc)
	}
	return acc
}

func union(a map[rune]bool, s []rune) map[rune]bool {
	m := map[rune]bool{}
	for r := range a {
		m[r] = true
	}
	for _, r := range s {
		m[r] = true
	}
	return m
}

// einsumPrep takes the diagonal of repeated subscripts and sums those not
// in keep.
func einsumPrep(tp *autograd.Tape, x *autograd.Var, s []rune, keep map[rune]bool) (*autograd.Var, []rune) {
	var uniq []rune
	for _, r := range s {
		if !slices.Contains(uniq, r) {
			uniq = append(uniq, r)
		}
	}
	if len(uniq) < len(s) {
		d := x.Value.Shape()
		st := stridesOf(d)
		shape := make([]int, len(uniq))
		for i, r := range uniq {
			shape[i] = d[slices.Index(s, r)]
			for j, q := range s {
				if q == r && d[j] != shape[i] {
					fail("repeated subscript %q has sizes %d and %d", string(r), shape[i], d[j])
				}
			}
		}
		m := indexMap(shape, func(ix []int) int {
			o := 0
			for j, q := range s {
				o += ix[slices.Index(uniq, q)] * st[j]
			}
			return o
		})
		x = gatherMap(tp, contiguous(tp, x), m, shape, 0)
		s = uniq
	}
	return sumOut(tp, x, s, keep)
}

// sumOut sums the axes whose subscripts are not in keep.
func sumOut(tp *autograd.Tape, x *autograd.Var, s []rune, keep map[rune]bool) (*autograd.Var, []rune) {
	var axes []int
	var rest []rune
	for i, r := range s {
		if keep[r] {
			rest = append(rest, r)
		} else {
			axes = append(axes, i)
		}
	}
	if len(axes) == 0 {
		return x, s
	}
	return tp.Sum(contiguous(tp, x), false, axes...), rest
}

// expandTo broadcasts size-1 axes to the subscripts' sizes.
func expandTo(tp *autograd.Tape, x *autograd.Var, s []rune, size map[rune]int) *autograd.Var {
	d := x.Value.Shape()
	want := make([]int, len(s))
	for i, r := range s {
		want[i] = size[r]
	}
	if slices.Equal(d, want) {
		return x
	}
	return tp.Add(x, autograd.Const(tensor.New(want...)))
}

// einsumPair contracts a and b over their shared subscripts that keep
// does not need, as one batched MatMul.
func einsumPair(tp *autograd.Tape, a *autograd.Var, as []rune, b *autograd.Var, bs []rune, keep map[rune]bool, size map[rune]int) (*autograd.Var, []rune) {
	var batch, left, right, shared []rune
	for _, r := range as {
		switch {
		case slices.Contains(bs, r) && keep[r]:
			batch = append(batch, r)
		case slices.Contains(bs, r):
			shared = append(shared, r)
		default:
			left = append(left, r)
		}
	}
	for _, r := range bs {
		if !slices.Contains(as, r) {
			right = append(right, r)
		}
	}
	a = expandTo(tp, a, as, size)
	b = expandTo(tp, b, bs, size)
	n := func(rs []rune) int {
		p := 1
		for _, r := range rs {
			p *= size[r]
		}
		return p
	}
	order := func(x *autograd.Var, xs []rune, want []rune) *autograd.Var {
		perm := make([]int, len(want))
		for i, r := range want {
			perm[i] = slices.Index(xs, r)
		}
		if !slices.IsSorted(perm) {
			x = tp.Transpose(x, perm...)
		}
		return contiguous(tp, x)
	}
	A := tp.Reshape(order(a, as, slices.Concat(batch, left, shared)), n(batch), n(left), n(shared))
	B := tp.Reshape(order(b, bs, slices.Concat(batch, shared, right)), n(batch), n(shared), n(right))
	y := tp.MatMul(A, B)
	outS := slices.Concat(batch, left, right)
	shape := make([]int, len(outS))
	for i, r := range outS {
		shape[i] = size[r]
	}
	return tp.Reshape(y, orEmpty(shape)...), outS
}
