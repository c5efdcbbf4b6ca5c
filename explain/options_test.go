package explain

import (
	"context"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/explain/segment"
)

func TestLIMEOptionsResolveDefaults(t *testing.T) {
	def := limeDefaults{samples: 1000, numFeatures: 7, width: 0.25, batch: 64}
	bud, cfg, batch, err := LIMEOptions{}.resolve("lime test", def)
	if err != nil {
		t.Fatal(err)
	}
	if bud != (budget{start: 1000, max: 16000, adaptive: true, rankZ: RankZ}) || batch != 64 {
		t.Errorf("zero options: budget %+v, batch %d; want adaptive 1000..16000, batch 64", bud, batch)
	}
	if want := (fitConfig{width: 0.25, numFeatures: 7, selection: SelectAuto, ridge: 1, stableTop: 5}); cfg != want {
		t.Errorf("zero options: config %+v, want %+v", cfg, want)
	}
	set := LIMEOptions{Samples: 300, StableTop: 2, NumFeatures: 3, KernelWidth: 2, AutoKernelWidth: true, Selection: SelectNone, Ridge: 0.5, BatchSize: 9}
	bud, cfg, batch, err = set.resolve("lime test", def)
	if err != nil {
		t.Fatal(err)
	}
	if bud != (budget{start: 300, max: 300, rankZ: RankZ}) || batch != 9 {
		t.Errorf("Samples 300: budget %+v, batch %d; want fixed 300, batch 9", bud, batch)
	}
	if want := (fitConfig{width: 2, autoWidth: true, numFeatures: 3, selection: SelectNone, ridge: 0.5, stableTop: 2}); cfg != want {
		t.Errorf("set options: config %+v, want %+v", cfg, want)
	}
	// A cap below the default start lowers the start too.
	if bud, _, _, _ := (LIMEOptions{MaxSamples: 500}).resolve("lime test", def); bud != (budget{start: 500, max: 500, adaptive: true, rankZ: RankZ}) {
		t.Errorf("MaxSamples 500: budget %+v, want adaptive 500..500", bud)
	}
}

// Every LIME explainer validates the shared options the same way, and its
// errors say which explainer was called.
func TestLIMEOptionsErrorsNameExplainer(t *testing.T) {
	ctx := context.Background()
	const d = 3
	train := gaussianData(50, d, 1, nil)
	tab, err := NewTabular(train, d, TabularConfig{})
	if err != nil {
		t.Fatal(err)
	}
	const c, h, w = 1, 8, 8
	pix := texturedImage(c, h, w, 1)
	grid, err := segment.Grid(h, w, 4, 4)
	if err != nil {
		t.Fatal(err)
	}
	words := wordModel([]string{"good"}, []string{"bad"})
	explainers := map[string]func(LIMEOptions) error{
		"lime tabular": func(o LIMEOptions) error {
			_, err := tab.Explain(ctx, linearModel([]float64{1, 2, 3}, 0), train[:d], TabularOptions{LIMEOptions: o})
			return err
		},
		"lime image": func(o LIMEOptions) error {
			_, err := ExplainImage(ctx, regionModel(c, h, w, 0, 4, 0, 4), pix, c, h, w, ImageOptions{LIMEOptions: o, Segmentation: grid, Mode: Regression})
			return err
		},
		"lime text": func(o LIMEOptions) error {
			_, err := ExplainText(ctx, words, "a good day, a bad night", TextOptions{LIMEOptions: o})
			return err
		},
	}
	bad := []struct {
		opt  LIMEOptions
		want string
	}{
		{LIMEOptions{Samples: 10, MaxSamples: 20}, "set only one of them"},
		{LIMEOptions{Samples: 1}, "Samples is 1"},
		{LIMEOptions{MaxSamples: -4}, "MaxSamples is -4"},
		{LIMEOptions{StableTop: -1}, "StableTop is -1"},
		{LIMEOptions{NumFeatures: -2}, "NumFeatures is -2"},
		{LIMEOptions{KernelWidth: -1}, "KernelWidth is -1"},
		{LIMEOptions{Selection: "best"}, `unknown feature selection "best"`},
		{LIMEOptions{Ridge: -0.5}, "Ridge is -0.5"},
		{LIMEOptions{BatchSize: -3}, "BatchSize is -3"},
	}
	for what, explain := range explainers {
		for _, tc := range bad {
			err := explain(tc.opt)
			if err == nil || !strings.HasPrefix(err.Error(), what+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s with %+v: error %v, want %q starting with %q", what, tc.opt, err, tc.want, what+": ")
			}
		}
	}
	// The shared options set through the embedded struct take effect.
	good := LIMEOptions{Seed: 5, Samples: 40, Ridge: 2}
	e, err := tab.Explain(ctx, linearModel([]float64{1, 2, 3}, 0), train[:d], TabularOptions{LIMEOptions: good})
	if err != nil {
		t.Fatal(err)
	}
	ie, err := ExplainImage(ctx, regionModel(c, h, w, 0, 4, 0, 4), pix, c, h, w, ImageOptions{LIMEOptions: good, Segmentation: grid, Mode: Regression})
	if err != nil {
		t.Fatal(err)
	}
	te, err := ExplainText(ctx, words, "a good day, a bad night", TextOptions{LIMEOptions: good})
	if err != nil {
		t.Fatal(err)
	}
	for what, e := range map[string]*Explanation{"tabular": e, "image": &ie.Explanation, "text": &te.Explanation} {
		if e.Seed != 5 || e.Samples != 40 || e.Ridge != 2 || e.MaxSamples != 0 {
			t.Errorf("%s: seed %d, samples %d, ridge %v, max samples %d; want 5, 40, 2, 0 (fixed budget)", what, e.Seed, e.Samples, e.Ridge, e.MaxSamples)
		}
	}
}
