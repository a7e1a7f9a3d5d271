/*
 * net.c - network devices as TAP interfaces, and their pcap recording.
 *
 * A TAP file descriptor carries whole Ethernet frames, one per read(2) or
 * write(2) (Documentation/networking/tuntap.rst).  It is opened
 * non-blocking, so reads end with EAGAIN and plat_wait does the sleeping.
 *
 * Offloads (--net:<name>=<tap>,offload): the fd is opened with
 * IFF_VNET_HDR, so each frame both ways starts with a 10-byte struct
 * virtio_net_hdr, and TUNSETOFFLOAD lets the kernel hand us TCPv4 frames
 * of up to 64 KiB (GRO'd or never segmented) with partial checksums.  A
 * write may carry such a frame too, which the kernel cuts into MSS-sized
 * segments: one system call per 64 KiB instead of per 1500 bytes, the
 * only batching a TAP fd allows (read and write take one frame each, and
 * there is no recvmmsg for it).  Frames are scattered over and gathered
 * from the caller's slots with readv/writev, so nothing is copied here.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "hosted.h"

#define ETH_HDR_LEN 14
#define FRAME_MAX   65535 /* what a single TAP read or write can carry */
#define VNET_HDR    10	  /* struct virtio_net_hdr, without num_buffers */
#define IOV_SLOTS   64	  /* slots gathered or scattered per system call */

/* Classic libpcap file format (pcap-savefile(5)): microsecond timestamps,
 * written in our native byte order, which readers detect by the magic. */
#define PCAP_MAGIC	  0xa1b2c3d4u
#define PCAP_SNAPLEN	  262144u
#define LINKTYPE_ETHERNET 1u

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t version_major, version_minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_rec_hdr {
	uint32_t ts_sec, ts_usec;
	uint32_t incl_len, orig_len;
};

/* The interface's MTU, asked of the kernel through any socket: the TAP fd
 * itself does not answer SIOCGIFMTU (netdevice(7)). */
static uint16_t tap_mtu(const char *ifname)
{
	uint16_t mtu = 1500;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return mtu;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	/* 68 is the smallest MTU IPv4 allows (RFC 791); ignore nonsense. */
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 68 &&
	    ifr.ifr_mtu <= FRAME_MAX - ETH_HDR_LEN)
		mtu = (uint16_t)ifr.ifr_mtu;
	close(s);
	return mtu;
}

bool hosted_net_open(const char *name, const char *spec)
{
	/* "<tap>", "<tap>,offload" (checksums, TSO and GRO) or "<tap>,csum"
	 * (checksums only: frames stay within the MTU, one slot each). */
	char ifname[IFNAMSIZ + 16];
	const char *comma = strchr(spec, ',');
	size_t iflen = comma ? (size_t)(comma - spec) : strlen(spec);
	bool tso = comma && strcmp(comma + 1, "offload") == 0;
	if (comma && !tso && strcmp(comma + 1, "csum") != 0) {
		fprintf(stderr, "--net:%s=%s: the device options are \",offload\" and \",csum\"\n",
			name, spec);
		return false;
	}
	bool offload = comma != NULL;
	snprintf(ifname, sizeof ifname, "%.*s",
		 (int)(iflen < sizeof ifname - 1 ? iflen : sizeof ifname - 1), spec);
	if (hosted_handle_find(name, HOSTED_NET, NULL)) {
		fprintf(stderr, "--net:%s given twice\n", name);
		return false;
	}
	if (ifname[0] == '\0' || strlen(ifname) >= IFNAMSIZ) {
		fprintf(stderr, "--net:%s=%s: an interface name has 1 to %d characters\n", name,
			ifname, IFNAMSIZ - 1);
		return false;
	}
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "--net:%s: /dev/net/tun: %s\n", name, strerror(errno));
		return false;
	}
	/* IFF_NO_PI: frames without the 4-byte packet-information prefix.
	 * Naming an existing interface attaches to it; otherwise the kernel
	 * creates one that disappears again when we exit. */
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
		fprintf(stderr, "--net:%s: cannot attach to TAP interface %s: %s\n", name, ifname,
			strerror(errno));
		close(fd);
		return false;
	}
	/* What the kernel may hand us: partial checksums and TCPv4 frames
	 * that are not cut to the MTU (tuntap.rst; linux/if_tun.h). */
	int hdrsz = VNET_HDR;
	unsigned long offs = TUN_F_CSUM | (tso ? TUN_F_TSO4 : 0);
	if (offload &&
	    (ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) != 0 || ioctl(fd, TUNSETOFFLOAD, offs) != 0)) {
		fprintf(stderr, "--net:%s: TAP interface %s refuses offloads: %s\n", name, ifname,
			strerror(errno));
		close(fd);
		return false;
	}
	plat_handle_t h;
	if (hosted_handle_new(HOSTED_NET, fd, name, &h) != PLAT_OK) {
		fprintf(stderr, "--net:%s: too many devices\n", name);
		close(fd);
		return false;
	}
	struct hosted_handle *hh = hosted_handle_get(h, HOSTED_NET);
	/* A default MAC for the app's stack (a mac= boot argument overrides
	 * it there): random, with the locally-administered bit set and the
	 * group bit clear (IEEE 802, 02:xx:xx:xx:xx:xx). */
	plat_entropy(hh->u.net.info.mac, 6);
	hh->u.net.info.mac[0] = 0x02;
	hh->u.net.info.mtu = tap_mtu(ifr.ifr_name);
	if (offload) {
		hh->u.net.info.offloads = PLAT_NET_OFF_CSUM | (tso ? PLAT_NET_OFF_TSO4 : 0);
		hh->u.net.info.vnet_hdr_len = VNET_HDR;
		hh->u.net.info.frame_max =
		    VNET_HDR + (tso ? FRAME_MAX : ETH_HDR_LEN + hh->u.net.info.mtu);
	}
	return true;
}

