/* ifconfig, route and netstat over ioctls, the routing socket and sysctl. */
#include "lab.h"

struct lab_sockaddr {
	u8 sa_len;
	u8 sa_family;
	char sa_data[14];
};

struct lab_ifreq {
	char ifr_name[LAB_IFNAMSIZ];
	union {
		short flags;
		int mtu;
		u8 pad[16];
	} u;
};
_Static_assert(sizeof(struct lab_ifreq) == LAB_SIZEOF_IFREQ, "ifreq");
_Static_assert(offsetof(struct lab_ifreq, u.flags) == LAB_OFF_IFREQ_FLAGS, "ifreq flags");
_Static_assert(offsetof(struct lab_ifreq, u.mtu) == LAB_OFF_IFREQ_MTU, "ifreq mtu");

struct lab_ifaliasreq {
	char ifra_name[LAB_IFNAMSIZ];
	struct lab_sockaddr_in ifra_addr;
	struct lab_sockaddr_in ifra_broadaddr;
	struct lab_sockaddr_in ifra_mask;
};
_Static_assert(sizeof(struct lab_ifaliasreq) == LAB_SIZEOF_IFALIASREQ, "ifaliasreq");
_Static_assert(offsetof(struct lab_ifaliasreq, ifra_broadaddr) == LAB_OFF_IFALIASREQ_BROADADDR, "ifaliasreq broadaddr");
_Static_assert(offsetof(struct lab_ifaliasreq, ifra_mask) == LAB_OFF_IFALIASREQ_MASK, "ifaliasreq mask");

struct lab_in6_aliasreq {
	char ifra_name[LAB_IFNAMSIZ];
	struct lab_sockaddr_in6 ifra_addr;
	struct lab_sockaddr_in6 ifra_dstaddr;
	struct lab_sockaddr_in6 ifra_prefixmask;
	int ifra_flags;
	struct {
		i64 expire;
		i64 preferred;
		u32 vltime;
		u32 pltime;
	} ifra_lifetime;
};
_Static_assert(sizeof(struct lab_in6_aliasreq) == LAB_SIZEOF_IN6_ALIASREQ, "in6_aliasreq");
_Static_assert(offsetof(struct lab_in6_aliasreq, ifra_prefixmask) == LAB_OFF_IN6_ALIASREQ_PREFIXMASK, "in6_aliasreq prefixmask");
_Static_assert(offsetof(struct lab_in6_aliasreq, ifra_lifetime) == LAB_OFF_IN6_ALIASREQ_LIFETIME, "in6_aliasreq lifetime");

struct lab_if_data {
	u8 ifi_type, ifi_addrlen, ifi_hdrlen, ifi_link_state;
	u32 ifi_mtu, ifi_metric, ifi_rdomain;
	u64 ifi_baudrate;
	u64 ifi_ipackets, ifi_ierrors, ifi_opackets, ifi_oerrors, ifi_collisions;
	u64 ifi_ibytes, ifi_obytes, ifi_imcasts, ifi_omcasts, ifi_iqdrops;
	u64 ifi_oqdrops, ifi_noproto;
	u32 ifi_capabilities;
	i64 ifi_lastchange_sec;
	long ifi_lastchange_usec;
};
_Static_assert(sizeof(struct lab_if_data) == LAB_SIZEOF_IF_DATA, "if_data");
_Static_assert(offsetof(struct lab_if_data, ifi_mtu) == LAB_OFF_IF_DATA_MTU, "if_data mtu");
_Static_assert(offsetof(struct lab_if_data, ifi_ipackets) == LAB_OFF_IF_DATA_IPACKETS, "if_data ipackets");
_Static_assert(offsetof(struct lab_if_data, ifi_noproto) == LAB_OFF_IF_DATA_NOPROTO, "if_data noproto");

/* The common head of rt_msghdr, if_msghdr and ifa_msghdr. */
struct lab_msghdr {
	u16 msglen;
	u8 version;
	u8 type;
	u16 hdrlen;
	u16 index;
	u16 tableid;
	u8 pad1, pad2;
	int addrs;
	int flags;
};

