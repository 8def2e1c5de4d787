package inventory

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ProcDir is where process information is read; a variable for tests.
var ProcDir = "/proc"

// checkPIDs fills Alive and CreatorAlive from PIDs.
func (o *Object) checkPIDs() {
	// A pid is reused once its process is gone: a process started after the
	// object was last changed or used cannot be the one the kernel recorded.
	by := o.Changed
	if o.Accessed.After(by) {
		by = o.Accessed
	}
	for _, pid := range o.PIDs {
		if alive(pid, by) {
			o.Alive = append(o.Alive, pid)
		}
	}
	if o.CreatorPID != 0 {
		running := slices.Contains(o.Alive, o.CreatorPID)
		o.CreatorAlive = &running
	}
}

// alive reports whether pid is a running process that started no later than
// by (with a second of slack: the kernel keeps IPC times in seconds). A zombie
// has exited and counts as gone. When in doubt it answers true, the answer
// that keeps an object.
func alive(pid int, by time.Time) bool {
	if pid <= 0 || unix.Kill(pid, 0) == unix.ESRCH {
		return false
	}
	b, err := os.ReadFile(filepath.Join(ProcDir, strconv.Itoa(pid), "stat"))
	if err != nil {
		return true // hidden from us (hidepid), or it exited just now
	}
	// "pid (comm) S ppid ... starttime ...": comm may hold spaces and
	// parentheses, so count fields from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return true
	}
	if f[0] == "Z" || f[0] == "X" {
		return false
	}
	ticks, err := strconv.ParseInt(f[19], 10, 64)
	boot := bootTime()
	if err != nil || boot.IsZero() || by.IsZero() {
		return true
	}
	// /proc counts in USER_HZ, which Linux fixes at 100 for user space.
	started := boot.Add(time.Duration(ticks) * (time.Second / 100))
	return !started.After(by.Add(time.Second))
}

// bootTime is the "btime" line of /proc/stat, read once.
var bootTime = sync.OnceValue(func() time.Time {
	b, err := os.ReadFile(filepath.Join(ProcDir, "stat"))
	if err != nil {
		return time.Time{}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			if sec, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return time.Unix(sec, 0)
			}
		}
	}
	return time.Time{}
})

// fileID identifies a file whatever path reaches it.
type fileID struct{ dev, ino uint64 }

// findUsers records in each POSIX object of objs the pids of the processes
// that have it open (a descriptor in /proc/PID/fd) or mapped (a line of
// /proc/PID/maps; a named semaphore is a mapped file, whose mapping keeps
// glibc's temporary name). Files are matched by device and inode, so a
// process in another mount namespace is found too. Unless every process
// could be inspected (or skipHidden says to ignore those that could not: see
// Options.SkipUninspectable), an empty Users proves nothing.
func findUsers(objs []Object, skipHidden bool) {
	ids := map[fileID]int{} // file -> index in objs
	for i, o := range objs {
		var st unix.Stat_t
		if o.Path != "" && unix.Lstat(o.Path, &st) == nil {
			ids[fileID{st.Dev, st.Ino}] = i
		}
	}
	if len(ids) == 0 {
		return
	}
	uses, hidden := scanProcs(ids)
	for i, pids := range uses {
		objs[i].Users = pids
	}
	for _, i := range ids {
		objs[i].usersSeen = len(hidden) == 0 || skipHidden
	}
}

// Uninspectable returns the pids of the processes whose descriptors or
// mappings the caller may not read: while there are any, Orphans cannot
// prove a POSIX object unused. For an unprivileged caller these are other
// users' processes; for root, processes more privileged than it (a
// container's supervisor, for one).
func Uninspectable() []int {
	_, hidden := scanProcs(nil)
	return hidden
}

// scanProcs reads every process's descriptors and mappings: uses maps an
// index of ids to the pids that use that file, hidden lists the processes
// that could not be read.
func scanProcs(ids map[fileID]int) (uses map[int][]int, hidden []int) {
	procs, err := os.ReadDir(ProcDir)
	if err != nil {
		return nil, []int{-1}
	}
	uses = map[int][]int{}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join(ProcDir, p.Name())
		found := map[int]bool{}
		okFD := scanFDs(dir, ids, found)
		okMaps := scanMaps(dir, ids, found)
		if !okFD || !okMaps {
			hidden = append(hidden, pid)
		}
		for i := range found {
			uses[i] = append(uses[i], pid)
		}
	}
	return uses, hidden
}

// gone reports whether err says the process exited during the scan, which
// leaves nothing unknown, as opposed to a refusal.
func gone(err error) bool { return errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) }

// scanFDs adds to uses the objects the process in dir has a descriptor on;
// false means it could not look.
func scanFDs(dir string, ids map[fileID]int, uses map[int]bool) bool {
	fds, err := os.ReadDir(filepath.Join(dir, "fd"))
	if err != nil || len(ids) == 0 {
		return err == nil || gone(err)
	}
	for _, fd := range fds {
		path := filepath.Join(dir, "fd", fd.Name())
		// Only files have a path ("/name" for a queue, "/dev/shm/name" for
		// a segment); sockets, pipes and the like are skipped unstatted.
		if link, err := os.Readlink(path); err != nil || !strings.HasPrefix(link, "/") {
			continue
		}
		var st unix.Stat_t
		if unix.Stat(path, &st) == nil {
			if i, ok := ids[fileID{st.Dev, st.Ino}]; ok {
				uses[i] = true
			}
		}
	}
	return true
}

// scanMaps adds to uses the objects the process in dir has mapped; false
// means it could not look.
func scanMaps(dir string, ids map[fileID]int, uses map[int]bool) bool {
	f, err := os.Open(filepath.Join(dir, "maps"))
	if err != nil {
		return gone(err)
	}
	defer f.Close()
	if len(ids) == 0 {
		return true // could read it: that was the question
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		// "start-end perms offset MAJ:MIN inode path"
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[4] == "0" {
			continue // anonymous memory
		}
		major, minor, _ := strings.Cut(f[3], ":")
		maj, err1 := strconv.ParseUint(major, 16, 32)
		mnr, err2 := strconv.ParseUint(minor, 16, 32)
		ino, err3 := strconv.ParseUint(f[4], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		if i, ok := ids[fileID{unix.Mkdev(uint32(maj), uint32(mnr)), ino}]; ok {
			uses[i] = true
		}
	}
	if err := sc.Err(); err != nil {
		return gone(err)
	}
	return true
}
