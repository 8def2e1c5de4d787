package posix

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{"/foo": "/foo", "psm_1234": "/psm_1234", "/a.b-c": "/a.b-c"} {
		if got, err := canonical("op", in, nameMax); err != nil || got != want {
			t.Errorf("canonical(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "/", "//x", "/a/", "/.", "..", "/x\x00", "/" + strings.Repeat("n", nameMax+1)} {
		if got, err := canonical("op", in, nameMax); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("canonical(%q) = %q, %v; want EINVAL", in, got, err)
		}
	}
}

func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"/foo", "bar", "/a/b", "", "/.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := canonical("op", in, nameMax)
		if err != nil {
			return
		}
		base := got[1:]
		if got[0] != '/' || base == "" || strings.ContainsAny(base, "/\x00") || len(base) > nameMax || base == "." || base == ".." {
			t.Fatalf("canonical(%q) accepted %q", in, got)
		}
	})
}
