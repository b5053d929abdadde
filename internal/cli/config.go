package cli

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// configFile is the credential store. Its shape is faas-cli's
// ~/.openfaas/config.yml, so either file reads the same way.
type configFile struct {
	Auths []authEntry `yaml:"auths"`
}

type authEntry struct {
	Gateway string `yaml:"gateway"`
	Auth    string `yaml:"auth"`  // "basic"
	Token   string `yaml:"token"` // base64(user:password)
}

// configPath is $SIGIL_CONFIG, else <user config dir>/sigil/config.yml.
func configPath() (string, error) {
	if p := os.Getenv("SIGIL_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config directory (set SIGIL_CONFIG): %w", err)
	}
	return filepath.Join(dir, "sigil", "config.yml"), nil
}

// loadConfig reads path; a missing file is an empty store.
func loadConfig(path string) (*configFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &configFile{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var cfg configFile
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("parse config %s: %w", path, err)
	}
	return &cfg, nil
}

// save writes the store with mode 0600, creating its directory with 0700.
// It writes a temporary file and renames it, so a crash never leaves half a
// config behind.
func (c *configFile) save(path string) error {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".config-*.yml")
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// lookup returns the basic credentials stored for gateway.
func (c *configFile) lookup(gateway string) (user, password string, ok bool, err error) {
	for _, a := range c.Auths {
		if a.Gateway != gateway || a.Auth != "basic" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(a.Token)
		if err != nil {
			return "", "", false, fmt.Errorf("decode token: %w", err)
		}
		user, password, found := strings.Cut(string(raw), ":")
		if !found {
			return "", "", false, errors.New("token is not user:password")
		}
		return user, password, true, nil
	}
	return "", "", false, nil
}

// set stores basic credentials for gateway, replacing earlier ones.
func (c *configFile) set(gateway, user, password string) {
	c.remove(gateway)
	c.Auths = append(c.Auths, authEntry{
		Gateway: gateway,
		Auth:    "basic",
		Token:   base64.StdEncoding.EncodeToString([]byte(user + ":" + password)),
	})
}

// remove drops the credentials of gateway and reports whether there were any.
func (c *configFile) remove(gateway string) bool {
	kept := c.Auths[:0]
	for _, a := range c.Auths {
		if a.Gateway != gateway {
			kept = append(kept, a)
		}
	}
	removed := len(kept) != len(c.Auths)
	c.Auths = kept
	return removed
}
