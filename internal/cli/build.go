package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigilhq/sigil/internal/build"
)

func newBuildCommand() *cobra.Command {
	var file, filter string
	var envsubst bool
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build the functions of a stack file to .wasm",
		Long: "build compiles every function of the stack file that has lang (go or c), handler and wasm set\n" +
			"and no skip_build: Go with GOOS=wasip1 GOARCH=wasm, C with clang --target=wasm32-wasi.\n" +
			"sigil deploy -f runs the same build first.",
		Example: "  sigil build -f hello/sigil.yml",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				file = findStackFile()
			}
			if file == "" {
				return usagef(cmd, "no stack file: pass -f sigil.yml")
			}
			s, err := loadStack(file, envsubst)
			if err != nil {
				return err
			}
			names, err := s.selected(filter)
			if err != nil {
				return err
			}
			built := 0
			for _, name := range names {
				ok, err := buildFunction(cmd.Context(), cmd.OutOrStdout(), s, name)
				if err != nil {
					return err
				}
				if ok {
					built++
				}
			}
			if built == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "Nothing to build (no function with lang, handler and wasm).")
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "yaml", "f", "", "stack file (default sigil.yml, stack.yml...)")
	cmd.Flags().StringVar(&filter, "filter", "", "build only functions matching this glob")
	cmd.Flags().BoolVar(&envsubst, "envsubst", true, "substitute ${VAR} from the environment in the stack file")
	return cmd
}

// buildable reports whether a stack function is one Sigil builds.
func buildable(fn stackFunction) bool {
	return !fn.SkipBuild && fn.Handler != "" && fn.Wasm != "" && (fn.Lang == "go" || fn.Lang == "c")
}

// buildFunction builds one stack function when it is buildable, printing
// progress; it reports whether it built.
func buildFunction(ctx context.Context, out io.Writer, s *stack, name string) (bool, error) {
	fn := s.Functions[name]
	if !buildable(fn) {
		return false, nil
	}
	src, dst := s.path(fn.Handler), s.path(fn.Wasm)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return false, fmt.Errorf("build %s: %w", name, err)
	}
	fmt.Fprintf(out, "Building %s (%s) from %s ...\n", name, fn.Lang, src)
	began := time.Now()
	var err error
	switch fn.Lang {
	case "go":
		err = build.Go(ctx, src, dst)
	case "c":
		var files []string
		files, err = filepath.Glob(filepath.Join(src, "*.c"))
		if err == nil && len(files) == 0 {
			err = fmt.Errorf("no .c files in %s", src)
		}
		if err == nil {
			err = build.C(ctx, files, dst)
		}
	}
	if err != nil {
		return false, fmt.Errorf("build %s: %w", name, err)
	}
	st, err := os.Stat(dst)
	if err != nil {
		return false, fmt.Errorf("build %s: %w", name, err)
	}
	fmt.Fprintf(out, "Built %s in %s: %s (%d bytes).\n", name, time.Since(began).Round(time.Millisecond), dst, st.Size())
	return true, nil
}
