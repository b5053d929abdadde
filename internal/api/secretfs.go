package api

import (
	"io/fs"
	"testing/fstest"
	"time"
)

// newSecretFS returns a read-only file system holding one file per secret.
// fstest.MapFS is the standard library's in-memory fs.FS; it has no write
// methods at all, so the guest's writes fail with EBADF/EROFS-like errors.
func newSecretFS(files map[string][]byte) fs.FS {
	m := make(fstest.MapFS, len(files))
	now := time.Now()
	for name, v := range files {
		m[name] = &fstest.MapFile{Data: v, Mode: 0o444, ModTime: now}
	}
	return m
}
