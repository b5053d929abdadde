package cli

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// parseKV turns repeated key=value flags into a map (later keys win). The
// value may contain "=". nil when there are none.
func parseKV(cmd *cobra.Command, flag string, list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(list))
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usagef(cmd, "--%s %q: want key=value", flag, kv)
		}
		m[strings.TrimSpace(k)] = v
	}
	return m, nil
}

// stdinIsTerminal reports whether r is a terminal, in which case commands
// do not wait for a body on it.
func stdinIsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// readStdin reads all of the command's stdin, or nothing from a terminal.
func readStdin(cmd *cobra.Command) ([]byte, bool, error) {
	in := cmd.InOrStdin()
	if stdinIsTerminal(in) {
		return nil, false, nil
	}
	b, err := io.ReadAll(in)
	if err != nil {
		return nil, false, fmt.Errorf("read stdin: %w", err)
	}
	return b, true, nil
}

// newTable returns a tabwriter for aligned columns; call Flush.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
}

// joinMap renders a map as sorted "k=v" pairs separated by ", ", or "<none>".
func joinMap(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ", ")
}

// joinList renders a list separated by ", ", or "<none>".
func joinList(l []string) string {
	if len(l) == 0 {
		return "<none>"
	}
	return strings.Join(l, ", ")
}

// deref returns *m or nil.
func deref(m *map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	return *m
}
