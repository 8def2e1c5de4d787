// Package inventory lists, checks and removes the IPC objects on the machine:
// POSIX message queues, shared memory and named semaphores, and System V
// message queues, shared memory segments and semaphore sets. It is what
// `ipc ls` and `ipc rm` run, and a service can use it to sweep its own
// leftovers at start-up.
//
// # Where it looks
//
// System V objects come from /proc/sysvipc/{msg,shm,sem}; a semaphore set's
// per-semaphore pids from semctl(GETPID). POSIX objects are the files of the
// mqueue file system (MqueueDir, /dev/mqueue) and of /dev/shm (ShmDir), where
// glibc keeps a named semaphore NAME as sem.NAME; a queue's message count
// comes from mq_getattr on a descriptor opened and closed at once. Nothing is
// attached, mapped or operated on, so listing changes no object's pids,
// times or attach counts. MountMqueue mounts the mqueue file system when it
// is missing, as systemd does at boot.
//
// # Who sees what
//
// /proc/sysvipc and the /dev/shm and /dev/mqueue directories name every
// object to every user, but the kernel tells an object's state only to
// those its mode lets read (IPC_STAT, GETPID, opening a queue). Visible
// applies that test: root sees everything, other users the objects they own
// (or, System V, created) and those their owner, group or other bits let
// them read. List returns everything; Select shows only visible objects
// unless Options.All.
//
// # Is it still used?
//
// The kernel records pids: a segment's creator and last attacher, a queue's
// last sender and receiver, each semaphore's last operator. Object.Alive
// holds those whose process still runs; a pid counts as reused, so gone, when
// its process started after the object was last changed or used, and a
// zombie counts as gone. Who has a POSIX object open or mapped is read from
// every /proc/PID/fd and /proc/PID/maps, matching files by device and inode.
// An unprivileged caller cannot read other users' processes, and even root
// may be refused a more privileged one: Uninspectable names them, and while
// any exist no POSIX object is proven unused (unless
// Options.SkipUninspectable).
//
// Orphans applies the rules of `ipc rm --orphans`: a System V segment with no
// attachment whose creator is gone; a POSIX object no process has open or
// mapped; with Options.Idle, a System V queue or semaphore set whose recorded
// pids are all gone and that nobody changed or used for Idle (the kernel
// keeps no creator for those). Anything in doubt is kept. Note that a POSIX
// queue holding messages for a receiver that has not started yet has no
// user, so it is an orphan by this rule: look before you sweep.
//
// # Limits
//
// The answers are a snapshot: a process can open, attach or create objects
// right after the scan. RemoveOrphans checks a segment's attach count again
// just before removing it, but nothing can close that window entirely.
// Pids of processes in other pid namespaces read as 0 and are unknown. A
// thread with a descriptor table of its own (clone without CLONE_FILES) is
// not inspected apart from its process.
//
// All functions are safe for concurrent use; Remove needs the rights the
// kernel asks for (owner, creator or root).
package inventory
