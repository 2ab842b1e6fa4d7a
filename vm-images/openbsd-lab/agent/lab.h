/* Shared declarations of the lab agent (freestanding, no libc). */
#ifndef LAB_H
#define LAB_H

#include "abi.h"

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef long i64;
typedef unsigned long size_t;

#define NULL ((void *)0)
#define offsetof(t, f) __builtin_offsetof(t, f)
#define nitems(a) (sizeof(a) / sizeof((a)[0]))

struct lab_timespec {
	i64 tv_sec;
	long tv_nsec;
};

struct lab_sockaddr_in {
	u8 sin_len;
	u8 sin_family;
	u16 sin_port;
	u8 sin_addr[4];
	char sin_zero[8];
};
_Static_assert(sizeof(struct lab_sockaddr_in) == LAB_SIZEOF_SOCKADDR_IN, "sockaddr_in");

struct lab_sockaddr_in6 {
	u8 sin6_len;
	u8 sin6_family;
	u16 sin6_port;
	u32 sin6_flowinfo;
	u8 sin6_addr[16];
	u32 sin6_scope_id;
};
_Static_assert(sizeof(struct lab_sockaddr_in6) == LAB_SIZEOF_SOCKADDR_IN6, "sockaddr_in6");

struct lab_pollfd {
	int fd;
	short events;
	short revents;
};

/* syscalls.c: each returns the result, or -errno on failure */
long sys_exit(long status);
long sys_read(long fd, void *buf, size_t n);
long sys_write(long fd, const void *buf, size_t n);
long sys_open(const char *path, long flags, long mode);
long sys_close(long fd);
long sys_mknod(const char *path, long mode, long dev);
long sys_getpid(void);
long sys_mount(const char *type, const char *path, long flags, void *data);
long sys_ioctl(long fd, unsigned long req, void *arg);
long sys_reboot(long how);
long sys_clock_gettime(long clock, struct lab_timespec *ts);
long sys_nanosleep(const struct lab_timespec *req, struct lab_timespec *rem);
long sys_socket(long domain, long type, long proto);
long sys_mkdir(const char *path, long mode);
long sys_sysctl(const int *name, unsigned long namelen, void *old, size_t *oldlen, void *new, size_t newlen);
long sys_fork(void);
long sys_wait4(long pid, int *status, long options, void *rusage);
long sys_kill(long pid, long sig);
long sys_mmap(void *addr, size_t len, long prot, long flags, long fd, long off);
long sys_accept(long fd, void *addr, u32 *addrlen);
long sys_connect(long fd, const void *addr, u32 addrlen);
long sys_bind(long fd, const void *addr, u32 addrlen);
long sys_listen(long fd, long backlog);
long sys_setsockopt(long fd, long level, long name, const void *val, u32 len);
long sys_getsockopt(long fd, long level, long name, void *val, u32 *len);
long sys_shutdown(long fd, long how);
long sys_poll(struct lab_pollfd *fds, unsigned long nfds, long timeout_ms);

/* util.c: memory, strings, output */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t lab_strlen(const char *s);
int lab_streq(const char *a, const char *b);
int lab_strneq(const char *a, const char *b, size_t n);
void lab_strlcpy(char *d, const char *s, size_t n);
const char *lab_errname(long err);
int lab_parse_u64(const char *s, u64 *out);
int lab_parse_i64(const char *s, i64 *out);

void out_str(const char *s);
void out_char(char c);
void out_u64(u64 v);
void out_i64(i64 v);
void out_hex(u64 v);
void out_pad_left(const char *s, int width);
void out_pad_right(const char *s, int width);
void out_u64_width(u64 v, int width);
void out_flush(void);
void out_nl(void);
/* "error: WHAT: ENAME (N)" */
void out_errno(const char *what, long err);
void out_error(const char *msg);
void u64_to_str(u64 v, char *buf);

void lab_sleep_sec(long sec);
u64 lab_monotonic_ns(void);

/* addr.c: address text <-> binary */
int parse_inet4(const char *s, u8 out[4]);
int parse_inet6(const char *s, u8 out[16]);
/* "ADDR/LEN" (len defaults to full width when absent and allow_bare is set) */
int parse_prefix(const char *s, int *family, u8 addr[16], int *plen);
void format_inet4(const u8 a[4], char *buf);
void format_inet6(const u8 a[16], char *buf);
int mask_to_plen(const u8 *mask, int bytes);
void plen_to_mask(int plen, u8 *mask, int bytes);

/* commands */
int cmd_ifconfig(int argc, char **argv);
int cmd_route(int argc, char **argv);
int cmd_sysctl(int argc, char **argv);
int cmd_pf(int argc, char **argv);
int cmd_netstat(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_ddb(int argc, char **argv);
int cmd_splice(int argc, char **argv);
int cmd_pools(int argc, char **argv);

/* sysctl.c helpers shared with other commands */
long sysctl_get_int(const int *mib, unsigned n, int *value);
long sysctl_set_int(const int *mib, unsigned n, int value);
long sysctl_get_string(const int *mib, unsigned n, char *buf, size_t len);

#endif
