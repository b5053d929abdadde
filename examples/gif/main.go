// Command gif converts a PNG or JPEG request body into a GIF (OpenFaaS ABI).
// The optional query parameter w=<pixels> scales the image down to that width
// (nearest neighbour, aspect ratio kept). The response content type comes from
// the deployment env content_type=image/gif.
package main

import (
	"bufio"
	"fmt"
	"os"
)

func main() {
	out := bufio.NewWriterSize(os.Stdout, 64*1024)
	if err := convert(os.Stdin, out, os.Getenv("Http_Query")); err != nil {
		fmt.Fprintf(os.Stderr, "gif: %v\n", err)
		os.Exit(1)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "gif: writing response: %v\n", err)
		os.Exit(1)
	}
}
