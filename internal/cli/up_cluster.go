package cli

import (
	"os"
	"strconv"
	"strings"
)

// envList reads a comma-separated $key (empty items dropped).
func envList(key string) []string {
	var out []string
	for _, s := range strings.Split(os.Getenv(key), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// envInt reads $key as an int (0 when unset or malformed).
func envInt(key string) int {
	v, _ := strconv.Atoi(os.Getenv(key))
	return v
}
