/*
 * pools: the kernel's pool statistics (sysctl kern.pool), printed as the pool
 * table of vmstat -m (usr.bin/vmstat print_pool(): InUse is gets - puts,
 * Maxpg "inf" when unlimited), so one parser reads both. The mbuf clusters
 * (mbufpl, mcl2k ...) are what the refcounting diffs change.
 */
#include "lab.h"

#define MAX_POOL_INDEX 4096

struct lab_kinfo_pool {
	u32 pr_size, pr_pgsize, pr_itemsperpage, pr_minpages, pr_maxpages, pr_hardlimit;
	u32 pr_npages, pr_nout, pr_nitems;
	u64 pr_nget, pr_nput, pr_nfail, pr_npagealloc, pr_npagefree;
	u32 pr_hiwat;
	u64 pr_nidle;
};
_Static_assert(sizeof(struct lab_kinfo_pool) == LAB_SIZEOF_KINFO_POOL, "kinfo_pool");
_Static_assert(offsetof(struct lab_kinfo_pool, pr_nget) == LAB_OFF_KINFO_POOL_NGET, "kinfo_pool nget");
_Static_assert(offsetof(struct lab_kinfo_pool, pr_nidle) == LAB_OFF_KINFO_POOL_NIDLE, "kinfo_pool nidle");

static void
print_row(const char *name, const struct lab_kinfo_pool *p)
{
	out_pad_right(name, 11);
	out_u64_width(p->pr_size, 5);
	out_u64_width(p->pr_nget, 10);
	out_u64_width(p->pr_nfail, 5);
	out_u64_width(p->pr_nget - p->pr_nput, 9);
	out_u64_width(p->pr_npagealloc, 6);
	out_u64_width(p->pr_npagefree, 6);
	out_u64_width(p->pr_npages, 6);
	out_u64_width(p->pr_hiwat, 6);
	out_u64_width(p->pr_minpages, 6);
	if (p->pr_maxpages == 0xffffffffU)
		out_pad_left("inf", 6);
	else
		out_u64_width(p->pr_maxpages, 6);
	out_u64_width(p->pr_nidle, 5);
	out_nl();
}

int
cmd_pools(int argc, char **argv)
{
	int mib[4] = { LAB_CTL_KERN, LAB_KERN_POOL, LAB_KERN_POOL_NPOOLS, 0 };
	struct lab_kinfo_pool pool;
	char name[32];
	int npools, found = 0, i;
	size_t len;
	long r;

	(void)argv;
	if (argc != 1) {
		out_error("usage: pools");
		return -1;
	}
	r = sysctl_get_int(mib, 3, &npools);
	if (r < 0) {
		out_errno("sysctl kern.pool.npools", -r);
		return -1;
	}
	out_str("Name        Size  Requests Fail    InUse Pgreq Pgrel Npage Hiwat Minpg Maxpg Idle\n");
	/* Pool indices are sparse (a destroyed pool leaves a hole, ENOENT). */
	for (i = 1; found < npools && i <= MAX_POOL_INDEX; i++) {
		mib[2] = LAB_KERN_POOL_NAME;
		mib[3] = i;
		if (sysctl_get_string(mib, 4, name, sizeof(name)) < 0)
			continue;
		mib[2] = LAB_KERN_POOL_POOL;
		len = sizeof(pool);
		r = sys_sysctl(mib, 4, &pool, &len, NULL, 0);
		if (r < 0) {
			out_errno("sysctl kern.pool.pool", -r);
			return -1;
		}
		found++;
		print_row(name, &pool);
	}
	return 0;
}
