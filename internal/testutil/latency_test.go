package testutil

import (
	"os/exec"
	"slices"
	"testing"
	"time"
)

func TestTurns(t *testing.T) {
	for _, c := range []struct{ n, rounds int }{{10, 4}, {3, 4}, {8, 4}, {1, 1}} {
		var got []int
		Turns(c.n, c.rounds, func(k int) { got = append(got, k) })
		sum := 0
		for _, k := range got {
			sum += k
		}
		if sum != c.n || len(got) > c.rounds || slices.Max(got)-slices.Min(got) > 1 {
			t.Errorf("Turns(%d, %d) gave turns %v", c.n, c.rounds, got)
		}
	}
}

func TestLatenciesReport(t *testing.T) {
	r := testing.Benchmark(func(b *testing.B) {
		var l Latencies
		for i := 1; i <= 100; i++ { // go: 1..100 us, c: 1..100 ns and 2..200 ns
			l.Add("go", time.Duration(i)*time.Microsecond)
			l.Add("c", time.Duration(i))
			l.Add("c2", time.Duration(2*i))
		}
		l.Report(b, "go/c", "c2/c")
	})
	want := map[string]float64{
		"go-median-ns": 51000, "go-p99-ns": 100000,
		"c-median-ns": 51, "c-p99-ns": 100,
		"c2-median-ns": 102, "c2-p99-ns": 200,
		"go/c-median": 1000, "go/c-p99": 1000,
		"c2/c-median": 2, "c2/c-p99": 2,
	}
	for k, v := range want {
		if r.Extra[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, r.Extra[k], v, r.Extra)
		}
	}
}

func TestCSamples(t *testing.T) {
	var got []time.Duration
	testing.Benchmark(func(b *testing.B) {
		got = CSamples(b, 3, exec.Command("printf", "5\n700\n42\n"))
	})
	if !slices.Equal(got, []time.Duration{5, 700, 42}) {
		t.Errorf("CSamples = %v, want [5ns 700ns 42ns]", got)
	}
}

// TestLatencyMistakes checks that mistakes in a benchmark fail it rather than
// report wrong numbers.
func TestLatencyMistakes(t *testing.T) {
	for name, bench := range map[string]func(b *testing.B){
		"unknown ratio": func(b *testing.B) {
			var l Latencies
			l.Add("go", time.Second)
			l.Report(b, "go/c")
		},
		"samples missing": func(b *testing.B) { CSamples(b, 3, exec.Command("printf", "5\n700\n")) },
		"not a number":    func(b *testing.B) { CSamples(b, 1, exec.Command("printf", "5us\n")) },
		"program failed":  func(b *testing.B) { CSamples(b, 1, exec.Command("false")) },
	} {
		if r := testing.Benchmark(bench); r.N != 0 {
			t.Errorf("%s: the benchmark did not fail", name)
		}
	}
}
