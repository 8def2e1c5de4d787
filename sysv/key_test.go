package sysv_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/goipc/ipc/sysv"
)

func TestParseKey(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key:file") // a colon in the path is fine
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ftokA, err := sysv.Ftok(file, 'A')
	if err != nil {
		t.Fatal(err)
	}
	ftok7, _ := sysv.Ftok(file, 7)
	for in, want := range map[string]sysv.Key{
		"1":           1,
		"0":           sysv.IPCPrivate,
		"-1":          -1,
		"4294967295":  -1,
		"0x7c0012ab":  0x7c0012ab,
		"0XDEADBEEF":  sysv.Key(-559038737),
		file + ":A":   ftokA,
		file + ":65":  ftokA, // 'A' is 65
		file + ":7":   ftok7,
		file + ":007": ftok7,
	} {
		got, err := sysv.ParseKey(in)
		if err != nil || got != want {
			t.Errorf("ParseKey(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "0x", "0x1ffffffff", "4294967296", "-2147483649", "1.5",
		file + ":", file + ":0", file + ":256", file + ":AB", ":A", filepath.Join(dir, "missing") + ":A"} {
		if k, err := sysv.ParseKey(in); err == nil {
			t.Errorf("ParseKey(%q) = %v, want an error", in, k)
		}
	}
	if k, err := sysv.ParseKey(filepath.Join(dir, "missing") + ":A"); !errors.Is(err, os.ErrNotExist) || k != 0 {
		t.Errorf("ParseKey of a missing file = %v, %v; want 0 and fs.ErrNotExist", k, err)
	}
	if _, err := sysv.Ftok(file, 0); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Ftok with project 0: %v, want EINVAL", err)
	}
	// C would read the path only up to the NUL: the key of another file.
	if k, err := sysv.Ftok(file+"\x00junk", 'A'); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Ftok of a path with a NUL byte = %v, %v; want EINVAL", k, err)
	}
	if s := sysv.Key(1).String(); s != "0x00000001" {
		t.Errorf("Key(1).String() = %q", s)
	}
}

// ParseKey never panics, and a number it accepts reads back the same.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"1", "0x1f", "-5", "/tmp:A", "/:255", "::", "0x", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := sysv.ParseKey(s)
		if err != nil {
			return
		}
		if back, err := sysv.ParseKey(k.String()); err != nil || back != k {
			t.Errorf("ParseKey(%q) = %v, which reads back as %v, %v", s, k, back, err)
		}
	})
}
