package cli

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestParseSize(t *testing.T) {
	good := map[string]int64{"0": 0, "4096": 4096, "4KiB": 4096, "1MiB": 1 << 20, "2GiB": 2 << 30, "3K": 3072, "10B": 10}
	for in, want := range good {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "4KB", "1.5MiB", "KiB", "99999999999999999999", "4611686018427387904GiB"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"4KiB", "1MiB", "-3", "12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ParseSize(s); err == nil && n < 0 {
			t.Fatalf("ParseSize(%q) = %d, a negative size", s, n)
		}
	})
}

func TestRejectUnknownVerbs(t *testing.T) {
	root := &cobra.Command{Use: "root"}
	group := &cobra.Command{Use: "group"}
	group.AddCommand(&cobra.Command{Use: "verb", Run: func(*cobra.Command, []string) {}})
	root.AddCommand(group)
	rejectUnknownVerbs(root)
	root.SetOut(io.Discard)
	for args, bad := range map[string]bool{"group bogus": true, "group": false, "group verb": false} {
		root.SetArgs(strings.Fields(args))
		var ue usageError
		if err := root.Execute(); errors.As(err, &ue) != bad {
			t.Errorf("root %s: error %v; want a usage error: %v", args, err, bad)
		}
	}
}
