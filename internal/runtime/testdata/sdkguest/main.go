// Command sdkguest is the runtime's pooled test guest, written with the Go
// SDK: one route per behaviour the tests need, friendly and hostile.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
	"unsafe"

	"github.com/sigilhq/sigil/sdk/sigil"
)

var (
	served int      // requests this instance served: shows reuse
	hoard  [][]byte // the memory bomb's
	sink   byte
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		served++
		w.Header().Set("X-Served", strconv.Itoa(served))
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Query", r.URL.RawQuery)
		w.Header().Set("X-In", r.Header.Get("X-In"))
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.Copy(w, r.Body)
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		for i := range n {
			fmt.Fprintf(w, "chunk %d\n", i)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getenv(r.URL.Query().Get("k")))
	})
	mux.HandleFunc("/secret", func(w http.ResponseWriter, r *http.Request) {
		b, err := os.ReadFile("/var/openfaas/secrets/" + r.URL.Query().Get("name"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		_, _ = w.Write(b)
	})
	mux.HandleFunc("/print", func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("printed to stdout") // the SDK sends this to stderr
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("d"))
		time.Sleep(d)
		fmt.Fprint(w, "slept")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		buf := make([]byte, 1<<16)
		for n > 0 {
			k := min(n, len(buf))
			_, _ = w.Write(buf[:k])
			n -= k
		}
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		for {
			served++
		}
	})
	mux.HandleFunc("/bomb", func(w http.ResponseWriter, r *http.Request) {
		for {
			hoard = append(hoard, make([]byte, 1<<20))
		}
	})
	mux.HandleFunc("/trap", func(w http.ResponseWriter, r *http.Request) {
		// An address far past any linear memory this guest can have: a
		// real out-of-bounds trap, not a Go nil-pointer panic.
		p := (*byte)(unsafe.Add(unsafe.Pointer(&sink), 0x7ffffff0))
		sink = *p
		fmt.Fprint(w, sink)
	})
	mux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) {
		done := make(chan struct{})
		go func() { panic("crash in a goroutine") }() // unrecoverable: the process exits 2
		<-done
	})
	mux.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		os.Exit(3)
	})
	sigil.Serve(mux)
}
