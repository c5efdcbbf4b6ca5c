package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/onnx"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/zoo"
)

// checkerScript runs onnx.checker (with full_check: strict shape
// inference) on each file named on the command line.
const checkerScript = `
import json, sys
import onnx
for p in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(p), full_check=True)
        print(json.dumps({"file": p, "ok": True}))
    except Exception as e:
        print(json.dumps({"file": p, "ok": False, "error": str(e).strip().splitlines()[0][:200]}))
print(json.dumps({"info": {"onnx": onnx.__version__}}))
`

// zooExport is one exported zoo model: its file, a fixed input batch and
// glassbox's outputs on it.
type zooExport struct {
	Name  string `json:"name"`
	ONNX  string `json:"onnx"`
	X     string `json:"x"`
	Shape []int  `json:"shape"`
	Dtype string `json:"dtype"`
	Y     string `json:"y"`

	ops      string
	err      error
	reimport string
}

// zooConfig sizes each zoo model for a typical input; tokens tells a text
// model (whose exported input still takes the ids as float32, as glassbox
// feeds them).
func zooConfig(name string) (cfg zoo.Config, tokens bool) {
	switch {
	case name == "lenet":
		return zoo.Config{InputShape: []int{1, 28, 28}, Outputs: 10}, false
	case name == "cnn":
		return zoo.Config{InputShape: []int{3, 32, 32}, Outputs: 10}, false
	case strings.HasSuffix(name, "-lm"):
		return zoo.Config{InputShape: []int{16}, Outputs: 50, Vocab: 50}, true
	case name == "rnn" || name == "lstm" || name == "gru":
		return zoo.Config{InputShape: []int{16}, Outputs: 3, Vocab: 50}, true
	}
	return zoo.Config{InputShape: []int{13}, Outputs: 3}, false
}

