package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/spf13/cobra"

	"github.com/sigilhq/sigil/internal/tlog"
	"github.com/sigilhq/sigil/internal/trust"
	"github.com/sigilhq/sigil/pkg/client"
)

func newVerifyCommand(g *globals) *cobra.Command {
	var namespace, keyFile string
	var audit bool
	cmd := &cobra.Command{
		Use:   "verify [NAME]",
		Short: "Prove a function's artifact is signed and logged, or audit the whole log",
		Long: "verify NAME checks that the running function's artifact carries a signature by a key its namespace trusts\n" +
			"(or by --key), that the signature is in the node's transparency log (inclusion proof), and that the log is\n" +
			"consistent with the last checkpoint this client saw (kept under the user config dir, like Go's sumdb client).\n" +
			"verify --audit downloads every entry, recomputes the tree and checks it against the signed checkpoint.\n" +
			"A log whose history was rewritten or truncated fails both.",
		Example: "  sigil verify hello\n  sigil verify hello --key release.pub\n  sigil verify --audit",
		RunE: func(cmd *cobra.Command, args []string) error {
			if audit != (len(args) == 0) {
				return usagef(cmd, "give a function NAME, or --audit without one")
			}
			c, err := g.client("")
			if err != nil {
				return err
			}
			v, err := newVerifier(cmd.Context(), c)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if audit {
				return v.audit(cmd.Context(), out)
			}
			return v.function(cmd.Context(), out, args[0], namespace, keyFile)
		},
	}
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace (default openfaas-fn)")
	cmd.Flags().StringVar(&keyFile, "key", "", "verify against this public key instead of the namespace's trusted keys")
	cmd.Flags().BoolVar(&audit, "audit", false, "recompute the whole log from its entries")
	return cmd
}

// logVerifier checks one node's log from the client side.
type logVerifier struct {
	c       *client.Client
	origin  string
	pub     ed25519.PublicKey
	fetch   tlog.Fetcher
	tr      *root.TrustedRoot
	state   string // directory of this log's client state
	current tlog.Checkpoint
}

