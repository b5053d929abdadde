package main

import "testing"

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
