package explain

import (
	"cmp"
	"math"
	"slices"
)

// Discretizer names how tabular LIME turns continuous features into bins.
type Discretizer string

const (
	// DiscretizeQuartile cuts at the 25th, 50th and 75th percentiles.
	DiscretizeQuartile Discretizer = "quartile"
	// DiscretizeDecile cuts at the 10th, 20th, …, 90th percentiles.
	DiscretizeDecile Discretizer = "decile"
	// DiscretizeEntropy cuts where a depth-3 decision tree on the training
	// labels splits each feature (information gain for classification,
	// variance reduction for regression).
	DiscretizeEntropy Discretizer = "entropy"
	// DiscretizeNone keeps features continuous: perturbations are drawn
	// from N(instance, std²) per feature and the surrogate's weights are
	// per standard deviation.
	DiscretizeNone Discretizer = "none"
)

// percentile is numpy's default (linear interpolation) percentile of sorted
// values.
func percentile(sorted []float64, q float64) float64 {
	pos := q / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(lo)
	return sorted[lo] + f*(sorted[lo+1]-sorted[lo])
}

// percentileEdges returns the distinct percentile edges of sorted values.
func percentileEdges(sorted []float64, qs []float64) []float64 {
	var edges []float64
	for _, q := range qs {
		e := percentile(sorted, q)
		if len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	return edges
}

// binOf is the bin of v for sorted edges: the number of edges strictly
// below v, so a value equal to an edge falls in the lower bin ("x <= e").
func binOf(edges []float64, v float64) int {
	b, _ := slices.BinarySearch(edges, v)
	return b
}

// treeEdges returns the thresholds a depth-limited regression/classification
// tree on one feature would use: midpoints between neighbouring distinct
// values chosen by the best impurity decrease. x and y are paired.
func treeEdges(x, y []float64, classification bool, depth int) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	xs := make([]float64, len(x))
	ys := make([]float64, len(x))
	for i, j := range idx {
		xs[i], ys[i] = x[j], y[j]
	}
	classes := 0
	if classification {
		for _, v := range ys {
			classes = max(classes, int(v)+1)
		}
	}
	var edges []float64
	var split func(lo, hi, level int)
	split = func(lo, hi, level int) {
		if level >= depth || hi-lo < 2 {
			return
		}
		at, thr, ok := bestSplit(xs[lo:hi], ys[lo:hi], classes)
		if !ok {
			return
		}
		edges = append(edges, thr)
		split(lo, lo+at, level+1)
		split(lo+at, hi, level+1)
	}
	split(0, len(xs), 0)
	slices.Sort(edges)
	return slices.Compact(edges)
}

// bestSplit finds the split of sorted xs (between positions at-1 and at)
// with the largest impurity decrease of ys: entropy over classes when
// classes > 0, variance otherwise.
func bestSplit(xs, ys []float64, classes int) (at int, thr float64, ok bool) {
	n := len(xs)
	bestGain := 1e-12
	if classes > 0 {
		total := make([]float64, classes)
		for _, v := range ys {
			total[int(v)]++
		}
		parent := entropy(total, float64(n))
		left := make([]float64, classes)
		right := make([]float64, classes)
		for i := 1; i < n; i++ {
			left[int(ys[i-1])]++
			if xs[i] == xs[i-1] {
				continue
			}
			for c := range right {
				right[c] = total[c] - left[c]
			}
			nl, nr := float64(i), float64(n-i)
			gain := parent - (nl*entropy(left, nl)+nr*entropy(right, nr))/float64(n)
			if gain > bestGain {
				bestGain, at, thr, ok = gain, i, (xs[i-1]+xs[i])/2, true
			}
		}
		return
	}
	var sum, sumSq float64
	for _, v := range ys {
		sum += v
		sumSq += v * v
	}
	parent := sumSq - sum*sum/float64(n)
	var ls, lss float64
	for i := 1; i < n; i++ {
		ls += ys[i-1]
		lss += ys[i-1] * ys[i-1]
		if xs[i] == xs[i-1] {
			continue
		}
		nl, nr := float64(i), float64(n-i)
		rs, rss := sum-ls, sumSq-lss
		sse := (lss - ls*ls/nl) + (rss - rs*rs/nr)
		if gain := (parent - sse) / float64(n); gain > bestGain {
			bestGain, at, thr, ok = gain, i, (xs[i-1]+xs[i])/2, true
		}
	}
	return
}

func entropy(counts []float64, n float64) float64 {
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := c / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
