package inspect

import (
	"context"
	"testing"
)

func TestMaximizeChannelsSheet(t *testing.T) {
	m := smallCNN(3)
	shape := []int{1, 12, 12}
	mx, img, err := MaximizeChannels(context.Background(), m, shape, 0, 2, MaximizeOptions{Seed: 1, Steps: 30})
	if err != nil {
		t.Fatal(err)
	}
	if mx.Layer != 0 || len(mx.Channels) != 2 || len(mx.GreyCentre) != 2 || img == nil {
		t.Fatalf("sheet %+v", mx)
	}
	for i := range mx.Channels {
		if mx.Final[i] <= mx.Grey[i] {
			t.Errorf("channel %d: maximised mean activation %v is not above grey's %v", i, mx.Final[i], mx.Grey[i])
		}
	}
	if _, _, err := MaximizeChannels(context.Background(), m, []int{64}, 0, 2, MaximizeOptions{}); err == nil {
		t.Error("a table shape was accepted")
	}
	if _, _, err := MaximizeChannels(context.Background(), m, shape, 99, 2, MaximizeOptions{}); err == nil {
		t.Error("layer 99 was accepted")
	}
}