bool hosted_pcap_open(const char *name, const char *path)
{
	struct hosted_handle *hh = hosted_handle_find(name, HOSTED_NET, NULL);
	if (!hh) {
		fprintf(stderr, "--pcap:%s needs --net:%s=<tap> too\n", name, name);
		return false;
	}
	if (hh->u.net.pcap_fd >= 0) {
		fprintf(stderr, "--pcap:%s given twice\n", name);
		return false;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "--pcap:%s: %s: %s\n", name, path, strerror(errno));
		return false;
	}
	struct pcap_file_hdr fh = {PCAP_MAGIC, 2, 4, 0, 0, PCAP_SNAPLEN, LINKTYPE_ETHERNET};
	if (!hosted_write_all(fd, &fh, sizeof fh)) {
		fprintf(stderr, "--pcap:%s: %s: %s\n", name, path, strerror(errno));
		close(fd);
		return false;
	}
	hh->u.net.pcap_fd = fd;
	return true;
}

/* One record per frame, header and data in one writev so that a reader
 * following the file live never sees a header without its frame.  The
 * frame is the iov's bytes after the first skip (a virtio-net header). */
static void pcap_record(struct hosted_handle *hh, const struct iovec *frame, unsigned niov,
			size_t skip)
{
	int fd = hh->u.net.pcap_fd;
	if (fd < 0)
		return;
	struct iovec iov[IOV_SLOTS + 1];
	unsigned k = 1;
	size_t len = 0;
	for (unsigned i = 0; i < niov && k <= IOV_SLOTS; i++) {
		size_t l = frame[i].iov_len;
		const uint8_t *b = frame[i].iov_base;
		size_t cut = skip < l ? skip : l;
		skip -= cut;
		if (l - cut == 0)
			continue;
		iov[k].iov_base = (void *)(b + cut);
		iov[k].iov_len = l - cut;
		len += l - cut;
		k++;
	}
	uint64_t now = plat_clock_wall();
	size_t incl = len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN;
	struct pcap_rec_hdr rh = {(uint32_t)(now / 1000000000ull),
				  (uint32_t)(now % 1000000000ull / 1000u), (uint32_t)incl,
				  (uint32_t)len};
	iov[0].iov_base = &rh;
	iov[0].iov_len = sizeof rh;
	ssize_t r;
	do {
		r = writev(fd, iov, (int)k);
	} while (r < 0 && errno == EINTR);
	if (r != (ssize_t)(sizeof rh + incl)) {
		/* Disk full or similar: the file is cut short (readers stop at
		 * the torn record); stop recording rather than fail the device. */
		static const char msg[] = "pcap: write failed, recording stopped for device ";
		hosted_write_all(1, msg, sizeof msg - 1);
		hosted_write_all(1, hh->name, strlen(hh->name));
		hosted_write_all(1, "\n", 1);
		hh->u.net.pcap_fd = -1;
	}
}

