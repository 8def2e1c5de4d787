package inventory

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// Kind names a class of IPC object.
type Kind string

const (
	PosixMQ  Kind = "posix-mq"
	PosixShm Kind = "posix-shm"
	PosixSem Kind = "posix-sem"
	SysvMsg  Kind = "sysv-msg"
	SysvShm  Kind = "sysv-shm"
	SysvSem  Kind = "sysv-sem"
)

// Kinds lists every kind, in the order List reports them.
var Kinds = []Kind{PosixMQ, PosixShm, PosixSem, SysvMsg, SysvShm, SysvSem}

// Object is one IPC object as the kernel shows it. Fields the kernel does not
// keep for a kind are zero.
type Object struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name,omitempty"` // POSIX: the name, with its leading slash; see MarshalJSON
	Path string `json:"path,omitempty"` // POSIX: the file that backs it
	Key  int64  `json:"key,omitempty"`  // System V key; 0, left out of JSON, is IPC_PRIVATE
	ID   int    `json:"id"`             // System V id (0 is a valid one; POSIX objects have 0 too)

	UID  uint32 `json:"uid"`
	GID  uint32 `json:"gid"`
	CUID uint32 `json:"cuid,omitempty"` // System V: the creator's uid
	CGID uint32 `json:"cgid,omitempty"` // System V: the creator's gid
	Mode Mode   `json:"mode"`

	Size     int64 `json:"size"`               // bytes: segment size, or bytes queued
	Messages int64 `json:"messages,omitempty"` // queues: messages queued
	Sems     int   `json:"sems,omitempty"`     // semaphore sets: semaphores in the set
	Attached int   `json:"attached,omitempty"` // sysv-shm: nattch

	CreatorPID int `json:"creator_pid,omitempty"` // sysv-shm: cpid
	LastPID    int `json:"last_pid,omitempty"`    // sysv-shm lpid; sysv-msg last send or receive

	// Pids the kernel recorded for the object (creator, last sender, last
	// receiver, last attacher, each semaphore's last operator); zero entries
	// are left out.
	PIDs []int `json:"pids,omitempty"`
	// Alive holds the PIDs whose process still runs (see doc.go for how a
	// reused pid is told apart).
	Alive []int `json:"alive,omitempty"`
	// CreatorAlive says whether the creator still runs; nil where the kernel
	// keeps no creator (everything but sysv-shm).
	CreatorAlive *bool `json:"creator_alive,omitempty"`
	// Users holds, for POSIX objects, the pids of the processes that have it
	// open or mapped. Only Select with Options.Users (and Orphans) fill it,
	// and only from the processes the caller may inspect.
	Users []int `json:"users,omitempty"`

	// usersSeen: Users came from a scan of every process, so an empty Users
	// proves the object unused. pidsHidden: the kernel refused the semaphores'
	// pids (GETPID needs read permission).
	usersSeen, pidsHidden bool

	Changed  time.Time `json:"changed"`           // ctime for System V, mtime for POSIX
	Accessed time.Time `json:"accessed,omitzero"` // latest send/receive/attach/operation
}

// List returns every object of the given kinds (all kinds when none are given)
// that the kernel names, with the liveness of the pids it recorded; Select
// narrows that to what the caller may see (Visible). A source that is missing (a kernel without System V
// IPC, an unmounted mqueue file system) contributes nothing; other read errors
// are returned with the objects found so far.
func List(kinds ...Kind) ([]Object, error) {
	if len(kinds) == 0 {
		kinds = Kinds
	}
	var all []Object
	var errList []error
	for _, k := range kinds {
		objs, err := list(k)
		all = append(all, objs...)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errList = append(errList, err)
		}
	}
	for i := range all {
		all[i].checkPIDs()
	}
	return all, errors.Join(errList...)
}

// Paths of the sources; variables so that a test can point them elsewhere.
var (
	SysvDir   = "/proc/sysvipc"
	MqueueDir = "/dev/mqueue"
	ShmDir    = "/dev/shm"
)

func list(k Kind) ([]Object, error) {
	switch k {
	case PosixMQ:
		return listPosix(MqueueDir, func(string) (Kind, string, bool) { return PosixMQ, "", true })
	case PosixShm, PosixSem:
		return listPosix(ShmDir, func(name string) (Kind, string, bool) {
			kind, name := PosixShm, name
			if sem, ok := strings.CutPrefix(name, "sem."); ok {
				kind, name = PosixSem, sem
			}
			return kind, name, kind == k
		})
	case SysvMsg, SysvShm, SysvSem:
		return listSysv(k)
	}
	return nil, fmt.Errorf("inventory: unknown kind %q", k)
}

// listPosix lists the files of dir; classify says which kind a file is, the
// object's name when it differs from the file's, and whether to keep it.
func listPosix(dir string, classify func(file string) (Kind, string, bool)) ([]Object, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var objs []Object
	for _, e := range entries {
		kind, name, keep := classify(e.Name())
		if !keep || e.IsDir() {
			continue
		}
		if name == "" {
			name = e.Name()
		}
		path := filepath.Join(dir, e.Name())
		info, err := os.Lstat(path)
		if err != nil {
			continue // removed while we looked
		}
		st := info.Sys().(*syscall.Stat_t)
		o := Object{
			Kind: kind, Name: "/" + name, Path: path,
			UID: st.Uid, GID: st.Gid, Mode: Mode(info.Mode().Perm()),
			Size:     info.Size(),
			Changed:  info.ModTime(),
			Accessed: time.Unix(st.Atim.Unix()),
		}
		if kind == PosixMQ {
			o.Size = 0 // the file's size is not the bytes queued
			if b, err := os.ReadFile(path); err == nil {
				// "QSIZE:12 NOTIFY:0 SIGNO:0 NOTIFY_PID:0": bytes queued.
				f := fieldsKV(string(b))
				o.Size = f["QSIZE"]
			}
			o.Messages = mqMessages(name)
		}
		objs = append(objs, o)
	}
	return objs, nil
}