func newVerifier(ctx context.Context, c *client.Client) (*logVerifier, error) {
	info, err := c.TlogInfo(ctx)
	if err != nil {
		return nil, err
	}
	k, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(info.PublicKey))
	if err != nil {
		return nil, fmt.Errorf("verify: log key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok || tlog.OriginFor(pub) != info.Origin {
		return nil, fmt.Errorf("verify: the log's key does not match its origin %q", info.Origin)
	}
	v := &logVerifier{c: c, origin: info.Origin, pub: pub}
	if v.state, err = logStateDir(info.Origin); err != nil {
		return nil, err
	}
	// Pin the log key on first use; a different key later is an error.
	pinned := filepath.Join(v.state, "key.pub")
	if b, err := os.ReadFile(pinned); err == nil {
		if strings.TrimSpace(string(b)) != strings.TrimSpace(info.PublicKey) {
			return nil, fmt.Errorf("verify: log %s now presents a different key than the one pinned in %s", info.Origin, pinned)
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		if err := os.WriteFile(pinned, []byte(info.PublicKey), 0o644); err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
	}
	base, err := url.Parse(c.TlogURL())
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if v.fetch, err = tlog.HTTPFetcherFor(base, c.HTTPClient()); err != nil {
		return nil, err
	}
	rootJSON, err := c.TrustedRoot(ctx)
	if err != nil {
		return nil, err
	}
	if v.tr, err = root.NewTrustedRootFromJSON(rootJSON); err != nil {
		return nil, fmt.Errorf("verify: trusted root: %w", err)
	}
	nv, err := tlog.NoteVerifier(v.origin, pub)
	if err != nil {
		return nil, err
	}
	if v.current, err = tlog.FetchCheckpoint(ctx, v.fetch, v.origin, nv); err != nil {
		return nil, err
	}
	if err := v.checkAgainstLastSeen(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// logStateDir is <dir of the CLI config>/tlog/<origin>: beside
// $SIGIL_CONFIG when set, else under the user config dir.
func logStateDir(origin string) (string, error) {
	cfg, err := configPath()
	if err != nil {
		return "", err
	}
	d := filepath.Join(filepath.Dir(cfg), "tlog", origin)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", fmt.Errorf("verify: %w", err)
	}
	return d, nil
}

// checkAgainstLastSeen proves the current checkpoint extends the last one
// this client saw, then remembers the current one.
func (v *logVerifier) checkAgainstLastSeen(ctx context.Context) error {
	p := filepath.Join(v.state, "checkpoint")
	nv, err := tlog.NoteVerifier(v.origin, v.pub)
	if err != nil {
		return err
	}
	if raw, err := os.ReadFile(p); err == nil {
		last, err := tlog.ParseCheckpoint(raw, v.origin, nv)
		if err != nil {
			return fmt.Errorf("verify: last seen checkpoint %s: %w", p, err)
		}
		if err := tlog.VerifyConsistency(ctx, v.fetch, last, v.current); err != nil {
			return fmt.Errorf("verify: log %s: %w (last seen size %d, now %d)", v.origin, err, last.Size, v.current.Size)
		}
	}
	if err := os.WriteFile(p+".tmp", v.current.Raw, 0o644); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	return os.Rename(p+".tmp", p)
}

func (v *logVerifier) function(ctx context.Context, out io.Writer, name, ns, keyFile string) error {
	st, err := v.c.GetFunction(ctx, name, ns)
	if err != nil {
		return err
	}
	if ns == "" {
		ns = st.Namespace
	}
	var keys []trust.Key
	if keyFile != "" {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		pub, err := trust.ParsePublicKey(b)
		if err != nil {
			return fmt.Errorf("verify: %s: %w", keyFile, err)
		}
		id, _ := trust.KeyID(pub)
		keys = []trust.Key{{ID: id, Name: keyFile, PEM: string(b)}}
	} else {
		p, err := v.c.TrustPolicy(ctx, ns)
		if err != nil {
			return err
		}
		for _, k := range p.Keys {
			keys = append(keys, trust.Key{ID: k.ID, Name: k.Name, PEM: k.PublicKey})
		}
	}
	sigs, err := v.c.Signatures(ctx, st.Digest)
	if err != nil {
		return err
	}
	if len(sigs) == 0 {
		return fmt.Errorf("verify: %s (%s) has no recorded signature", name, st.Digest)
	}
	nv, err := tlog.NoteVerifier(v.origin, v.pub)
	if err != nil {
		return err
	}
	var lastErr error
	for _, s := range sigs {
		ok, err := trust.Verify(s.Bundle, st.Digest, keys, trust.VerifyOptions{Log: v.tr, RequireLog: true})
		if err != nil {
			lastErr = err
			continue
		}
		tle := ok.Bundle.GetVerificationMaterial().GetTlogEntries()
		if len(tle) == 0 {
			lastErr = errors.New("bundle carries no log entry")
			continue
		}
		e := tle[0]
		then, err := tlog.ParseCheckpoint([]byte(e.GetInclusionProof().GetCheckpoint().GetEnvelope()), v.origin, nv)
		if err != nil {
			return fmt.Errorf("verify: bundle checkpoint: %w", err)
		}
		if err := tlog.VerifyConsistency(ctx, v.fetch, then, v.current); err != nil {
			return fmt.Errorf("verify: the log no longer contains the signature's entry: %w", err)
		}
		if err := tlog.VerifyInclusion(ctx, v.fetch, v.current, uint64(e.GetLogIndex()), e.GetCanonicalizedBody()); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		fmt.Fprintf(out, "function:  %s.%s\ndigest:    %s\nsigned by: %s\nlog entry: %d (%s)\nlog size:  %d, consistent with the last checkpoint seen\nverified\n",
			name, ns, st.Digest, ok.KeyID, e.GetLogIndex(), v.origin, v.current.Size)
		return nil
	}
	return fmt.Errorf("verify: %s (%s): %w", name, st.Digest, lastErr)
}

func (v *logVerifier) audit(ctx context.Context, out io.Writer) error {
	var rekords, records, other int
	err := tlog.Audit(ctx, v.fetch, v.current, func(i uint64, data []byte) error {
		switch tlog.EntryKind(data) {
		case "hashedrekord":
			rekords++
		case tlog.RecordKind:
			if _, err := tlog.DecodeRecord(data, v.pub); err != nil {
				return fmt.Errorf("entry %d: %w", i, err)
			}
			records++
		default:
			other++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("verify --audit: %w", err)
	}
	fmt.Fprintf(out, "log:        %s\nentries:    %d (%d signatures, %d deployment records, %d other)\nroot hash:  %x matches the signed checkpoint\naudit passed\n",
		v.origin, v.current.Size, rekords, records, other, v.current.Hash)
	return nil
}
