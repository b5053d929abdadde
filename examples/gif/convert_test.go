package main

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

func testImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	return img
}

func encoded(t *testing.T, format string, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, img)
	case "jpeg":
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestConvert(t *testing.T) {
	src := testImage(64, 32)
	tests := []struct {
		name         string
		body         []byte
		query        string
		wantW, wantH int
		wantErr      string
	}{
		{name: "png", body: encoded(t, "png", src), wantW: 64, wantH: 32},
		{name: "jpeg", body: encoded(t, "jpeg", src), wantW: 64, wantH: 32},
		{name: "downscale", body: encoded(t, "png", src), query: "w=16", wantW: 16, wantH: 8},
		{name: "no upscale", body: encoded(t, "png", src), query: "w=128", wantW: 64, wantH: 32},
		{name: "other params ignored", body: encoded(t, "png", src), query: "x=1&w=32", wantW: 32, wantH: 16},
		{name: "bad width", body: encoded(t, "png", src), query: "w=abc", wantErr: "bad width"},
		{name: "zero width", body: encoded(t, "png", src), query: "w=0", wantErr: "bad width"},
		{name: "empty body", body: nil, wantErr: "empty body"},
		{name: "not an image", body: []byte("hello"), wantErr: "not a PNG or JPEG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := convert(bytes.NewReader(tt.body), &out, tt.query)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(out.Bytes(), []byte("GIF89a")) {
				t.Fatalf("output does not start with GIF89a: %q", out.Bytes()[:min(8, out.Len())])
			}
			g, err := gif.Decode(&out)
			if err != nil {
				t.Fatalf("output is not a valid GIF: %v", err)
			}
			if b := g.Bounds(); b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Errorf("size = %dx%d, want %dx%d", b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
		})
	}
}
