package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goipc/ipc/internal/errs"
)

// ParseKind returns the Kind named s ("posix-mq", "sysv-shm", ...).
func ParseKind(s string) (Kind, error) {
	if k := Kind(s); slices.Contains(Kinds, k) {
		return k, nil
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return "", errs.Invalid("unknown kind %q (want one of %s)", s, strings.Join(names, ", "))
}

// Lookup finds one object of kind k by target: a POSIX name ("/q" or "q"),
// or "id=N" for a System V object (LookupKey finds one by key). A missing
// object is an error matching fs.ErrNotExist.
func Lookup(k Kind, target string) (Object, error) {
	if _, err := ParseKind(string(k)); err != nil {
		return Object{}, err
	}
	if !k.SystemV() {
		name, err := posixName(k, target)
		if err != nil {
			return Object{}, err
		}
		return find(k, target, func(o Object) bool { return o.Name == "/"+name })
	}
	v, ok := strings.CutPrefix(target, "id=")
	id, err := strconv.Atoi(v)
	if !ok || err != nil || id < 0 {
		return Object{}, errs.Invalid("bad %s %q (want id=N with N >= 0, or a key)", k, target)
	}
	return find(k, target, func(o Object) bool { return o.ID == id })
}

// LookupKey finds the System V object of kind k with key. Key 0
// (IPC_PRIVATE) names no single object.
func LookupKey(k Kind, key int64) (Object, error) {
	if !k.SystemV() {
		return Object{}, errs.Invalid("%s objects have names, not keys", k)
	}
	key = int64(int32(key)) // key_t: 0xffffffff is -1, as List shows it
	if key == 0 {
		return Object{}, errs.Invalid("key 0 is IPC_PRIVATE, shared by many objects (name one by id=N)")
	}
	return find(k, fmt.Sprintf("key=%#x", uint32(key)), func(o Object) bool { return o.Key == key })
}

func find(k Kind, target string, match func(Object) bool) (Object, error) {
	objs, err := List(k)
	for _, o := range objs {
		if match(o) {
			return o, nil
		}
	}
	if err == nil {
		err = syscall.ENOENT
	}
	return Object{}, errs.Path("find", string(k)+":"+target, err)
}

// posixName checks a POSIX object name and returns it without its slash.
func posixName(k Kind, name string) (string, error) {
	n := strings.TrimPrefix(name, "/")
	limit := 255 // NAME_MAX; a semaphore's file adds "sem."
	if k == PosixSem {
		limit -= len("sem.")
	}
	if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\x00") || len(n) > limit {
		return "", errs.Invalid("bad %s name %q (want /NAME: one to %d bytes, no other slash)", k, name, limit)
	}
	return n, nil
}

// Remove destroys the object o names: by Kind and Name for POSIX objects
// (mq_unlink, or unlink of the file in ShmDir), by Kind and ID for System V
// ones (IPC_RMID). Processes that still use it keep it until they let go;
// it just can no longer be found.
func Remove(o Object) error {
	if _, err := ParseKind(string(o.Kind)); err != nil {
		return err
	}
	const denied = "only its owner, its creator or root may remove it"
	if o.Kind.SystemV() {
		if o.ID < 0 || o.ID > math.MaxInt32 { // the kernel would cut it to a C int: another id
			return errs.Invalid("bad id %d", o.ID)
		}
		op := map[Kind]string{SysvMsg: "msgctl", SysvShm: "shmctl", SysvSem: "semctl"}[o.Kind]
		err := errs.Syscall(op+" IPC_RMID "+strconv.Itoa(o.ID), rmid(o.Kind, o.ID))
		if errors.Is(err, fs.ErrPermission) {
			return errs.Hint(err, denied)
		}
		return err
	}
	name, err := posixName(o.Kind, o.Name)
	if err != nil {
		return err
	}
	switch o.Kind {
	case PosixMQ:
		err = errs.Path("mq_unlink", "/"+name, mqUnlink(name))
	case PosixShm:
		err = os.Remove(filepath.Join(ShmDir, name))
	case PosixSem:
		err = os.Remove(filepath.Join(ShmDir, "sem."+name))
	}
	if errors.Is(err, fs.ErrPermission) {
		return errs.Hint(err, denied)
	}
	return err
}

// Orphan is an object that the kernel shows unused, and why.
type Orphan struct {
	Object
	Reason string `json:"reason"`
}

// orphanJSON is the JSON form of an Orphan: the Object's, plus the reason.
type orphanJSON struct {
	objectJSON
	Reason string `json:"reason"`
}

// MarshalJSON writes the object's fields, as Object.MarshalJSON does, and the
// reason (without it the embedded Object's method would drop the reason).
func (o Orphan) MarshalJSON() ([]byte, error) {
	return json.Marshal(orphanJSON{o.Object.toJSON(), o.Reason})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (o *Orphan) UnmarshalJSON(b []byte) error {
	var j struct {
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	o.Reason = j.Reason
	return o.Object.UnmarshalJSON(b) // it ignores the reason
}

// Orphans returns the objects opts selects that the kernel proves unused:
//   - a System V segment with no attachment whose creator is gone;
//   - a POSIX queue, segment or semaphore that no process has open or mapped,
//     when every process could be inspected (so not for an unprivileged
//     caller on a machine where other users run processes);
//   - with opts.Idle, a System V queue or semaphore set whose recorded pids
//     are all gone and that nobody changed or used for Idle.
//
// Anything in doubt is kept.
func Orphans(opts Options) ([]Orphan, error) {
	opts.Users = true
	objs, err := Select(opts)
	now := time.Now()
	var out []Orphan
	for _, o := range objs {
		if why := orphaned(o, opts.Idle, now); why != "" {
			out = append(out, Orphan{o, why})
		}
	}
	return out, err
}

func orphaned(o Object, idle time.Duration, now time.Time) string {
	switch o.Kind {
	case SysvShm:
		if o.Attached == 0 && o.CreatorAlive != nil && !*o.CreatorAlive {
			return fmt.Sprintf("no attachment, creator %d gone", o.CreatorPID)
		}
	case SysvMsg, SysvSem:
		last := o.Changed
		if o.Accessed.After(last) {
			last = o.Accessed
		}
		if idle > 0 && len(o.Alive) == 0 && !o.pidsHidden && now.Sub(last) >= idle {
			return fmt.Sprintf("recorded pids gone, untouched for %v", now.Sub(last).Round(time.Second))
		}
	default:
		if o.usersSeen && len(o.Users) == 0 {
			return "no process has it open or mapped"
		}
	}
	return ""
}

// RemoveOrphans removes what Orphans finds and returns what it removed. A
// segment is checked again just before it goes, in case a process attached
// since. Errors for single objects are joined; the others are still removed.
func RemoveOrphans(opts Options) ([]Orphan, error) {
	orphans, err := Orphans(opts)
	var removed []Orphan
	errList := []error{err}
	for _, o := range orphans {
		if o.Kind == SysvShm {
			if nattch, cpid, err := shmAttached(o.ID); err != nil || nattch != 0 || int(cpid) != o.CreatorPID {
				continue // gone, or in use again
			}
		}
		switch err := Remove(o.Object); {
		case errors.Is(err, fs.ErrNotExist): // someone else removed it
		case err != nil:
			errList = append(errList, fmt.Errorf("remove %s: %w", o.Ref(), err))
		default:
			removed = append(removed, o)
		}
	}
	return removed, errors.Join(errList...)
}
