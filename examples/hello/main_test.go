package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGreeting(t *testing.T) {
	tests := []struct{ body, want string }{
		{"", "Hello, world!"},
		{"  \n", "Hello, world!"},
		{"Sigil", "Hello, Sigil!"},
		{"Sigil\n", "Hello, Sigil!"},
	}
	for _, tt := range tests {
		if got := greeting(tt.body); got != tt.want {
			t.Errorf("greeting(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestHandler(t *testing.T) {
	w := httptest.NewRecorder()
	hello(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Sigil")))
	if w.Code != 200 || w.Body.String() != "Hello, Sigil!\n" || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("hello = %d %q %v", w.Code, w.Body.String(), w.Header())
	}
}
