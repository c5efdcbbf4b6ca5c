package onnx

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/zoo"
)

// Every zoo model's export passes the ONNX project's own checker (with
// full checking, shape inference included).
func TestExportsPassONNXChecker(t *testing.T) {
	if err := exec.Command(python, "-c", "import onnx").Run(); err != nil {
		t.Fatalf("%s cannot import onnx (%v): apt-get install -y python3-onnx", python, err)
	}
	dir := t.TempDir()
	var files []string
	for _, c := range []struct {
		name string
		cfg  zoo.Config
	}{
		{"linear", zoo.Config{InputShape: []int{4}, Outputs: 3}},
		{"perceptron", zoo.Config{InputShape: []int{4}, Outputs: 3}},
		{"mlp", zoo.Config{InputShape: []int{4}, Outputs: 3}},
		{"deep", zoo.Config{InputShape: []int{4}, Outputs: 3}},
		{"lenet", zoo.Config{InputShape: []int{1, 28, 28}, Outputs: 10}},
		{"cnn", zoo.Config{InputShape: []int{3, 32, 32}, Outputs: 10}},
		{"rnn", zoo.Config{InputShape: []int{12}, Outputs: 2, Vocab: 50}},
		{"lstm", zoo.Config{InputShape: []int{12}, Outputs: 2, Vocab: 50}},
		{"gru", zoo.Config{InputShape: []int{12}, Outputs: 2, Vocab: 50}},
		{"lstm-lm", zoo.Config{InputShape: []int{12}, Outputs: 50, Vocab: 50}},
	} {
		m, err := zoo.New(c.name, c.cfg, tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		om, err := Export(m, c.cfg.InputShape, ExportOptions{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		path := filepath.Join(dir, c.name+".onnx")
		if err := WriteFile(path, om); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	script := "import sys, onnx\nfor p in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(p), full_check=True)\n    print('ok', p)\n"
	out, err := exec.Command(python, append([]string{"-c", script}, files...)...).CombinedOutput()
	if err != nil || strings.Count(string(out), "ok ") != len(files) {
		t.Fatalf("onnx.checker: %v\n%s", err, out)
	}
}
