/*
 * splice start PORT ADDR FPORT SECONDS | splice stop | splice
 *
 * A TCP relay that moves data with socket splicing (SO_SPLICE, see
 * setsockopt(2) and sosplice(9)): the kernel forwards each accepted
 * connection to ADDR:FPORT and back without copying through userland, the
 * mbuf path the refcounting diffs change. The relay runs in a child process
 * (pid 1 keeps answering the console) and ends by itself after SECONDS.
 * Counters live in a shared anonymous page, so `splice` can report while the
 * relay runs and `splice stop` after it ended.
 *
 * A splice dissolves when its source reads EOF; the source then becomes
 * readable. The relay reads the EOF, shuts the drain down for writing and
 * closes the pair once both directions are done.
 */
#include "lab.h"

#define MAX_PAIRS 64
#define POLL_MS 200
#define MAX_SECONDS 86400
#define STOP_WAIT_MS 5000

struct splice_stats {
	volatile int running;
	volatile int stop;
	long pid;
	u64 port;
	u64 accepted, connected, connect_failed, splice_failed, refused;
	u64 active, closed, bytes;
	long last_error;
};

struct pair {
	int a, b;		/* a: accepted from the client, b: connected to the target */
	int open_ab, open_ba;	/* direction still spliced */
};

static struct splice_stats *stats;
static long relay_pid;

static u16
htons16(u64 v)
{
	return (u16)(((v & 0xff) << 8) | ((v >> 8) & 0xff));
}

static u32
make_sockaddr(u8 *buf, int family, const u8 addr[16], u64 port)
{
	memset(buf, 0, LAB_SIZEOF_SOCKADDR_IN6);
	if (family == LAB_AF_INET) {
		struct lab_sockaddr_in *sin = (struct lab_sockaddr_in *)buf;
		sin->sin_len = sizeof(*sin);
		sin->sin_family = LAB_AF_INET;
		sin->sin_port = htons16(port);
		if (addr)
			memcpy(sin->sin_addr, addr, 4);
		return sizeof(*sin);
	}
	struct lab_sockaddr_in6 *sin6 = (struct lab_sockaddr_in6 *)buf;
	sin6->sin6_len = sizeof(*sin6);
	sin6->sin6_family = LAB_AF_INET6;
	sin6->sin6_port = htons16(port);
	if (addr)
		memcpy(sin6->sin6_addr, addr, 16);
	return sizeof(*sin6);
}

static void
note_error(long err)
{
	stats->last_error = err;
}

static u64
spliced_bytes(int fd)
{
	i64 len = 0;
	u32 n = sizeof(len);
	if (sys_getsockopt(fd, LAB_SOL_SOCKET, LAB_SO_SPLICE, &len, &n) < 0 || len < 0)
		return 0;
	return (u64)len;
}

static void
close_pair(struct pair *p)
{
	stats->bytes += spliced_bytes(p->a) + spliced_bytes(p->b);
	sys_close(p->a);
	sys_close(p->b);
	p->a = p->b = -1;
	stats->active--;
	stats->closed++;
}

/* One spliced direction ended: EOF is passed on as a half close, anything else closes the pair. */
static void
direction_ended(struct pair *p, int src, int dst, int *open)
{
	char c;
	long r = sys_read(src, &c, 1);
	*open = 0;
	if (r == 0) {
		sys_shutdown(dst, LAB_SHUT_WR);
		if (!p->open_ab && !p->open_ba)
			close_pair(p);
		return;
	}
	if (r < 0)
		note_error(-r);
	close_pair(p);
}

static int
splice_to(int src, int dst)
{
	int fd = dst;
	long r = sys_setsockopt(src, LAB_SOL_SOCKET, LAB_SO_SPLICE, &fd, sizeof(fd));
	if (r < 0) {
		note_error(-r);
		stats->splice_failed++;
		return -1;
	}
	return 0;
}

