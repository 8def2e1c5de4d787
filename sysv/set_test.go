package sysv_test

import "testing"

// Set on a segment changes the mode and keeps what IPC_SET does not touch.
func TestSharedMemorySet(t *testing.T) {
	m := newSegment(t, 4096)
	st, err := m.Stat()
	if err != nil {
		t.Fatal(err)
	}
	st.Mode = 0o640
	if err := m.Set(st.Perm); err != nil {
		t.Fatal(err)
	}
	got, err := m.Stat()
	if err != nil || got.Mode != 0o640 || got.Size != 4096 || got.UID != st.UID || got.Key != st.Key {
		t.Fatalf("Stat after Set = %+v, %v; want mode 0640, size 4096, uid %d, key %v", got, err, st.UID, st.Key)
	}
}
