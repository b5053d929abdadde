package build

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// BuildExample builds e from repoRoot into outDir/<name>.wasm and returns the
// path. It rebuilds only when a source file under e.Dir is newer than the
// output (or the output is missing). The output is written to a temporary
// file and renamed into place, so an interrupted build never leaves a
// truncated module that looks up to date.
func BuildExample(ctx context.Context, repoRoot string, e Example, outDir string) (string, error) {
	srcDir := filepath.Join(repoRoot, filepath.FromSlash(e.Dir))
	out := filepath.Join(outDir, e.Name+".wasm")

	newest, cFiles, err := scanSources(srcDir)
	if err != nil {
		return "", fmt.Errorf("build example %s: %w", e.Name, err)
	}
	if st, err := os.Stat(out); err == nil && st.Mode().IsRegular() && !newest.After(st.ModTime()) {
		return out, nil
	}

	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", fmt.Errorf("build example %s: %w", e.Name, err)
	}
	tmp, err := os.CreateTemp(outDir, "."+e.Name+"-*.wasm.tmp")
	if err != nil {
		return "", fmt.Errorf("build example %s: %w", e.Name, err)
	}
	tmpName := tmp.Name()
	_ = tmp.Close()
	defer os.Remove(tmpName) // no-op once renamed

	start := time.Now()
	switch e.Lang {
	case "go":
		err = Go(ctx, srcDir, tmpName)
	case "c":
		if len(cFiles) == 0 {
			err = fmt.Errorf("no .c files in %s", srcDir)
		} else {
			err = C(ctx, cFiles, tmpName)
		}
	default:
		err = fmt.Errorf("unknown language %q", e.Lang)
	}
	if err != nil {
		return "", fmt.Errorf("build example %s: %w", e.Name, err)
	}
	if err := os.Chmod(tmpName, 0o644); err != nil {
		return "", fmt.Errorf("build example %s: %w", e.Name, err)
	}
	if err := os.Rename(tmpName, out); err != nil {
		return "", fmt.Errorf("build example %s: %w", e.Name, err)
	}
	slog.Debug("built example", "name", e.Name, "lang", e.Lang, "out", out, "duration", time.Since(start))
	return out, nil
}

// scanSources walks srcDir and returns the newest modification time among the
// files that go into the module, plus the sorted .c files (for C examples).
// Documentation (*.md), Go tests (*_test.go) and testdata/ do not count: they
// never change the built module.
func scanSources(srcDir string) (time.Time, []string, error) {
	var newest time.Time
	var cFiles []string
	err := filepath.WalkDir(srcDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != srcDir && (name == "testdata" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".md") || strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, ".") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.ModTime().After(newest) {
			newest = info.ModTime()
		}
		if strings.HasSuffix(name, ".c") {
			cFiles = append(cFiles, path)
		}
		return nil
	})
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("scan sources in %s: %w", srcDir, err)
	}
	sort.Strings(cFiles)
	return newest, cFiles, nil
}
