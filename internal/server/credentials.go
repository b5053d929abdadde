package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sigilhq/sigil/internal/api"
)

// loadOrCreateCredentials reads DATA/secrets/basic-auth-{user,password}
// (whitespace-trimmed, as OpenFaaS reads its secret files) or, on first
// start, generates them. created reports whether they were just generated,
// so the caller prints them exactly once.
func loadOrCreateCredentials(dataDir string) (c *api.Credentials, created bool, err error) {
	dir := filepath.Join(dataDir, "secrets")
	userFile, passFile := filepath.Join(dir, "basic-auth-user"), filepath.Join(dir, "basic-auth-password")
	user, uerr := os.ReadFile(userFile)
	pass, perr := os.ReadFile(passFile)
	if uerr == nil && perr == nil {
		u, p := strings.TrimSpace(string(user)), strings.TrimSpace(string(pass))
		if u == "" || p == "" {
			return nil, false, fmt.Errorf("credentials: %s or %s is empty", userFile, passFile)
		}
		return &api.Credentials{User: u, Password: p}, false, nil
	}
	if (uerr != nil && !errors.Is(uerr, fs.ErrNotExist)) || (perr != nil && !errors.Is(perr, fs.ErrNotExist)) {
		return nil, false, fmt.Errorf("credentials: %w", errors.Join(uerr, perr))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("credentials: %w", err)
	}
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return nil, false, fmt.Errorf("credentials: %w", err)
	}
	c = &api.Credentials{User: "admin", Password: hex.EncodeToString(b)}
	if err := os.WriteFile(userFile, []byte(c.User), 0o600); err != nil {
		return nil, false, fmt.Errorf("credentials: %w", err)
	}
	if err := os.WriteFile(passFile, []byte(c.Password), 0o600); err != nil {
		return nil, false, fmt.Errorf("credentials: %w", err)
	}
	return c, true, nil
}
