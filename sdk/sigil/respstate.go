package sigil

import "net/http"

// respState is what every ResponseWriter of the SDK tracks, whatever the
// ABI: the header map, the status (0 until WriteHeader or the first Write)
// and whether the handler has returned.
type respState struct {
	header http.Header
	status int
	done   bool
}

func (s *respState) Header() http.Header { return s.header }

// acceptStatus is the shared part of WriteHeader: it ignores a second call
// and any call after the handler returned, panics on an invalid code as
// net/http does, and keeps only final (>= 200) codes. It reports whether
// the status was set now.
func (s *respState) acceptStatus(code int) bool {
	if s.done || s.status != 0 {
		return false
	}
	checkStatus(code)
	if code < 200 {
		return false // informational responses are not forwarded
	}
	s.status = code
	return true
}

// startBody is the shared start of Write: refuse after the handler
// returned, imply 200, and refuse a body the status forbids.
func (s *respState) startBody(writeHeader func(int)) error {
	if s.done {
		return errWriteAfterReturn
	}
	if s.status == 0 {
		writeHeader(http.StatusOK)
	}
	if !bodyAllowed(s.status) {
		return http.ErrBodyNotAllowed
	}
	return nil
}
