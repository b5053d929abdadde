package runtime

import (
	"bytes"
	"context"
	"errors"
)

// errStdoutFull is what the guest's fd_write sees once stdout is full.
var errStdoutFull = errors.New("stdout limit reached")

// stdoutBuffer keeps at most max bytes. The first write past the cap keeps
// what fits, marks the overflow and cancels the instance's context, so the
// guest is stopped instead of being allowed to keep writing.
type stdoutBuffer struct {
	buf      []byte
	max      int64
	overflow bool
	stop     context.CancelFunc
}

func (w *stdoutBuffer) Write(p []byte) (int, error) {
	if w.overflow {
		return 0, errStdoutFull
	}
	room := w.max - int64(len(w.buf))
	if int64(len(p)) <= room {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	w.buf = append(w.buf, p[:room]...)
	w.overflow = true
	w.stop()
	return int(room), errStdoutFull
}

// maxStderrLine is the longest stderr line handed out in one piece.
const maxStderrLine = 64 << 10

// lineWriter calls emit once per complete line (without the newline),
// splits lines longer than maxStderrLine, and emits a trailing partial line
// on flush. A nil emit discards everything.
type lineWriter struct {
	emit    func(string)
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	if w.emit == nil {
		return n, nil // discard
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			for len(w.partial) > maxStderrLine {
				w.emit(string(w.partial[:maxStderrLine]))
				w.partial = append(w.partial[:0], w.partial[maxStderrLine:]...)
			}
			break
		}
		line := p[:i]
		p = p[i+1:]
		if len(w.partial) > 0 {
			line = append(w.partial, line...)
			w.partial = w.partial[:0]
		}
		for len(line) > maxStderrLine {
			w.emit(string(line[:maxStderrLine]))
			line = line[maxStderrLine:]
		}
		w.emit(string(line))
	}
	return n, nil
}

// flush emits a trailing partial line, if any.
func (w *lineWriter) flush() {
	if w.emit != nil && len(w.partial) > 0 {
		w.emit(string(w.partial))
		w.partial = w.partial[:0]
	}
}
