/*
 * profile SECONDS [TOP]: the equivalent of btrace 'profile:hz:100 { @[kstack]
 * = count(); }' through dt(4). Needs kern.allowdt=1.
 */
#include "lab.h"

struct lab_stacktrace {
	u32 st_count;
	u64 st_pc[LAB_STACKTRACE_MAX];
};

struct lab_dt_evt {
	u32 dtev_pbn;
	u32 dtev_cpu;
	int dtev_pid;
	int dtev_tid;
	struct lab_timespec dtev_tsp;
	struct lab_stacktrace dtev_kstack;
	struct lab_stacktrace dtev_ustack;
	char dtev_comm[24];
	u64 dtev_args[10];
};
_Static_assert(sizeof(struct lab_dt_evt) == LAB_SIZEOF_DT_EVT, "dt_evt");
_Static_assert(offsetof(struct lab_dt_evt, dtev_kstack) == LAB_OFF_DT_EVT_KSTACK, "dt_evt kstack");

struct lab_dtioc_probe_info {
	u32 dtpi_pbn;
	u8 dtpi_nargs;
	char dtpi_prov[16];
	char dtpi_func[16];
	char dtpi_name[16];
};
_Static_assert(sizeof(struct lab_dtioc_probe_info) == LAB_SIZEOF_DTIOC_PROBE_INFO, "dtioc_probe_info");

struct lab_dtioc_probe {
	size_t dtpr_size;
	struct lab_dtioc_probe_info *dtpr_probes;
};

struct lab_dtioc_req {
	u32 dtrq_pbn;
	u32 unused1;
	u64 dtrq_evtflags;
	u64 dtrq_nsecs;
};
_Static_assert(sizeof(struct lab_dtioc_req) == LAB_SIZEOF_DTIOC_REQ, "dtioc_req");

struct lab_dtioc_stat {
	u64 readevt, dropevt, skiptick, recurevt;
};
_Static_assert(sizeof(struct lab_dtioc_stat) == LAB_SIZEOF_DTIOC_STAT, "dtioc_stat");

#define PROFILE_HZ 100
#define MAX_PROBES 4096
#define MAX_STACKS 8192
#define HASH_SIZE 16384	/* power of two, > MAX_STACKS */
#define DEFAULT_TOP 20

struct agg {
	u64 count;
	u32 depth;
	u64 pc[LAB_STACKTRACE_MAX];
};

static struct lab_dtioc_probe_info probes[MAX_PROBES];
static struct lab_dt_evt evbuf[64];
static struct agg aggs[MAX_STACKS];
static int hash[HASH_SIZE];	/* index + 1 into aggs, 0 = empty */
static int order[MAX_STACKS];
static u32 naggs;
static u64 overflow;

static u64
stack_hash(const struct lab_stacktrace *st)
{
	u64 h = 1469598103934665603UL;
	u32 i;
	for (i = 0; i < st->st_count; i++)
		h = (h ^ st->st_pc[i]) * 1099511628211UL;
	return h;
}

static void
aggregate(const struct lab_stacktrace *st)
{
	u32 depth = st->st_count > LAB_STACKTRACE_MAX ? LAB_STACKTRACE_MAX : st->st_count;
	struct lab_stacktrace s = *st;
	u64 h;
	u32 slot, i;

	s.st_count = depth;
	h = stack_hash(&s);
	for (slot = (u32)h & (HASH_SIZE - 1);; slot = (slot + 1) & (HASH_SIZE - 1)) {
		struct agg *a;
		if (hash[slot] == 0)
			break;
		a = &aggs[hash[slot] - 1];
		if (a->depth != depth)
			continue;
		for (i = 0; i < depth && a->pc[i] == s.st_pc[i]; i++)
			;
		if (i == depth) {
			a->count++;
			return;
		}
	}
	if (naggs == MAX_STACKS) {
		overflow++;
		return;
	}
	aggs[naggs].count = 1;
	aggs[naggs].depth = depth;
	for (i = 0; i < depth; i++)
		aggs[naggs].pc[i] = s.st_pc[i];
	hash[slot] = (int)++naggs;
}

/* Insertion sort by count, ascending (btrace prints the most frequent last). */
static void
sort_aggs(void)
{
	u32 i;
	for (i = 0; i < naggs; i++) {
		int v = (int)i;
		u32 j = i;
		while (j > 0 && aggs[order[j - 1]].count > aggs[v].count) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = v;
	}
}

static int
fail(const char *what, long err, long fd)
{
	if (fd >= 0)
		sys_close(fd);
	out_errno(what, err);
	return -1;
}

