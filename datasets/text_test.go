package datasets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestTokenize(t *testing.T) {
	got := Tokenize("Great FILM!<br /><br />Don't miss it... &amp; 10/10 — naïve")
	want := []string{"great", "film", "!", "don't", "miss", "it", ".", ".", ".", "&", "10", "/", "10", "—", "naïve"}
	if !slices.Equal(got, want) {
		t.Fatalf("Tokenize = %q, want %q", got, want)
	}
	if got := Tokenize("it's 'quoted' rock'n'roll a<b"); !slices.Equal(got, []string{"it's", "'", "quoted", "'", "rock'n'roll", "a", "<", "b"}) {
		t.Fatalf("apostrophes and a lone <: %q", got)
	}
	if got := Tokenize("  \n\t"); len(got) != 0 {
		t.Fatalf("blank text gave %q", got)
	}
}

func TestVocabWordCapAndTies(t *testing.T) {
	docs := []string{"b a c", "a b", "a d", "e"} // a:3 b:2 then c, d, e once each
	v, err := BuildVocab(docs, VocabOptions{MaxSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	// 2 specials + a, b + the first of the tied singletons by text: c.
	if v.Size() != 5 || v.Token(0) != PadToken || v.Token(1) != UnkToken || v.Token(2) != "a" || v.Token(3) != "b" || v.Token(4) != "c" {
		t.Fatalf("vocab %q", v.tokens)
	}
	if v.ID("a") != 2 || v.ID("d") != UnkID || v.ID("never") != UnkID || v.Token(99) != UnkToken {
		t.Fatal("ID/Token lookups wrong")
	}
	if got := v.Encode("A d, c"); !slices.Equal(got, []int{2, UnkID, UnkID, 4}) {
		t.Fatalf("Encode = %v", got)
	}
	if got := v.Decode([]int{2, 4, 0, 0, 1}); got != "a c <unk>" {
		t.Fatalf("Decode = %q", got)
	}
	// Ties broken the same way whatever the document order.
	rev := slices.Clone(docs)
	slices.Reverse(rev)
	v2, _ := BuildVocab(rev, VocabOptions{MaxSize: 5})
	if !slices.Equal(v.tokens, v2.tokens) {
		t.Fatalf("order-dependent vocab: %q vs %q", v.tokens, v2.tokens)
	}
	v3, _ := BuildVocab(docs, VocabOptions{MinCount: 2})
	if !slices.Equal(v3.tokens, []string{PadToken, UnkToken, "a", "b"}) {
		t.Fatalf("MinCount 2: %q", v3.tokens)
	}
	if _, err := BuildVocab(docs, VocabOptions{MaxSize: 2}); err == nil {
		t.Fatal("MaxSize 2 accepted")
	}
}

func TestVocabCharLevelAndJSON(t *testing.T) {
	v, err := BuildVocab([]string{"abba", "Ü!"}, VocabOptions{Level: CharLevel})
	if err != nil {
		t.Fatal(err)
	}
	// a:2 b:2 (tie: a first), then "!" < "Ü" by bytes.
	if !slices.Equal(v.tokens, []string{PadToken, UnkToken, "a", "b", "!", "Ü"}) {
		t.Fatalf("char vocab %q", v.tokens)
	}
	if got := v.Decode(v.Encode("bÜa?")); got != "bÜa<unk>" {
		t.Fatalf("char round trip %q", got)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back Vocab
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Level() != CharLevel || !slices.Equal(back.tokens, v.tokens) || back.ID("Ü") != 5 {
		t.Fatalf("JSON round trip: %s -> %q", b, back.tokens)
	}
	for _, bad := range []string{`{"level":"word","tokens":["a","b"]}`, `{"level":"byte","tokens":["<pad>","<unk>"]}`, `{"level":"word","tokens":["<pad>","<unk>","x","x"]}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
}

func TestSequencesPadTruncate(t *testing.T) {
	v, _ := BuildVocab([]string{"a b c d e"}, VocabOptions{})
	// Every word once: ids by text, a=2 ... e=6.
	docs := []string{"a b c d e", "b", ""}
	ids, lens, err := v.Sequences(docs, 3, SeqOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []int{2, 3, 4, 3, 0, 0, 0, 0, 0}) || !slices.Equal(lens, []int{3, 1, 0}) {
		t.Fatalf("default: ids %v lens %v", ids, lens)
	}
	ids, _, _ = v.Sequences(docs, 3, SeqOptions{PadFront: true, TruncateFront: true})
	if !slices.Equal(ids, []int{4, 5, 6, 0, 0, 3, 0, 0, 0}) {
		t.Fatalf("front: ids %v", ids)
	}
	if _, _, err := v.Sequences(docs, 0, SeqOptions{}); err == nil {
		t.Fatal("length 0 accepted")
	}
}

func TestReadJSONL(t *testing.T) {
	in := `{"text": "good", "label": 1}` + "\n\n" + `{"text": "bad", "label": 0, "extra": [1]}` + "\r\n"
	tx, err := ReadJSONL(strings.NewReader(in), JSONLOptions{Classes: []string{"neg", "pos"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tx.Docs, []string{"good", "bad"}) || !slices.Equal(tx.Labels, []int{1, 0}) || !slices.Equal(tx.Classes, []string{"neg", "pos"}) {
		t.Fatalf("got %+v", tx)
	}
	tx, err = ReadJSONL(strings.NewReader(`{"t":"x","s":"spam"}`+"\n"+`{"t":"y","s":"ham"}`), JSONLOptions{TextField: "t", LabelField: "s"})
	if err != nil || !slices.Equal(tx.Classes, []string{"ham", "spam"}) || !slices.Equal(tx.Labels, []int{1, 0}) {
		t.Fatalf("string labels: %+v %v", tx, err)
	}
	tx, err = ReadJSONL(strings.NewReader(`{"text":"x","label":2}`), JSONLOptions{})
	if err != nil || !slices.Equal(tx.Classes, []string{"0", "1", "2"}) {
		t.Fatalf("default class names: %+v %v", tx, err)
	}
	tx, err = ReadJSONL(strings.NewReader(`{"text":"x"}`), JSONLOptions{LabelField: "-"})
	if err != nil || tx.Labels != nil || tx.Validate() != nil {
		t.Fatalf("no labels: %+v %v", tx, err)
	}
	for _, c := range []struct{ in, want string }{
		{`{"text":"a","label":1}` + "\n" + `not json`, "line 2"},
		{`{"label":1}`, `no string field "text"`},
		{`{"text":"a"}`, `no label field "label"`},
		{`{"text":"a","label":null}`, `no label field "label"`},
		{`{"text":"a","label":1.5}`, "not a class index"},
		{`{"text":"a","label":-1}`, "not a class index"},
		{`{"text":"a","label":1}` + "\n" + `{"text":"b","label":"x"}`, "line 2"},
		{"", "no documents"},
	} {
		if _, err := ReadJSONL(strings.NewReader(c.in), JSONLOptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadJSONL(%q): error %v, want %q", c.in, err, c.want)
		}
	}
	if _, err := ReadJSONL(strings.NewReader(`{"text":"a","label":3}`), JSONLOptions{Classes: []string{"x"}}); err == nil {
		t.Error("label beyond the given class names accepted")
	}
}

func TestReadCorpus(t *testing.T) {
	text := "hello world"
	for _, in := range [][]byte{[]byte(text), gzipBytes(t, []byte(text))} {
		c, err := ReadCorpus(bytes.NewReader(in), CorpusOptions{SeqLen: 4, Stride: 3})
		if err != nil {
			t.Fatal(err)
		}
		// Starts 0, 3, 6 (6+4 < 11); a 4th at 9 would need 14 characters.
		if c.N != 3 || c.Text != text || len(c.Inputs) != 12 || len(c.Targets) != 12 {
			t.Fatalf("N %d, %d inputs", c.N, len(c.Inputs))
		}
		for i, want := range []string{"hell", "lo w", "worl"} {
			if got := c.Vocab.Decode(c.Inputs[4*i : 4*i+4]); got != want {
				t.Fatalf("input %d = %q, want %q", i, got, want)
			}
			if got := c.Vocab.Decode(c.Targets[4*i : 4*i+4]); got != text[3*i+1:3*i+5] {
				t.Fatalf("target %d = %q, want %q", i, got, text[3*i+1:3*i+5])
			}
		}
		if c.Vocab.Token(2) != "l" || c.Vocab.Token(3) != "o" { // l:3, o:2 most frequent
			t.Fatalf("vocab %q", c.Vocab.tokens)
		}
	}
	if _, err := ReadCorpus(strings.NewReader("abc"), CorpusOptions{SeqLen: 3}); err == nil || !strings.Contains(err.Error(), "at least") {
		t.Fatalf("short text: %v", err)
	}
	if _, err := ReadCorpus(strings.NewReader("abcdef"), CorpusOptions{SeqLen: 2, MaxBytes: 4}); err == nil || !strings.Contains(err.Error(), "MaxBytes") {
		t.Fatalf("too long: %v", err)
	}
	if _, err := ReadCorpus(strings.NewReader("ab\xffcd"), CorpusOptions{SeqLen: 2}); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("bad UTF-8: %v", err)
	}
	if _, err := ReadCorpus(strings.NewReader("abcd"), CorpusOptions{}); err == nil {
		t.Fatal("SeqLen 0 accepted")
	}
}

func TestReadFilesWithGzip(t *testing.T) {
	dir := t.TempDir()
	jl := []byte(`{"text":"fine","label":1}` + "\n" + `{"text":"poor","label":0}` + "\n")
	csvText := []byte("a,y\n1,0\n2,1\n")
	for i, b := range [][]byte{jl, gzipBytes(t, jl)} {
		p := filepath.Join(dir, fmt.Sprintf("r%d.jsonl", i))
		os.WriteFile(p, b, 0o644)
		tx, err := ReadJSONLFile(p, JSONLOptions{})
		if err != nil || len(tx.Docs) != 2 || tx.Labels[0] != 1 {
			t.Fatalf("ReadJSONLFile %d: %+v %v", i, tx, err)
		}
	}
	for i, b := range [][]byte{csvText, gzipBytes(t, csvText)} {
		p := filepath.Join(dir, fmt.Sprintf("t%d.csv", i))
		os.WriteFile(p, b, 0o644)
		tb, err := ReadCSVFile(p, CSVOptions{})
		if err != nil || tb.Rows != 2 || !slices.Equal(tb.X, []float32{1, 2}) {
			t.Fatalf("ReadCSVFile %d: %+v %v", i, tb, err)
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("a,b\n1\n"), 0o644)
	if _, err := ReadCSVFile(bad, CSVOptions{}); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad CSV file: %v", err)
	}
	if _, err := ReadCSVFile(filepath.Join(dir, "none.csv"), CSVOptions{}); err == nil {
		t.Fatal("missing file accepted")
	}
	p := filepath.Join(dir, "corpus.txt.gz")
	os.WriteFile(p, gzipBytes(t, []byte("abcabcabc")), 0o644)
	if c, err := ReadCorpusFile(p, CorpusOptions{SeqLen: 2}); err != nil || c.N != 4 {
		t.Fatalf("ReadCorpusFile: %v", err)
	}
}