// exportCheck exports every zoo model with onnx.Export and checks the files
// with onnx.checker and onnxruntime (which also runs them and compares
// with glassbox's outputs), and reads each back into glassbox.
func exportCheck(cfg config) {
	dir := filepath.Join(cfg.dir, "glassbox")
	fmt.Printf("\nglassbox's exports (onnx.Export of every zoo model into %s)\n", dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Printf("  %v\n", err)
		return
	}
	var list []*zooExport
	for _, name := range zoo.Names() {
		z := &zooExport{Name: name}
		list = append(list, z)
		z.err = exportOne(dir, name, z)
	}
	var files []string
	var good []*zooExport
	for _, z := range list {
		if z.err == nil {
			files = append(files, z.ONNX)
			good = append(good, z)
		}
	}
	checker := map[string]string{}
	if len(files) > 0 {
		out, err := exec.Command(cfg.python, append([]string{"-c", checkerScript}, files...)...).CombinedOutput()
		for _, l := range strings.Split(string(out), "\n") {
			var r struct {
				File  string
				OK    bool
				Error string
				Info  json.RawMessage
			}
			if json.Unmarshal([]byte(l), &r) != nil {
				continue
			}
			if r.Info != nil {
				fmt.Printf("  python onnx: %s\n", r.Info)
				continue
			}
			checker[r.File] = "pass"
			if !r.OK {
				checker[r.File] = "FAIL: " + r.Error
			}
		}
		if err != nil {
			fmt.Printf("  onnx.checker: %v: %s (install with: apt-get install -y python3-onnx)\n", err, lastLines(string(out), 3))
		}
	}
	ortRes := map[string]string{}
	if cfg.ort && len(good) > 0 {
		listPath := filepath.Join(dir, "list.json")
		b, _ := json.Marshal(good)
		if err := os.WriteFile(listPath, b, 0o644); err == nil {
			cmd := exec.Command("node", filepath.Join(cfg.scripts, "ort.mjs"), "check", listPath)
			cmd.Env = append(os.Environ(), "GLASSBOX_ORT_DIR="+cfg.ortDir)
			out, err := cmd.StdoutPipe()
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err == nil && cmd.Start() == nil {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					var r struct {
						Model     string
						OK        bool
						Error     string
						MaxAbsErr float64 `json:"max_abs_err"`
						RelErr    float64 `json:"rel_err"`
					}
					if json.Unmarshal(sc.Bytes(), &r) != nil {
						continue
					}
					if r.OK {
						ortRes[r.Model] = fmt.Sprintf("runs; vs glassbox %.2g (%.2g rel) %s", r.MaxAbsErr, r.RelErr, verdict(r.RelErr <= 1e-4))
					} else {
						ortRes[r.Model] = "FAIL: " + r.Error
					}
				}
				if err := cmd.Wait(); err != nil {
					fmt.Printf("  onnxruntime check: %v: %s\n", err, lastLines(stderr.String(), 3))
				}
			}
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  model\tonnx.checker\tonnxruntime\tglassbox re-import\toperators")
	for _, z := range list {
		if z.err != nil {
			fmt.Fprintf(tw, "  %s\texport FAILED: %v\t\t\t\n", z.Name, z.err)
			continue
		}
		c, o := checker[z.ONNX], ortRes[z.Name]
		if c == "" {
			c = "-"
		}
		if o == "" {
			o = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", z.Name, c, o, z.reimport, z.ops)
	}
	tw.Flush()
}

func exportOne(dir, name string, z *zooExport) error {
	cfg, tokens := zooConfig(name)
	m, err := zoo.New(name, cfg, tensor.NewRNG(1))
	if err != nil {
		return err
	}
	om, err := onnx.Export(m, cfg.InputShape, onnx.ExportOptions{})
	if err != nil {
		return err
	}
	counts := map[string]int{}
	var order []string
	for _, n := range om.Graph.Nodes {
		if counts[n.OpType] == 0 {
			order = append(order, n.OpType)
		}
		counts[n.OpType]++
	}
	for i, op := range order {
		order[i] = fmt.Sprintf("%s×%d", op, counts[op])
	}
	z.ops = strings.Join(order, " ")
	z.ONNX, z.X, z.Y = filepath.Join(dir, name+".onnx"), filepath.Join(dir, name+".x.bin"), filepath.Join(dir, name+".y.bin")
	z.Shape, z.Dtype = cfg.InputShape, "float32"
	if err := onnx.WriteFile(z.ONNX, om); err != nil {
		return err
	}
	const n = 2
	rng := tensor.NewRNG(3)
	var x *tensor.Tensor
	if tokens {
		x = tensor.New(append([]int{n}, cfg.InputShape...)...)
		for i := range x.Data() {
			x.Data()[i] = float32(rng.IntN(cfg.Vocab))
		}
	} else {
		x = tensor.RandN(rng, 0, 1, append([]int{n}, cfg.InputShape...)...)
	}
	var y *tensor.Tensor
	if err := tensor.Catch(func() { y = m.Forward(nn.Eval(), autograd.Const(x)).Value.Contiguous() }); err != nil {
		return err
	}
	if err := writeF32(z.X, x.Data()); err != nil {
		return err
	}
	if err := writeF32(z.Y, y.Data()); err != nil {
		return err
	}
	// Read the file back into glassbox.
	z.reimport = "ok"
	back, err := onnx.ReadFile(z.ONNX, onnx.ReadOptions{})
	if err == nil {
		var mod *onnx.Module
		if mod, err = onnx.Import(back, onnx.ImportOptions{}); err == nil {
			var y2 *tensor.Tensor
			if err = tensor.Catch(func() { y2 = mod.Forward(nn.Eval(), autograd.Const(x)).Value.Contiguous() }); err == nil {
				abs, rel := errs(y2.Data(), y.Data())
				z.reimport = fmt.Sprintf("%.2g (%.2g rel) %s", abs, rel, verdict(rel <= 1e-5))
			}
		}
	}
	if err != nil {
		z.reimport = "FAIL: " + err.Error()
	}
	return nil
}