int plat_net_acquire(const char *name, plat_handle_t *h, struct plat_net_info *info)
{
	struct hosted_handle *hh = hosted_handle_find(name, HOSTED_NET, h);
	if (!hh)
		return PLAT_ENOENT;
	*info = hh->u.net.info;
	return PLAT_OK;
}

int plat_net_recv(plat_handle_t h, struct plat_frame *frames, unsigned n)
{
	struct hosted_handle *hh = hosted_handle_get(h, HOSTED_NET);
	if (!hh || n == 0)
		return PLAT_EINVAL;
	size_t vh = hh->u.net.info.vnet_hdr_len;
	/* Each read offers a window of slots from the first free one that
	 * holds the largest frame (without offloads: one slot, the spill
	 * byte telling a frame that is too long).  The slots are gathered
	 * once a call, the window growing as frames fill it: a read of a
	 * small frame then gathers one slot, not the 34 of a 64 KiB frame. */
	size_t need = vh ? hh->u.net.info.frame_max : 1;
	struct iovec iov[IOV_SLOTS + 1];
	if (n > IOV_SLOTS)
		n = IOV_SLOTS;
	unsigned got = 0, end = 0;
	size_t room = 0; /* the bytes of slots [got, end) */
	while (got < n) {
		while (room < need && end < n) {
			iov[end].iov_base = frames[end].data;
			iov[end].iov_len = frames[end].cap;
			room += frames[end].cap;
			end++;
		}
		/* With offloads a frame after the first is only started while
		 * the slots left can hold the largest (platform.h). */
		if (got > 0 && room < need)
			break;
		/* A TAP read cuts a frame longer than the buffers and says
		 * nothing: the spill byte tells, and such a frame (longer than
		 * the MTU the app was given) is dropped like on a real NIC.
		 * (iov[end] is not gathered yet: the spill byte may use it.) */
		uint8_t spill;
		iov[end].iov_base = &spill;
		iov[end].iov_len = 1;
		ssize_t r = readv(hh->fd, &iov[got], (int)(end - got) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0) {
			if (got > 0)
				break; /* the error comes back on the next call */
			return PLAT_EIO;
		}
		if ((size_t)r > room || (size_t)r < vh)
			continue;
		size_t left = (size_t)r;
		unsigned first = got;
		do {
			struct plat_frame *f = &frames[got];
			f->len = left < f->cap ? left : f->cap;
			left -= f->len;
			f->more = left > 0;
			room -= f->cap;
			iov[got++].iov_len = f->len;
		} while (left > 0);
		if (hh->u.net.pcap_fd >= 0)
			pcap_record(hh, &iov[first], got - first, vh);
	}
	return got > 0 ? (int)got : PLAT_EAGAIN;
}

int plat_net_send(plat_handle_t h, const struct plat_frame *frames, unsigned n)
{
	struct hosted_handle *hh = hosted_handle_get(h, HOSTED_NET);
	if (!hh)
		return PLAT_EINVAL;
	size_t vh = hh->u.net.info.vnet_hdr_len;
	/* Refuse the whole batch up front so that a short count only ever
	 * means "device full", as platform.h promises. */
	for (unsigned i = 0, start = 0; i < n; i++) {
		if (frames[i].more && (!vh || i + 1 == n))
			return PLAT_EINVAL;
		if (frames[i].more)
			continue;
		size_t len = 0;
		for (unsigned j = start; j <= i; j++)
			len += frames[j].len;
		if (len < vh + ETH_HDR_LEN || len > vh + FRAME_MAX || i + 1 - start > IOV_SLOTS)
			return PLAT_EINVAL;
		start = i + 1;
	}
	unsigned sent = 0;
	while (sent < n) {
		struct iovec iov[IOV_SLOTS];
		unsigned k = 0;
		do {
			iov[k].iov_base = frames[sent + k].data;
			iov[k].iov_len = frames[sent + k].len;
		} while (frames[sent + k++].more);
		ssize_t r = writev(hh->fd, iov, (int)k);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0)
			return sent > 0 ? (int)sent : PLAT_EIO;
		if (hh->u.net.pcap_fd >= 0)
			pcap_record(hh, iov, k, vh);
		sent += k;
	}
	return (int)sent;
}
