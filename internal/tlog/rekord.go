package tlog

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"math"
	"net/url"
	"time"

	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	rekorpb "github.com/sigstore/rekor-tiles/v2/pkg/generated/protobuf"
	"github.com/sigstore/rekor-tiles/v2/pkg/types/hashedrekord"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/encoding/protojson"
)

var algorithms = func() *signature.AlgorithmRegistryConfig {
	c, err := signature.NewAlgorithmRegistryConfig([]protocommon.PublicKeyDetails{
		protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256,
	})
	if err != nil {
		panic(err)
	}
	return c
}()

// HashedRekordEntry builds the canonical JSON of a Rekor v2 hashedrekord
// 0.0.2 entry for a signature over digest (raw SHA-256) by the ECDSA P-256
// key pub. It verifies the signature first, as Rekor does.
func HashedRekordEntry(digest, sig []byte, pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("tlog: public key: %w", err)
	}
	req := &rekorpb.HashedRekordRequestV002{
		Digest: digest,
		Signature: &rekorpb.Signature{
			Content: sig,
			Verifier: &rekorpb.Verifier{
				Verifier:   &rekorpb.Verifier_PublicKey{PublicKey: &rekorpb.PublicKey{RawBytes: der}},
				KeyDetails: protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256,
			},
		},
	}
	entry, err := hashedrekord.ToLogEntry(req, algorithms)
	if err != nil {
		return nil, fmt.Errorf("tlog: hashedrekord: %w", err)
	}
	js, err := protojson.Marshal(entry)
	if err != nil {
		return nil, fmt.Errorf("tlog: hashedrekord: %w", err)
	}
	canon, err := jsoncanonicalizer.Transform(js)
	if err != nil {
		return nil, fmt.Errorf("tlog: hashedrekord: canonicalize: %w", err)
	}
	return canon, nil
}

// AppendHashedRekord logs a signature and returns the Rekor v2
// TransparencyLogEntry to put in its bundle (inclusion proof + checkpoint).
func (l *Log) AppendHashedRekord(ctx context.Context, digest, sig []byte, pub crypto.PublicKey) (*protorekor.TransparencyLogEntry, Receipt, error) {
	body, err := HashedRekordEntry(digest, sig, pub)
	if err != nil {
		return nil, Receipt{}, err
	}
	rc, err := l.Append(ctx, body)
	if err != nil {
		return nil, Receipt{}, err
	}
	if rc.Index > math.MaxInt64 || rc.TreeSize > math.MaxInt64 {
		return nil, Receipt{}, fmt.Errorf("tlog: index overflow")
	}
	tle := &protorekor.TransparencyLogEntry{
		LogIndex:    int64(rc.Index),
		LogId:       &protocommon.LogId{KeyId: l.logID},
		KindVersion: &protorekor.KindVersion{Kind: "hashedrekord", Version: "0.0.2"},
		InclusionProof: &protorekor.InclusionProof{
			LogIndex:   int64(rc.Index),
			RootHash:   rc.RootHash,
			TreeSize:   int64(rc.TreeSize),
			Hashes:     rc.Proof,
			Checkpoint: &protorekor.Checkpoint{Envelope: string(rc.Checkpoint)},
		},
		CanonicalizedBody: body,
	}
	return tle, rc, nil
}

// BaseURL is the log's baseUrl in trusted_root.json; only its hostname
// matters (it must equal the checkpoint origin).
func (l *Log) BaseURL() string { return (&url.URL{Scheme: "https", Host: l.origin}).String() }

// TrustedRoot is a Sigstore trusted root naming this log (no CAs, no TSAs),
// which sigstore-go and cosign (`--trusted-root`) use to check the log
// entries in Sigil's bundles.
func (l *Log) TrustedRoot() (*root.TrustedRoot, error) {
	tl := &root.TransparencyLog{
		BaseURL:             l.BaseURL(),
		ID:                  l.logID,
		ValidityPeriodStart: time.Unix(0, 0).UTC(),
		HashFunc:            crypto.SHA256,
		PublicKey:           l.pub,
		SignatureHashFunc:   crypto.SHA512,
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, nil, nil, nil,
		map[string]*root.TransparencyLog{fmt.Sprintf("%x", l.logID): tl})
	if err != nil {
		return nil, fmt.Errorf("tlog: trusted root: %w", err)
	}
	return tr, nil
}
