/*
 * The OpenBSD ABI the agent relies on, written down without the system
 * headers (the agent has no libc). Every "= EXPR" comment is turned into a
 * _Static_assert against the headers of the tree being tested by the image
 * builder (orchestrator/src/images/lab/agent.ts), so a tree whose ABI moved
 * fails the build instead of misbehaving at run time.
 */
#ifndef LAB_ABI_H
#define LAB_ABI_H

/* syscall numbers */
#define LAB_SYS_exit 1 /* = SYS_exit */
#define LAB_SYS_read 3 /* = SYS_read */
#define LAB_SYS_write 4 /* = SYS_write */
#define LAB_SYS_open 5 /* = SYS_open */
#define LAB_SYS_close 6 /* = SYS_close */
#define LAB_SYS_mknod 14 /* = SYS_mknod */
#define LAB_SYS_getpid 20 /* = SYS_getpid */
#define LAB_SYS_mount 21 /* = SYS_mount */
#define LAB_SYS_ioctl 54 /* = SYS_ioctl */
#define LAB_SYS_reboot 55 /* = SYS_reboot */
#define LAB_SYS_clock_gettime 87 /* = SYS_clock_gettime */
#define LAB_SYS_nanosleep 91 /* = SYS_nanosleep */
#define LAB_SYS_socket 97 /* = SYS_socket */
#define LAB_SYS_mkdir 136 /* = SYS_mkdir */
#define LAB_SYS_sysctl 202 /* = SYS_sysctl */
#define LAB_SYS_fork 2 /* = SYS_fork */
#define LAB_SYS_wait4 11 /* = SYS_wait4 */
#define LAB_SYS_accept 30 /* = SYS_accept */
#define LAB_SYS_mmap 49 /* = SYS_mmap */
#define LAB_SYS_connect 98 /* = SYS_connect */
#define LAB_SYS_bind 104 /* = SYS_bind */
#define LAB_SYS_setsockopt 105 /* = SYS_setsockopt */
#define LAB_SYS_listen 106 /* = SYS_listen */
#define LAB_SYS_getsockopt 118 /* = SYS_getsockopt */
#define LAB_SYS_kill 122 /* = SYS_kill */
#define LAB_SYS_shutdown 134 /* = SYS_shutdown */
#define LAB_SYS_poll 252 /* = SYS_poll */

/* open(2), mknod(2), mount(2), reboot(2), clocks */
#define LAB_O_RDONLY 0x0000 /* = O_RDONLY */
#define LAB_O_RDWR 0x0002 /* = O_RDWR */
#define LAB_O_NOCTTY 0x8000 /* = O_NOCTTY */
#define LAB_S_IFCHR 0020000 /* = S_IFCHR */
#define LAB_S_IFBLK 0060000 /* = S_IFBLK */
#define LAB_MNT_UPDATE 0x00010000 /* = MNT_UPDATE */
#define LAB_MNT_FORCE 0x00080000 /* = MNT_FORCE */
#define LAB_RB_AUTOBOOT 0 /* = RB_AUTOBOOT */
#define LAB_RB_HALT 0x00008 /* = RB_HALT */
#define LAB_RB_POWERDOWN 0x01000 /* = RB_POWERDOWN */
#define LAB_CLOCK_MONOTONIC 3 /* = CLOCK_MONOTONIC */
#define LAB_EINTR 4 /* = EINTR */
#define LAB_EEXIST 17 /* = EEXIST */
#define LAB_ENOMEM 12 /* = ENOMEM */
#define LAB_ENOTSUP 91 /* = ENOTSUP */
#define LAB_ELAST 95 /* = ELAST */