func fieldsKV(s string) map[string]int64 {
	m := map[string]int64{}
	for _, f := range strings.Fields(s) {
		if k, v, ok := strings.Cut(f, ":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			m[k] = n
		}
	}
	return m
}

// listSysv parses /proc/sysvipc/{msg,shm,sem}, whose columns it finds by the
// names in the header line.
func listSysv(k Kind) ([]Object, error) {
	file := map[Kind]string{SysvMsg: "msg", SysvShm: "shm", SysvSem: "sem"}[k]
	f, err := os.Open(filepath.Join(SysvDir, file))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return nil, sc.Err()
	}
	header := strings.Fields(sc.Text())
	var objs []Object
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < len(header) {
			continue
		}
		col := make(map[string]int64, len(header))
		for i, h := range header {
			base := 10
			if h == "perms" {
				base = 8 // printed as %4o
			}
			col[h], _ = strconv.ParseInt(fields[i], base, 64)
		}
		objs = append(objs, sysvObject(k, col))
	}
	return objs, sc.Err()
}

func sysvObject(k Kind, c map[string]int64) Object {
	o := Object{
		Kind: k, Key: int64(int32(c["key"])),
		UID: uint32(c["uid"]), GID: uint32(c["gid"]),
		CUID: uint32(c["cuid"]), CGID: uint32(c["cgid"]),
		Mode:    Mode(c["perms"] & 0o777),
		Changed: unixTime(c["ctime"]),
	}
	var pids []int64
	switch k {
	case SysvMsg:
		o.ID = int(c["msqid"])
		o.Size, o.Messages = c["cbytes"], c["qnum"]
		o.LastPID = int(max(c["lspid"], c["lrpid"]))
		o.Accessed = unixTime(max(c["stime"], c["rtime"]))
		pids = []int64{c["lspid"], c["lrpid"]}
	case SysvShm:
		o.ID = int(c["shmid"])
		o.Size, o.Attached = c["size"], int(c["nattch"])
		o.CreatorPID, o.LastPID = int(c["cpid"]), int(c["lpid"])
		o.Accessed = unixTime(max(c["atime"], c["dtime"]))
		pids = []int64{c["cpid"], c["lpid"]}
	case SysvSem:
		o.ID = int(c["semid"])
		o.Sems = int(c["nsems"])
		o.Accessed = unixTime(c["otime"])
		// The kernel keeps no creator for a set, only each semaphore's
		// last operator, and shows it only through semctl.
		sempids, err := semPIDs(o.ID, o.Sems)
		o.pidsHidden = err != nil
		pids = sempids
	}
	for _, p := range pids {
		if p != 0 && !slices.Contains(o.PIDs, int(p)) {
			o.PIDs = append(o.PIDs, int(p))
		}
	}
	return o
}

func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

// Ref identifies the object on this machine: "posix-mq:/name" for POSIX
// objects, "sysv-shm:id=123" for System V ones.
func (o Object) Ref() string {
	if o.Name != "" {
		return string(o.Kind) + ":" + o.Name
	}
	return fmt.Sprintf("%s:id=%d", o.Kind, o.ID)
}

// objectFields is Object without its JSON methods, for them to use.
type objectFields Object

// objectJSON is the JSON form of an Object.
type objectJSON struct {
	objectFields
	NameB64 []byte `json:"name_b64,omitempty"`
}

func (o Object) toJSON() objectJSON {
	j := objectJSON{objectFields: objectFields(o)}
	if !utf8.ValidString(o.Name) {
		j.Name, j.NameB64 = "", []byte(o.Name)
	}
	return j
}

func (j objectJSON) object() (Object, error) {
	o := Object(j.objectFields)
	if j.NameB64 != nil {
		if o.Name != "" {
			return Object{}, fmt.Errorf("inventory: object has both name and name_b64")
		}
		o.Name = string(j.NameB64)
	}
	return o, nil
}

// MarshalJSON writes the name under "name" when it is valid UTF-8, otherwise
// its bytes in base64 under "name_b64" (as the CLI writes payloads), since a
// POSIX name is any bytes and JSON strings would turn the others into U+FFFD.
func (o Object) MarshalJSON() ([]byte, error) { return json.Marshal(o.toJSON()) }

// UnmarshalJSON reads what MarshalJSON writes.
func (o *Object) UnmarshalJSON(b []byte) error {
	var j objectJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	obj, err := j.object()
	if err == nil {
		*o = obj
	}
	return err
}

// Mode is an object's permission bits. It prints, and reads and writes in
// JSON, as octal: "0640".
type Mode uint32

func (m Mode) String() string { return fmt.Sprintf("%#04o", uint32(m)) }

// MarshalJSON writes the mode as "0640", the form people read.
func (m Mode) MarshalJSON() ([]byte, error) { return json.Marshal(m.String()) }

// UnmarshalJSON reads what MarshalJSON writes.
func (m *Mode) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return fmt.Errorf("inventory: mode %q is not octal permission bits", s)
	}
	*m = Mode(v)
	return nil
}
