package datasets_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/glassbox-ml/glassbox/datasets"
)

// Load an embedded table by name: no files, no network.
func ExampleLoad() {
	d, err := datasets.Load(context.Background(), "iris", datasets.Options{})
	if err != nil {
		log.Fatal(err)
	}
	t := d.Table
	fmt.Println(d.Name, d.Kind, d.Location)
	fmt.Println(t.Rows, "rows,", t.Cols, "features:", strings.Join(t.Features, ", "))
	fmt.Println("classes:", t.Classes)
	fmt.Println("first row:", t.Row(0), "->", t.Classes[t.Labels()[0]])
	// Output:
	// iris table embedded
	// 150 rows, 4 features: sepal length (cm), sepal width (cm), petal length (cm), petal width (cm)
	// classes: [setosa versicolor virginica]
	// first row: [5.1 3.5 1.4 0.2] -> setosa
}

// Load the embedded MNIST subset; Load(ctx, "mnist", ...) gives the full
// set the same way (found in $GLASSBOX_DATA or the cache, or downloaded).
func ExampleLoad_images() {
	d, err := datasets.Load(context.Background(), "mnist-small", datasets.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("train %d×%d×%d×%d, test %d, first label %s\n",
		d.Train.N, d.Train.C, d.Train.H, d.Train.W, d.Test.N, d.Train.Classes[d.Train.Labels[0]])
	// Output:
	// train 12000×1×28×28, test 2000, first label 5
}

func ExampleReadCSV() {
	in := "age,city,income,bought\n" +
		"34,Paris,52000,yes\n" +
		"29,\"Lyon, Rhône\",NA,no\n" +
		"41,Paris,61000,yes\n"
	t, err := datasets.ReadCSV(strings.NewReader(in), datasets.CSVOptions{
		Target:  "bought",
		Missing: datasets.MissingImpute, // income NA -> mean of the others
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.Features, "->", t.Target, t.Classes)
	fmt.Println("city categories:", t.Categorical[1])
	for i := range t.Rows {
		fmt.Println(t.Row(i), t.Y[i])
	}
	// Output:
	// [age city income] -> bought [no yes]
	// city categories: [Lyon, Rhône Paris]
	// [34 1 52000] 1
	// [29 0 56500] 0
	// [41 1 61000] 1
}

func ExampleVocab_Sequences() {
	docs := []string{"A great film!", "A dull, dull film."}
	// <pad>, <unk> and the three most frequent words: a, dull, film.
	v, err := datasets.BuildVocab(docs, datasets.VocabOptions{MaxSize: 5})
	if err != nil {
		log.Fatal(err)
	}
	ids, lengths, err := v.Sequences(docs, 5, datasets.SeqOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.Size(), ids[:5], ids[5:], lengths)
	fmt.Println(v.Decode(ids[5:]))
	// Output:
	// 5 [2 1 4 1 0] [2 3 1 3 4] [4 5]
	// a dull <unk> dull film
}