struct lab_if_msghdr {
	struct lab_msghdr h;
	int ifm_xflags;
	struct lab_if_data ifm_data;
};
_Static_assert(sizeof(struct lab_if_msghdr) == LAB_SIZEOF_IF_MSGHDR, "if_msghdr");
_Static_assert(offsetof(struct lab_if_msghdr, ifm_data) == LAB_OFF_IF_MSGHDR_DATA, "if_msghdr data");

struct lab_ifa_msghdr {
	struct lab_msghdr h;
	int ifam_metric;
};
_Static_assert(sizeof(struct lab_ifa_msghdr) == LAB_SIZEOF_IFA_MSGHDR, "ifa_msghdr");

struct lab_rt_msghdr {
	u16 rtm_msglen;
	u8 rtm_version;
	u8 rtm_type;
	u16 rtm_hdrlen;
	u16 rtm_index;
	u16 rtm_tableid;
	u8 rtm_priority;
	u8 rtm_mpls;
	int rtm_addrs;
	int rtm_flags;
	int rtm_fmask;
	int rtm_pid;
	int rtm_seq;
	int rtm_errno;
	u32 rtm_inits;
	u64 rtm_rmx[7];
};
_Static_assert(sizeof(struct lab_rt_msghdr) == LAB_SIZEOF_RT_MSGHDR, "rt_msghdr");
_Static_assert(offsetof(struct lab_rt_msghdr, rtm_seq) == LAB_OFF_RT_MSGHDR_SEQ, "rt_msghdr seq");

static long
ifioctl(int family, unsigned long req, void *arg)
{
	long s = sys_socket(family, LAB_SOCK_DGRAM, 0), r;
	if (s < 0)
		return s;
	r = sys_ioctl(s, req, arg);
	sys_close(s);
	return r;
}

static int
valid_ifname(const char *name)
{
	size_t n = lab_strlen(name);
	return n > 0 && n < LAB_IFNAMSIZ;
}

static int
if_updown(const char *name, int up)
{
	struct lab_ifreq ifr;
	long r;

	memset(&ifr, 0, sizeof(ifr));
	lab_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
	if ((r = ifioctl(LAB_AF_INET, LAB_SIOCGIFFLAGS, &ifr)) < 0) {
		out_errno("SIOCGIFFLAGS", -r);
		return -1;
	}
	if (up)
		ifr.u.flags |= LAB_IFF_UP;
	else
		ifr.u.flags &= ~LAB_IFF_UP;
	if ((r = ifioctl(LAB_AF_INET, LAB_SIOCSIFFLAGS, &ifr)) < 0) {
		out_errno("SIOCSIFFLAGS", -r);
		return -1;
	}
	return 0;
}

