package trust

import (
	"context"
	"errors"
	"testing"

	"github.com/sigilhq/sigil/internal/artifact"
)

func key(t *testing.T) Key {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := EncodePublicKey(k.Public())
	id, _ := KeyID(k.Public())
	return Key{ID: id, PEM: string(pem)}
}

func TestSignVerify(t *testing.T) {
	ctx := context.Background()
	priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := EncodePublicKey(priv.Public())
	id, _ := KeyID(priv.Public())
	signer := Key{ID: id, PEM: string(pem)}
	wasm := []byte("\x00asm\x01\x00\x00\x00module bytes")
	b, err := Sign(ctx, priv, wasm)
	if err != nil {
		t.Fatal(err)
	}
	digest := artifact.DigestOf(wasm)
	other := key(t)
	for _, tc := range []struct {
		name   string
		bundle []byte
		digest string
		keys   []Key
		want   error
	}{
		{"trusted", b, digest, []Key{other, signer}, nil},
		{"unsigned", nil, digest, []Key{signer}, ErrUnsigned},
		{"wrong key", b, digest, []Key{other}, ErrUntrusted},
		{"no keys", b, digest, nil, ErrUntrusted},
		{"other bytes", b, artifact.DigestOf([]byte("tampered")), []Key{signer}, ErrInvalid},
		{"garbage", []byte("{"), digest, []Key{signer}, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Verify(tc.bundle, tc.digest, tc.keys, VerifyOptions{})
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if err == nil && v.KeyID != id {
				t.Fatalf("key %s, want %s", v.KeyID, id)
			}
		})
	}
}

func TestKeyEncoding(t *testing.T) {
	priv, _ := GenerateKey()
	for _, pw := range []string{"", "s3cret"} {
		b, err := EncodePrivateKey(priv, []byte(pw))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseSigningKey(b, []byte(pw))
		if err != nil || !got.Equal(priv) {
			t.Fatalf("password %q: round trip failed: %v", pw, err)
		}
		if pw != "" {
			if _, err := ParseSigningKey(b, []byte("wrong")); err == nil {
				t.Fatal("wrong password accepted")
			}
		}
	}
	nk, err := EnsureNodeKeys(t.TempDir())
	if err != nil || nk.Log == nil || nk.Dev == nil || !nk.Created {
		t.Fatalf("node keys: %+v %v", nk, err)
	}
}