/* sockets and routing */
#define LAB_AF_INET 2 /* = AF_INET */
#define LAB_AF_INET6 24 /* = AF_INET6 */
#define LAB_AF_LINK 18 /* = AF_LINK */
#define LAB_PF_ROUTE 17 /* = PF_ROUTE */
#define LAB_SOCK_DGRAM 2 /* = SOCK_DGRAM */
#define LAB_SOCK_RAW 3 /* = SOCK_RAW */
#define LAB_IPPROTO_IP 0 /* = IPPROTO_IP */
#define LAB_IPPROTO_IPV6 41 /* = IPPROTO_IPV6 */
#define LAB_RTM_VERSION 5 /* = RTM_VERSION */
#define LAB_RTM_ADD 0x1 /* = RTM_ADD */
#define LAB_RTM_NEWADDR 0xc /* = RTM_NEWADDR */
#define LAB_RTM_IFINFO 0xe /* = RTM_IFINFO */
#define LAB_RTF_UP 0x1 /* = RTF_UP */
#define LAB_RTF_GATEWAY 0x2 /* = RTF_GATEWAY */
#define LAB_RTF_STATIC 0x800 /* = RTF_STATIC */
#define LAB_RTA_DST 0x1 /* = RTA_DST */
#define LAB_RTA_GATEWAY 0x2 /* = RTA_GATEWAY */
#define LAB_RTA_NETMASK 0x4 /* = RTA_NETMASK */
#define LAB_RTA_IFP 0x10 /* = RTA_IFP */
#define LAB_RTA_IFA 0x20 /* = RTA_IFA */
#define LAB_RTAX_MAX 15 /* = RTAX_MAX */
#define LAB_ND6_INFINITE_LIFETIME 0xffffffffU /* = ND6_INFINITE_LIFETIME */
#define LAB_IFF_UP 0x1 /* = IFF_UP */
#define LAB_IFNAMSIZ 16 /* = IFNAMSIZ */
#define LAB_SOCK_STREAM 1 /* = SOCK_STREAM */
#define LAB_SOL_SOCKET 0xffff /* = SOL_SOCKET */
#define LAB_SO_REUSEADDR 0x0004 /* = SO_REUSEADDR */
#define LAB_SO_SPLICE 0x1023 /* = SO_SPLICE */
#define LAB_SHUT_WR 1 /* = SHUT_WR */
#define LAB_POLLIN 0x0001 /* = POLLIN */
#define LAB_POLLERR 0x0008 /* = POLLERR */
#define LAB_POLLHUP 0x0010 /* = POLLHUP */
#define LAB_POLLNVAL 0x0020 /* = POLLNVAL */
#define LAB_PROT_READ 0x01 /* = PROT_READ */
#define LAB_PROT_WRITE 0x02 /* = PROT_WRITE */
#define LAB_MAP_SHARED 0x0001 /* = MAP_SHARED */
#define LAB_MAP_ANON 0x1000 /* = MAP_ANON */
#define LAB_SIGKILL 9 /* = SIGKILL */
#define LAB_WNOHANG 0x01 /* = WNOHANG */
#define LAB_ECHILD 10 /* = ECHILD */
#define LAB_EAGAIN 35 /* = EAGAIN */

/* sysctl MIB numbers */
#define LAB_CTL_KERN 1 /* = CTL_KERN */
#define LAB_CTL_NET 4 /* = CTL_NET */
#define LAB_CTL_HW 6 /* = CTL_HW */
#define LAB_CTL_DDB 9 /* = CTL_DDB */
#define LAB_KERN_OSRELEASE 2 /* = KERN_OSRELEASE */
#define LAB_KERN_VERSION 4 /* = KERN_VERSION */
#define LAB_KERN_SECURELVL 9 /* = KERN_SECURELVL */
#define LAB_KERN_MBSTAT 59 /* = KERN_MBSTAT */
#define LAB_KERN_ALLOWDT 65 /* = KERN_ALLOWDT */
#define LAB_KERN_POOL 49 /* = KERN_POOL */
#define LAB_KERN_POOL_NPOOLS 1 /* = KERN_POOL_NPOOLS */
#define LAB_KERN_POOL_NAME 2 /* = KERN_POOL_NAME */
#define LAB_KERN_POOL_POOL 3 /* = KERN_POOL_POOL */
#define LAB_HW_NCPU 3 /* = HW_NCPU */
#define LAB_DBCTL_MAXWIDTH 2 /* = DBCTL_MAXWIDTH */
#define LAB_DBCTL_MAXLINE 3 /* = DBCTL_MAXLINE */
#define LAB_DBCTL_PANIC 5 /* = DBCTL_PANIC */
#define LAB_DBCTL_CONSOLE 6 /* = DBCTL_CONSOLE */
#define LAB_DBCTL_TRIGGER 8 /* = DBCTL_TRIGGER */
#define LAB_IPCTL_FORWARDING 1 /* = IPCTL_FORWARDING */
#define LAB_IPCTL_STATS 33 /* = IPCTL_STATS */
#define LAB_IPV6CTL_FORWARDING 1 /* = IPV6CTL_FORWARDING */
#define LAB_IPV6CTL_STATS 6 /* = IPV6CTL_STATS */
#define LAB_NET_RT_IFLIST 3 /* = NET_RT_IFLIST */
#define LAB_MT_NTYPES 8 /* = MT_NTYPES */

/* ioctl numbers */
#define LAB_SIOCSIFFLAGS 0x80206910UL /* = SIOCSIFFLAGS */
#define LAB_SIOCGIFFLAGS 0xc0206911UL /* = SIOCGIFFLAGS */
#define LAB_SIOCSIFMTU 0x8020697fUL /* = SIOCSIFMTU */
#define LAB_SIOCAIFADDR 0x8040691aUL /* = SIOCAIFADDR */
#define LAB_SIOCAIFADDR_IN6 0x8080691aUL /* = SIOCAIFADDR_IN6 */
#define LAB_DIOCSTART 0x20004401UL /* = DIOCSTART */
#define LAB_DIOCSTOP 0x20004402UL /* = DIOCSTOP */
#define LAB_DTIOCGPLIST 0xc0104401UL /* = DTIOCGPLIST */
#define LAB_DTIOCGSTATS 0x40204402UL /* = DTIOCGSTATS */
#define LAB_DTIOCRECORD 0x80044403UL /* = DTIOCRECORD */
#define LAB_DTIOCPRBENABLE 0x80184404UL /* = DTIOCPRBENABLE */
#define LAB_DTIOCPRBDISABLE 0x80184405UL /* = DTIOCPRBDISABLE */
#define LAB_DTEVT_KSTACK 0x4 /* = DTEVT_KSTACK */
#define LAB_STACKTRACE_MAX 19 /* = STACKTRACE_MAX */

