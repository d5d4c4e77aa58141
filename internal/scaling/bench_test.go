package scaling_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling/scalingtest"
)

// The benchmarks report model time (the fake clock: Nova builds 30s, LB updates 5s,
// health 10s, drain 60s), update cycles and, for scale-out, servers building at once.
// Wall time is the fake's overhead and means nothing; compare the model figures.

func BenchmarkScaleOut(b *testing.B) {
	for _, par := range []int{10, 1} {
		b.Run(fmt.Sprintf("0to50/max_parallel=%d", par), func(b *testing.B) {
			var model, cycles, building float64
			for i := 0; i < b.N; i++ {
				c := scalingtest.NewCloud()
				p, err := scaling.New(scaling.Config{Spec: c.Spec("web", "img-1"), Options: scaling.Options{MaxParallel: par},
					Compute: c.Compute, LB: c.LB, Clock: c.Clock})
				if err != nil {
					b.Fatal(err)
				}
				start := c.Clock.Now()
				if _, err := p.Apply(context.Background(), 50); err != nil {
					b.Fatal(err)
				}
				model += c.Clock.Now().Sub(start).Seconds()
				cycles += float64(c.LB.Cycles())
				building += float64(c.Compute.MaxBuilding())
			}
			n := float64(b.N)
			b.ReportMetric(model/n, "model-s/op")
			b.ReportMetric(cycles/n, "lb-cycles/op")
			b.ReportMetric(building/n, "max-building")
		})
	}
}

func BenchmarkScaleIn(b *testing.B) {
	for _, batch := range []int{1, 2, 5} {
		b.Run(fmt.Sprintf("10to0/batch_size=%d", batch), func(b *testing.B) {
			var model, cycles float64
			for i := 0; i < b.N; i++ {
				c := scalingtest.NewCloud()
				c.LB.BatchSize = batch
				p, err := scaling.New(scaling.Config{Spec: c.Spec("web", "img-1"), Options: scaling.Options{BatchSize: batch},
					Compute: c.Compute, LB: c.LB, Clock: c.Clock})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.Apply(context.Background(), 10); err != nil {
					b.Fatal(err)
				}
				start, before := c.Clock.Now(), c.LB.Cycles()
				if _, err := p.Apply(context.Background(), 0); err != nil {
					b.Fatal(err)
				}
				if v := c.Violations(); len(v) > 0 {
					b.Fatal(v)
				}
				model += c.Clock.Now().Sub(start).Seconds()
				cycles += float64(c.LB.Cycles() - before)
			}
			n := float64(b.N)
			b.ReportMetric(model/n, "model-s/op")
			b.ReportMetric(cycles/n, "lb-cycles/op")
		})
	}
}
