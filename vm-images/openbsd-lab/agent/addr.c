/* IPv4/IPv6 address parsing and formatting. */
#include "lab.h"

int
parse_inet4(const char *s, u8 out[4])
{
	int i;
	for (i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (unsigned)(*s++ - '0');
			if (++digits > 3 || v > 255)
				return -1;
		}
		if (digits == 0)
			return -1;
		out[i] = (u8)v;
		if (i < 3 && *s++ != '.')
			return -1;
	}
	return *s == 0 ? 0 : -1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
parse_inet6(const char *s, u8 out[16])
{
	u16 head[8], tail[8];
	int nhead = 0, ntail = 0, gap = 0, i;

	if (s[0] == ':' && s[1] == ':') {
		gap = 1;
		s += 2;
	}
	while (*s) {
		unsigned v = 0;
		int digits = 0, h;
		while ((h = hexval(*s)) >= 0) {
			v = (v << 4) | (unsigned)h;
			if (++digits > 4)
				return -1;
			s++;
		}
		if (digits == 0)
			return -1;
		if (nhead + ntail == 8)
			return -1;
		if (gap)
			tail[ntail++] = (u16)v;
		else
			head[nhead++] = (u16)v;
		if (*s == 0)
			break;
		if (*s != ':')
			return -1;
		s++;
		if (*s == ':') {
			if (gap)
				return -1;
			gap = 1;
			s++;
		} else if (*s == 0)
			return -1;
	}
	if (gap ? nhead + ntail > 7 : nhead != 8)
		return -1;
	memset(out, 0, 16);
	for (i = 0; i < nhead; i++) {
		out[2 * i] = (u8)(head[i] >> 8);
		out[2 * i + 1] = (u8)head[i];
	}
	for (i = 0; i < ntail; i++) {
		int k = 8 - ntail + i;
		out[2 * k] = (u8)(tail[i] >> 8);
		out[2 * k + 1] = (u8)tail[i];
	}
	return 0;
}

int
parse_prefix(const char *s, int *family, u8 addr[16], int *plen)
{
	char buf[64];
	const char *slash = NULL, *p;
	u64 len;
	size_t n;

	for (p = s; *p; p++)
		if (*p == '/')
			slash = p;
	n = slash ? (size_t)(slash - s) : lab_strlen(s);
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	memset(addr, 0, 16);
	if (parse_inet4(buf, addr) == 0)
		*family = LAB_AF_INET;
	else if (parse_inet6(buf, addr) == 0)
		*family = LAB_AF_INET6;
	else
		return -1;
	if (!slash) {
		*plen = *family == LAB_AF_INET ? 32 : 128;
		return 0;
	}
	if (lab_parse_u64(slash + 1, &len) != 0 || len > (*family == LAB_AF_INET ? 32UL : 128UL))
		return -1;
	*plen = (int)len;
	return 0;
}

void
format_inet4(const u8 a[4], char *buf)
{
	int i;
	for (i = 0; i < 4; i++) {
		u64_to_str(a[i], buf);
		buf += lab_strlen(buf);
		if (i < 3)
			*buf++ = '.';
	}
	*buf = 0;
}

/* RFC 5952: lower case, longest run of two or more zero groups becomes "::". */
void
format_inet6(const u8 a[16], char *buf)
{
	static const char digits[] = "0123456789abcdef";
	u16 g[8];
	int i, best = -1, bestlen = 0, run = 0;

	for (i = 0; i < 8; i++)
		g[i] = (u16)((a[2 * i] << 8) | a[2 * i + 1]);
	for (i = 0; i <= 8; i++) {
		if (i < 8 && g[i] == 0) {
			run++;
			continue;
		}
		if (run > bestlen && run >= 2) {
			bestlen = run;
			best = i - run;
		}
		run = 0;
	}
	for (i = 0; i < 8; i++) {
		if (i == best) {
			*buf++ = ':';
			if (i == 0)
				*buf++ = ':';
			i += bestlen - 1;
			continue;
		}
		{
			int shift, started = 0;
			for (shift = 12; shift >= 0; shift -= 4) {
				int d = (g[i] >> shift) & 15;
				if (d || started || shift == 0) {
					*buf++ = digits[d];
					started = 1;
				}
			}
		}
		if (i < 7)
			*buf++ = ':';
	}
	*buf = 0;
}

int
mask_to_plen(const u8 *mask, int bytes)
{
	int plen = 0, i, b;
	for (i = 0; i < bytes; i++) {
		for (b = 7; b >= 0; b--) {
			if (!(mask[i] & (1 << b)))
				return plen;
			plen++;
		}
	}
	return plen;
}

void
plen_to_mask(int plen, u8 *mask, int bytes)
{
	int i;
	for (i = 0; i < bytes; i++) {
		if (plen >= 8)
			mask[i] = 0xff;
		else if (plen > 0)
			mask[i] = (u8)(0xff << (8 - plen));
		else
			mask[i] = 0;
		plen -= 8;
	}
}