static void
accept_one(int lfd, struct pair *pairs, int family, const u8 target[16], u64 fport)
{
	u8 sa[LAB_SIZEOF_SOCKADDR_IN6] __attribute__((aligned(8)));
	u32 salen;
	long a, b, r;
	int i;

	a = sys_accept(lfd, NULL, NULL);
	if (a < 0) {
		note_error(-a);
		return;
	}
	stats->accepted++;
	for (i = 0; i < MAX_PAIRS && pairs[i].a >= 0; i++)
		;
	if (i == MAX_PAIRS) {
		stats->refused++;
		sys_close(a);
		return;
	}
	b = sys_socket(family, LAB_SOCK_STREAM, 0);
	if (b < 0) {
		note_error(-b);
		stats->connect_failed++;
		sys_close(a);
		return;
	}
	salen = make_sockaddr(sa, family, target, fport);
	r = sys_connect(b, sa, salen);
	if (r < 0) {
		note_error(-r);
		stats->connect_failed++;
		sys_close(a);
		sys_close(b);
		return;
	}
	stats->connected++;
	if (splice_to((int)a, (int)b) < 0 || splice_to((int)b, (int)a) < 0) {
		sys_close(a);
		sys_close(b);
		return;
	}
	pairs[i].a = (int)a;
	pairs[i].b = (int)b;
	pairs[i].open_ab = pairs[i].open_ba = 1;
	stats->active++;
}

static void
relay(int lfd, int family, const u8 target[16], u64 fport, u64 seconds)
{
	static struct pair pairs[MAX_PAIRS];
	struct lab_pollfd pfd[1 + 2 * MAX_PAIRS];
	int who[1 + 2 * MAX_PAIRS];
	u64 deadline = lab_monotonic_ns() + seconds * 1000000000UL;
	int i, n;

	for (i = 0; i < MAX_PAIRS; i++)
		pairs[i].a = pairs[i].b = -1;
	while (!stats->stop && lab_monotonic_ns() < deadline) {
		n = 0;
		pfd[n].fd = lfd;
		pfd[n].events = LAB_POLLIN;
		who[n++] = -1;
		for (i = 0; i < MAX_PAIRS; i++) {
			if (pairs[i].a < 0)
				continue;
			if (pairs[i].open_ab) {
				pfd[n].fd = pairs[i].a;
				pfd[n].events = LAB_POLLIN;
				who[n++] = 2 * i;
			}
			if (pairs[i].open_ba) {
				pfd[n].fd = pairs[i].b;
				pfd[n].events = LAB_POLLIN;
				who[n++] = 2 * i + 1;
			}
		}
		if (sys_poll(pfd, (unsigned long)n, POLL_MS) <= 0)
			continue;
		for (i = 1; i < n; i++) {
			struct pair *p = &pairs[who[i] / 2];
			if (pfd[i].revents == 0 || p->a < 0)
				continue;
			if (who[i] % 2 == 0)
				direction_ended(p, p->a, p->b, &p->open_ab);
			else
				direction_ended(p, p->b, p->a, &p->open_ba);
		}
		if (pfd[0].revents & LAB_POLLIN)
			accept_one(lfd, pairs, family, target, fport);
	}
	for (i = 0; i < MAX_PAIRS; i++)
		if (pairs[i].a >= 0)
			close_pair(&pairs[i]);
	sys_close(lfd);
	stats->running = 0;
	sys_exit(0);
}

static int
open_listener(int family, u64 port)
{
	u8 sa[LAB_SIZEOF_SOCKADDR_IN6] __attribute__((aligned(8)));
	int one = 1;
	long fd, r;

	fd = sys_socket(family, LAB_SOCK_STREAM, 0);
	if (fd < 0) {
		out_errno("socket", -fd);
		return -1;
	}
	sys_setsockopt(fd, LAB_SOL_SOCKET, LAB_SO_REUSEADDR, &one, sizeof(one));
	r = sys_bind(fd, sa, make_sockaddr(sa, family, NULL, port));
	if (r == 0)
		r = sys_listen(fd, 128);
	if (r < 0) {
		sys_close(fd);
		out_errno("bind/listen", -r);
		return -1;
	}
	return (int)fd;
}

/* Reaps the relay if it has ended; returns 1 while it still runs. */
static int
relay_alive(void)
{
	int status;
	long r;
	if (relay_pid <= 0)
		return 0;
	r = sys_wait4(relay_pid, &status, LAB_WNOHANG, NULL);
	if (r == 0)
		return 1;
	relay_pid = 0;
	return 0;
}

