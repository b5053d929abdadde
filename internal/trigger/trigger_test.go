package trigger

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sigilhq/sigil/internal/natsutil/natstest"
	"github.com/sigilhq/sigil/internal/queue"
	"github.com/sigilhq/sigil/internal/registry"
	"github.com/sigilhq/sigil/internal/testutil"
)

type fakeQueue struct {
	mu   sync.Mutex
	reqs []queue.Request
}

func (f *fakeQueue) Enqueue(_ context.Context, r *queue.Request) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, *r)
	return fmt.Sprintf("call-%d", len(f.reqs)), nil
}

func (f *fakeQueue) calls(name string) []queue.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []queue.Request
	for _, r := range f.reqs {
		if r.Name == name {
			out = append(out, r)
		}
	}
	return out
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, within, what, cond)
}

func newManager(t *testing.T, nc *nats.Conn) (*Manager, *fakeQueue) {
	t.Helper()
	q := &fakeQueue{}
	m, err := New(Config{Queue: q, NC: nc})
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	t.Cleanup(func() { m.Stop(context.Background()) })
	return m, q
}

func fn(name string, ann map[string]string) registry.Event {
	return registry.Event{Kind: registry.Put, Function: registry.Function{Name: name, Namespace: "openfaas-fn", Annotations: ann}}
}

func TestCronFiresEverySecond(t *testing.T) {
	m, q := newManager(t, nil)
	m.OnEvent(fn("tick", map[string]string{AnnotationTopic: CronTopic, AnnotationSchedule: "* * * * * *"}))
	eventually(t, 5*time.Second, "two cron fires", func() bool { return len(q.calls("tick")) >= 2 })
	r := q.calls("tick")[0]
	if r.Source != "cron" || r.Method != "POST" || r.Header.Get("X-Connector") != "cron-connector" || r.Namespace != "openfaas-fn" {
		t.Errorf("cron call %+v", r)
	}
	// Removing the annotation removes the schedule.
	m.OnEvent(fn("tick", nil))
	m.mu.Lock()
	n := len(m.cron.Entries())
	m.mu.Unlock()
	if n != 0 {
		t.Errorf("%d cron entries left after the topic was removed", n)
	}
}

func TestCronScheduleChangeAndDelete(t *testing.T) {
	m, _ := newManager(t, nil)
	m.OnEvent(fn("job", map[string]string{AnnotationTopic: CronTopic, AnnotationSchedule: "*/5 * * * *"}))
	m.OnEvent(fn("job", map[string]string{AnnotationTopic: CronTopic, AnnotationSchedule: "0 3 * * *"}))
	if n := len(m.cron.Entries()); n != 1 {
		t.Fatalf("%d entries after a schedule change, want 1", n)
	}
	m.OnEvent(fn("bad", map[string]string{AnnotationTopic: CronTopic, AnnotationSchedule: "every day"}))
	if n := len(m.cron.Entries()); n != 1 {
		t.Fatalf("an invalid schedule was installed")
	}
	m.OnEvent(registry.Event{Kind: registry.Delete, Function: registry.Function{Name: "job", Namespace: "openfaas-fn"}})
	if n := len(m.cron.Entries()); n != 0 {
		t.Fatalf("%d entries after delete", n)
	}
}

func TestNATSSubjectTrigger(t *testing.T) {
	s := natstest.Start(t)
	m, q := newManager(t, s.NC)
	m.OnEvent(fn("orders", map[string]string{AnnotationTopic: "orders.created, orders.paid,sigil.async.x"}))
	if err := s.NC.FlushTimeout(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	msg := nats.NewMsg("orders.created")
	msg.Data = []byte(`{"id":1}`)
	msg.Header.Set("Content-Type", "application/json")
	if err := s.NC.PublishMsg(msg); err != nil {
		t.Fatal(err)
	}
	reply, err := s.NC.Request("orders.paid", []byte("paid"), 5*time.Second)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if string(reply.Data) == "" {
		t.Error("a request gets the call id as its reply")
	}
	eventually(t, 5*time.Second, "two calls", func() bool { return len(q.calls("orders")) == 2 })
	got := map[string]queue.Request{}
	for _, r := range q.calls("orders") {
		got[r.Header.Get("X-Topic")] = r
	}
	if r := got["orders.created"]; string(r.Body) != `{"id":1}` || r.Header.Get("Content-Type") != "application/json" || r.Source != "nats" {
		t.Errorf("orders.created call %+v", r)
	}
	if r := got["orders.paid"]; string(r.Body) != "paid" || r.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("orders.paid call %+v", r)
	}
	// Only the two valid subjects were subscribed (sigil.* is reserved).
	m.mu.Lock()
	n := len(m.fns["openfaas-fn/orders"].subs)
	m.mu.Unlock()
	if n != 2 {
		t.Errorf("%d subscriptions, want 2", n)
	}
	// Removing the function unsubscribes.
	m.OnEvent(registry.Event{Kind: registry.Delete, Function: registry.Function{Name: "orders", Namespace: "openfaas-fn"}})
	_ = s.NC.Publish("orders.created", []byte("late"))
	_ = s.NC.FlushTimeout(5 * time.Second)
	if _, err := s.NC.Request("orders.paid", []byte("x"), 200*time.Millisecond); err == nil {
		t.Error("a removed trigger still answered")
	}
	if n := len(q.calls("orders")); n != 2 {
		t.Errorf("%d calls after the trigger was removed", n)
	}
}

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"*/5 * * * *", true},
		{"0 3 * * 1-5", true},
		{"*/10 * * * * *", true},
		{"@hourly", true},
		{"@every 30s", true},
		{"", false},
		{"* * *", false},
		{"61 * * * *", false},
		{"every day", false},
	}
	for _, tt := range tests {
		if _, err := ParseSchedule(tt.in); (err == nil) != tt.ok {
			t.Errorf("ParseSchedule(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
	// Six fields have a seconds field: next fire within a second.
	s, _ := ParseSchedule("* * * * * *")
	now := time.Now()
	if next := s.Next(now); next.Sub(now) > time.Second {
		t.Errorf("every-second schedule next in %s", next.Sub(now))
	}
}

func TestTopicsAndSubjects(t *testing.T) {
	c, subs := Topics(" cron-function , a.b,, c.*")
	if !c || len(subs) != 2 || subs[0] != "a.b" || subs[1] != "c.*" {
		t.Errorf("Topics = %v %v", c, subs)
	}
	for s, ok := range map[string]bool{"orders": true, "a.*.c": true, "a.>": true, "$JS.API.x": false,
		"_INBOX.x": false, "sigil.async.a": false, ">": false, "a..b": false, "a b": false, "a.>.b": false, "a.b*": false} {
		if err := ValidateSubject(s); (err == nil) != ok {
			t.Errorf("ValidateSubject(%q) = %v, want ok=%v", s, err, ok)
		}
	}
}
