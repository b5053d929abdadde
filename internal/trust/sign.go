package trust

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// keypair adapts a long-lived ECDSA P-256 key to sigstore-go's
// sign.Keypair (which only ships an ephemeral implementation).
type keypair struct {
	priv *ecdsa.PrivateKey
	hint string
}

var _ sign.Keypair = (*keypair)(nil)

func newKeypair(priv *ecdsa.PrivateKey) (*keypair, error) {
	h, err := Hint(priv.Public())
	if err != nil {
		return nil, err
	}
	return &keypair{priv: priv, hint: h}, nil
}

func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return protocommon.HashAlgorithm_SHA2_256
}

func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
}

func (k *keypair) GetHint() []byte                { return []byte(k.hint) }
func (k *keypair) GetKeyAlgorithm() string        { return "ECDSA" }
func (k *keypair) GetPublicKey() crypto.PublicKey { return k.priv.Public() }

func (k *keypair) GetPublicKeyPem() (string, error) {
	b, err := cryptoutils.MarshalPublicKeyToPEM(k.priv.Public())
	return string(b), err
}

// SignData signs the SHA-256 of data and returns the signature and digest.
func (k *keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	sum := sha256.Sum256(data)
	sig, err := k.priv.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("sign: %w", err)
	}
	return sig, sum[:], nil
}

// Sign returns a Sigstore bundle v0.3 (messageSignature over the SHA-256 of
// wasm, public-key hint as cosign writes it) in its JSON form.
func Sign(ctx context.Context, priv *ecdsa.PrivateKey, wasm []byte) ([]byte, error) {
	kp, err := newKeypair(priv)
	if err != nil {
		return nil, err
	}
	pb, err := sign.Bundle(&sign.PlainData{Data: wasm}, kp, sign.BundleOptions{Context: ctx})
	if err != nil {
		return nil, fmt.Errorf("sign bundle: %w", err)
	}
	b, err := (&bundle.Bundle{Bundle: pb}).MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	return b, nil
}
