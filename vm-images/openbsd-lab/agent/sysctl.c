/* sysctl knobs, pf on/off and entry to ddb. */
#include "lab.h"

enum knob_type { KNOB_INT, KNOB_STRING };

static const struct knob {
	const char *name;
	int mib[4];
	unsigned miblen;
	enum knob_type type;
	int listed;	/* shown by a bare "sysctl" */
} knobs[] = {
	{ "net.inet.ip.forwarding", { LAB_CTL_NET, LAB_AF_INET, LAB_IPPROTO_IP, LAB_IPCTL_FORWARDING }, 4, KNOB_INT, 1 },
	{ "net.inet6.ip6.forwarding", { LAB_CTL_NET, LAB_AF_INET6, LAB_IPPROTO_IPV6, LAB_IPV6CTL_FORWARDING }, 4, KNOB_INT, 1 },
	{ "ddb.console", { LAB_CTL_DDB, LAB_DBCTL_CONSOLE }, 2, KNOB_INT, 1 },
	{ "ddb.panic", { LAB_CTL_DDB, LAB_DBCTL_PANIC }, 2, KNOB_INT, 1 },
	{ "kern.allowdt", { LAB_CTL_KERN, LAB_KERN_ALLOWDT }, 2, KNOB_INT, 1 },
	{ "kern.securelevel", { LAB_CTL_KERN, LAB_KERN_SECURELVL }, 2, KNOB_INT, 1 },
	{ "hw.ncpu", { LAB_CTL_HW, LAB_HW_NCPU }, 2, KNOB_INT, 1 },
	{ "ddb.trigger", { LAB_CTL_DDB, LAB_DBCTL_TRIGGER }, 2, KNOB_INT, 0 },
	{ "ddb.max_width", { LAB_CTL_DDB, LAB_DBCTL_MAXWIDTH }, 2, KNOB_INT, 0 },
	{ "ddb.max_line", { LAB_CTL_DDB, LAB_DBCTL_MAXLINE }, 2, KNOB_INT, 0 },
	{ "kern.osrelease", { LAB_CTL_KERN, LAB_KERN_OSRELEASE }, 2, KNOB_STRING, 0 },
	{ "kern.version", { LAB_CTL_KERN, LAB_KERN_VERSION }, 2, KNOB_STRING, 0 },
};

long
sysctl_get_int(const int *mib, unsigned n, int *value)
{
	size_t len = sizeof(*value);
	return sys_sysctl(mib, n, value, &len, NULL, 0);
}

long
sysctl_set_int(const int *mib, unsigned n, int value)
{
	return sys_sysctl(mib, n, NULL, NULL, &value, sizeof(value));
}

long
sysctl_get_string(const int *mib, unsigned n, char *buf, size_t len)
{
	size_t l = len - 1;
	long r = sys_sysctl(mib, n, buf, &l, NULL, 0);
	if (r < 0)
		return r;
	buf[l < len ? l : len - 1] = 0;
	return 0;
}

static const struct knob *
find_knob(const char *name)
{
	unsigned i;
	for (i = 0; i < nitems(knobs); i++)
		if (lab_streq(knobs[i].name, name))
			return &knobs[i];
	return NULL;
}

static int
print_knob(const struct knob *k)
{
	static char buf[1024];
	long r;

	if (k->type == KNOB_STRING) {
		size_t n;
		if ((r = sysctl_get_string(k->mib, k->miblen, buf, sizeof(buf))) < 0)
			goto fail;
		n = lab_strlen(buf);
		while (n > 0 && buf[n - 1] == '\n')
			buf[--n] = 0;
		out_str(k->name);
		out_char('=');
		out_str(buf);
		out_nl();
	} else {
		int v;
		if ((r = sysctl_get_int(k->mib, k->miblen, &v)) < 0)
			goto fail;
		out_str(k->name);
		out_char('=');
		out_i64(v);
		out_nl();
	}
	return 0;
fail:
	out_str("error: sysctl ");
	out_str(k->name);
	out_str(": ");
	out_str(lab_errname(-r));
	out_str(" (");
	out_i64(-r);
	out_str(")\n");
	return -1;
}

