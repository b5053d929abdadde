package runtime

import "testing"

func TestMemoryMinPages(t *testing.T) {
	header := []byte("\x00asm\x01\x00\x00\x00")
	tests := []struct {
		name    string
		guest   string // a testdata module, or "" to use wasm
		wasm    []byte
		want    uint32
		wantErr bool
	}{
		{name: "one page", guest: "echo", want: 1},
		{name: "256 pages", guest: "bigmin", want: 256},
		{name: "no memory", wasm: header, want: 0},
		{name: "min and max, multi-byte LEB", wasm: append(append([]byte{}, header...), 5, 5, 1, 1, 0x80, 0x02, 0x10), want: 256},
		{name: "short", wasm: header[:4], wantErr: true},
		{name: "section overruns", wasm: append(append([]byte{}, header...), 1, 10, 0), wantErr: true},
		{name: "bad LEB", wasm: append(append([]byte{}, header...), 5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), wantErr: true},
		{name: "memory64", wasm: append(append([]byte{}, header...), 5, 3, 1, 4, 1), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wasm := tt.wasm
			if tt.guest != "" {
				_, wasm = guest(t, tt.guest)
			}
			got, err := memoryMinPages(wasm)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("memoryMinPages = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
