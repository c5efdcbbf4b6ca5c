package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/tensor"
)

// Weight initialisers. Each draws from the caller's *rand.Rand, so one
// seed gives the same weights on every run; none touches a global RNG.
//
// fanIn is the number of inputs feeding one output unit (in for a Linear
// layer, in/groups·kh·kw for a convolution) and fanOut the number of
// outputs one input feeds.

// HeNormal returns N(0, 2/fanIn) samples (Kaiming normal): it keeps the
// variance of activations steady through ReLU layers.
func HeNormal(rng *rand.Rand, fanIn int, shape ...int) *tensor.Tensor {
	return tensor.RandN(rng, 0, float32(math.Sqrt(2/float64(initFan("HeNormal", fanIn)))), shape...)
}

// HeUniform returns U(−√(6/fanIn), √(6/fanIn)) samples (Kaiming uniform),
// with the same variance 2/fanIn as HeNormal.
func HeUniform(rng *rand.Rand, fanIn int, shape ...int) *tensor.Tensor {
	a := float32(math.Sqrt(6 / float64(initFan("HeUniform", fanIn))))
	return tensor.RandU(rng, -a, a, shape...)
}

// GlorotNormal returns N(0, 2/(fanIn+fanOut)) samples (Xavier normal),
// suited to tanh, sigmoid and softmax layers.
func GlorotNormal(rng *rand.Rand, fanIn, fanOut int, shape ...int) *tensor.Tensor {
	n := initFan("GlorotNormal", fanIn) + initFan("GlorotNormal", fanOut)
	return tensor.RandN(rng, 0, float32(math.Sqrt(2/float64(n))), shape...)
}

// GlorotUniform returns U(−√(6/(fanIn+fanOut)), √(6/(fanIn+fanOut)))
// samples (Xavier uniform), with variance 2/(fanIn+fanOut).
func GlorotUniform(rng *rand.Rand, fanIn, fanOut int, shape ...int) *tensor.Tensor {
	n := initFan("GlorotUniform", fanIn) + initFan("GlorotUniform", fanOut)
	a := float32(math.Sqrt(6 / float64(n)))
	return tensor.RandU(rng, -a, a, shape...)
}

// Orthogonal returns a rows×cols matrix with orthonormal columns (when
// rows ≥ cols) or orthonormal rows (when rows < cols), drawn uniformly
// (Haar measure): a Gaussian matrix is orthonormalised by modified
// Gram–Schmidt (a QR decomposition) and the signs of R's diagonal are
// folded back in. Recurrent weights start orthogonal so repeated
// multiplication by them neither explodes nor vanishes.
func Orthogonal(rng *rand.Rand, rows, cols int) *tensor.Tensor {
	if rows < 1 || cols < 1 {
		panic(&tensor.ShapeError{Op: "nn.Orthogonal", Msg: fmt.Sprintf("shape %d×%d must be at least 1×1", rows, cols)})
	}
	// Work on the tall orientation n×k (n ≥ k): orthonormalise k columns.
	n, k := rows, cols
	if rows < cols {
		n, k = cols, rows
	}
	// q holds the k columns, each of length n, contiguously.
	q := make([]float64, n*k)
	for i := range q {
		q[i] = rng.NormFloat64()
	}
	for j := 0; j < k; j++ {
		cj := q[j*n : (j+1)*n]
		// Two passes of modified Gram–Schmidt keep the columns orthogonal
		// to float64 precision even for nearly dependent draws.
		for range 2 {
			for p := 0; p < j; p++ {
				cp := q[p*n : (p+1)*n]
				var dot float64
				for i := range cj {
					dot += cj[i] * cp[i]
				}
				for i := range cj {
					cj[i] -= dot * cp[i]
				}
			}
		}
		var norm float64
		for _, v := range cj {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		if norm < 1e-12 {
			// A degenerate draw (probability zero): draw this column
			// again and orthogonalise it again.
			for i := range cj {
				cj[i] = rng.NormFloat64()
			}
			j--
			continue
		}
		// R's diagonal entry is +norm, so the sign correction of the Haar
		// recipe (Q·sign(diag R)) is already the identity here.
		for i := range cj {
			cj[i] /= norm
		}
	}
	out := tensor.New(rows, cols)
	d := out.Data()
	for j := 0; j < k; j++ {
		for i := 0; i < n; i++ {
			if rows >= cols {
				d[i*cols+j] = float32(q[j*n+i]) // column j of the tall matrix
			} else {
				d[j*cols+i] = float32(q[j*n+i]) // row j of the wide matrix
			}
		}
	}
	return out
}

// initFan panics with a *tensor.ShapeError unless fan ≥ 1.
func initFan(op string, fan int) int {
	if fan < 1 {
		panic(&tensor.ShapeError{Op: "nn." + op, Msg: fmt.Sprintf("fan %d must be ≥ 1", fan)})
	}
	return fan
}

// Init names a weight initialisation scheme. Layers store it in their
// Spec, so a rebuilt model initialises the same way.
type Init string

// The initialisation schemes layers accept.
const (
	InitHeNormal      Init = "he_normal"
	InitHeUniform     Init = "he_uniform"
	InitGlorotNormal  Init = "glorot_normal"
	InitGlorotUniform Init = "glorot_uniform"
	InitOrthogonal    Init = "orthogonal"
	InitZeros         Init = "zeros"
)

// Inits lists the known schemes.
func Inits() []Init {
	return []Init{InitHeNormal, InitHeUniform, InitGlorotNormal, InitGlorotUniform, InitOrthogonal, InitZeros}
}

// Valid returns an error naming the known schemes unless i is one of them.
func (i Init) Valid() error {
	for _, k := range Inits() {
		if i == k {
			return nil
		}
	}
	return fmt.Errorf("unknown initialiser %q (known: %v)", string(i), Inits())
}

// New returns a tensor of the given shape initialised by scheme i.
// Orthogonal treats the shape as a matrix [shape[0], product of the rest].
func (i Init) New(rng *rand.Rand, fanIn, fanOut int, shape ...int) (*tensor.Tensor, error) {
	if err := i.Valid(); err != nil {
		return nil, err
	}
	var t *tensor.Tensor
	err := tensor.Catch(func() {
		switch i {
		case InitHeNormal:
			t = HeNormal(rng, fanIn, shape...)
		case InitHeUniform:
			t = HeUniform(rng, fanIn, shape...)
		case InitGlorotNormal:
			t = GlorotNormal(rng, fanIn, fanOut, shape...)
		case InitGlorotUniform:
			t = GlorotUniform(rng, fanIn, fanOut, shape...)
		case InitOrthogonal:
			if len(shape) == 0 {
				panic(&tensor.ShapeError{Op: "nn.Orthogonal", Msg: "needs a shape of rank ≥ 1"})
			}
			t = Orthogonal(rng, shape[0], tensor.Numel(shape[1:])).Reshape(shape...)
		case InitZeros:
			t = tensor.New(shape...)
		}
	})
	return t, err
}
