package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/glassbox-ml/glassbox/explain"
)

// commandUsage is how a command is called and one example, for its help
// page; the summary comes from register and the flags from the command's
// own FlagSet, so a flag added to a command appears in its help with its
// real default and nothing here changes.
type commandUsage struct {
	args    string // what follows "glassbox NAME"
	example string // one command line that works
}

var usages = map[string]commandUsage{
	"train": {"--data SPEC --model NAME --out FILE [flags]",
		"glassbox train --data mnist --model lenet --out lenet.gbx"},
	"eval": {"--model FILE [--data SPEC]",
		"glassbox eval --model lenet.gbx"},
	"predict": {"--model FILE (--input FILE | --text DOC)",
		"glassbox predict --model lenet.gbx --input digit.png"},
	"explain": {"--model FILE (--input FILE | --text DOC) [--method NAME] [--out DIR]",
		"glassbox explain --model lenet.gbx --input digit.png --method gradcam --out why"},
	"inspect": {"--model FILE --out DIR [flags]",
		"glassbox inspect --model lenet.gbx --out inside"},
	"serve": {"--model FILE [--addr HOST:PORT] [flags]",
		"glassbox serve --model lenet.gbx   # then open http://127.0.0.1:8080/"},
	"demo": {"[--out DIR] [flags]",
		"glassbox demo --out demo"},
}

// writeHelp prints a command's help page: its summary, how to call it,
// an example, and every flag of fs with its default.
func writeHelp(w io.Writer, fs *flag.FlagSet) {
	name := fs.Name()
	u, ok := usages[name]
	if !ok {
		u.args = "[flags]"
	}
	fmt.Fprintf(w, "glassbox %s: %s\n\nUsage: glassbox %s %s\n", name, commands[name].summary, name, u.args)
	if u.example != "" {
		fmt.Fprintf(w, "\nExample:\n  %s\n", u.example)
	}
	fmt.Fprintln(w, "\nFlags:")
	fs.VisitAll(func(f *flag.Flag) {
		typ, text := flag.UnquoteUsage(f)
		if typ != "" {
			typ = " " + strings.ToUpper(typ)
		}
		fmt.Fprintf(w, "  --%s%s\n", f.Name, typ)
		// Zero defaults go unsaid, as in Go's flag package: the texts say
		// what 0 or "" means where it means something.
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "0s" && d != "[]" {
			if typ == " STRING" {
				d = fmt.Sprintf("%q", d)
			}
			if strings.Contains(text, "\n") {
				text += "\n(default " + d + ")"
			} else {
				text += " (default " + d + ")"
			}
		}
		for _, line := range strings.Split(text, "\n") {
			fmt.Fprintf(w, "      %s\n", line)
		}
	})
}

// flagError turns the flag package's error into a usage error that names
// the fix: "did you mean" for a mistyped flag, and where the flags are
// listed.
func flagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		var known []string
		fs.VisitAll(func(f *flag.Flag) { known = append(known, f.Name) })
		msg = fmt.Sprintf("unknown flag --%s", name)
		if near := explain.Closest(name, known); near != "" {
			msg += fmt.Sprintf("; did you mean --%s?", near)
		}
	}
	return usagef("%s ('glassbox help %s' lists its flags)", msg, fs.Name())
}

// didYouMean is the shared wording of a value not among known: the
// closest one when it is a likely typo, else the list.
func didYouMean(what, value string, known []string) string {
	if near := explain.Closest(value, known); near != "" {
		return fmt.Sprintf("%s %q: did you mean %q? (known: %s)", what, value, near, strings.Join(known, ", "))
	}
	return fmt.Sprintf("%s %q: want one of %s", what, value, strings.Join(known, ", "))
}