/* struct sizes and the field offsets the agent reads or writes */
#define LAB_SIZEOF_IFREQ 32 /* = sizeof(struct ifreq) */
#define LAB_OFF_IFREQ_FLAGS 16 /* = offsetof(struct ifreq, ifr_flags) */
#define LAB_OFF_IFREQ_MTU 16 /* = offsetof(struct ifreq, ifr_mtu) */
#define LAB_SIZEOF_IFALIASREQ 64 /* = sizeof(struct ifaliasreq) */
#define LAB_OFF_IFALIASREQ_BROADADDR 32 /* = offsetof(struct ifaliasreq, ifra_broadaddr) */
#define LAB_OFF_IFALIASREQ_MASK 48 /* = offsetof(struct ifaliasreq, ifra_mask) */
#define LAB_SIZEOF_IN6_ALIASREQ 128 /* = sizeof(struct in6_aliasreq) */
#define LAB_OFF_IN6_ALIASREQ_PREFIXMASK 72 /* = offsetof(struct in6_aliasreq, ifra_prefixmask) */
#define LAB_OFF_IN6_ALIASREQ_LIFETIME 104 /* = offsetof(struct in6_aliasreq, ifra_lifetime) */
#define LAB_SIZEOF_SOCKADDR_IN 16 /* = sizeof(struct sockaddr_in) */
#define LAB_SIZEOF_SOCKADDR_IN6 28 /* = sizeof(struct sockaddr_in6) */
#define LAB_OFF_SOCKADDR_DL_DATA 8 /* = offsetof(struct sockaddr_dl, sdl_data) */
#define LAB_SIZEOF_IF_DATA 144 /* = sizeof(struct if_data) */
#define LAB_OFF_IF_DATA_MTU 4 /* = offsetof(struct if_data, ifi_mtu) */
#define LAB_OFF_IF_DATA_IPACKETS 24 /* = offsetof(struct if_data, ifi_ipackets) */
#define LAB_OFF_IF_DATA_NOPROTO 112 /* = offsetof(struct if_data, ifi_noproto) */
#define LAB_SIZEOF_IF_MSGHDR 168 /* = sizeof(struct if_msghdr) */
#define LAB_OFF_IF_MSGHDR_DATA 24 /* = offsetof(struct if_msghdr, ifm_data) */
#define LAB_SIZEOF_IFA_MSGHDR 24 /* = sizeof(struct ifa_msghdr) */
#define LAB_SIZEOF_RT_MSGHDR 96 /* = sizeof(struct rt_msghdr) */
#define LAB_OFF_RT_MSGHDR_SEQ 28 /* = offsetof(struct rt_msghdr, rtm_seq) */
#define LAB_SIZEOF_IPSTAT 288 /* = sizeof(struct ipstat) */
#define LAB_SIZEOF_IP6STAT 3208 /* = sizeof(struct ip6stat) */
#define LAB_OFF_IP6STAT_M1 (279 * 8) /* = offsetof(struct ip6stat, ip6s_m1) */
#define LAB_OFF_IP6STAT_RTCACHEHIT (3208 - 32) /* = offsetof(struct ip6stat, ip6s_rtcachehit) */
#define LAB_SIZEOF_MBSTAT 136 /* = sizeof(struct mbstat) */
#define LAB_SIZEOF_KINFO_POOL 96 /* = sizeof(struct kinfo_pool) */
#define LAB_OFF_KINFO_POOL_NGET 40 /* = offsetof(struct kinfo_pool, pr_nget) */
#define LAB_OFF_KINFO_POOL_NIDLE 88 /* = offsetof(struct kinfo_pool, pr_nidle) */
#define LAB_SIZEOF_DT_EVT 456 /* = sizeof(struct dt_evt) */
#define LAB_OFF_DT_EVT_KSTACK 32 /* = offsetof(struct dt_evt, dtev_kstack) */
#define LAB_SIZEOF_DTIOC_PROBE_INFO 56 /* = sizeof(struct dtioc_probe_info) */
#define LAB_SIZEOF_DTIOC_REQ 24 /* = sizeof(struct dtioc_req) */
#define LAB_SIZEOF_DTIOC_STAT 32 /* = sizeof(struct dtioc_stat) */
#define LAB_SIZEOF_UFS_ARGS_MAX 160 /* = sizeof(union mount_info) */

#endif
