package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/cli"
)

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
		if code != cli.ExitUsage || !strings.HasPrefix(stderr, "ipc: ") {
			t.Errorf("ipc %v: exit %d, stderr %q; want exit 2 and an ipc: message", args, code, stderr)
		}
	}
}
