package sigil

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/sigilhq/sigil/internal/abi"
)

// testHandler exercises what the SDK must carry both ways.
func testHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Path", r.URL.Path)
		w.Header().Set("X-Query", r.URL.Query().Get("q"))
		w.Header().Set("X-In", r.Header.Get("X-In"))
		w.Header().Set("X-Host", r.Host)
		w.Header().Set("X-Length", fmt.Sprint(r.ContentLength))
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.Copy(w, r.Body)
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			fmt.Fprintf(w, "chunk %d\n", i)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("x"), flushSize+10))
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<html><body>hi</body></html>")
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no teapot here", http.StatusTeapot)
	})
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		panic("boom")
	})
	mux.HandleFunc("/panic-late", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		panic("boom")
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrBodyNotAllowed) {
			panic("body allowed on 204")
		}
	})
	mux.HandleFunc("/print", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	return mux
}

func TestDetect(t *testing.T) {
	tests := []struct {
		env  []string
		want mode
	}{
		{nil, modeOpenFaaS},
		{[]string{"Http_Method=GET"}, modeOpenFaaS},
		{[]string{"GATEWAY_INTERFACE=CGI/1.1"}, modeWAGI},
		{[]string{"SIGIL_ABI=pooled", "GATEWAY_INTERFACE=CGI/1.1"}, modePooled},
		{[]string{"SIGIL_ABI=WAGI"}, modeWAGI},
		{[]string{"SIGIL_ABI=openfaas", "GATEWAY_INTERFACE=CGI/1.1"}, modeOpenFaaS},
	}
	for _, tt := range tests {
		if got := detect(tt.env); got != tt.want {
			t.Errorf("detect(%q) = %v, want %v", tt.env, got, tt.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// guest runs servePooled over pipes, playing the host's side.
type guest struct {
	in   *io.PipeWriter
	out  *bufio.Reader
	logs *syncBuffer
	done chan error
}

func startGuest(t *testing.T, h http.Handler) *guest {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	g := &guest{in: inW, out: bufio.NewReader(outR), logs: &syncBuffer{}, done: make(chan error, 1)}
	go func() {
		err := servePooled(inR, outW, g.logs, h)
		_ = outW.CloseWithError(io.EOF)
		g.done <- err
	}()
	t.Cleanup(func() { _ = inW.Close(); _ = outR.Close() })
	kind, payload := g.frame(t)
	if kind != abi.FrameHello || string(payload) != abi.PooledHello {
		t.Fatalf("first frame = %q %q, want the hello", kind, payload)
	}
	return g
}

func (g *guest) frame(t *testing.T) (byte, []byte) {
	t.Helper()
	var hdr [abi.FrameHeaderLen]byte
	if _, err := io.ReadFull(g.out, hdr[:]); err != nil {
		t.Fatalf("reading a frame header: %v", err)
	}
	kind, n := abi.ParseFrameHeader(hdr[:])
	payload := make([]byte, n)
	if _, err := io.ReadFull(g.out, payload); err != nil {
		t.Fatalf("reading a frame payload: %v", err)
	}
	return kind, payload
}

type response struct {
	status int
	header http.Header
	chunks []string
	end    string
}

func (g *guest) do(t *testing.T, req *abi.PooledRequest) response {
	t.Helper()
	go func() { _, _ = g.in.Write(abi.AppendRequest(nil, req)) }()
	var resp response
	kind, payload := g.frame(t)
	if kind != abi.FrameHead {
		t.Fatalf("frame %q before the head", kind)
	}
	var err error
	if resp.status, resp.header, err = abi.ParseHead(payload); err != nil {
		t.Fatal(err)
	}
	for {
		kind, payload := g.frame(t)
		switch kind {
		case abi.FrameData:
			resp.chunks = append(resp.chunks, string(payload))
		case abi.FrameEnd:
			resp.end = string(payload)
			return resp
		default:
			t.Fatalf("unexpected frame %q", kind)
		}
	}
}

func TestPooled(t *testing.T) {
	g := startGuest(t, testHandler())
	tests := []struct {
		name       string
		req        abi.PooledRequest
		wantStatus int
		wantHeader http.Header // checked keys only
		wantChunks []string
		wantEnd    string
		wantLog    string
	}{
		{
			name: "echo",
			req: abi.PooledRequest{Method: "PUT", Host: "gw", Path: "/echo/a%20b", RawQuery: "q=1%202",
				Header: http.Header{"X-In": {"in"}}, Body: []byte("body")},
			wantStatus: 201,
			wantHeader: http.Header{"X-Method": {"PUT"}, "X-Path": {"/echo/a b"}, "X-Query": {"1 2"}, "X-In": {"in"},
				"X-Host": {"gw"}, "X-Length": {"4"}, "Set-Cookie": {"a=1", "b=2"}, "Content-Type": {"text/plain; charset=utf-8"}},
			wantChunks: []string{"body"},
		},
		{name: "echo empty body", req: abi.PooledRequest{Method: "GET", Path: "/echo/"}, wantStatus: 201, wantHeader: http.Header{"X-Length": {"0"}}},
		{name: "stream", req: abi.PooledRequest{Method: "GET", Path: "/stream"}, wantStatus: 200,
			wantHeader: http.Header{"Content-Type": {"text/event-stream"}}, wantChunks: []string{"chunk 0\n", "chunk 1\n", "chunk 2\n"}},
		{name: "big body is chunked", req: abi.PooledRequest{Method: "GET", Path: "/big"}, wantStatus: 200,
			wantChunks: []string{strings.Repeat("x", flushSize+10)}},
		{name: "sniffed type", req: abi.PooledRequest{Method: "GET", Path: "/html"}, wantStatus: 200,
			wantHeader: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, wantChunks: []string{"<html><body>hi</body></html>"}},
		{name: "error status", req: abi.PooledRequest{Method: "GET", Path: "/fail"}, wantStatus: 418, wantChunks: []string{"no teapot here\n"}},
		{name: "not found", req: abi.PooledRequest{Method: "GET", Path: "/nope"}, wantStatus: 404, wantChunks: []string{"404 page not found\n"}},
		{name: "empty", req: abi.PooledRequest{Method: "GET", Path: "/empty"}, wantStatus: 200},
		{name: "no content", req: abi.PooledRequest{Method: "GET", Path: "/nocontent"}, wantStatus: 204},
		{name: "panic before the head", req: abi.PooledRequest{Method: "GET", Path: "/panic"}, wantStatus: 500,
			wantChunks: []string{"Internal Server Error\n"}, wantLog: "panic serving GET /panic: boom"},
		{name: "panic after the head", req: abi.PooledRequest{Method: "GET", Path: "/panic-late"}, wantStatus: 200,
			wantChunks: []string{"partial"}, wantEnd: AbortedReason, wantLog: "panic serving GET /panic-late: boom"},
		{name: "bad target", req: abi.PooledRequest{Method: "GET", Path: "no-slash"}, wantStatus: 400},
		{name: "still serving", req: abi.PooledRequest{Method: "POST", Path: "/echo/"}, wantStatus: 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := g.do(t, &tt.req)
			if resp.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.status, tt.wantStatus)
			}
			for k, v := range tt.wantHeader {
				if !reflect.DeepEqual(resp.header[k], v) {
					t.Errorf("header %s = %q, want %q", k, resp.header[k], v)
				}
			}
			if tt.wantChunks != nil && !reflect.DeepEqual(resp.chunks, tt.wantChunks) {
				t.Errorf("chunks = %q, want %q", resp.chunks, tt.wantChunks)
			}
			if resp.end != tt.wantEnd {
				t.Errorf("end = %q, want %q", resp.end, tt.wantEnd)
			}
			if tt.wantLog != "" && !strings.Contains(g.logs.String(), tt.wantLog) {
				t.Errorf("logs %q lack %q", g.logs.String(), tt.wantLog)
			}
		})
	}
	_ = g.in.Close()
	if err := <-g.done; err != nil {
		t.Errorf("servePooled at end of stdin = %v, want nil", err)
	}
}

func TestPooledRejectsForeignFrames(t *testing.T) {
	g := startGuest(t, testHandler())
	go func() { _, _ = g.in.Write(abi.AppendFrame(nil, abi.FrameData, []byte("x"))) }()
	if err := <-g.done; err == nil || !strings.Contains(err.Error(), "unexpected frame") {
		t.Fatalf("servePooled = %v, want an unexpected-frame error", err)
	}
}

func TestOpenFaaS(t *testing.T) {
	tests := []struct {
		name       string
		env        []string
		body       string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{
			name:     "echo",
			env:      []string{"Http_Method=POST", "Http_Path=/echo/x", "Http_Query=q=v", "Http_X_In=in", "Http_Content_Length=4", "Http_Host=gw"},
			body:     "body",
			wantCode: 0, wantStdout: "body",
		},
		{name: "defaults", env: nil, wantCode: 0, wantStdout: "404 page not found\n"}, // GET / has no route
		{name: "stream", env: []string{"Http_Path=/stream"}, wantStdout: "chunk 0\nchunk 1\nchunk 2\n"},
		{name: "error status", env: []string{"Http_Path=/fail"}, wantCode: 1, wantStderr: "sigil: status 418: no teapot here\n"},
		{name: "panic", env: []string{"Http_Path=/panic"}, wantCode: 1, wantStderr: "panic serving GET /panic: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := serveOpenFaaS(tt.env, strings.NewReader(tt.body), &stdout, &stderr, testHandler())
			if tt.name == "defaults" {
				tt.wantCode = 1 // 404 is an error status
				tt.wantStdout = ""
			}
			if code != tt.wantCode || stdout.String() != tt.wantStdout || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("= %d %q %q, want %d %q %q", code, stdout.String(), stderr.String(), tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

func TestOpenFaaSRequest(t *testing.T) {
	r := openfaasRequest([]string{"Http_Method=PUT", "Http_Path=/a b", "Http_Query=x=1", "Http_Content_Type=text/plain",
		"Http_X_Forwarded_For=1.2.3.4", "Http_Host=h", "Http_Content_Length=3", "fprocess=x"}, []byte("abc"))
	if r.Method != "PUT" || r.URL.Path != "/a b" || r.URL.RawQuery != "x=1" || r.Host != "h" || r.ContentLength != 3 {
		t.Errorf("request = %s %s %q host %q len %d", r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.ContentLength)
	}
	want := http.Header{"Content-Type": {"text/plain"}, "X-Forwarded-For": {"1.2.3.4"}}
	if !reflect.DeepEqual(r.Header, want) {
		t.Errorf("header = %v, want %v", r.Header, want)
	}
}

func TestWAGI(t *testing.T) {
	env := func(path, query string) []string {
		return []string{"GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=POST", "PATH_INFO=" + path, "QUERY_STRING=" + query,
			"HTTP_X_IN=in", "HTTP_HOST=gw", "CONTENT_TYPE=text/plain", "CONTENT_LENGTH=4", "SERVER_NAME=srv", "REMOTE_ADDR=1.2.3.4"}
	}
	tests := []struct {
		name       string
		env        []string
		wantCode   int
		wantStdout string
	}{
		{
			name: "echo", env: env("/echo/x", "q=v"),
			wantStdout: "Status: 201 Created\nContent-Type: text/plain; charset=utf-8\nSet-Cookie: a=1, b=2\nX-Host: gw\nX-In: in\n" +
				"X-Length: 4\nX-Method: POST\nX-Path: /echo/x\nX-Query: v\n\nbody",
		},
		{name: "error status", env: env("/fail", ""),
			wantStdout: "Status: 418 I'm a teapot\nContent-Type: text/plain; charset=utf-8\nX-Content-Type-Options: nosniff\n\nno teapot here\n"},
		{name: "stream", env: env("/stream", ""), wantStdout: "Status: 200 OK\nContent-Type: text/event-stream\n\nchunk 0\nchunk 1\nchunk 2\n"},
		{name: "empty", env: env("/empty", ""), wantStdout: "Status: 200 OK\n\n"},
		{name: "panic", env: env("/panic", ""), wantCode: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := serveWAGI(tt.env, strings.NewReader("body"), &stdout, &stderr, testHandler())
			if code != tt.wantCode || (tt.wantCode == 0 && stdout.String() != tt.wantStdout) {
				t.Errorf("= %d\n%s\nwant %d\n%s\nstderr: %s", code, stdout.String(), tt.wantCode, tt.wantStdout, stderr.String())
			}
			if tt.wantCode == 0 {
				if resp, err := abi.ParseCGI(stdout.Bytes()); err != nil {
					t.Errorf("the gateway's CGI parser rejects the output: %v (%+v)", err, resp)
				}
			}
		})
	}
}

// TestWireMatchesHost pins the SDK's copy of the codec to the host's
// (internal/abi), both ways.
func TestWireMatchesHost(t *testing.T) {
	if pooledHello != abi.PooledHello || frameHeaderLen != abi.FrameHeaderLen ||
		frameHello != abi.FrameHello || frameRequest != abi.FrameRequest || frameHead != abi.FrameHead ||
		frameData != abi.FrameData || frameEnd != abi.FrameEnd {
		t.Fatal("frame constants differ from internal/abi")
	}
	h := http.Header{"B": {"2"}, "A": {"1", "x"}, "Content-Type": {"text/plain"}}
	if got, want := appendHead(nil, 201, h), abi.AppendHead(nil, 201, h); !bytes.Equal(got, want) {
		t.Errorf("head frame\n got %x\nwant %x", got, want)
	}
	if got, want := appendFrame(nil, frameData, []byte("x")), abi.AppendFrame(nil, abi.FrameData, []byte("x")); !bytes.Equal(got, want) {
		t.Errorf("data frame\n got %x\nwant %x", got, want)
	}
	req := &abi.PooledRequest{Method: "POST", Host: "h", Path: "/p%20q", RawQuery: "a=1", RemoteAddr: "1.2.3.4:5",
		Header: http.Header{"X": {"1", "2"}, "Empty": {""}}, Body: []byte("body")}
	frame := abi.AppendRequest(nil, req)
	got, err := parseRequest(frame[abi.FrameHeaderLen:])
	if err != nil {
		t.Fatal(err)
	}
	want := &wireRequest{method: "POST", host: "h", path: "/p%20q", rawQuery: "a=1", remoteAddr: "1.2.3.4:5", header: req.Header, body: []byte("body")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseRequest\n got %+v\nwant %+v", got, want)
	}
	for _, bad := range [][]byte{nil, {5, 'G'}, {0, 0, 0, 0, 0, 9}, {0xff}} {
		if _, err := parseRequest(bad); err == nil {
			t.Errorf("parseRequest(%x) accepted", bad)
		}
	}
}