static int
splice_start(int argc, char **argv)
{
	u8 target[16];
	u64 port, fport, seconds;
	int family, plen, lfd;
	long pid;

	if (argc != 6 || lab_parse_u64(argv[2], &port) != 0 || port < 1 || port > 65535 ||
	    parse_prefix(argv[3], &family, target, &plen) != 0 ||
	    lab_parse_u64(argv[4], &fport) != 0 || fport < 1 || fport > 65535 ||
	    lab_parse_u64(argv[5], &seconds) != 0 || seconds < 1 || seconds > MAX_SECONDS) {
		out_error("usage: splice start PORT ADDR FPORT SECONDS (seconds 1..86400)");
		return -1;
	}
	if (relay_alive()) {
		out_error("a splice relay is already running (splice stop first)");
		return -1;
	}
	if (stats == NULL) {
		long m = sys_mmap(NULL, 4096, LAB_PROT_READ | LAB_PROT_WRITE, LAB_MAP_SHARED | LAB_MAP_ANON, -1, 0);
		if (m < 0 && m > -4096) {
			out_errno("mmap", -m);
			return -1;
		}
		stats = (struct splice_stats *)m;
	}
	lfd = open_listener(family, port);
	if (lfd < 0)
		return -1;
	memset(stats, 0, sizeof(*stats));
	stats->running = 1;
	stats->port = port;
	out_flush();
	pid = sys_fork();
	if (pid < 0) {
		stats->running = 0;
		sys_close(lfd);
		out_errno("fork", -pid);
		return -1;
	}
	if (pid == 0)
		relay(lfd, family, target, fport, seconds);
	sys_close(lfd);
	relay_pid = pid;
	stats->pid = pid;
	out_str("splice: relay pid ");
	out_i64(pid);
	out_nl();
	return 0;
}

static void
print_stat(const char *name, u64 v)
{
	out_str("splice ");
	out_str(name);
	out_char(' ');
	out_u64(v);
	out_nl();
}

static void
print_stats(void)
{
	out_str(stats->running ? "splice state running\n" : "splice state ended\n");
	print_stat("port", stats->port);
	print_stat("accepted", stats->accepted);
	print_stat("connected", stats->connected);
	print_stat("connect_failed", stats->connect_failed);
	print_stat("splice_failed", stats->splice_failed);
	print_stat("refused", stats->refused);
	print_stat("active", stats->active);
	print_stat("closed", stats->closed);
	print_stat("bytes", stats->bytes);
	if (stats->last_error) {
		out_str("splice last_error ");
		out_str(lab_errname(stats->last_error));
		out_nl();
	}
}

/* Asks the relay to close its pairs (counting their bytes) and end; SIGKILL if it does not. */
static int
splice_stop(void)
{
	u64 until = lab_monotonic_ns() + STOP_WAIT_MS * 1000000UL;
	struct lab_timespec tick = { 0, 50000000 };
	int status;

	if (stats == NULL) {
		out_error("no splice relay was started");
		return -1;
	}
	stats->stop = 1;
	while (relay_alive() && lab_monotonic_ns() < until)
		sys_nanosleep(&tick, NULL);
	if (relay_pid > 0) {
		sys_kill(relay_pid, LAB_SIGKILL);
		sys_wait4(relay_pid, &status, 0, NULL);
		relay_pid = 0;
		stats->running = 0;
		out_str("splice: relay killed\n");
	}
	print_stats();
	return 0;
}

int
cmd_splice(int argc, char **argv)
{
	if (argc >= 2 && lab_streq(argv[1], "start"))
		return splice_start(argc, argv);
	if (argc == 2 && lab_streq(argv[1], "stop"))
		return splice_stop();
	if (argc == 1) {
		if (stats == NULL) {
			out_error("no splice relay was started");
			return -1;
		}
		relay_alive();
		print_stats();
		return 0;
	}
	out_error("usage: splice start PORT ADDR FPORT SECONDS | splice stop | splice");
	return -1;
}
