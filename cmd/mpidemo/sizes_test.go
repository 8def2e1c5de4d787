package main

import (
	"slices"
	"testing"
)

func TestSizes(t *testing.T) {
	var s sizesValue
	if err := s.Set("0,8,4KiB,1MiB"); err != nil || !slices.Equal(s, sizesValue{0, 8, 4096, 1 << 20}) {
		t.Fatalf("Set = %v, %v", s, err)
	}
	for _, bad := range []string{"", "x", "-1", "8,", "2048MiB", "1.5KiB", "2GiB"} {
		if err := s.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted: %v", bad, s)
		}
	}
}

// FuzzSizes checks that any text is either refused or gives sizes within
// bounds that read back the same.
func FuzzSizes(f *testing.F) {
	for _, seed := range []string{"8", "8,64,1KiB", "1024MiB", "0", "-3", "9999999999999999999KiB"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var s sizesValue
		if s.Set(text) != nil {
			return
		}
		for _, n := range s {
			if n < 0 || n > 1<<30 {
				t.Fatalf("Set(%q) gave size %d", text, n)
			}
		}
		var again sizesValue
		if err := again.Set(s.String()); err != nil || !slices.Equal(s, again) {
			t.Fatalf("Set(%q) = %v, which reads back as %v, %v", text, s, again, err)
		}
	})
}
