package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/sigilhq/sigil/internal/registry"
	"github.com/sigilhq/sigil/sdk"
	"github.com/sigilhq/sigil/templates"
)

func newNewCommand() *cobra.Command {
	var lang, dir string
	cmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Create a new function from a template (go or c)",
		Long: "new writes NAME/ with the function's source, a sigil.yml and a README.\n" +
			"Then `sigil deploy -f NAME/sigil.yml` builds, pushes and deploys it.",
		Example: "  sigil new hello --lang go\n  sigil deploy -f hello/sigil.yml\n  echo -n you | sigil invoke hello",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := registry.ValidateFunctionName(name); err != nil {
				return usagef(cmd, "%v", err)
			}
			if !slices.Contains(templates.Languages, lang) {
				return usagef(cmd, "--lang %q: want one of %s", lang, strings.Join(templates.Languages, ", "))
			}
			target := filepath.Join(dir, name)
			if err := scaffold(target, name, lang); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Created %s (%s).\nNext:\n  sigil deploy -f %s\n  echo -n you | sigil invoke %s\n",
				target, lang, filepath.Join(target, "sigil.yml"), name)
			return nil
		},
	}
	cmd.Flags().StringVar(&lang, "lang", "go", "template language: "+strings.Join(templates.Languages, " or "))
	cmd.Flags().StringVar(&dir, "dir", ".", "parent directory of the new function")
	return cmd
}

// scaffold renders the language's template into target, which must not
// exist yet (or be empty).
func scaffold(target, name, lang string) error {
	if entries, err := os.ReadDir(target); err == nil && len(entries) > 0 {
		return fmt.Errorf("new: %s already exists and is not empty", target)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("new: %w", err)
	}
	tfs, err := templates.FS(lang)
	if err != nil {
		return fmt.Errorf("new: %w", err)
	}
	data := struct{ Name, Module, GoVersion string }{name, name, goVersion()}
	err = fs.WalkDir(tfs, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(tfs, p)
		if err != nil {
			return err
		}
		t, err := template.New(p).Option("missingkey=error").Parse(string(raw))
		if err != nil {
			return fmt.Errorf("template %s: %w", p, err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return fmt.Errorf("template %s: %w", p, err)
		}
		return writeNew(filepath.Join(target, strings.TrimSuffix(p, ".tmpl")), b.Bytes())
	})
	if err != nil {
		return fmt.Errorf("new: %w", err)
	}
	if lang == "go" {
		src, err := sdk.Source()
		if err != nil {
			return fmt.Errorf("new: sdk source: %w", err)
		}
		for file, b := range src {
			if err := writeNew(filepath.Join(target, "sigil", file), b); err != nil {
				return fmt.Errorf("new: %w", err)
			}
		}
	}
	return nil
}

func writeNew(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// goVersion is the running toolchain's "1.N" for a new go.mod.
func goVersion() string {
	v := strings.TrimPrefix(goruntime.Version(), "go")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return "1.26"
}
