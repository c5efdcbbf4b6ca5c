package segment

import "testing"

func TestExplore(t *testing.T) {
	imgs := mnistImages(t, 20)
	imgs = append(imgs, digit7(28, 28), ring(28, 28))
	for i, img := range imgs {
		q, err := Quickshift(img, 1, 28, 28, QuickshiftOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := SLIC(img, 1, 28, 28, SLICOptions{})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := Auto(img, 1, 28, 28)
		checkValid(t, q, 28, 28)
		checkValid(t, s, 28, 28)
		t.Logf("img %d: quickshift %d slic %d auto %d", i, q.N, s.N, a.N)
		if i == 0 || i == 20 {
			t.Logf("\n%s\n%s", render(q), render(s))
		}
	}
}

func TestExplore224(t *testing.T) {
	img := scene(224, 224)
	q, err := Quickshift(img, 3, 224, 224, QuickshiftOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := SLIC(img, 3, 224, 224, SLICOptions{})
	a, _ := Auto(img, 3, 224, 224)
	checkValid(t, q, 224, 224)
	checkValid(t, s, 224, 224)
	t.Logf("quickshift %d slic %d auto %d", q.N, s.N, a.N)
	g := digit7(224, 224)
	q, _ = Quickshift(g, 1, 224, 224, QuickshiftOptions{})
	s, _ = SLIC(g, 1, 224, 224, SLICOptions{})
	t.Logf("grey 7: quickshift %d slic %d", q.N, s.N)
}

func BenchmarkX(b *testing.B) {
	img := scene(224, 224)
	b.Run("slic224", func(b *testing.B) {
		for b.Loop() {
			SLIC(img, 3, 224, 224, SLICOptions{})
		}
	})
	b.Run("qs224", func(b *testing.B) {
		for b.Loop() {
			Quickshift(img, 3, 224, 224, QuickshiftOptions{})
		}
	})
}
