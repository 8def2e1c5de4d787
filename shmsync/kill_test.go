package shmsync_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mmap"
)

// TestHolderKilled kills a process that locks and unlocks in a loop, at a
// random instant, *kills times for a C and for a Go holder, while this
// process contends for the lock. Every Lock must succeed within
// testutil.Timeout (the lock is never stuck), nobody may find another holder
// inside (never two holders), and after each death the data is repaired.
func TestHolderKilled(t *testing.T) {
	for _, kind := range []string{"c", "go"} {
		t.Run(kind, func(t *testing.T) {
			r := newRegion(t, false)
			var died int
			for i := range *kills {
				died += killRound(t, r, kind, i)
				if t.Failed() {
					return
				}
			}
			t.Logf("%d holders killed, %d of them holding the lock", *kills, died)
			if died == 0 {
				t.Errorf("no holder of %d died holding the lock: the test never tested owner death", *kills)
			}
		})
	}
}

// killRound starts a holder, contends with it, kills it at a random instant
// and checks the lock and data afterwards. It returns how many owner deaths
// this process repaired.
func killRound(t *testing.T, r *region, kind string, round int) (died int) {
	var cmd *exec.Cmd
	if kind == "c" {
		cmd = exec.Command(peer(t), "hold")
	} else {
		cmd = testutil.Child("hold")
	}
	cmd.ExtraFiles = []*os.File{r.m.File()}
	p := testutil.Start(t, cmd)
	p.Expect("ready")

	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
	defer cancel()
	stop, contended := make(chan struct{}), make(chan error, 1)
	var deaths int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				contended <- nil
				return
			default:
			}
			d, err := critical(ctx, r, 0)
			deaths += d
			if err != nil {
				contended <- err
				return
			}
		}
	}()
	// The random instant of the kill is the test's input, not a wait for
	// an event.
	time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
	cmd.Process.Kill()
	p.Wait()
	close(stop)
	wg.Wait()
	if err := <-contended; err != nil {
		t.Fatalf("round %d (%s holder): %v; holder's stderr:\n%s", round, kind, err, p.Stderr())
	}
	d, err := critical(ctx, r, 0)
	if err != nil {
		t.Fatalf("round %d (%s holder) after the kill: %v", round, kind, err)
	}
	return deaths + d
}

// critical takes the lock, repairs a dead holder's work, checks that nobody
// else is inside and that the data is whole, and does a unit of work.
func critical(ctx context.Context, r *region, work int) (died int, err error) {
	ownerDied, err := r.lock(ctx)
	if err != nil {
		return 0, err
	}
	defer r.mu.Unlock()
	if ownerDied {
		died = 1
	}
	if *r.inside != 0 {
		return died, errors.New("found another holder inside the lock")
	}
	if *r.a != *r.b {
		return died, fmt.Errorf("a=%d b=%d: a holder's work was seen half done", *r.a, *r.b)
	}
	*r.inside = 1
	*r.a++
	spin(r, work)
	*r.b++
	*r.inside = 0
	return died, nil
}

// childHold is the Go holder: csrc/shmsync_peer.c's hold mode.
func childHold(args []string) error {
	r, err := inherited()
	if err != nil {
		return err
	}
	for first := true; ; first = false {
		if _, err := critical(context.Background(), r, rand.IntN(2000)); err != nil {
			return err
		}
		if first {
			fmt.Println("ready")
		}
		spin(r, rand.IntN(2000))
	}
}

// spin works for n steps, as the C holder's work does: a load of shared
// memory the compiler cannot drop.
func spin(r *region, n int) {
	for range n {
		_ = atomic.LoadInt64(r.flag)
	}
}

