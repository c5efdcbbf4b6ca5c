package tensor

// Concat joins tensors along an existing axis; all other axes must match.
func Concat(axis int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		shapeErr("Concat", "no tensors to join")
	}
	a := ts[0].axis("Concat", axis)
	shape := append([]int(nil), ts[0].shape...)
	shape[a] = 0
	for _, t := range ts {
		if len(t.shape) != len(shape) {
			shapeErr("Concat", "rank mismatch: %v and %v", ts[0].shape, t.shape)
		}
		for i := range shape {
			if i != a && t.shape[i] != ts[0].shape[i] {
				shapeErr("Concat", "shapes %v and %v differ outside axis %d", ts[0].shape, t.shape, a)
			}
		}
		shape[a] += t.shape[a]
	}
	out := New(shape...)
	outer := Numel(shape[:a])
	inner := Numel(shape[a+1:])
	row := shape[a] * inner
	pos := 0
	for _, t := range ts {
		w := t.shape[a] * inner
		d := t.Data()
		for o := 0; o < outer; o++ {
			copy(out.data[o*row+pos:o*row+pos+w], d[o*w:(o+1)*w])
		}
		pos += w
	}
	return out
}

// Stack joins same-shaped tensors along a new axis.
func Stack(axis int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		shapeErr("Stack", "no tensors to stack")
	}
	r := len(ts[0].shape)
	if axis < 0 {
		axis += r + 1
	}
	if axis < 0 || axis > r {
		shapeErr("Stack", "axis out of range for shape %v", ts[0].shape)
	}
	parts := make([]*Tensor, len(ts))
	for i, t := range ts {
		if !SameShape(t.shape, ts[0].shape) {
			shapeErr("Stack", "shapes %v and %v differ", ts[0].shape, t.shape)
		}
		sh := append(append(append([]int(nil), t.shape[:axis]...), 1), t.shape[axis:]...)
		parts[i] = t.Reshape(sh...)
	}
	return Concat(axis, parts...)
}

// IndexSelect picks the sub-tensors at the given indices along axis (an
// embedding lookup is IndexSelect on axis 0 of the table).
func IndexSelect(t *Tensor, axis int, idx []int) *Tensor {
	a := t.axis("IndexSelect", axis)
	shape := append([]int(nil), t.shape...)
	shape[a] = len(idx)
	outer := Numel(t.shape[:a])
	inner := Numel(t.shape[a+1:])
	dim := t.shape[a]
	for _, ix := range idx {
		if ix < 0 || ix >= dim {
			shapeErr("IndexSelect", "index %d out of range [0, %d) for axis %d of shape %v", ix, dim, a, t.shape)
		}
	}
	out := newUninit(shape...) // every element is written
	if !t.IsContiguous() {
		// A view (a transposed sequence whose last step is taken): copy
		// only the selected slices out of it, not the whole tensor first.
		part := make([]float32, outer*inner)
		for j, ix := range idx {
			t.Slice(a, ix, ix+1).copyTo(part)
			for o := 0; o < outer; o++ {
				copy(out.data[(o*len(idx)+j)*inner:(o*len(idx)+j+1)*inner], part[o*inner:(o+1)*inner])
			}
		}
		return out
	}
	d := t.Data()
	for o := 0; o < outer; o++ {
		for j, ix := range idx {
			copy(out.data[(o*len(idx)+j)*inner:(o*len(idx)+j+1)*inner], d[(o*dim+ix)*inner:(o*dim+ix+1)*inner])
		}
	}
	return out
}

// IndexAdd adds src's sub-tensors into dst at the given indices along axis
// (repeated indices accumulate). It is the backward of IndexSelect.
func IndexAdd(dst *Tensor, axis int, idx []int, src *Tensor) {
	a := dst.axis("IndexAdd", axis)
	if !dst.IsContiguous() {
		shapeErr("IndexAdd", "destination of shape %v is not contiguous", dst.shape)
	}
	outer := Numel(dst.shape[:a])
	inner := Numel(dst.shape[a+1:])
	dim := dst.shape[a]
	if src.Len() != outer*len(idx)*inner {
		shapeErr("IndexAdd", "source shape %v does not match %d indices into %v", src.shape, len(idx), dst.shape)
	}
	s := src.Data()
	d := dst.Data()
	for o := 0; o < outer; o++ {
		for j, ix := range idx {
			if ix < 0 || ix >= dim {
				shapeErr("IndexAdd", "index %d out of range [0, %d)", ix, dim)
			}
			row := d[(o*dim+ix)*inner : (o*dim+ix+1)*inner]
			sr := s[(o*len(idx)+j)*inner : (o*len(idx)+j+1)*inner]
			for i := range row {
				row[i] += sr[i]
			}
		}
	}
}

// AddInPlace adds src (broadcast to dst's shape) into the contiguous dst.
// Gradient accumulation uses it.
func AddInPlace(dst, src *Tensor) {
	if !dst.IsContiguous() {
		shapeErr("AddInPlace", "destination of shape %v is not contiguous", dst.shape)
	}
	d := dst.Data()
	if SameShape(dst.shape, src.shape) {
		s := src.Data()
		parallelFor(len(d), elementwiseGrain, func(lo, hi int) {
			x, y := d[lo:hi], s[lo:hi]
			for i := range x {
				x[i] += y[i]
			}
		})
		return
	}
	sum := Add(dst, src)
	if !SameShape(sum.shape, dst.shape) {
		shapeErr("AddInPlace", "shape %v does not broadcast into %v", src.shape, dst.shape)
	}
	copy(d, sum.data)
}

// ScaleInPlace multiplies every element of the contiguous t by s.
func ScaleInPlace(t *Tensor, s float32) {
	d := t.Data()
	for i := range d {
		d[i] *= s
	}
}
