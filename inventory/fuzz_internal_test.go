package inventory

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzSysvParse feeds arbitrary /proc/sysvipc contents to the parser: it must
// not panic, and what it returns must be well formed.
func FuzzSysvParse(f *testing.F) {
	f.Add("       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n" +
		"2084087299          5   600           8          1 14502     0     0     0     0     0 1795640591          0 1795640591\n")
	f.Add("       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n 1 2 640 -5 0 0 0 0 0 0\n")
	f.Add("key shmid perms size cpid lpid nattch\n-1 7 7777 99999999999999999999 -3 4 5\n")
	f.Fuzz(func(t *testing.T, content string) {
		dir := t.TempDir()
		saved := SysvDir
		SysvDir = dir
		defer func() { SysvDir = saved }()
		for _, name := range []string{"msg", "shm", "sem"} {
			os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
		}
		objs, _ := List(SysvMsg, SysvShm, SysvSem)
		for _, o := range objs {
			if !o.Kind.SystemV() || slices.Contains(o.PIDs, 0) || len(slices.Compact(slices.Clone(o.PIDs))) != len(o.PIDs) {
				t.Fatalf("malformed object %+v", o)
			}
		}
	})
}

// FuzzPosixName: an accepted name is one path element without its slash.
func FuzzPosixName(f *testing.F) {
	for _, s := range []string{"/q", "q", "/", "", "/a/b", "/..", "/sem.x", strings.Repeat("x", 256)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		for _, k := range []Kind{PosixMQ, PosixShm, PosixSem} {
			n, err := posixName(k, name)
			if err != nil {
				continue
			}
			if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\x00") || len(n) > 255 || "/"+n != "/"+strings.TrimPrefix(name, "/") {
				t.Fatalf("posixName(%s, %q) accepted %q", k, name, n)
			}
		}
	})
}