int
cmd_sysctl(int argc, char **argv)
{
	char name[64];
	const char *eq = NULL, *p;
	const struct knob *k;
	i64 v;
	long r;
	unsigned i;

	if (argc == 1) {
		for (i = 0; i < nitems(knobs); i++)
			if (knobs[i].listed && print_knob(&knobs[i]) < 0)
				return -1;
		return 0;
	}
	if (argc != 2) {
		out_error("usage: sysctl [NAME[=VALUE]]");
		return -1;
	}
	for (p = argv[1]; *p; p++)
		if (*p == '=') {
			eq = p;
			break;
		}
	i = eq ? (unsigned)(eq - argv[1]) : (unsigned)lab_strlen(argv[1]);
	if (i >= sizeof(name)) {
		out_error("sysctl: name too long");
		return -1;
	}
	memcpy(name, argv[1], i);
	name[i] = 0;
	if ((k = find_knob(name)) == NULL) {
		out_str("error: unknown sysctl ");
		out_str(name);
		out_nl();
		return -1;
	}
	if (eq == NULL)
		return print_knob(k);
	if (k->type != KNOB_INT) {
		out_str("error: sysctl ");
		out_str(name);
		out_str(" is read-only\n");
		return -1;
	}
	if (lab_parse_i64(eq + 1, &v) != 0 || v < -2147483647L - 1 || v > 2147483647L) {
		out_error("sysctl: value must be an integer");
		return -1;
	}
	if ((r = sysctl_set_int(k->mib, k->miblen, (int)v)) < 0) {
		out_str("error: sysctl ");
		out_str(name);
		out_str(": ");
		out_str(lab_errname(-r));
		out_str(" (");
		out_i64(-r);
		out_str(")\n");
		return -1;
	}
	if (k->mib[0] == LAB_CTL_DDB && k->mib[1] == LAB_DBCTL_TRIGGER) {
		out_str(name);
		out_char('=');
		out_i64(v);
		out_nl();
		return 0;
	}
	return print_knob(k);
}

int
cmd_pf(int argc, char **argv)
{
	int on;
	long fd, r;

	if (argc != 2 || (!lab_streq(argv[1], "on") && !lab_streq(argv[1], "off"))) {
		out_error("usage: pf on|off");
		return -1;
	}
	on = lab_streq(argv[1], "on");
	if ((fd = sys_open("/dev/pf", LAB_O_RDWR, 0)) < 0) {
		out_errno("open /dev/pf", -fd);
		return -1;
	}
	r = sys_ioctl(fd, on ? LAB_DIOCSTART : LAB_DIOCSTOP, NULL);
	sys_close(fd);
	if (r < 0) {
		out_errno(on ? "DIOCSTART" : "DIOCSTOP", -r);
		return -1;
	}
	return 0;
}

int
cmd_ddb(int argc, char **argv)
{
	static const int console[2] = { LAB_CTL_DDB, LAB_DBCTL_CONSOLE };
	static const int trigger[2] = { LAB_CTL_DDB, LAB_DBCTL_TRIGGER };
	long r;

	(void)argv;
	if (argc != 1) {
		out_error("usage: ddb");
		return -1;
	}
	if ((r = sysctl_set_int(console, 2, 1)) < 0) {
		out_errno("sysctl ddb.console=1", -r);
		return -1;
	}
	out_str("entering ddb\n");
	out_flush();
	/* Returns when ddb is continued ("c"). */
	if ((r = sysctl_set_int(trigger, 2, 1)) < 0) {
		out_errno("sysctl ddb.trigger=1", -r);
		return -1;
	}
	return 0;
}
