package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sigilhq/sigil/internal/natsutil/natstest"
)

var quiet = slog.New(slog.DiscardHandler)

func openRegistry(t *testing.T, js jetstream.JetStream) *Registry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := Open(ctx, js, Options{Logger: quiet})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func sampleFunction(name string) Function {
	return Function{
		Name:        name,
		Image:       "hello:latest",
		Digest:      "sha256:" + fmt.Sprintf("%064x", len(name)),
		ABI:         "openfaas",
		EnvProcess:  "hello",
		EnvVars:     map[string]string{"A": "1"},
		Secrets:     []string{"api-key"},
		Labels:      map[string]string{"com.openfaas.scale.min": "1"},
		Annotations: map[string]string{"topic": "x"},
		Limits:      &Resources{Memory: "128Mi"},
		Replicas:    1,
	}
}

func TestFunctionCRUD(t *testing.T) {
	ctx := context.Background()
	r := openRegistry(t, natstest.Start(t).JS)

	in := sampleFunction("hello")
	created, err := r.CreateFunction(ctx, in)
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	if created.Namespace != DefaultNamespace || created.CreatedAt.IsZero() || created.Revision == 0 {
		t.Fatalf("created = %+v", created)
	}
	in.EnvVars["A"] = "mutated after create" // caller's maps are not shared
	got, ok := r.Function(DefaultNamespace, "hello")
	if !ok || got.EnvVars["A"] != "1" || got.Revision != created.Revision || got.Limits.Memory != "128Mi" {
		t.Fatalf("read-your-writes: %+v, %v", got, ok)
	}
	if _, err := r.CreateFunction(ctx, sampleFunction("hello")); !errors.Is(err, ErrExists) {
		t.Fatalf("second create err = %v, want ErrExists", err)
	}

	scaled, err := r.ScaleFunction(ctx, DefaultNamespace, "hello", 3)
	if err != nil || scaled.Replicas != 3 {
		t.Fatalf("ScaleFunction = %+v, %v", scaled, err)
	}
	up := sampleFunction("hello")
	up.Image, up.Replicas = "hello:2", 0
	updated, err := r.UpdateFunction(ctx, up)
	if err != nil {
		t.Fatalf("UpdateFunction: %v", err)
	}
	if updated.Image != "hello:2" || updated.Replicas != 3 || !updated.CreatedAt.Equal(created.CreatedAt) ||
		updated.Revision <= scaled.Revision || updated.UpdatedAt.Before(created.UpdatedAt) {
		t.Fatalf("updated = %+v (created %+v)", updated, created)
	}
	if got, _ := r.Function(DefaultNamespace, "hello"); got.Image != "hello:2" || got.Replicas != 3 {
		t.Fatalf("cache after update = %+v", got)
	}

	for _, n := range []string{"zeta", "alpha"} {
		if _, err := r.CreateFunction(ctx, sampleFunction(n)); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for _, f := range r.Functions(DefaultNamespace) {
		names = append(names, f.Name)
	}
	if want := []string{"alpha", "hello", "zeta"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("Functions = %v, want %v", names, want)
	}
	if len(r.Functions("other")) != 0 || len(r.AllFunctions()) != 3 {
		t.Fatalf("Functions(other) = %v, AllFunctions = %d", r.Functions("other"), len(r.AllFunctions()))
	}

	if err := r.DeleteFunction(ctx, DefaultNamespace, "hello"); err != nil {
		t.Fatalf("DeleteFunction: %v", err)
	}
	if _, ok := r.Function(DefaultNamespace, "hello"); ok {
		t.Fatal("deleted function still cached")
	}
	// Re-creating after a delete works and is visible at once.
	if _, err := r.CreateFunction(ctx, sampleFunction("hello")); err != nil {
		t.Fatalf("re-create: %v", err)
	}
	if _, ok := r.Function(DefaultNamespace, "hello"); !ok {
		t.Fatal("re-created function not cached")
	}

	errTests := []struct {
		name string
		call func() error
		want error
	}{
		{"delete missing", func() error { return r.DeleteFunction(ctx, DefaultNamespace, "nope") }, ErrNotFound},
		{"update missing", func() error { _, err := r.UpdateFunction(ctx, sampleFunction("nope")); return err }, ErrNotFound},
		{"scale missing", func() error { _, err := r.ScaleFunction(ctx, DefaultNamespace, "nope", 1); return err }, ErrNotFound},
		{"create bad name", func() error { _, err := r.CreateFunction(ctx, sampleFunction("Bad.Name")); return err }, ErrInvalid},
		{"create in missing ns", func() error {
			f := sampleFunction("x")
			f.Namespace = "missing"
			_, err := r.CreateFunction(ctx, f)
			return err
		}, ErrInvalid},
		{"scale bad name", func() error { _, err := r.ScaleFunction(ctx, DefaultNamespace, "a.*", 1); return err }, ErrInvalid},
		{"modify error aborts", func() error {
			_, err := r.ModifyFunction(ctx, DefaultNamespace, "alpha", func(*Function) error { return ErrInvalid })
			return err
		}, ErrInvalid},
	}
	for _, tt := range errTests {
		if err := tt.call(); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestSecretCRUD(t *testing.T) {
	ctx := context.Background()
	r := openRegistry(t, natstest.Start(t).JS)

	if err := r.CreateSecret(ctx, Secret{Name: "db-pass", Value: []byte("s3cr3t")}); err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	s, ok := r.Secret(DefaultNamespace, "db-pass")
	if !ok || string(s.Value) != "s3cr3t" || s.CreatedAt.IsZero() {
		t.Fatalf("Secret = %+v, %v", s, ok)
	}
	if err := r.CreateSecret(ctx, Secret{Name: "db-pass", Value: []byte("x")}); !errors.Is(err, ErrExists) {
		t.Fatalf("second create err = %v", err)
	}
	if err := r.UpdateSecret(ctx, Secret{Name: "db-pass", Namespace: DefaultNamespace, Value: []byte("rotated")}); err != nil {
		t.Fatalf("UpdateSecret: %v", err)
	}
	s2, _ := r.Secret(DefaultNamespace, "db-pass")
	if string(s2.Value) != "rotated" || !s2.CreatedAt.Equal(s.CreatedAt) {
		t.Fatalf("after update = %+v", s2)
	}
	if err := r.CreateSecret(ctx, Secret{Name: "api.key", Value: []byte("k")}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range r.Secrets(DefaultNamespace) {
		names = append(names, s.Name)
	}
	if want := []string{"api.key", "db-pass"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("Secrets = %v, want %v", names, want)
	}
	if err := r.DeleteSecret(ctx, DefaultNamespace, "db-pass"); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	if _, ok := r.Secret(DefaultNamespace, "db-pass"); ok {
		t.Fatal("deleted secret still cached")
	}

	errTests := []struct {
		name string
		err  error
		want error
	}{
		{"delete missing", r.DeleteSecret(ctx, DefaultNamespace, "db-pass"), ErrNotFound},
		{"update missing", r.UpdateSecret(ctx, Secret{Name: "nope"}), ErrNotFound},
		{"bad name", r.CreateSecret(ctx, Secret{Name: "../x"}), ErrInvalid},
		{"missing ns", r.CreateSecret(ctx, Secret{Name: "x", Namespace: "missing"}), ErrInvalid},
	}
	for _, tt := range errTests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

func TestNamespaceCRUD(t *testing.T) {
	ctx := context.Background()
	r := openRegistry(t, natstest.Start(t).JS)

	def, ok := r.Namespace(DefaultNamespace)
	if !ok || def.Labels["openfaas"] != "1" {
		t.Fatalf("default namespace = %+v, %v", def, ok)
	}
	team := Namespace{Name: "team1", Labels: map[string]string{"openfaas": "1"}}
	if err := r.CreateNamespace(ctx, team); err != nil {
		t.Fatalf("CreateNamespace: %v", err)
	}
	if err := r.CreateNamespace(ctx, team); !errors.Is(err, ErrExists) {
		t.Fatalf("second create err = %v", err)
	}
	team.Annotations = map[string]string{"owner": "ops"}
	if err := r.UpdateNamespace(ctx, team); err != nil {
		t.Fatalf("UpdateNamespace: %v", err)
	}
	if n, _ := r.Namespace("team1"); n.Annotations["owner"] != "ops" || n.CreatedAt.IsZero() {
		t.Fatalf("after update = %+v", n)
	}
	var names []string
	for _, n := range r.Namespaces() {
		names = append(names, n.Name)
	}
	if want := []string{DefaultNamespace, "team1"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("Namespaces = %v, want %v", names, want)
	}

	f := sampleFunction("fn")
	f.Namespace = "team1"
	if _, err := r.CreateFunction(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := r.CreateSecret(ctx, Secret{Name: "tok", Namespace: "team1", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteNamespace(ctx, "team1"); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("delete non-empty err = %v, want ErrNotEmpty", err)
	}
	if err := r.DeleteFunction(ctx, "team1", "fn"); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteNamespace(ctx, "team1"); err != nil {
		t.Fatalf("DeleteNamespace: %v", err)
	}
	if _, ok := r.Namespace("team1"); ok {
		t.Fatal("deleted namespace still cached")
	}
	if len(r.Secrets("team1")) != 0 {
		t.Fatalf("secrets survived their namespace: %v", r.Secrets("team1"))
	}

	errTests := []struct {
		name string
		err  error
		want error
	}{
		{"delete missing", r.DeleteNamespace(ctx, "team1"), ErrNotFound},
		{"update missing", r.UpdateNamespace(ctx, Namespace{Name: "team1"}), ErrNotFound},
		{"delete default", r.DeleteNamespace(ctx, DefaultNamespace), ErrInvalid},
		{"bad name", r.CreateNamespace(ctx, Namespace{Name: "Team_1"}), ErrInvalid},
	}
	for _, tt := range errTests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

func TestSecondRegistrySeesWrites(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t)
	r1 := openRegistry(t, srv.JS)
	r2 := openRegistry(t, srv.JS)

	if err := r1.CreateNamespace(ctx, Namespace{Name: "team2"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "namespace on r2", func() bool { _, ok := r2.Namespace("team2"); return ok })
	// r2 now knows the namespace, so it may deploy into it.
	f := sampleFunction("shared")
	f.Namespace = "team2"
	if _, err := r2.CreateFunction(ctx, f); err != nil {
		t.Fatal(err)
	}
	eventually(t, "function on r1", func() bool { _, ok := r1.Function("team2", "shared"); return ok })
	if _, err := r1.ScaleFunction(ctx, "team2", "shared", 4); err != nil {
		t.Fatal(err)
	}
	eventually(t, "scale on r2", func() bool { g, _ := r2.Function("team2", "shared"); return g.Replicas == 4 })
	if err := r1.CreateSecret(ctx, Secret{Name: "k", Namespace: "team2", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "secret on r2", func() bool { s, ok := r2.Secret("team2", "k"); return ok && string(s.Value) == "v" })
	if err := r1.DeleteFunction(ctx, "team2", "shared"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delete on r2", func() bool { _, ok := r2.Function("team2", "shared"); return !ok })
}

// recorder collects events from Subscribe.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) add(e Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }

func (r *recorder) snapshot() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

func (r *recorder) has(kind EventKind, name string, ok func(Function) bool) bool {
	for _, e := range r.snapshot() {
		if e.Kind == kind && e.Function.Name == name && (ok == nil || ok(e.Function)) {
			return true
		}
	}
	return false
}

func TestSubscribe(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t)
	writer := openRegistry(t, srv.JS)
	if _, err := writer.CreateFunction(ctx, sampleFunction("before")); err != nil {
		t.Fatal(err)
	}
	r := openRegistry(t, srv.JS)
	var rec recorder
	r.Subscribe(rec.add)
	if !rec.has(Put, "before", nil) {
		t.Fatalf("initial snapshot not replayed: %+v", rec.snapshot())
	}

	// A local write and a remote one are both delivered.
	if _, err := r.CreateFunction(ctx, sampleFunction("local")); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.ScaleFunction(ctx, DefaultNamespace, "before", 2); err != nil {
		t.Fatal(err)
	}
	eventually(t, "put events", func() bool {
		return rec.has(Put, "local", nil) && rec.has(Put, "before", func(f Function) bool { return f.Replicas == 2 })
	})
	digest := sampleFunction("before").Digest
	if err := writer.DeleteFunction(ctx, DefaultNamespace, "before"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delete event with digest", func() bool {
		return rec.has(Delete, "before", func(f Function) bool { return f.Digest == digest && f.Namespace == DefaultNamespace })
	})
	// Events arrive in revision order.
	var last uint64
	for _, e := range rec.snapshot()[1:] {
		if e.Function.Revision <= last {
			t.Fatalf("events out of order: %+v", rec.snapshot())
		}
		last = e.Function.Revision
	}
}

func TestReopenSeesPersistedState(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t)
	r := openRegistry(t, srv.JS)
	if err := r.CreateNamespace(ctx, Namespace{Name: "keep"}); err != nil {
		t.Fatal(err)
	}
	f := sampleFunction("durable")
	f.Namespace = "keep"
	if _, err := r.CreateFunction(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := r.CreateSecret(ctx, Secret{Name: "s", Namespace: "keep", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ScaleFunction(ctx, "keep", "durable", 5); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Stop()

	r2 := openRegistry(t, natstest.StartAt(t, srv.Dir).JS)
	got, ok := r2.Function("keep", "durable")
	if !ok || got.Replicas != 5 || got.Digest != f.Digest || got.EnvVars["A"] != "1" {
		t.Fatalf("after restart: %+v, %v", got, ok)
	}
	if s, ok := r2.Secret("keep", "s"); !ok || string(s.Value) != "v" {
		t.Fatalf("secret after restart: %+v, %v", s, ok)
	}
	if _, ok := r2.Namespace("keep"); !ok {
		t.Fatal("namespace lost")
	}
	if len(r2.Namespaces()) != 2 {
		t.Fatalf("namespaces = %+v", r2.Namespaces())
	}
}

func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t)
	r1 := openRegistry(t, srv.JS)
	r2 := openRegistry(t, srv.JS) // a second node writing the same record
	if _, err := r1.CreateFunction(ctx, Function{Name: "counter", Image: "c:1"}); err != nil {
		t.Fatal(err)
	}
	const n = 10
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		reg := r1
		if i%2 == 1 {
			reg = r2
		}
		wg.Go(func() {
			_, err := reg.ModifyFunction(ctx, DefaultNamespace, "counter", func(f *Function) error {
				f.Replicas++
				if f.Labels == nil {
					f.Labels = map[string]string{}
				}
				f.Labels[fmt.Sprintf("g%d", i)] = "1"
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	mid, err := r1.ModifyFunction(ctx, DefaultNamespace, "counter", func(*Function) error { return nil })
	if err != nil || mid.Replicas != n || len(mid.Labels) != n {
		t.Fatalf("after increments = %+v, %v; want %d replicas and labels", mid, err, n)
	}
	// Redeploys racing each other never reset the scale.
	for i := range n {
		wg.Go(func() {
			f := Function{Name: "counter", Image: fmt.Sprintf("c:%d", i+2)}
			_, err := r1.UpdateFunction(ctx, f)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent write: %v", err)
		}
	}
	for _, r := range []*Registry{r1, r2} {
		eventually(t, "cached replicas", func() bool {
			f, _ := r.Function(DefaultNamespace, "counter")
			return f.Replicas == n && len(f.Labels) == 0
		})
	}
	final, err := r1.ModifyFunction(ctx, DefaultNamespace, "counter", func(*Function) error { return nil })
	if err != nil || final.Replicas != n {
		t.Fatalf("final = %+v, %v; want replicas %d", final, err, n)
	}
}
