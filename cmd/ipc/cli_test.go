package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	good := map[string]int64{"0": 0, "4096": 4096, "4KiB": 4096, "1MiB": 1 << 20, "2GiB": 2 << 30, "3K": 3072, "10B": 10}
	for in, want := range good {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "4KB", "1.5MiB", "KiB", "99999999999999999999", "4611686018427387904GiB"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"4KiB", "1MiB", "-3", "12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := parseSize(s); err == nil && n < 0 {
			t.Fatalf("parseSize(%q) = %d, a negative size", s, n)
		}
	})
}

func TestWritePayloadJSON(t *testing.T) {
	var b bytes.Buffer
	writePayload(&b, []byte("hi"), true, map[string]any{"priority": 2})
	writePayload(&b, []byte{0xff, 0}, true, map[string]any{"type": 3})
	writePayload(&b, []byte("raw"), false, nil)
	want := `{"data":"hi","priority":2}` + "\n" + `{"data_b64":"/wA=","type":3}` + "\n" + "raw\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{{"no-such-group"}, {"demo", "no-such-mechanism"}, {"--no-such-flag"}} {
		_, stderr, code := runIPC(t, args...)
		if code != exitUsage || !strings.HasPrefix(stderr, "ipc: ") {
			t.Errorf("ipc %v: exit %d, stderr %q; want exit 2 and an ipc: message", args, code, stderr)
		}
	}
}
