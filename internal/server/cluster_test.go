package server

import "testing"

func TestValidateCluster(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      Config
		ok       bool
		replicas int
	}{
		{"alone", Config{}, true, 0},
		{"three", Config{ClusterListen: "127.0.0.1:6222", Peers: []string{"127.0.0.2:6222", "127.0.0.3:6222"}}, true, 3},
		{"two", Config{ClusterListen: "127.0.0.1:6222", Peers: []string{"127.0.0.2:6222"}}, true, 2},
		{"five default 3", Config{ClusterListen: "h:6222", Peers: []string{"a:1", "b:1", "c:1", "d:1"}}, true, 3},
		{"explicit replicas", Config{ClusterListen: "h:6222", Peers: []string{"a:1", "b:1"}, Replicas: 1}, true, 1},
		{"nats url", Config{NATSURL: "nats://x:4222"}, true, 0},
		{"peers without listen", Config{Peers: []string{"a:1"}}, false, 0},
		{"url and peers", Config{NATSURL: "nats://x:4222", ClusterListen: "h:6222", Peers: []string{"a:1"}}, false, 0},
		{"bad peer", Config{ClusterListen: "h:6222", Peers: []string{"nohost"}}, false, 0},
		{"bad listen", Config{ClusterListen: "6222"}, false, 0},
		{"too many replicas", Config{ClusterListen: "h:6222", Replicas: 7}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.validate()
			if (err == nil) != tc.ok {
				t.Fatalf("validate() = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && tc.cfg.Replicas != tc.replicas {
				t.Errorf("replicas = %d, want %d", tc.cfg.Replicas, tc.replicas)
			}
		})
	}
}
