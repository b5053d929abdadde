package trust

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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
// directory), else the key a local node recorded for the gateway (see
// FindSigningKeyFor), else <user config dir>/sigil/keys/dev.key. It returns
// "" when none exists.
func FindSigningKey(flag string) string { return FindSigningKeyFor(flag, "") }

// FindSigningKeyFor is FindSigningKey that also knows the gateway: after
// ./.sigil it looks for the developer key a local node on that gateway
// address recorded (RecordLocalKey).
func FindSigningKeyFor(flag, gateway string) string {
	if flag != "" {
		return flag
	}
	if p := os.Getenv("SIGIL_KEY"); p != "" {
		return p
	}
	if _, err := os.Stat(DevKeyPath(".sigil")); err == nil {
		return DevKeyPath(".sigil")
	}
	if p := LocalKeyFor(gateway); p != "" {
		return p
	}
	var cands []string
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

// LocalKeysDir is where a node listening on a loopback address records the
// path of its developer key, one file per gateway address, so the CLI of
// the same user finds the key of whichever local node it talks to — with
// any --data-dir and from any working directory.
func LocalKeysDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "sigil", "local-gateways"), nil
}

// localKeyFile names the record for a gateway address ("127.0.0.1:8080").
func localKeyFile(dir, hostport string) string {
	safe := strings.NewReplacer(":", "_", "/", "_", "[", "", "]", "").Replace(hostport)
	return filepath.Join(dir, safe+".key-path")
}

// RecordLocalKey notes that the gateway at hostport (a loopback address)
// signs with the developer key at keyPath. Errors are for the caller to log:
// the record is a convenience.
func RecordLocalKey(hostport, keyPath string) error {
	dir, err := LocalKeysDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	abs, err := filepath.Abs(keyPath)
	if err != nil {
		return err
	}
	return os.WriteFile(localKeyFile(dir, hostport), []byte(abs+"\n"), 0o600)
}

// LocalKeyFor returns the developer key recorded for the gateway URL, if
// the gateway is on a loopback address and its key file still exists.
func LocalKeyFor(gateway string) string {
	u, err := url.Parse(gateway)
	if err != nil || u.Host == "" {
		return ""
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	dir, err := LocalKeysDir()
	if err != nil {
		return ""
	}
	for _, h := range []string{host, "127.0.0.1", "localhost"} {
		b, err := os.ReadFile(localKeyFile(dir, net.JoinHostPort(h, port)))
		if err != nil {
			continue
		}
		p := strings.TrimSpace(string(b))
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
