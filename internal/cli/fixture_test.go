package cli

import (
	"fmt"
	"os"
	"testing"
)

// emptyModule is the smallest valid Wasm module: the magic and version,
// no sections. The CLI tests push it to a fake gateway; it is written here
// rather than committed because the repository holds no .wasm files.
var emptyModule = []byte("\x00asm\x01\x00\x00\x00")

func TestMain(m *testing.M) {
	if err := os.WriteFile("testdata/hello.wasm", emptyModule, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "write fixture:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