int
cmd_profile(int argc, char **argv)
{
	struct lab_dtioc_probe plist;
	struct lab_dtioc_req req;
	struct lab_dtioc_stat stats;
	u64 seconds, top = DEFAULT_TOP, events = 0, deadline;
	u32 nprobes, i, first;
	int pbn = -1, on;
	long fd, r;

	if (argc < 2 || argc > 3 || lab_parse_u64(argv[1], &seconds) != 0 || seconds < 1 || seconds > 3600 ||
	    (argc == 3 && (lab_parse_u64(argv[2], &top) != 0 || top < 1))) {
		out_error("usage: profile SECONDS [TOP] (SECONDS 1..3600)");
		return -1;
	}
	if ((fd = sys_open("/dev/dt", LAB_O_RDWR, 0)) < 0)
		return fail("open /dev/dt", -fd, -1);

	plist.dtpr_size = sizeof(probes);
	plist.dtpr_probes = probes;
	if ((r = sys_ioctl(fd, LAB_DTIOCGPLIST, &plist)) < 0)
		return fail("DTIOCGPLIST", -r, fd);
	nprobes = (u32)(plist.dtpr_size / sizeof(probes[0]));
	if (nprobes > MAX_PROBES)
		nprobes = MAX_PROBES;
	for (i = 0; i < nprobes; i++)
		if (lab_streq(probes[i].dtpi_prov, "profile") && lab_streq(probes[i].dtpi_func, "hz")) {
			pbn = (int)probes[i].dtpi_pbn;
			break;
		}
	out_str("dt: ");
	out_u64(nprobes);
	out_str(" probes, profile:hz is pbn ");
	out_i64(pbn);
	out_nl();
	if (pbn < 0) {
		sys_close(fd);
		out_error("no profile:hz probe");
		return -1;
	}
	out_str("profiling ");
	out_u64(seconds);
	out_str(" seconds at ");
	out_u64(PROFILE_HZ);
	out_str(" Hz\n");
	out_flush();

	memset(&req, 0, sizeof(req));
	req.dtrq_pbn = (u32)pbn;
	req.dtrq_evtflags = LAB_DTEVT_KSTACK;
	req.dtrq_nsecs = 1000000000UL / PROFILE_HZ;
	if ((r = sys_ioctl(fd, LAB_DTIOCPRBENABLE, &req)) < 0)
		return fail("DTIOCPRBENABLE", -r, fd);
	on = 1;
	if ((r = sys_ioctl(fd, LAB_DTIOCRECORD, &on)) < 0)
		return fail("DTIOCRECORD", -r, fd);

	naggs = 0;
	overflow = 0;
	memset(hash, 0, sizeof(hash));
	deadline = lab_monotonic_ns() + seconds * 1000000000UL;
	/* The profile probe fires on every CPU at 100 Hz, so a blocking read always returns soon. */
	while (lab_monotonic_ns() < deadline) {
		r = sys_read(fd, evbuf, sizeof(evbuf));
		if (r == -LAB_EINTR)
			continue;
		if (r < 0) {
			on = 0;
			sys_ioctl(fd, LAB_DTIOCRECORD, &on);
			return fail("read /dev/dt", -r, fd);
		}
		for (i = 0; i < (u32)((u64)r / sizeof(evbuf[0])); i++) {
			events++;
			aggregate(&evbuf[i].dtev_kstack);
		}
	}
	on = 0;
	sys_ioctl(fd, LAB_DTIOCRECORD, &on);
	memset(&stats, 0, sizeof(stats));
	if ((r = sys_ioctl(fd, LAB_DTIOCGSTATS, &stats)) < 0)
		return fail("DTIOCGSTATS", -r, fd);
	sys_ioctl(fd, LAB_DTIOCPRBDISABLE, &req);
	sys_close(fd);

	out_str("events ");
	out_u64(events);
	out_str(" stacks ");
	out_u64(naggs);
	out_str(" overflow ");
	out_u64(overflow);
	out_str(" readevt ");
	out_u64(stats.readevt);
	out_str(" dropevt ");
	out_u64(stats.dropevt);
	out_str(" skiptick ");
	out_u64(stats.skiptick);
	out_str(" recurevt ");
	out_u64(stats.recurevt);
	out_nl();

	sort_aggs();
	first = naggs > top ? naggs - (u32)top : 0;
	for (i = first; i < naggs; i++) {
		const struct agg *a = &aggs[order[i]];
		u32 j;
		out_str("@[\n");
		for (j = 0; j < a->depth; j++) {
			out_str("        0x");
			out_hex(a->pc[j]);
			out_nl();
		}
		out_str("]: ");
		out_u64(a->count);
		out_nl();
	}
	return 0;
}
