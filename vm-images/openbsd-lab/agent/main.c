/*
 * labinit: /sbin/init of the obsdlab ramdisk. Remounts the root read-write,
 * makes the device nodes, then reads one command per line from the serial
 * console and answers "ok" or "error: ...". pid 1 never exits.
 */
#include "lab.h"

#define MAXARGS 16
#define LINE_MAX 512

struct devnode {
	const char *path;
	int mode;
	int major, minor;
};

/* Majors from arch/amd64/amd64/conf.c (cdevsw[] / bdevsw[]). */
static const struct devnode devnodes[] = {
	{ "/dev/console", LAB_S_IFCHR | 0600, 0, 0 },
	{ "/dev/null", LAB_S_IFCHR | 0666, 2, 2 },
	{ "/dev/bpf", LAB_S_IFCHR | 0600, 23, 0 },
	{ "/dev/dt", LAB_S_IFCHR | 0600, 30, 0 },
	{ "/dev/ksyms", LAB_S_IFCHR | 0640, 50, 0 },
	{ "/dev/pf", LAB_S_IFCHR | 0600, 73, 0 },
	{ "/dev/rd0a", LAB_S_IFBLK | 0600, 17, 0 },
};

static long
makedev(int major, int minor)
{
	return (long)(((major & 0xff) << 8) | (minor & 0xff) | ((minor & 0xffff00) << 8));
}

static long mount_err, mknod_err;
static const char *mknod_path;

static void
prepare_root(void)
{
	char args[LAB_SIZEOF_UFS_ARGS_MAX] __attribute__((aligned(8)));
	const char *fspec = "/dev/rd0a";
	unsigned i;
	long r;

	/* ufs_args: fspec first, export_args zero. A NULL fspec means "update exports" (ENOTSUP here). */
	memset(args, 0, sizeof(args));
	memcpy(args, &fspec, sizeof(fspec));
	r = sys_mount("ffs", "/", LAB_MNT_UPDATE | LAB_MNT_FORCE, args);
	if (r < 0)
		mount_err = -r;
	r = sys_mkdir("/dev", 0755);
	for (i = 0; i < nitems(devnodes); i++) {
		r = sys_mknod(devnodes[i].path, devnodes[i].mode, makedev(devnodes[i].major, devnodes[i].minor));
		if (r < 0 && r != -LAB_EEXIST && mknod_err == 0) {
			mknod_err = -r;
			mknod_path = devnodes[i].path;
		}
	}
}

static void
open_console(void)
{
	for (;;) {
		long fd0 = sys_open("/dev/console", LAB_O_RDWR | LAB_O_NOCTTY, 0);
		if (fd0 == 0) {
			sys_open("/dev/console", LAB_O_RDWR | LAB_O_NOCTTY, 0);
			sys_open("/dev/console", LAB_O_RDWR | LAB_O_NOCTTY, 0);
			return;
		}
		if (fd0 > 0)
			sys_close(fd0);
		lab_sleep_sec(1);
	}
}

static void
banner(void)
{
	static const int osrelease[2] = { LAB_CTL_KERN, LAB_KERN_OSRELEASE };
	char release[64];

	out_str("labinit: pid ");
	out_i64(sys_getpid());
	out_nl();
	if (mount_err)
		out_errno("labinit: mount -u -w /", mount_err);
	if (mknod_err) {
		out_str("labinit: mknod ");
		out_errno(mknod_path, mknod_err);
	}
	if (sysctl_get_string(osrelease, 2, release, sizeof(release)) < 0)
		lab_strlcpy(release, "?", sizeof(release));
	out_str("labinit: OpenBSD ");
	out_str(release);
	out_nl();
	out_str("labinit: ready\n");
}

static int
cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	out_str("commands:\n"
		"  ifconfig [IF [up|down | inet A.B.C.D/LEN | inet6 ADDR/LEN | mtu N]]\n"
		"  route add DEST/LEN|default GW\n"
		"  sysctl [NAME[=VALUE]]\n"
		"  pf on|off\n"
		"  netstat\n"
		"  pools\n"
		"  profile SECONDS [TOP]\n"
		"  splice start PORT ADDR FPORT SECONDS | splice stop | splice\n"
		"  ddb | reboot | halt | poweroff | sleep N | echo TEXT | help\n");
	return 0;
}

static int
cmd_sleep(int argc, char **argv)
{
	u64 n;
	if (argc != 2 || lab_parse_u64(argv[1], &n) != 0 || n > 86400) {
		out_error("usage: sleep N (seconds, at most 86400)");
		return -1;
	}
	lab_sleep_sec((long)n);
	return 0;
}

static int
cmd_reboot(int argc, char **argv)
{
	long how, r;
	(void)argc;
	if (lab_streq(argv[0], "halt")) {
		out_str("halting\n");
		how = LAB_RB_HALT;
	} else if (lab_streq(argv[0], "poweroff")) {
		out_str("powering off\n");
		how = LAB_RB_HALT | LAB_RB_POWERDOWN;
	} else {
		out_str("rebooting\n");
		how = LAB_RB_AUTOBOOT;
	}
	out_flush();
	r = sys_reboot(how);
	out_errno("reboot", -r);
	return -1;
}

static const struct command {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{ "ifconfig", cmd_ifconfig },
	{ "route", cmd_route },
	{ "sysctl", cmd_sysctl },
	{ "pf", cmd_pf },
	{ "netstat", cmd_netstat },
	{ "pools", cmd_pools },
	{ "profile", cmd_profile },
	{ "ddb", cmd_ddb },
	{ "splice", cmd_splice },
	{ "reboot", cmd_reboot },
	{ "halt", cmd_reboot },
	{ "poweroff", cmd_reboot },
	{ "sleep", cmd_sleep },
	{ "help", cmd_help },
};

/* echo keeps the rest of the line verbatim, so it is handled before splitting. */
static int
run_line(char *line)
{
	char *argv[MAXARGS];
	int argc = 0;
	unsigned i;
	char *p = line;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == 0)
		return 1;
	if (lab_strneq(p, "echo", 4) && (p[4] == 0 || p[4] == ' ' || p[4] == '\t')) {
		p += 4;
		if (*p)
			p++;
		out_str(p);
		out_nl();
		return 0;
	}
	while (*p) {
		if (argc == MAXARGS) {
			out_error("too many arguments");
			return -1;
		}
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = 0;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	for (i = 0; i < nitems(commands); i++)
		if (lab_streq(commands[i].name, argv[0]))
			return commands[i].fn(argc, argv);
	out_error("unknown command");
	return -1;
}

/* Reads one line from the console; never gives up (EOF or errors: wait, retry). */
static void
read_line(char *line, size_t size)
{
	size_t n = 0;
	for (;;) {
		char c;
		long r = sys_read(0, &c, 1);
		if (r == -LAB_EINTR)
			continue;
		if (r <= 0) {
			lab_sleep_sec(1);
			continue;
		}
		if (c == '\n' || c == '\r') {
			line[n] = 0;
			return;
		}
		if (n + 1 < size)
			line[n++] = c;
	}
}

void lab_main(void);

void
lab_main(void)
{
	static char line[LINE_MAX];

	prepare_root();
	open_console();
	banner();
	for (;;) {
		int r;
		out_str("labinit> ");
		out_flush();
		read_line(line, sizeof(line));
		r = run_line(line);
		if (r == 0)
			out_str("ok\n");
		out_flush();
	}
}