// inherited attaches the region inherited as descriptor 3.
func inherited() (*region, error) {
	f := os.NewFile(3, "shared")
	m, err := mmap.Inherit(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	return attach(m)
}

// TestCountToAMillion: two goroutines here, a Go child and a C child count
// to a million together on one lock; nothing may be lost.
func TestCountToAMillion(t *testing.T) {
	const each = 250_000
	r := newRegion(t, false)
	c := exec.Command(peer(t), "count", strconv.Itoa(each))
	c.ExtraFiles = []*os.File{r.m.File()}
	goChild := testutil.Child("count", strconv.Itoa(each))
	goChild.ExtraFiles = []*os.File{r.m.File()}
	procs := []*testutil.Proc{testutil.Start(t, c), testutil.Start(t, goChild)}
	errs := make(chan error, 2)
	// One goroutine waits in glibc's lock, the other in the futex wait of
	// a Lock whose context can end: they must hand the lock on to each
	// other and to the C and Go children without a lost wake-up.
	cancellable, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, ctx := range []context.Context{context.Background(), cancellable} {
		go func() { errs <- count(ctx, r, each) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range procs {
		p.MustSucceed()
	}
	if *r.count != 4*each {
		t.Fatalf("count %d, want %d: increments were lost", *r.count, 4*each)
	}
}

func count(ctx context.Context, r *region, n int) error {
	for range n {
		if err := r.mu.Lock(ctx); err != nil {
			return err
		}
		*r.count++
		if err := r.mu.Unlock(); err != nil {
			return err
		}
	}
	return nil
}

func childCount(args []string) error {
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	r, err := inherited()
	if err != nil {
		return err
	}
	return count(context.Background(), r, n)
}

// TestCondWithC: a C thread waits and Go broadcasts; then Go waits and C
// signals; the mutex and cond are initialised by C (pthread defaults plus
// robust and process-shared) the second time.
func TestCondWithC(t *testing.T) {
	for _, initC := range []bool{false, true} {
		t.Run(fmt.Sprintf("initC=%v", initC), func(t *testing.T) {
			r := newRegion(t, initC)
			ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
			defer cancel()

			waiter := exec.Command(peer(t), "wait")
			waiter.ExtraFiles = []*os.File{r.m.File()}
			w := testutil.Start(t, waiter)
			w.Expect("waiting") // printed holding the lock: Lock below follows its wait
			if _, err := r.lock(ctx); err != nil {
				t.Fatal(err)
			}
			*r.flag = 1
			if err := r.cond.Broadcast(); err != nil {
				t.Fatal(err)
			}
			r.mu.Unlock()
			w.Expect("woke")
			w.MustSucceed()

			if _, err := r.lock(ctx); err != nil {
				t.Fatal(err)
			}
			*r.flag = 0
			signaller := exec.Command(peer(t), "signal")
			signaller.ExtraFiles = []*os.File{r.m.File()}
			s := testutil.Start(t, signaller) // it blocks on the lock until Wait releases it
			for *r.flag == 0 {
				if err := r.cond.Wait(ctx, r.mu); err != nil {
					t.Fatal(err)
				}
			}
			if !r.mu.Holding() {
				t.Error("Wait returned without the mutex")
			}
			r.mu.Unlock()
			s.MustSucceed()
		})
	}
}

// TestCondWaitBackground: a Wait with a context that cannot end (one glibc
// call) returns nil when signalled, not an error holding errno 0.
func TestCondWaitBackground(t *testing.T) {
	r := newRegion(t, false)
	woke := make(chan error)
	go func() {
		if err := r.mu.Lock(context.Background()); err != nil {
			woke <- err
			return
		}
		atomic.StoreInt64(r.flag, 1) // waiting (atomics: -race knows no pthread lock)
		var err error
		for err == nil && atomic.LoadInt64(r.flag) == 1 {
			err = r.cond.Wait(context.Background(), r.mu)
		}
		// Unlocked before the test hears of it: its cleanup unmaps the lock.
		woke <- errors.Join(err, r.mu.Unlock())
	}()
	for {
		if err := r.mu.Lock(context.Background()); err != nil {
			t.Fatal(err)
		}
		if atomic.LoadInt64(r.flag) == 1 { // the waiter is in Wait: it let go of the mutex
			break
		}
		r.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	atomic.StoreInt64(r.flag, 2)
	if err := r.cond.Broadcast(); err != nil {
		t.Fatal(err)
	}
	r.mu.Unlock()
	if err := <-woke; err != nil {
		t.Errorf("Wait(context.Background()) woken by Broadcast: %v, want nil", err)
	}
}

func TestCondWaitContext(t *testing.T) {
	r := newRegion(t, false)
	if err := r.cond.Wait(context.Background(), r.mu); !errors.Is(err, os.ErrPermission) {
		t.Errorf("Wait without the mutex: %v, want EPERM", err)
	}
	if err := r.mu.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Millisecond)
	defer cancel()
	var err error
	for err == nil { // nil: a wake-up at the end of a slice
		err = r.cond.Wait(ctx, r.mu)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Wait past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	if !r.mu.Holding() {
		t.Error("Wait that timed out returned without the mutex")
	}
}
