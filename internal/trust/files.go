package trust

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Key files under a node's data directory.
const (
	KeysDir    = "keys"
	LogKeyFile = "log.key" // Ed25519, PKCS#8 PEM: signs checkpoints and deployment records
	DevKeyFile = "dev.key" // ECDSA P-256, unencrypted PKCS#8 PEM: the local developer key
	DevPubFile = "dev.pub"
)

// NodeKeys are the keys a node creates on first start.
type NodeKeys struct {
	Log       ed25519.PrivateKey
	Dev       *ecdsa.PrivateKey
	DevPubPEM []byte
	DevPath   string
	Created   bool // the developer key was generated now
}

// DevKeyPath is where a node with data dir dataDir keeps its developer key.
func DevKeyPath(dataDir string) string { return filepath.Join(dataDir, KeysDir, DevKeyFile) }

// EnsureNodeKeys loads the node's log and developer keys from dataDir,
// generating whichever is missing.
func EnsureNodeKeys(dataDir string) (NodeKeys, error) {
	dir := filepath.Join(dataDir, KeysDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return NodeKeys{}, fmt.Errorf("keys dir: %w", err)
	}
	var nk NodeKeys
	logPath := filepath.Join(dir, LogKeyFile)
	b, err := os.ReadFile(logPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		_, priv, gerr := ed25519.GenerateKey(rand.Reader)
		if gerr != nil {
			return NodeKeys{}, fmt.Errorf("generate log key: %w", gerr)
		}
		pemb, eerr := EncodePrivateKey(priv, nil)
		if eerr != nil {
			return NodeKeys{}, eerr
		}
		if err := writeNew(logPath, pemb, 0o600); err != nil {
			return NodeKeys{}, err
		}
		nk.Log = priv
	case err != nil:
		return NodeKeys{}, fmt.Errorf("read log key: %w", err)
	default:
		if nk.Log, err = ParseEd25519PrivateKey(b); err != nil {
			return NodeKeys{}, fmt.Errorf("%s: %w", logPath, err)
		}
	}
	nk.DevPath = filepath.Join(dir, DevKeyFile)
	b, err = os.ReadFile(nk.DevPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		priv, gerr := GenerateKey()
		if gerr != nil {
			return NodeKeys{}, gerr
		}
		pemb, eerr := EncodePrivateKey(priv, nil)
		if eerr != nil {
			return NodeKeys{}, eerr
		}
		if err := writeNew(nk.DevPath, pemb, 0o600); err != nil {
			return NodeKeys{}, err
		}
		nk.Dev, nk.Created = priv, true
	case err != nil:
		return NodeKeys{}, fmt.Errorf("read developer key: %w", err)
	default:
		if nk.Dev, err = ParseSigningKey(b, nil); err != nil {
			return NodeKeys{}, fmt.Errorf("%s: %w", nk.DevPath, err)
		}
	}
	if nk.DevPubPEM, err = EncodePublicKey(nk.Dev.Public()); err != nil {
		return NodeKeys{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, DevPubFile), nk.DevPubPEM, 0o644); err != nil {
		return NodeKeys{}, fmt.Errorf("write developer public key: %w", err)
	}
	return nk, nil
}

// writeNew writes a file atomically (temp file + rename).
func writeNew(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// KeyPassword is the password for encrypted signing keys: $SIGIL_PASSWORD,
// else $COSIGN_PASSWORD (so cosign key pairs work as they are), else empty.
func KeyPassword() []byte {
	if p, ok := os.LookupEnv("SIGIL_PASSWORD"); ok {
		return []byte(p)
	}
	return []byte(os.Getenv("COSIGN_PASSWORD"))
}

// LoadSigningKeyFile reads an ECDSA P-256 signing key from path, decrypting
// it with KeyPassword when it is encrypted.
func LoadSigningKeyFile(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	k, err := ParseSigningKey(b, KeyPassword())
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w (set SIGIL_PASSWORD or COSIGN_PASSWORD for an encrypted key)", path, err)
	}
	return k, nil
}

// FindSigningKey picks the signing key file: flag, else $SIGIL_KEY, else
// ./.sigil/keys/dev.key (the developer key of a `sigil up` started in this
// directory), else <user config dir>/sigil/keys/dev.key. It returns "" when
// none exists.
func FindSigningKey(flag string) string {
	if flag != "" {
		return flag
	}
	if p := os.Getenv("SIGIL_KEY"); p != "" {
		return p
	}
	cands := []string{DevKeyPath(".sigil")}
	if d, err := os.UserConfigDir(); err == nil {
		cands = append(cands, filepath.Join(d, "sigil", KeysDir, DevKeyFile))
	}
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return ""
}
