// Command hello is Sigil's hello-world function (OpenFaaS ABI): it reads the
// request body from stdin and answers "Hello, <body>!", or "Hello, world!"
// when the body is empty.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	body, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "hello: reading body: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stdout, greeting(string(body)))
}

// greeting returns the answer for body, ignoring surrounding white space.
func greeting(body string) string {
	name := strings.TrimSpace(body)
	if name == "" {
		name = "world"
	}
	return "Hello, " + name + "!"
}
