/* unixfd_peer MODE: the C peer of package unixfd's tests.
 *
 *   eventfd N   add N to the eventfd that is descriptor 3 (eventfd_write)
 *   recvfd      receive one message with one descriptor on the Unix socket
 *               that is descriptor 3; print the data, then the first 4096
 *               bytes of the file it received
 *   sendsealed  put "sealed by C" in a memfd, seal it (shrink, grow, write,
 *               seal) and send it, with the data "memfd", on descriptor 3
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char *what)
{
	perror(what);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "eventfd") == 0)
		return eventfd_write(3, strtoull(argv[2], NULL, 10)) ? fail("eventfd_write") : 0;
	if (argc == 2 && strcmp(argv[1], "recvfd") == 0) {
		char data[256], file[4096];
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int))];
		} ctl;
		struct iovec iov = {data, sizeof data - 1};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
		ssize_t n = recvmsg(3, &m, MSG_CMSG_CLOEXEC);
		if (n < 0)
			return fail("recvmsg");
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		if (!c || c->cmsg_type != SCM_RIGHTS) {
			fprintf(stderr, "unixfd_peer: no descriptor came\n");
			return 1;
		}
		int fd;
		memcpy(&fd, CMSG_DATA(c), sizeof fd);
		ssize_t k = pread(fd, file, sizeof file, 0);
		if (k < 0)
			return fail("pread");
		printf("%.*s\n%.*s\n", (int)n, data, (int)k, file);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "sendsealed") == 0) {
		int fd = memfd_create("sealed-by-c", MFD_ALLOW_SEALING | MFD_CLOEXEC);
		const char text[] = "sealed by C";
		if (fd < 0 || write(fd, text, strlen(text)) < 0)
			return fail("memfd");
		if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
			return fail("F_ADD_SEALS");
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int))];
		} ctl;
		memset(&ctl, 0, sizeof ctl);
		struct iovec iov = {"memfd", 5};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
		return sendmsg(3, &m, 0) < 0 ? fail("sendmsg") : 0;
	}
	fprintf(stderr, "usage: unixfd_peer eventfd N | recvfd | sendsealed\n");
	return 2;
}
