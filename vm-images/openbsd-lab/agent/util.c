/* Memory, string and console-output helpers (no libc). */
#include "lab.h"

void *
memset(void *d, int c, size_t n)
{
	volatile u8 *p = d;	/* volatile: keeps clang from turning this into a call to memset */
	while (n--)
		*p++ = (u8)c;
	return d;
}

void *
memcpy(void *d, const void *s, size_t n)
{
	volatile u8 *dp = d;
	const u8 *sp = s;
	while (n--)
		*dp++ = *sp++;
	return d;
}

void *
memmove(void *d, const void *s, size_t n)
{
	volatile u8 *dp = d;
	const u8 *sp = s;
	if (dp < sp) {
		while (n--)
			*dp++ = *sp++;
	} else {
		while (n--)
			dp[n] = sp[n];
	}
	return d;
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t
lab_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int
lab_streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

int
lab_strneq(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return 0;
		if (!*a)
			return 1;
	}
	return 1;
}

void
lab_strlcpy(char *d, const char *s, size_t n)
{
	size_t i;
	if (n == 0)
		return;
	for (i = 0; i + 1 < n && s[i]; i++)
		d[i] = s[i];
	d[i] = 0;
}

static const char *const errnames[] = {
	"0", "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG",
	"ENOEXEC", "EBADF", "ECHILD", "EDEADLK", "ENOMEM", "EACCES", "EFAULT",
	"ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV", "ENOTDIR", "EISDIR",
	"EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC",
	"ESPIPE", "EROFS", "EMLINK", "EPIPE", "EDOM", "ERANGE", "EAGAIN",
	"EINPROGRESS", "EALREADY", "ENOTSOCK", "EDESTADDRREQ", "EMSGSIZE",
	"EPROTOTYPE", "ENOPROTOOPT", "EPROTONOSUPPORT", "ESOCKTNOSUPPORT",
	"EOPNOTSUPP", "EPFNOSUPPORT", "EAFNOSUPPORT", "EADDRINUSE",
	"EADDRNOTAVAIL", "ENETDOWN", "ENETUNREACH", "ENETRESET", "ECONNABORTED",
	"ECONNRESET", "ENOBUFS", "EISCONN", "ENOTCONN", "ESHUTDOWN",
	"ETOOMANYREFS", "ETIMEDOUT", "ECONNREFUSED", "ELOOP", "ENAMETOOLONG",
	"EHOSTDOWN", "EHOSTUNREACH", "ENOTEMPTY", "EPROCLIM", "EUSERS", "EDQUOT",
	"ESTALE", "EREMOTE", "EBADRPC", "ERPCMISMATCH", "EPROGUNAVAIL",
	"EPROGMISMATCH", "EPROCUNAVAIL", "ENOLCK", "ENOSYS", "EFTYPE", "EAUTH",
	"ENEEDAUTH", "EIPSEC", "ENOATTR", "EILSEQ", "ENOMEDIUM", "EMEDIUMTYPE",
	"EOVERFLOW", "ECANCELED", "EIDRM", "ENOMSG", "ENOTSUP", "EBADMSG",
	"ENOTRECOVERABLE", "EOWNERDEAD", "EPROTO",
};
_Static_assert(nitems(errnames) == LAB_ELAST + 1, "errno name table");

const char *
lab_errname(long err)
{
	if (err > 0 && err <= LAB_ELAST)
		return errnames[err];
	return "E?";
}

int
lab_parse_u64(const char *s, u64 *out)
{
	u64 v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (~0UL - 9) / 10)
			return -1;
		v = v * 10 + (u64)(*s - '0');
	}
	*out = v;
	return 0;
}

int
lab_parse_i64(const char *s, i64 *out)
{
	u64 v;
	int neg = 0;
	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (lab_parse_u64(s, &v) != 0 || v > 0x7fffffffffffffffUL)
		return -1;
	*out = neg ? -(i64)v : (i64)v;
	return 0;
}

/* Console output is buffered and written to fd 1 in large chunks. */
static char outbuf[4096];
static size_t outlen;

void
out_flush(void)
{
	size_t off = 0;
	while (off < outlen) {
		long r = sys_write(1, outbuf + off, outlen - off);
		if (r == -LAB_EINTR)
			continue;
		if (r <= 0)
			break;	/* nowhere to report it: the console is the only output */
		off += (size_t)r;
	}
	outlen = 0;
}

void
out_char(char c)
{
	if (outlen == sizeof(outbuf))
		out_flush();
	outbuf[outlen++] = c;
}

void
out_str(const char *s)
{
	while (*s)
		out_char(*s++);
}

void
out_nl(void)
{
	out_char('\n');
}

void
u64_to_str(u64 v, char *buf)
{
	char tmp[24];
	int n = 0, i = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		buf[i++] = tmp[--n];
	buf[i] = 0;
}

void
out_u64(u64 v)
{
	char buf[24];
	u64_to_str(v, buf);
	out_str(buf);
}

void
out_i64(i64 v)
{
	if (v < 0) {
		out_char('-');
		out_u64((u64)0 - (u64)v);
	} else
		out_u64((u64)v);
}

void
out_hex(u64 v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[17];
	int n = 0;
	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	while (n)
		out_char(tmp[--n]);
}

void
out_pad_left(const char *s, int width)
{
	int n = (int)lab_strlen(s);
	for (; n < width; n++)
		out_char(' ');
	out_str(s);
}

void
out_pad_right(const char *s, int width)
{
	int n = (int)lab_strlen(s);
	out_str(s);
	for (; n < width; n++)
		out_char(' ');
}

void
out_u64_width(u64 v, int width)
{
	char buf[24];
	u64_to_str(v, buf);
	out_pad_left(buf, width);
}

void
out_errno(const char *what, long err)
{
	out_str("error: ");
	out_str(what);
	out_str(": ");
	out_str(lab_errname(err));
	out_str(" (");
	out_i64(err);
	out_str(")\n");
}

void
out_error(const char *msg)
{
	out_str("error: ");
	out_str(msg);
	out_nl();
}

void
lab_sleep_sec(long sec)
{
	struct lab_timespec ts = { sec, 0 }, rem;
	while (sys_nanosleep(&ts, &rem) == -LAB_EINTR)
		ts = rem;
}

u64
lab_monotonic_ns(void)
{
	struct lab_timespec ts;
	if (sys_clock_gettime(LAB_CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (u64)ts.tv_sec * 1000000000UL + (u64)ts.tv_nsec;
}
