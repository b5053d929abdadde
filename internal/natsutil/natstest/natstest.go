// Package natstest starts an embedded, in-process NATS server with JetStream
// for tests. It is test-only: production code must not import it.
package natstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Server is a running embedded server and a JetStream client connected to it.
type Server struct {
	NS  *server.Server
	NC  *nats.Conn
	JS  jetstream.JetStream
	Dir string
}

// Start runs a server storing under a fresh temporary directory. It is shut
// down when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartAt(t, t.TempDir())
}

// StartAt runs a server storing under dir, so a test can stop it and start a
// new one on the same state.
func StartAt(t testing.TB, dir string) *Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{
		JetStream:  true,
		StoreDir:   dir,
		DontListen: true,
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		t.Fatalf("nats server not ready")
	}
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		ns.Shutdown()
		t.Fatalf("nats connect: %v", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		ns.Shutdown()
		t.Fatalf("jetstream: %v", err)
	}
	s := &Server{NS: ns, NC: nc, JS: js, Dir: dir}
	t.Cleanup(s.Stop)
	return s
}

// Stop closes the connection and shuts the server down. It is safe to call
// more than once.
func (s *Server) Stop() {
	if !s.NC.IsClosed() {
		s.NC.Close()
	}
	if s.NS.Running() {
		s.NS.Shutdown()
		s.NS.WaitForShutdown()
	}
}
