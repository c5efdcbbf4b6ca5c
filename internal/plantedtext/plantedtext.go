package plantedtext

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Word is the planted word; it alone decides the class.
const Word = "zorp"

// Filler are the words every sentence is made of besides the planted one.
var Filler = strings.Fields("the a movie film story actor scene plot was is very quite long short old new")

// CSV is the data set as CSV text with the columns review and label
// (always the same 100 rows).
func CSV() string {
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("review,label\n")
	for i := range 100 {
		w := make([]string, 5)
		for j := range w {
			w[j] = Filler[rng.IntN(len(Filler))]
		}
		label := "neg"
		if i%2 == 0 {
			w[rng.IntN(5)], label = Word, "pos"
		}
		fmt.Fprintf(&b, "%q,%s\n", strings.Join(w, " "), label)
	}
	return b.String()
}

// Write writes CSV to dir/reviews.csv and returns the data SPEC that
// reads it (csv:PATH?text=review&target=label) and the file's path.
func Write(dir string) (spec, path string, err error) {
	path = filepath.Join(dir, "reviews.csv")
	if err := os.WriteFile(path, []byte(CSV()), 0o644); err != nil {
		return "", "", err
	}
	return "csv:" + path + "?text=review&target=label", path, nil
}