static int
if_mtu(const char *name, const char *arg)
{
	struct lab_ifreq ifr;
	u64 mtu;
	long r;

	if (lab_parse_u64(arg, &mtu) != 0 || mtu < 68 || mtu > 65535) {
		out_error("mtu: expected a number 68..65535");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	lab_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
	ifr.u.mtu = (int)mtu;
	if ((r = ifioctl(LAB_AF_INET, LAB_SIOCSIFMTU, &ifr)) < 0) {
		out_errno("SIOCSIFMTU", -r);
		return -1;
	}
	return 0;
}

static int
if_addr(const char *name, int want_family, const char *arg)
{
	u8 addr[16], mask[16];
	int family, plen, i;
	long r;

	if (parse_prefix(arg, &family, addr, &plen) != 0 || family != want_family) {
		out_error(want_family == LAB_AF_INET ? "inet: expected A.B.C.D/LEN" : "inet6: expected ADDR/LEN");
		return -1;
	}
	if (family == LAB_AF_INET) {
		struct lab_ifaliasreq req;
		memset(&req, 0, sizeof(req));
		lab_strlcpy(req.ifra_name, name, sizeof(req.ifra_name));
		plen_to_mask(plen, mask, 4);
		req.ifra_addr.sin_len = req.ifra_broadaddr.sin_len = req.ifra_mask.sin_len = sizeof(struct lab_sockaddr_in);
		req.ifra_addr.sin_family = req.ifra_broadaddr.sin_family = req.ifra_mask.sin_family = LAB_AF_INET;
		memcpy(req.ifra_addr.sin_addr, addr, 4);
		memcpy(req.ifra_mask.sin_addr, mask, 4);
		for (i = 0; i < 4; i++)
			req.ifra_broadaddr.sin_addr[i] = (u8)(addr[i] | (u8)~mask[i]);
		if ((r = ifioctl(LAB_AF_INET, LAB_SIOCAIFADDR, &req)) < 0) {
			out_errno("SIOCAIFADDR", -r);
			return -1;
		}
	} else {
		struct lab_in6_aliasreq req;
		memset(&req, 0, sizeof(req));
		lab_strlcpy(req.ifra_name, name, sizeof(req.ifra_name));
		plen_to_mask(plen, mask, 16);
		req.ifra_addr.sin6_len = req.ifra_prefixmask.sin6_len = sizeof(struct lab_sockaddr_in6);
		req.ifra_addr.sin6_family = req.ifra_prefixmask.sin6_family = LAB_AF_INET6;
		memcpy(req.ifra_addr.sin6_addr, addr, 16);
		memcpy(req.ifra_prefixmask.sin6_addr, mask, 16);
		req.ifra_lifetime.vltime = LAB_ND6_INFINITE_LIFETIME;
		req.ifra_lifetime.pltime = LAB_ND6_INFINITE_LIFETIME;
		if ((r = ifioctl(LAB_AF_INET6, LAB_SIOCAIFADDR_IN6, &req)) < 0) {
			out_errno("SIOCAIFADDR_IN6", -r);
			return -1;
		}
	}
	return 0;
}

/* sysctl NET_RT_IFLIST: one RTM_IFINFO per interface followed by its RTM_NEWADDRs. */
static u8 iflist[65536];

static long
fetch_iflist(size_t *len)
{
	int mib[6] = { LAB_CTL_NET, LAB_PF_ROUTE, 0, 0, LAB_NET_RT_IFLIST, 0 };
	*len = sizeof(iflist);
	return sys_sysctl(mib, 6, iflist, len, NULL, 0);
}

#define SA_ROUNDUP(n) ((n) > 0 ? (1 + (((n) - 1) | (sizeof(long) - 1))) : sizeof(long))

/* Splits the sockaddrs after a routing message header into rti[RTAX]. */
static void
split_addrs(const u8 *p, const u8 *end, int addrs, const struct lab_sockaddr *rti[LAB_RTAX_MAX])
{
	int i;
	for (i = 0; i < LAB_RTAX_MAX; i++) {
		rti[i] = NULL;
		if (!(addrs & (1 << i)) || p >= end)
			continue;
		rti[i] = (const struct lab_sockaddr *)p;
		p += SA_ROUNDUP(rti[i]->sa_len);
	}
}

static const char *const ifflag_names[16] = {
	"UP", "BROADCAST", "DEBUG", "LOOPBACK", "POINTOPOINT", "STATICARP",
	"RUNNING", "NOARP", "PROMISC", "ALLMULTI", "OACTIVE", "SIMPLEX",
	"LINK0", "LINK1", "LINK2", "MULTICAST",
};

static void
print_ifinfo(const struct lab_if_msghdr *ifm, const char *name, const struct lab_sockaddr *dl)
{
	const struct lab_if_data *d = &ifm->ifm_data;
	int i, first = 1;
	unsigned flags = (unsigned)ifm->h.flags & 0xffff;

	out_str(name);
	out_str(": flags=");
	out_hex(flags);
	out_char('<');
	for (i = 0; i < 16; i++) {
		if (flags & (1U << i)) {
			if (!first)
				out_char(',');
			out_str(ifflag_names[i]);
			first = 0;
		}
	}
	out_str("> xflags=");
	out_hex((u32)ifm->ifm_xflags);
	out_str(" mtu ");
	out_u64(d->ifi_mtu);
	out_str(" index ");
	out_u64(ifm->h.index);
	out_str(" link_state ");
	out_u64(d->ifi_link_state);
	out_nl();
	if (dl != NULL) {
		const u8 *s = (const u8 *)dl;
		u8 nlen = s[5], alen = s[6];
		if (alen == 6) {
			static const char hex[] = "0123456789abcdef";
			out_str("\tlladdr ");
			for (i = 0; i < 6; i++) {
				u8 b = s[LAB_OFF_SOCKADDR_DL_DATA + nlen + i];
				if (i)
					out_char(':');
				out_char(hex[b >> 4]);
				out_char(hex[b & 15]);
			}
			out_nl();
		}
	}
	out_str("\tipkts ");
	out_u64(d->ifi_ipackets);
	out_str(" ierrs ");
	out_u64(d->ifi_ierrors);
	out_str(" iqdrops ");
	out_u64(d->ifi_iqdrops);
	out_str(" ibytes ");
	out_u64(d->ifi_ibytes);
	out_str(" imcasts ");
	out_u64(d->ifi_imcasts);
	out_nl();
	out_str("\topkts ");
	out_u64(d->ifi_opackets);
	out_str(" oerrs ");
	out_u64(d->ifi_oerrors);
	out_str(" oqdrops ");
	out_u64(d->ifi_oqdrops);
	out_str(" obytes ");
	out_u64(d->ifi_obytes);
	out_str(" omcasts ");
	out_u64(d->ifi_omcasts);
	out_str(" collisions ");
	out_u64(d->ifi_collisions);
	out_str(" noproto ");
	out_u64(d->ifi_noproto);
	out_nl();
}

static void
print_ifaddr(const struct lab_sockaddr *rti[LAB_RTAX_MAX])
{
	const struct lab_sockaddr *ifa = rti[5], *mask = rti[2];	/* RTAX_IFA, RTAX_NETMASK */
	char buf[64];
	u8 m[16];

	if (ifa == NULL)
		return;
	memset(m, 0, sizeof(m));
	if (ifa->sa_family == LAB_AF_INET) {
		const struct lab_sockaddr_in *sin = (const struct lab_sockaddr_in *)ifa;
		if (mask != NULL && mask->sa_len > 4)
			memcpy(m, (const u8 *)mask + 4, mask->sa_len - 4 > 4 ? 4 : (size_t)(mask->sa_len - 4));
		format_inet4(sin->sin_addr, buf);
		out_str("\tinet ");
		out_str(buf);
		out_char('/');
		out_u64((u64)mask_to_plen(m, 4));
		out_nl();
	} else if (ifa->sa_family == LAB_AF_INET6) {
		const struct lab_sockaddr_in6 *sin6 = (const struct lab_sockaddr_in6 *)ifa;
		u8 a[16];
		memcpy(a, sin6->sin6_addr, 16);
		/* KAME keeps the scope (interface index) in bytes 2-3 of link-local addresses. */
		if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
			a[2] = a[3] = 0;
		if (mask != NULL && mask->sa_len > 8)
			memcpy(m, (const u8 *)mask + 8, mask->sa_len - 8 > 16 ? 16 : (size_t)(mask->sa_len - 8));
		format_inet6(a, buf);
		out_str("\tinet6 ");
		out_str(buf);
		out_char('/');
		out_u64((u64)mask_to_plen(m, 16));
		out_nl();
	}
}

/* The name in an AF_LINK sockaddr (not NUL-terminated in the message). */
static void
dl_name(const struct lab_sockaddr *dl, char name[LAB_IFNAMSIZ])
{
	const u8 *s = (const u8 *)dl;
	u8 nlen = s[5];
	if (nlen >= LAB_IFNAMSIZ)
		nlen = LAB_IFNAMSIZ - 1;
	memcpy(name, s + LAB_OFF_SOCKADDR_DL_DATA, nlen);
	name[nlen] = 0;
}

typedef void (*ifinfo_fn)(const struct lab_if_msghdr *, const char *, const struct lab_sockaddr *);

/* Walks the interface list; `only` selects one interface by name, NULL all. */
static int
walk_interfaces(const char *only, ifinfo_fn on_if, int with_addrs)
{
	size_t len;
	long r = fetch_iflist(&len);
	const u8 *p = iflist, *end;
	int selected = 0, found = 0;
	char name[LAB_IFNAMSIZ];
	const struct lab_sockaddr *rti[LAB_RTAX_MAX];

	if (r < 0) {
		out_errno("sysctl NET_RT_IFLIST", -r);
		return -2;
	}
	end = iflist + len;
	while (p + sizeof(struct lab_msghdr) <= end) {
		const struct lab_msghdr *h = (const struct lab_msghdr *)p;
		if (h->msglen == 0 || p + h->msglen > end)
			break;
		if (h->version == LAB_RTM_VERSION && h->type == LAB_RTM_IFINFO) {
			const struct lab_if_msghdr *ifm = (const struct lab_if_msghdr *)p;
			split_addrs(p + h->hdrlen, p + h->msglen, h->addrs, rti);
			name[0] = 0;
			if (rti[4] != NULL && rti[4]->sa_family == LAB_AF_LINK)	/* RTAX_IFP */
				dl_name(rti[4], name);
			selected = only == NULL || lab_streq(only, name);
			if (selected) {
				found = 1;
				on_if(ifm, name, rti[4]);
			}
		} else if (h->version == LAB_RTM_VERSION && h->type == LAB_RTM_NEWADDR && selected && with_addrs) {
			split_addrs(p + h->hdrlen, p + h->msglen, h->addrs, rti);
			print_ifaddr(rti);
		}
		p += h->msglen;
	}
	return found ? 0 : -1;
}

int
cmd_ifconfig(int argc, char **argv)
{
	const char *name;

	if (argc == 1)
		return walk_interfaces(NULL, print_ifinfo, 1) == -2 ? -1 : 0;
	name = argv[1];
	if (!valid_ifname(name)) {
		out_error("ifconfig: bad interface name");
		return -1;
	}
	if (argc == 2) {
		struct lab_ifreq ifr;
		long r;
		memset(&ifr, 0, sizeof(ifr));
		lab_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
		if ((r = ifioctl(LAB_AF_INET, LAB_SIOCGIFFLAGS, &ifr)) < 0) {
			out_errno("SIOCGIFFLAGS", -r);
			return -1;
		}
		if ((r = walk_interfaces(name, print_ifinfo, 1)) != 0) {
			if (r == -1)
				out_error("ifconfig: interface not in NET_RT_IFLIST");
			return -1;
		}
		return 0;
	}
	if (argc == 3 && lab_streq(argv[2], "up"))
		return if_updown(name, 1);
	if (argc == 3 && lab_streq(argv[2], "down"))
		return if_updown(name, 0);
	if (argc == 4 && lab_streq(argv[2], "inet"))
		return if_addr(name, LAB_AF_INET, argv[3]);
	if (argc == 4 && lab_streq(argv[2], "inet6"))
		return if_addr(name, LAB_AF_INET6, argv[3]);
	if (argc == 4 && lab_streq(argv[2], "mtu"))
		return if_mtu(name, argv[3]);
	out_error("usage: ifconfig [IF [up|down | inet A.B.C.D/LEN | inet6 ADDR/LEN | mtu N]]");
	return -1;
}

static size_t
put_sockaddr(u8 *p, int family, const u8 addr[16])
{
	if (family == LAB_AF_INET) {
		struct lab_sockaddr_in *sin = (struct lab_sockaddr_in *)p;
		sin->sin_len = sizeof(*sin);
		sin->sin_family = LAB_AF_INET;
		memcpy(sin->sin_addr, addr, 4);
		return SA_ROUNDUP(sizeof(*sin));
	} else {
		struct lab_sockaddr_in6 *sin6 = (struct lab_sockaddr_in6 *)p;
		sin6->sin6_len = sizeof(*sin6);
		sin6->sin6_family = LAB_AF_INET6;
		memcpy(sin6->sin6_addr, addr, 16);
		return SA_ROUNDUP(sizeof(*sin6));
	}
}

int
cmd_route(int argc, char **argv)
{
	u8 msg[512] __attribute__((aligned(8)));
	struct lab_rt_msghdr *rtm = (struct lab_rt_msghdr *)msg;
	u8 dst[16], gw[16], mask[16];
	int dfam, gfam, plen, gplen;
	size_t len;
	long s, r;

	if (argc != 4 || !lab_streq(argv[1], "add")) {
		out_error("usage: route add DEST/LEN|default GW");
		return -1;
	}
	if (parse_prefix(argv[3], &gfam, gw, &gplen) != 0 || gplen != (gfam == LAB_AF_INET ? 32 : 128)) {
		out_error("route: bad gateway address");
		return -1;
	}
	if (lab_streq(argv[2], "default")) {
		dfam = gfam;
		plen = 0;
		memset(dst, 0, sizeof(dst));
	} else if (parse_prefix(argv[2], &dfam, dst, &plen) != 0 || dfam != gfam) {
		out_error("route: bad destination (DEST/LEN of the gateway's family, or default)");
		return -1;
	}
	memset(msg, 0, sizeof(msg));
	plen_to_mask(plen, mask, dfam == LAB_AF_INET ? 4 : 16);
	len = sizeof(*rtm);
	len += put_sockaddr(msg + len, dfam, dst);
	len += put_sockaddr(msg + len, gfam, gw);
	len += put_sockaddr(msg + len, dfam, mask);
	rtm->rtm_msglen = (u16)len;
	rtm->rtm_version = LAB_RTM_VERSION;
	rtm->rtm_type = LAB_RTM_ADD;
	rtm->rtm_hdrlen = sizeof(*rtm);
	rtm->rtm_flags = LAB_RTF_UP | LAB_RTF_GATEWAY | LAB_RTF_STATIC;
	rtm->rtm_addrs = LAB_RTA_DST | LAB_RTA_GATEWAY | LAB_RTA_NETMASK;
	rtm->rtm_seq = 1;
	if ((s = sys_socket(LAB_PF_ROUTE, LAB_SOCK_RAW, 0)) < 0) {
		out_errno("socket PF_ROUTE", -s);
		return -1;
	}
	r = sys_write(s, msg, len);
	sys_close(s);
	if (r < 0) {
		out_errno("RTM_ADD", -r);
		return -1;
	}
	return 0;
}

static void
print_netstat_row(const struct lab_if_msghdr *ifm, const char *name, const struct lab_sockaddr *dl)
{
	const struct lab_if_data *d = &ifm->ifm_data;
	(void)dl;
	out_pad_right(name, 8);
	out_u64_width(d->ifi_ipackets, 13);
	out_u64_width(d->ifi_ierrors, 9);
	out_u64_width(d->ifi_iqdrops, 9);
	out_u64_width(d->ifi_opackets, 13);
	out_u64_width(d->ifi_oerrors, 9);
	out_u64_width(d->ifi_oqdrops, 9);
	out_u64_width(d->ifi_ibytes, 15);
	out_u64_width(d->ifi_obytes, 15);
	out_nl();
}

static const char *const mbstat_names[] = {
	"drops", "wait", "drain", "mt_free", "mt_data", "mt_header", "mt_soname",
	"mt_soopts", "mt_ftable", "mt_control", "mt_oobdata", "defrag_alloc",
	"prepend_alloc", "pullup_alloc", "pullup_copy", "pulldown_alloc",
	"pulldown_copy",
};
_Static_assert(nitems(mbstat_names) * 8 == LAB_SIZEOF_MBSTAT, "mbstat fields");
_Static_assert(LAB_MT_NTYPES == 8, "mbstat mt_ names");

static const char *const ipstat_names[] = {
	"total", "badsum", "tooshort", "toosmall", "badhlen", "badlen",
	"fragments", "fragdropped", "fragtimeout", "forward", "cantforward",
	"redirectsent", "noproto", "delivered", "localout", "odropped",
	"reassembled", "fragmented", "ofragments", "cantfrag", "badoptions",
	"noroute", "badvers", "rawout", "badfrags", "rcvmemdrop", "toolong",
	"nogif", "badaddr", "inswcsum", "outswcsum", "notmember", "rtcachehit",
	"rtcachemiss", "wrongif", "idropped",
};
_Static_assert(nitems(ipstat_names) * 8 == LAB_SIZEOF_IPSTAT, "ipstat fields");

/* Scalar ip6stat fields by index (the histogram arrays are left out). */
static const struct {
	const char *name;
	unsigned index;
} ip6stat_fields[] = {
	{ "total", 0 }, { "tooshort", 1 }, { "toosmall", 2 }, { "fragments", 3 },
	{ "fragdropped", 4 }, { "fragtimeout", 5 }, { "fragoverflow", 6 },
	{ "forward", 7 }, { "cantforward", 8 }, { "redirectsent", 9 },
	{ "delivered", 10 }, { "localout", 11 }, { "odropped", 12 },
	{ "reassembled", 13 }, { "fragmented", 14 }, { "ofragments", 15 },
	{ "cantfrag", 16 }, { "badoptions", 17 }, { "noroute", 18 },
	{ "badvers", 19 }, { "rawout", 20 }, { "badscope", 21 },
	{ "notmember", 22 },
	{ "m1", LAB_OFF_IP6STAT_M1 / 8 },
	{ "mext1", LAB_OFF_IP6STAT_M1 / 8 + 33 },
	{ "mext2m", LAB_OFF_IP6STAT_M1 / 8 + 34 },
	{ "nogif", LAB_OFF_IP6STAT_M1 / 8 + 35 },
	{ "toomanyhdr", LAB_OFF_IP6STAT_M1 / 8 + 36 },
	{ "sources_none", LAB_OFF_IP6STAT_M1 / 8 + 37 },
	{ "rtcachehit", LAB_OFF_IP6STAT_RTCACHEHIT / 8 },
	{ "rtcachemiss", LAB_OFF_IP6STAT_RTCACHEHIT / 8 + 1 },
	{ "wrongif", LAB_OFF_IP6STAT_RTCACHEHIT / 8 + 2 },
	{ "idropped", LAB_OFF_IP6STAT_RTCACHEHIT / 8 + 3 },
};
_Static_assert(LAB_OFF_IP6STAT_RTCACHEHIT / 8 + 4 == LAB_SIZEOF_IP6STAT / 8, "ip6stat tail");

static u64 statbuf[LAB_SIZEOF_IP6STAT / 8];

int
cmd_netstat(int argc, char **argv)
{
	int mbmib[2] = { LAB_CTL_KERN, LAB_KERN_MBSTAT };
	int ipmib[4] = { LAB_CTL_NET, LAB_AF_INET, LAB_IPPROTO_IP, LAB_IPCTL_STATS };
	int ip6mib[4] = { LAB_CTL_NET, LAB_AF_INET6, LAB_IPPROTO_IPV6, LAB_IPV6CTL_STATS };
	size_t len;
	unsigned i;
	long r;

	(void)argv;
	if (argc != 1) {
		out_error("usage: netstat");
		return -1;
	}
	out_str("Name            Ipkts    Ierrs    Idrop        Opkts    Oerrs    Odrop         Ibytes         Obytes\n");
	if (walk_interfaces(NULL, print_netstat_row, 0) == -2)
		return -1;

	len = LAB_SIZEOF_MBSTAT;
	if ((r = sys_sysctl(mbmib, 2, statbuf, &len, NULL, 0)) < 0) {
		out_errno("sysctl kern.mbstat", -r);
		return -1;
	}
	out_str("mbstat:");
	for (i = 0; i < nitems(mbstat_names); i++) {
		out_char(' ');
		out_str(mbstat_names[i]);
		out_char('=');
		out_u64(statbuf[i]);
	}
	out_nl();

	len = LAB_SIZEOF_IPSTAT;
	if ((r = sys_sysctl(ipmib, 4, statbuf, &len, NULL, 0)) < 0) {
		out_errno("sysctl net.inet.ip.stats", -r);
		return -1;
	}
	out_str("ip:");
	for (i = 0; i < nitems(ipstat_names); i++) {
		if (statbuf[i] == 0)
			continue;
		out_char(' ');
		out_str(ipstat_names[i]);
		out_char('=');
		out_u64(statbuf[i]);
	}
	out_nl();

	len = LAB_SIZEOF_IP6STAT;
	if ((r = sys_sysctl(ip6mib, 4, statbuf, &len, NULL, 0)) < 0) {
		out_errno("sysctl net.inet6.ip6.stats", -r);
		return -1;
	}
	out_str("ip6:");
	for (i = 0; i < nitems(ip6stat_fields); i++) {
		u64 v = statbuf[ip6stat_fields[i].index];
		if (v == 0)
			continue;
		out_char(' ');
		out_str(ip6stat_fields[i].name);
		out_char('=');
		out_u64(v);
	}
	out_nl();
	return 0;
}
