package segment

import (
	"container/heap"
	"math"
)

// components labels the 4-connected regions of equal value in an h×w
// labelling, numbered 0..n-1 in raster order of their first pixel.
func components(labels []int, h, w int) (comp []int, n int) {
	comp = make([]int, h*w)
	for i := range comp {
		comp[i] = -1
	}
	stack := make([]int, 0, 64)
	for start := range comp {
		if comp[start] != -1 {
			continue
		}
		l := labels[start]
		comp[start] = n
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			y, x := i/w, i%w
			if x > 0 && comp[i-1] == -1 && labels[i-1] == l {
				comp[i-1] = n
				stack = append(stack, i-1)
			}
			if x+1 < w && comp[i+1] == -1 && labels[i+1] == l {
				comp[i+1] = n
				stack = append(stack, i+1)
			}
			if y > 0 && comp[i-w] == -1 && labels[i-w] == l {
				comp[i-w] = n
				stack = append(stack, i-w)
			}
			if y+1 < h && comp[i+w] == -1 && labels[i+w] == l {
				comp[i+w] = n
				stack = append(stack, i+w)
			}
		}
		n++
	}
	return comp, n
}

// region is one node of the region adjacency graph used by mergeSmall.
type region struct {
	size   int
	sum    []float64   // feature sums
	nbrs   map[int]int // neighbour root -> shared border length
	parent int
}

// regionHeap orders candidate regions by (size, id), smallest first.
type regionHeap struct {
	ids  []int
	size []int
}

func (q *regionHeap) Len() int { return len(q.ids) }
func (q *regionHeap) Less(a, b int) bool {
	if q.size[a] != q.size[b] {
		return q.size[a] < q.size[b]
	}
	return q.ids[a] < q.ids[b]
}
func (q *regionHeap) Swap(a, b int) {
	q.ids[a], q.ids[b] = q.ids[b], q.ids[a]
	q.size[a], q.size[b] = q.size[b], q.size[a]
}
func (q *regionHeap) Push(x any) {
	p := x.([2]int)
	q.ids = append(q.ids, p[0])
	q.size = append(q.size, p[1])
}
func (q *regionHeap) Pop() any {
	n := len(q.ids) - 1
	p := [2]int{q.ids[n], q.size[n]}
	q.ids, q.size = q.ids[:n], q.size[:n]
	return p
}

// connectAndMerge splits an h×w labelling into 4-connected components and
// merges every component smaller than minSize into the adjacent one with the
// closest mean feature (ties: longer shared border, then lower id), smallest
// first, until none is left below minSize (or only one segment remains).
// feat holds k features per pixel. The result is relabelled 0..n-1 in raster
// order. Every step is deterministic.
func connectAndMerge(labels []int, h, w int, feat []float64, k, minSize int) *Segmentation {
	comp, n := components(labels, h, w)
	if minSize > 1 && n > 1 {
		comp, n = mergeSmall(comp, n, h, w, feat, k, minSize)
	}
	return &Segmentation{H: h, W: w, N: n, Labels: comp}
}

func mergeSmall(comp []int, n, h, w int, feat []float64, k, minSize int) ([]int, int) {
	regs := make([]region, n)
	for i := range regs {
		regs[i] = region{sum: make([]float64, k), nbrs: map[int]int{}, parent: i}
	}
	for i, c := range comp {
		r := &regs[c]
		r.size++
		for j := 0; j < k; j++ {
			r.sum[j] += feat[i*k+j]
		}
		x := i % w
		if x+1 < w && comp[i+1] != c {
			regs[c].nbrs[comp[i+1]]++
			regs[comp[i+1]].nbrs[c]++
		}
		if i+w < h*w && comp[i+w] != c {
			regs[c].nbrs[comp[i+w]]++
			regs[comp[i+w]].nbrs[c]++
		}
	}
	q := &regionHeap{}
	for i := range regs {
		if regs[i].size < minSize {
			q.ids = append(q.ids, i)
			q.size = append(q.size, regs[i].size)
		}
	}
	heap.Init(q)
	alive := n
	for q.Len() > 0 && alive > 1 {
		p := heap.Pop(q).([2]int)
		a := p[0]
		ra := &regs[a]
		if ra.parent != a || ra.size != p[1] || ra.size >= minSize {
			continue // stale entry: merged away or grown since it was queued
		}
		best, bestD, bestB := -1, math.Inf(1), 0
		for nb, border := range ra.nbrs {
			rb := &regs[nb]
			d := 0.0
			for j := 0; j < k; j++ {
				diff := ra.sum[j]/float64(ra.size) - rb.sum[j]/float64(rb.size)
				d += diff * diff
			}
			if d < bestD || (d == bestD && (border > bestB || (border == bestB && nb < best))) {
				best, bestD, bestB = nb, d, border
			}
		}
		if best < 0 {
			continue // isolated (cannot happen in a connected image)
		}
		// Merge a into best.
		rb := &regs[best]
		rb.size += ra.size
		for j := 0; j < k; j++ {
			rb.sum[j] += ra.sum[j]
		}
		delete(rb.nbrs, a)
		for nb, border := range ra.nbrs {
			if nb == best {
				continue
			}
			rb.nbrs[nb] += border
			rn := &regs[nb]
			delete(rn.nbrs, a)
			rn.nbrs[best] += border
		}
		ra.nbrs = nil
		ra.parent = best
		alive--
		if rb.size < minSize {
			heap.Push(q, [2]int{best, rb.size})
		}
	}
	// Resolve parents and relabel in raster order.
	root := func(i int) int {
		r := i
		for regs[r].parent != r {
			r = regs[r].parent
		}
		for i != r {
			next := regs[i].parent
			regs[i].parent = r
			i = next
		}
		return r
	}
	remap := make([]int, n)
	for i := range remap {
		remap[i] = -1
	}
	out := make([]int, len(comp))
	next := 0
	for i, c := range comp {
		r := root(c)
		if remap[r] == -1 {
			remap[r] = next
			next++
		}
		out[i] = remap[r]
	}
	return out, next
}
