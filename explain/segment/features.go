package segment

import "math"

// features converts a C×H×W image into per-pixel colour features in CIELAB
// units, pixel-major: feat[i*k+j] is feature j of pixel i. RGB images give
// k = 3 (L, a, b); grey images give k = 1 (L of the grey (v, v, v)), so grey
// and colour images are measured on the same scale (L in [0, 100]).
//
// Values already in [0, 1] are read as sRGB; any other range is first
// rescaled to [0, 1] by the image's own minimum and maximum (a constant image
// maps to black).
func features(pix []float32, c, h, w int) (feat []float64, k int) {
	hw := h * w
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range pix {
		lo = math.Min(lo, float64(v))
		hi = math.Max(hi, float64(v))
	}
	off, scale := 0.0, 1.0
	if lo < 0 || hi > 1 {
		off = lo
		if hi > lo {
			scale = 1 / (hi - lo)
		} else {
			scale = 0
		}
	}
	norm := func(v float32) float64 {
		return min(max((float64(v)-off)*scale, 0), 1)
	}
	if c == 1 {
		feat = make([]float64, hw)
		for i := 0; i < hw; i++ {
			feat[i] = 116*labF(srgbToLinear(norm(pix[i]))) - 16
		}
		return feat, 1
	}
	feat = make([]float64, hw*3)
	for i := 0; i < hw; i++ {
		r := srgbToLinear(norm(pix[i]))
		g := srgbToLinear(norm(pix[hw+i]))
		b := srgbToLinear(norm(pix[2*hw+i]))
		// sRGB (D65) to XYZ, normalised by the D65 white point.
		x := (0.412453*r + 0.357580*g + 0.180423*b) / 0.950456
		y := 0.212671*r + 0.715160*g + 0.072169*b
		z := (0.019334*r + 0.119193*g + 0.950227*b) / 1.088754
		fx, fy, fz := labF(x), labF(y), labF(z)
		feat[3*i] = 116*fy - 16
		feat[3*i+1] = 500 * (fx - fy)
		feat[3*i+2] = 200 * (fy - fz)
	}
	return feat, 3
}

// srgbToLinear undoes the sRGB transfer curve for v in [0, 1], by linear
// interpolation in a table (error below 1e-7; math.Pow per pixel would take
// most of SLIC's time).
func srgbToLinear(v float64) float64 {
	u := v * srgbN
	i := int(u)
	if i >= srgbN {
		return srgbTab[srgbN]
	}
	f := u - float64(i)
	return srgbTab[i] + f*(srgbTab[i+1]-srgbTab[i])
}

const srgbN = 4096

var srgbTab = func() []float64 {
	tab := make([]float64, srgbN+2)
	for i := range tab {
		tab[i] = srgbToLinearExact(float64(i) / srgbN)
	}
	return tab
}()

func srgbToLinearExact(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

func labF(t float64) float64 {
	if t > 216.0/24389 {
		return math.Cbrt(t)
	}
	return (24389.0/27*t + 16) / 116
}
