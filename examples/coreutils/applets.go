package main

import (
	"bufio"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// applet runs one utility: args excludes the applet name; the result is the
// process exit code.
type applet func(args, env []string, stdin io.Reader, stdout, stderr io.Writer) int

var applets = map[string]applet{
	"cat":       cat,
	"echo":      echo,
	"env":       env,
	"sha512sum": sha512sum,
	"wc":        wc,
}

// run dispatches on the base name of argv[0] and returns the exit code.
func run(argv, environ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := ""
	if len(argv) > 0 {
		name = strings.TrimSuffix(path.Base(strings.ReplaceAll(argv[0], `\`, "/")), ".wasm")
		argv = argv[1:]
	}
	if name == "coreutils" && len(argv) > 0 {
		name, argv = argv[0], argv[1:]
	}
	a, ok := applets[name]
	if !ok {
		fmt.Fprintf(stderr, "coreutils: unknown applet %q (have: %s)\n", name, strings.Join(appletNames(), ", "))
		return 2
	}
	// Buffer stdout: each small write is a host call in Wasm.
	bw := bufio.NewWriterSize(stdout, 64*1024)
	code := a(argv, environ, stdin, bw, stderr)
	if err := bw.Flush(); err != nil {
		fmt.Fprintf(stderr, "%s: write error: %v\n", name, err)
		return 1
	}
	return code
}

func appletNames() []string {
	names := make([]string, 0, len(applets))
	for n := range applets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// eachInput calls fn for stdin (name "-") when files is empty, otherwise for
// each named file ("-" meaning stdin). Open errors are reported GNU style and
// make the result 1; processing continues with the next file.
func eachInput(prog string, files []string, stdin io.Reader, stderr io.Writer, fn func(name string, r io.Reader) error) int {
	if len(files) == 0 {
		files = []string{"-"}
	}
	code := 0
	for _, name := range files {
		var err error
		if name == "-" {
			err = fn(name, stdin)
		} else {
			var f *os.File
			f, err = os.Open(name)
			if err == nil {
				err = fn(name, f)
				f.Close()
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: %s: %v\n", prog, name, unwrapPathError(err))
			code = 1
		}
	}
	return code
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// cat concatenates the named files (or stdin) to stdout.
func cat(args, _ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return eachInput("cat", args, stdin, stderr, func(_ string, r io.Reader) error {
		_, err := io.Copy(stdout, r)
		return err
	})
}

// echo prints its arguments joined by one space, then a newline.
func echo(args, _ []string, _ io.Reader, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, strings.Join(args, " "))
	return 0
}

// env prints the environment, one K=V per line, in the order given.
func env(_, environ []string, _ io.Reader, stdout, _ io.Writer) int {
	for _, kv := range environ {
		fmt.Fprintln(stdout, kv)
	}
	return 0
}

// sha512sum prints "<hex>  <name>" for each input, coreutils style ("-" for stdin).
func sha512sum(args, _ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return eachInput("sha512sum", args, stdin, stderr, func(name string, r io.Reader) error {
		h := sha512.New()
		if _, err := io.Copy(h, r); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), name)
		return nil
	})
}

// counts holds what wc reports for one input.
type counts struct{ lines, words, bytes int64 }

func (c *counts) add(o counts) {
	c.lines += o.lines
	c.words += o.words
	c.bytes += o.bytes
}

// count reads r to the end. A word is a maximal run of bytes that are not
// ASCII white space (GNU wc in the C locale).
func count(r io.Reader) (counts, error) {
	var c counts
	inWord := false
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			switch b {
			case '\n':
				c.lines++
				inWord = false
			case ' ', '\t', '\v', '\f', '\r':
				inWord = false
			default:
				if !inWord {
					c.words++
					inWord = true
				}
			}
		}
		c.bytes += int64(n)
		if err == io.EOF {
			return c, nil
		}
		if err != nil {
			return c, err
		}
	}
}

// wc prints lines, words and bytes for each input in GNU coreutils format:
// right-aligned columns of width 7 when stdin is among the inputs, otherwise
// as wide as the total byte count; a "total" line when there are several files.
func wc(args, _ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	type row struct {
		name string
		c    counts
	}
	var rows []row
	var total counts
	usesStdin := len(args) == 0
	code := eachInput("wc", args, stdin, stderr, func(name string, r io.Reader) error {
		c, err := count(r)
		if err != nil {
			return err
		}
		if name == "-" {
			usesStdin = true
		}
		rows = append(rows, row{name, c})
		total.add(c)
		return nil
	})
	width := len(strconv.FormatInt(total.bytes, 10))
	if usesStdin && width < 7 {
		width = 7
	}
	line := func(name string, c counts) {
		fmt.Fprintf(stdout, "%*d %*d %*d", width, c.lines, width, c.words, width, c.bytes)
		if name != "" {
			fmt.Fprintf(stdout, " %s", name)
		}
		fmt.Fprintln(stdout)
	}
	for _, r := range rows {
		name := r.name
		if len(args) == 0 {
			name = ""
		}
		line(name, r.c)
	}
	if len(args) > 1 {
		line("total", total)
	}
	return code
}
