package trust

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// ErrKey reports an unusable key.
var ErrKey = errors.New("trust: bad key")

// GenerateKey returns a fresh ECDSA P-256 signing key (the cosign default).
func GenerateKey() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return k, nil
}

// EncodePrivateKey PEM-encodes priv. A non-empty password encrypts it in
// the sigstore format cosign reads ("ENCRYPTED SIGSTORE PRIVATE KEY",
// scrypt + secretbox); an empty one writes plain PKCS#8 ("PRIVATE KEY").
func EncodePrivateKey(priv crypto.PrivateKey, password []byte) ([]byte, error) {
	if len(password) == 0 {
		b, err := cryptoutils.MarshalPrivateKeyToPEM(priv)
		if err != nil {
			return nil, fmt.Errorf("encode private key: %w", err)
		}
		return b, nil
	}
	der, err := cryptoutils.MarshalPrivateKeyToEncryptedDER(priv, cryptoutils.StaticPasswordFunc(password))
	if err != nil {
		return nil, fmt.Errorf("encrypt private key: %w", err)
	}
	return cryptoutils.PEMEncode(cryptoutils.EncryptedSigstorePrivateKeyPEMType, der), nil
}

// EncodePublicKey PEM-encodes pub as PKIX ("PUBLIC KEY").
func EncodePublicKey(pub crypto.PublicKey) ([]byte, error) {
	b, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return b, nil
}

// ParsePrivateKey reads a PEM private key: plain PKCS#8/SEC 1, or encrypted
// by cosign (`cosign generate-key-pair`) or `sigil keygen` with password.
func ParsePrivateKey(pemBytes, password []byte) (crypto.Signer, error) {
	k, err := cryptoutils.UnmarshalPEMToPrivateKey(pemBytes, cryptoutils.StaticPasswordFunc(password))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T cannot sign", ErrKey, k)
	}
	return s, nil
}

// ParseSigningKey is ParsePrivateKey restricted to ECDSA P-256, the only
// artifact-signing key type (Ed25519 cannot sign a bare digest).
func ParseSigningKey(pemBytes, password []byte) (*ecdsa.PrivateKey, error) {
	s, err := ParsePrivateKey(pemBytes, password)
	if err != nil {
		return nil, err
	}
	k, ok := s.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: artifact keys must be ECDSA P-256, got %T", ErrKey, s)
	}
	return k, nil
}

// ParsePublicKey reads a PEM PKIX public key and checks it is ECDSA P-256.
func ParsePublicKey(pemBytes []byte) (*ecdsa.PublicKey, error) {
	k, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	pk, ok := k.(*ecdsa.PublicKey)
	if !ok || pk.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: trusted keys must be ECDSA P-256, got %T", ErrKey, k)
	}
	return pk, nil
}

// ParseEd25519PrivateKey reads the node's PKCS#8 Ed25519 log key.
func ParseEd25519PrivateKey(pemBytes []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: log key must be Ed25519, got %T", ErrKey, k)
	}
	return ek, nil
}

func pkixHash(pub crypto.PublicKey) ([32]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return [32]byte{}, fmt.Errorf("%w: %w", ErrKey, err)
	}
	return sha256.Sum256(der), nil
}

// KeyID names a public key in Sigil: the hex SHA-256 of its PKIX DER.
func KeyID(pub crypto.PublicKey) (string, error) {
	h, err := pkixHash(pub)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h[:]), nil
}

// Hint is the bundle's publicKey hint for pub, as cosign writes it:
// base64(SHA-256(PKIX DER)). It carries the same hash as KeyID.
func Hint(pub crypto.PublicKey) (string, error) {
	h, err := pkixHash(pub)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(h[:]), nil
}

// hintToKeyID converts a bundle hint back to a KeyID ("" if it is not one).
func hintToKeyID(hint string) string {
	b, err := base64.StdEncoding.DecodeString(hint)
	if err != nil || len(b) != sha256.Size {
		return ""
	}
	return hex.EncodeToString(b)
}
