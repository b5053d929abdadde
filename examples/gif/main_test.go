package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHandler(t *testing.T) {
	tests := []struct {
		name       string
		body       []byte
		query      string
		wantStatus int
		wantType   string
	}{
		{name: "png", body: encoded(t, "png", testImage(8, 4)), wantStatus: 200, wantType: "image/gif"},
		{name: "scaled jpeg", body: encoded(t, "jpeg", testImage(8, 4)), query: "?w=4", wantStatus: 200, wantType: "image/gif"},
		{name: "not an image", body: []byte("nope"), wantStatus: 400, wantType: "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			handle(w, httptest.NewRequest(http.MethodPost, "/"+tt.query, bytes.NewReader(tt.body)))
			if w.Code != tt.wantStatus || w.Header().Get("Content-Type") != tt.wantType {
				t.Fatalf("= %d %q, want %d %q (%s)", w.Code, w.Header().Get("Content-Type"), tt.wantStatus, tt.wantType, w.Body.Bytes())
			}
			if tt.wantStatus == 200 && !bytes.HasPrefix(w.Body.Bytes(), []byte("GIF8")) {
				t.Errorf("body is not a GIF: %q", w.Body.Bytes()[:min(8, w.Body.Len())])
			}
		})
	}
}
