package trust

import (
	"crypto"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Reasons a signature check fails; also the `reason` label of the
// sigil_trust_denied_total metric.
const (
	ReasonUnsigned  = "unsigned"  // no bundle at all
	ReasonUntrusted = "untrusted" // signed, but by a key the namespace does not trust
	ReasonInvalid   = "invalid"   // the bundle does not verify over the digest
)

// Errors returned by Verify, matched with errors.Is.
var (
	ErrUnsigned  = errors.New("artifact is not signed")
	ErrUntrusted = errors.New("artifact is not signed by a trusted key")
	ErrInvalid   = errors.New("signature does not verify")
)

// Reason maps a Verify error to its metric label.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrUnsigned):
		return ReasonUnsigned
	case errors.Is(err, ErrUntrusted):
		return ReasonUntrusted
	default:
		return ReasonInvalid
	}
}

// Verified describes a bundle that passed Verify.
type Verified struct {
	KeyID     string           // the trusted key that made the signature
	PublicKey *ecdsa.PublicKey // that key
	Bundle    *bundle.Bundle   // the parsed bundle
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Log, when set, is the trusted root of the transparency log whose
	// entries the bundle may carry (from tlog.Log.TrustedRoot).
	Log root.TrustedMaterial
	// RequireLog demands a verified inclusion proof in Log.
	RequireLog bool
}

// ParseBundle reads a Sigstore bundle (any version sigstore-go accepts).
func ParseBundle(bundleJSON []byte) (*bundle.Bundle, error) {
	if len(bundleJSON) == 0 {
		return nil, ErrUnsigned
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		return nil, fmt.Errorf("%w: parse bundle: %w", ErrInvalid, err)
	}
	if b.GetMessageSignature() == nil {
		return nil, fmt.Errorf("%w: the bundle must hold a message signature over the module (DSSE envelopes are not accepted)", ErrInvalid)
	}
	return &b, nil
}

// BundleKeyID returns the KeyID named by the bundle's public-key hint, or "".
func BundleKeyID(b *bundle.Bundle) string {
	pk := b.GetVerificationMaterial().GetPublicKey()
	if pk == nil {
		return ""
	}
	return hintToKeyID(pk.GetHint())
}

// Verify checks that bundleJSON is a valid signature over digest
// ("sha256:<hex>") by one of keys. A hint naming a key outside keys is
// ErrUntrusted without trying anything; an absent hint tries every key.
func Verify(bundleJSON []byte, digest string, keys []Key, opt VerifyOptions) (Verified, error) {
	b, err := ParseBundle(bundleJSON)
	if err != nil {
		return Verified{}, err
	}
	return VerifyParsed(b, digest, keys, opt)
}

// VerifyParsed is Verify for an already parsed bundle.
func VerifyParsed(b *bundle.Bundle, digest string, keys []Key, opt VerifyOptions) (Verified, error) {
	hexPart, ok := strings.CutPrefix(digest, "sha256:")
	raw, err := hex.DecodeString(hexPart)
	if !ok || err != nil || len(raw) != 32 {
		return Verified{}, fmt.Errorf("%w: malformed digest %q", ErrInvalid, digest)
	}
	candidates := keys
	if id := BundleKeyID(b); id != "" {
		candidates = nil
		for _, k := range keys {
			if k.ID == id {
				candidates = []Key{k}
				break
			}
		}
		if candidates == nil {
			return Verified{}, fmt.Errorf("%w: signed by key %s", ErrUntrusted, ShortID(id))
		}
	}
	if len(candidates) == 0 {
		return Verified{}, fmt.Errorf("%w: no keys are trusted", ErrUntrusted)
	}
	var lastErr error
	for _, k := range candidates {
		pub, err := verifyWith(b, raw, k, opt)
		if err != nil {
			lastErr = err
			continue
		}
		return Verified{KeyID: k.ID, PublicKey: pub, Bundle: b}, nil
	}
	if len(candidates) > 1 {
		return Verified{}, fmt.Errorf("%w: no trusted key verifies the signature (%v)", ErrUntrusted, lastErr)
	}
	return Verified{}, fmt.Errorf("%w: %v", ErrInvalid, lastErr)
}

func verifyWith(b *bundle.Bundle, digest []byte, k Key, opt VerifyOptions) (*ecdsa.PublicKey, error) {
	pub, err := ParsePublicKey([]byte(k.PEM))
	if err != nil {
		return nil, err
	}
	sv, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("load verifier: %w", err)
	}
	ek := root.NewExpiringKey(sv, time.Time{}, time.Time{})
	var tm root.TrustedMaterial = root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return ek, nil
	})
	if opt.Log != nil {
		tm = root.TrustedMaterialCollection{opt.Log, tm}
	}
	vopts := []verify.VerifierOption{verify.WithNoObserverTimestamps()}
	if opt.RequireLog {
		vopts = append(vopts, verify.WithTransparencyLog(1))
	}
	v, err := verify.NewVerifier(tm, vopts...)
	if err != nil {
		return nil, fmt.Errorf("verifier: %w", err)
	}
	if _, err := v.Verify(b, verify.NewPolicy(verify.WithArtifactDigest("sha256", digest), verify.WithKey())); err != nil {
		return nil, err
	}
	return pub, nil
}

// ShortID abbreviates a KeyID for messages.
func ShortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
