package unixfd_test

import (
	"fmt"
	"log"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/unixfd"
)

// A producer fills a memfd, seals it and passes it over a Unix socket; the
// receiver checks the seals as it maps it, so the contents cannot change or
// vanish under it.
func Example() {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		log.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "socket")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			log.Fatal(err)
		}
		return c.(*net.UnixConn)
	}
	producer, consumer := conn(fds[0]), conn(fds[1])
	defer producer.Close()
	defer consumer.Close()

	buf, err := unixfd.NewMemfd("report")
	if err != nil {
		log.Fatal(err)
	}
	buf.Write([]byte("a report that cannot change"))
	if err := unixfd.AddSeals(buf, unixfd.SealAll); err != nil {
		log.Fatal(err)
	}
	if err := unixfd.Send(producer, []byte("report"), buf); err != nil {
		log.Fatal(err)
	}
	buf.Close()

	msg, err := unixfd.Receive(consumer, make([]byte, 64), 1)
	if err != nil {
		log.Fatal(err)
	}
	defer msg.Files[0].Close()
	m, err := unixfd.MapSealed(msg.Files[0], unixfd.SealAll)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	fmt.Printf("%s\n", m.Bytes())
	// Output: a report that cannot change
}

// An eventfd as a doorbell: Add rings it, Wait parks the goroutine on the
// runtime poller until it rings.
func ExampleEventFD() {
	bell, err := unixfd.NewEventFD(0, false)
	if err != nil {
		log.Fatal(err)
	}
	defer bell.Close()
	go bell.Add(3)
	n, err := bell.Wait()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rung", n)
	// Output: rung 3
}
