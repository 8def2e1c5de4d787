package inventory

import (
	"errors"
	"io/fs"
	"os"

	"github.com/goipc/ipc/internal/errs"
	"golang.org/x/sys/unix"
)

// mqueueMagic is the mqueue file system's f_type (linux/magic.h).
const mqueueMagic = 0x19800202

// MountMqueue makes the POSIX message queues listable: it mounts the mqueue
// file system on MqueueDir when it is not mounted there, as systemd does at
// boot. mounted says whether it did. Without the right to mount, the error
// says what to run instead; queues still work, they just cannot be listed.
func MountMqueue() (mounted bool, err error) {
	var st unix.Statfs_t
	err = unix.Statfs(MqueueDir, &st)
	if err == nil && st.Type == mqueueMagic {
		return false, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(MqueueDir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return false, errs.Hint(err, "cannot list POSIX queues: the mqueue file system is not mounted")
		}
	}
	err = unix.Mount("mqueue", MqueueDir, "mqueue", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	if err != nil {
		return false, errs.Hint(errs.Path("mount mqueue", MqueueDir, err),
			"cannot list POSIX queues: the mqueue file system is not mounted; as root: mount -t mqueue mqueue %s", MqueueDir)
	}
	return true, nil
}
