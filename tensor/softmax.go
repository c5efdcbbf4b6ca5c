package tensor

import "math"

// lastAxisRows returns t with axis moved last, contiguous, viewed as rows,
// and a function that moves a result of the same layout back.
func lastAxisRows(op string, t *Tensor, axis int) (rows []float32, width int, back func(*Tensor) *Tensor) {
	a := t.axis(op, axis)
	r := len(t.shape)
	if a == r-1 {
		c := t.Contiguous()
		return c.Data(), t.shape[a], func(x *Tensor) *Tensor { return x }
	}
	perm := make([]int, 0, r)
	for i := 0; i < r; i++ {
		if i != a {
			perm = append(perm, i)
		}
	}
	perm = append(perm, a)
	inv := make([]int, r)
	for i, p := range perm {
		inv[p] = i
	}
	moved := t.Transpose(perm...).Contiguous()
	return moved.Data(), t.shape[a], func(x *Tensor) *Tensor {
		return x.Reshape(moved.shape...).Transpose(inv...).Contiguous()
	}
}

// Softmax returns exp(t)/sum(exp(t)) along axis, computed stably by
// subtracting each row's maximum first; each row sums to 1.
func Softmax(t *Tensor, axis int) *Tensor {
	d, w, back := lastAxisRows("Softmax", t, axis)
	out := New(len(d))
	softmaxRows(out.data, d, w, false)
	return back(out).Reshape(t.shape...)
}

// LogSoftmax returns log(Softmax(t)) along axis without forming the
// probabilities, so very negative logits stay finite.
func LogSoftmax(t *Tensor, axis int) *Tensor {
	d, w, back := lastAxisRows("LogSoftmax", t, axis)
	out := New(len(d))
	softmaxRows(out.data, d, w, true)
	return back(out).Reshape(t.shape...)
}

func softmaxRows(out, in []float32, w int, logOut bool) {
	if w == 0 {
		return
	}
	rows := len(in) / w
	parallelFor(rows, max(1, 4096/w), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			x := in[r*w : (r+1)*w]
			y := out[r*w : (r+1)*w]
			m := x[0]
			for _, v := range x {
				m = max(m, v)
			}
			var s float64
			for i, v := range x {
				e := math.Exp(float64(v - m))
				s += e
				if !logOut {
					y[i] = float32(e)
				}
			}
			if logOut {
				ls := float32(math.Log(s))
				for i, v := range x {
					y[i] = v - m - ls
				}
			} else {
				inv := float32(1 / s)
				for i := range y {
					y[i] *= inv
				}
			}
		}
	})
}
