package main

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	_ "image/jpeg" // register the JPEG decoder
	_ "image/png"  // register the PNG decoder
	"io"
	"net/url"
	"strconv"
)

// maxPixels bounds the decoded size, so a small compressed body cannot ask
// for gigabytes of memory.
const maxPixels = 40 << 20

// convert decodes a PNG or JPEG from r and writes it to w as a GIF, scaled to
// the width given by the query's w parameter when that is smaller.
func convert(r io.Reader, w io.Writer, rawQuery string) error {
	width, err := targetWidth(rawQuery)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("reading body: %w", err)
	}
	if len(data) == 0 {
		return errors.New("empty body: send a PNG or JPEG image")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not a PNG or JPEG image: %w", err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return fmt.Errorf("%s image of %dx%d is too large", format, cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("decoding %s: %w", format, err)
	}
	if width > 0 && width < img.Bounds().Dx() {
		img = scale(img, width)
	}
	if err := gif.Encode(w, img, &gif.Options{NumColors: 256}); err != nil {
		return fmt.Errorf("encoding gif: %w", err)
	}
	return nil
}

// targetWidth returns the w query parameter, or 0 when absent.
func targetWidth(rawQuery string) (int, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return 0, fmt.Errorf("bad query %q: %w", rawQuery, err)
	}
	s := q.Get("w")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad width w=%q: want a positive integer", s)
	}
	return n, nil
}

// scale resizes src to width pixels wide with nearest-neighbour sampling,
// keeping the aspect ratio (at least one pixel high).
func scale(src image.Image, width int) image.Image {
	b := src.Bounds()
	height := b.Dy() * width / b.Dx()
	if height < 1 {
		height = 1
	}
	dst := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := 0; y < height; y++ {
		sy := b.Min.Y + y*b.Dy()/height
		for x := 0; x < width; x++ {
			sx := b.Min.X + x*b.Dx()/width
			dst.Set(x, y, src.At(sx, sy))
		}
	}
	return dst
}
