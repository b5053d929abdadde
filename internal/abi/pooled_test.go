package abi

import (
	"encoding/hex"
	"errors"
	"net/http"
	"path/filepath"
	"reflect"
	"testing"
)

func TestPooledRequestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		req  PooledRequest
	}{
		{name: "empty", req: PooledRequest{Header: http.Header{}}},
		{
			name: "full",
			req: PooledRequest{
				Method: "POST", Host: "gw:8080", Path: "/a%2Fb/c", RawQuery: "x=1&y=%20",
				RemoteAddr: "127.0.0.1:5555",
				Header:     http.Header{"Content-Type": {"text/plain"}, "X-Multi": {"1", "2"}, "Empty": {""}},
				Body:       []byte("hello\x00world"),
			},
		},
		{name: "binary body", req: PooledRequest{Method: "PUT", Path: "/", Header: http.Header{}, Body: []byte{0, 1, 2, 0xff, 'Q'}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame := AppendRequest([]byte("prefix"), &tt.req)
			frame = frame[len("prefix"):]
			kind, n := ParseFrameHeader(frame)
			if kind != FrameRequest || int(n) != len(frame)-FrameHeaderLen {
				t.Fatalf("header = %q %d, want Q %d", kind, n, len(frame)-FrameHeaderLen)
			}
			got, err := ParseRequest(frame[FrameHeaderLen:])
			if err != nil {
				t.Fatal(err)
			}
			if got.Body == nil {
				got.Body = []byte{}
			}
			want := tt.req
			if want.Body == nil {
				want.Body = []byte{}
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("round trip:\n got %#v\nwant %#v", *got, want)
			}
		})
	}
}

// TestPooledGolden pins the wire bytes, so the guest SDK and the host can
// never drift apart silently.
func TestPooledGolden(t *testing.T) {
	req := AppendRequest(nil, &PooledRequest{
		Method: "POST", Host: "h", Path: "/p", RawQuery: "q=1", RemoteAddr: "1.2.3.4:5",
		Header: http.Header{"B": {"2"}, "A": {"1", "x"}},
		Body:   []byte("body"),
	})
	head := AppendHead(nil, 201, http.Header{"Content-Type": {"text/plain"}})
	var all []byte
	all = append(all, req...)
	all = append(all, head...)
	all = AppendFrame(all, FrameData, []byte("chunk"))
	all = AppendFrame(all, FrameEnd, nil)
	all = AppendFrame(all, FrameHello, []byte(PooledHello))
	checkGolden(t, filepath.Join("testdata", "pooled", "frames.golden"), []byte(hex.Dump(all)))
}

func TestParseHead(t *testing.T) {
	payload := func(status int, h http.Header) []byte { return AppendHead(nil, status, h)[FrameHeaderLen:] }
	tests := []struct {
		name       string
		payload    []byte
		wantStatus int
		wantHeader http.Header
		wantErr    bool
	}{
		{name: "ok", payload: payload(404, http.Header{"X-A": {"1"}}), wantStatus: 404, wantHeader: http.Header{"X-A": {"1"}}},
		{name: "canonical names", payload: payload(200, http.Header{"x-lower": {"v"}}), wantStatus: 200, wantHeader: http.Header{"X-Lower": {"v"}}},
		{
			name: "framing headers dropped", wantStatus: 200, wantHeader: http.Header{"Set-Cookie": {"a=1", "b=2"}},
			payload: payload(200, http.Header{"Content-Length": {"99"}, "Transfer-Encoding": {"chunked"}, "Connection": {"close"}, "Set-Cookie": {"a=1", "b=2"}}),
		},
		{name: "invalid names dropped", payload: payload(200, http.Header{"Bad Name": {"x"}, "": {"y"}}), wantStatus: 200, wantHeader: http.Header{}},
		{name: "CR LF NUL become spaces", payload: payload(200, http.Header{"X": {"a\r\nInjected: 1\x00"}}), wantStatus: 200, wantHeader: http.Header{"X": {"a  Injected: 1 "}}},
		{name: "1xx is not final", payload: payload(101, nil), wantErr: true},
		{name: "status 0", payload: payload(0, nil), wantErr: true},
		{name: "status 1000", payload: payload(1000, nil), wantErr: true},
		{name: "empty", payload: nil, wantErr: true},
		{name: "truncated string", payload: []byte{0xc8, 0x01, 1, 5, 'a'}, wantErr: true},
		{name: "huge count", payload: []byte{0xc8, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f}, wantErr: true},
		{name: "trailing bytes", payload: append(payload(200, nil), 'x'), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, err := ParseHead(tt.payload)
			if tt.wantErr {
				if !errors.Is(err, ErrPooledFrame) {
					t.Fatalf("ParseHead = %d %v %v, want ErrPooledFrame", status, h, err)
				}
				return
			}
			if err != nil || status != tt.wantStatus || !reflect.DeepEqual(h, tt.wantHeader) {
				t.Fatalf("ParseHead = %d %#v %v, want %d %#v", status, h, err, tt.wantStatus, tt.wantHeader)
			}
		})
	}
}

func TestParseRequestMalformed(t *testing.T) {
	for _, p := range [][]byte{nil, {5, 'G'}, {0, 0, 0, 0, 0, 9}, {0xff}} {
		if _, err := ParseRequest(p); !errors.Is(err, ErrPooledFrame) {
			t.Errorf("ParseRequest(%x) error = %v, want ErrPooledFrame", p, err)
		}
	}
}

func FuzzParseHead(f *testing.F) {
	f.Add(AppendHead(nil, 200, http.Header{"A": {"b"}})[FrameHeaderLen:])
	f.Add([]byte{0xc8, 0x01, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		status, h, err := ParseHead(b)
		if err != nil {
			return
		}
		if status < 200 || status > 999 {
			t.Fatalf("status %d accepted", status)
		}
		for k, vs := range h {
			if !validHeaderName(k) || k != http.CanonicalHeaderKey(k) {
				t.Fatalf("name %q accepted", k)
			}
			for _, v := range vs {
				if cleanValue(v) != v {
					t.Fatalf("value %q accepted", v)
				}
			}
		}
	})
}
