package inventory

import (
	"os"
	"slices"
	"time"
)

// Options selects objects for Select, Orphans and RemoveOrphans. The zero
// value selects every object the caller can see.
type Options struct {
	Kinds  []Kind   // only these kinds; none means all
	Owners []uint32 // only objects owned by these uids; none means any
	// All adds the objects the caller cannot see (see Visible) but whose
	// names the kernel still shows everyone.
	All bool
	// Users fills Object.Users by reading every process's descriptors and
	// mappings in /proc: thorough, but costs a pass over all processes.
	Users bool
	// SkipUninspectable lets Orphans ignore the processes whose descriptors
	// and mappings the caller may not read (see Uninspectable). Off, any such
	// process keeps every POSIX object, since it might use one. On is a
	// judgement: that those processes use none of the selected objects.
	SkipUninspectable bool
	// Match, when set, keeps only the objects it accepts: a service can
	// sweep just its own leftovers.
	Match func(Object) bool
	// Idle lets Orphans count System V queues and semaphore sets, which have
	// no creator: those whose recorded pids are all gone and that nobody
	// changed or used for Idle. Zero leaves them out.
	Idle time.Duration
}

// Select returns the objects opts selects.
func Select(opts Options) ([]Object, error) {
	objs, err := List(opts.Kinds...)
	me := currentCreds()
	kept := objs[:0]
	for _, o := range objs {
		if (opts.All || o.visibleTo(me)) &&
			(len(opts.Owners) == 0 || slices.Contains(opts.Owners, o.UID)) &&
			(opts.Match == nil || opts.Match(o)) {
			kept = append(kept, o)
		}
	}
	if opts.Users {
		findUsers(kept, opts.SkipUninspectable)
	}
	return kept, err
}

type creds struct {
	uid    uint32
	groups []uint32 // effective gid first
}

func currentCreds() creds {
	c := creds{uid: uint32(os.Geteuid()), groups: []uint32{uint32(os.Getegid())}}
	gs, _ := os.Getgroups()
	for _, g := range gs {
		c.groups = append(c.groups, uint32(g))
	}
	return c
}

// Visible reports whether the calling process can see o: root sees
// everything; others see the objects they own or created, and those whose
// mode lets them read. That is the test the kernel applies before it tells
// an object's state (IPC_STAT, GETPID) or opens it for reading, although
// /proc/sysvipc and the /dev/shm and /dev/mqueue directories name every
// object to everyone.
func (o Object) Visible() bool { return o.visibleTo(currentCreds()) }

func (o Object) visibleTo(c creds) bool {
	if c.uid == 0 {
		return true
	}
	// The owner's class, as ipcperms(): the uid or, for System V, the
	// creator's uid. POSIX objects have no creator fields; CUID is then 0,
	// which only root matches, and root has returned already.
	if c.uid == o.UID || (o.CUID == c.uid && o.Kind.SystemV()) {
		return true
	}
	perm := o.Mode & 0o777
	if slices.Contains(c.groups, o.GID) || (o.Kind.SystemV() && slices.Contains(c.groups, o.CGID)) {
		return perm&0o040 != 0
	}
	return perm&0o004 != 0
}

// SystemV reports whether k is one of the System V kinds, which have keys and ids.
func (k Kind) SystemV() bool { return k == SysvMsg || k == SysvShm || k == SysvSem }
