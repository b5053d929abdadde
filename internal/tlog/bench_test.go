package tlog

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkDeployRecord is one deploy's log cost: sign a deployment record,
// append it, wait for the checkpoint that covers it and build + verify the
// inclusion proof. Reports p50/p99 in ms.
//
//	go test -run '^$' -bench DeployRecord -benchtime 40x ./internal/tlog/
func BenchmarkDeployRecord(b *testing.B) {
	ctx := context.Background()
	l := openLog(b, b.TempDir(), newKey(b))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, err := l.AppendRecord(ctx, Record{Namespace: "ns", Function: fmt.Sprint("f", i), Digest: "sha256:00", Action: ActionDeploy}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkAppendBatched is throughput with 256 concurrent appenders, each
// waiting for its checkpoint and proof.
//
//	go test -run '^$' -bench AppendBatched -benchtime 5000x ./internal/tlog/
func BenchmarkAppendBatched(b *testing.B) {
	ctx := context.Background()
	l := openLog(b, b.TempDir(), newKey(b))
	var n atomic.Int64
	b.SetParallelism(128) // × GOMAXPROCS goroutines
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := l.AppendRecord(ctx, Record{Namespace: "ns", Function: fmt.Sprint("f", i), Action: ActionDeploy}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "entries/s")
}
