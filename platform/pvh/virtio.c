/*
 * virtio.c - virtio device discovery and the transports.
 *
 * Devices are found in three places: the virtio_mmio.device=<size>@<base>:
 * <irq> words of the kernel command line (QEMU microvm with acpi=off,
 * Firecracker), the ACPI DSDT (microvm with ACPI: acpi.c), and PCI
 * enumeration (pc, q35).  Each transport differs
 * only in where the few registers live; the queues are the same split
 * rings everywhere.  Devices are set up at boot, before the heap is handed
 * to the application, so their rings and buffers come from platform
 * memory: only as many as the application declares.
 */
#include <string.h>

#include "core/args.h"
#include "core/fmt.h"
#include "cpu.h"
#include "pvh.h"
#include "virtio.h"

/* virtio-mmio registers (virtio 1.2, 4.2.2; legacy 4.2.4). */
#define MMIO_MAGIC		 0x000
#define MMIO_VERSION		 0x004
#define MMIO_DEVICE_ID		 0x008
#define MMIO_DEVICE_FEATURES	 0x010
#define MMIO_DEVICE_FEATURES_SEL 0x014
#define MMIO_DRIVER_FEATURES	 0x020
#define MMIO_DRIVER_FEATURES_SEL 0x024
#define MMIO_GUEST_PAGE_SIZE	 0x028 /* legacy */
#define MMIO_QUEUE_SEL		 0x030
#define MMIO_QUEUE_NUM_MAX	 0x034
#define MMIO_QUEUE_NUM		 0x038
#define MMIO_QUEUE_ALIGN	 0x03c /* legacy */
#define MMIO_QUEUE_PFN		 0x040 /* legacy */
#define MMIO_QUEUE_READY	 0x044
#define MMIO_QUEUE_NOTIFY	 0x050
#define MMIO_INTERRUPT_STATUS	 0x060
#define MMIO_INTERRUPT_ACK	 0x064
#define MMIO_STATUS		 0x070
#define MMIO_QUEUE_DESC		 0x080
#define MMIO_QUEUE_DRIVER	 0x090
#define MMIO_QUEUE_DEVICE	 0x0a0
#define MMIO_CONFIG		 0x100

/* struct virtio_pci_common_cfg (virtio 1.2, 4.1.4.3). */
#define PCI_DFSELECT	0x00
#define PCI_DF		0x04
#define PCI_GFSELECT	0x08
#define PCI_GF		0x0c
#define PCI_MSIX_CONFIG 0x10
#define PCI_STATUS	0x14
#define PCI_Q_SELECT	0x16
#define PCI_Q_SIZE	0x18
#define PCI_Q_MSIX	0x1a
#define PCI_Q_ENABLE	0x1c
#define PCI_Q_NOFF	0x1e
#define PCI_Q_DESC	0x20
#define PCI_Q_DRIVER	0x28
#define PCI_Q_DEVICE	0x30
#define PCI_NO_VECTOR	0xffff

#define S_ACKNOWLEDGE 1
#define S_DRIVER      2
#define S_DRIVER_OK   4
#define S_FEATURES_OK 8
#define S_FAILED      128

#define MAX_DEVS     16
#define LEGACY_ALIGN 4096

unsigned pvh_want_net, pvh_want_blk;
static struct virtio_dev devs[MAX_DEVS];
static unsigned ndevs;

/* ---- Register access by transport ---------------------------------------- */

static bool is_mmio(const struct virtio_dev *d)
{
	return d->transport != VIRTIO_PCI;
}

static void status_set(struct virtio_dev *d, uint8_t s)
{
	if (is_mmio(d))
		mmio_w32(d->base + MMIO_STATUS, s);
	else
		mmio_w8(d->common + PCI_STATUS, s);
}

static uint8_t status_get(struct virtio_dev *d)
{
	return is_mmio(d) ? (uint8_t)mmio_r32(d->base + MMIO_STATUS)
			  : mmio_r8(d->common + PCI_STATUS);
}

static uint32_t features_get(struct virtio_dev *d, unsigned sel)
{
	if (is_mmio(d)) {
		mmio_w32(d->base + MMIO_DEVICE_FEATURES_SEL, sel);
		return mmio_r32(d->base + MMIO_DEVICE_FEATURES);
	}
	mmio_w32(d->common + PCI_DFSELECT, sel);
	return mmio_r32(d->common + PCI_DF);
}

static void features_set(struct virtio_dev *d, unsigned sel, uint32_t v)
{
	if (is_mmio(d)) {
		mmio_w32(d->base + MMIO_DRIVER_FEATURES_SEL, sel);
		mmio_w32(d->base + MMIO_DRIVER_FEATURES, v);
		return;
	}
	mmio_w32(d->common + PCI_GFSELECT, sel);
	mmio_w32(d->common + PCI_GF, v);
}

static uintptr_t cfg_base(struct virtio_dev *d)
{
	return is_mmio(d) ? d->base + MMIO_CONFIG : d->devcfg;
}

uint8_t virtio_cfg8(struct virtio_dev *d, unsigned off)
{
	return mmio_r8(cfg_base(d) + off);
}
uint32_t virtio_cfg32(struct virtio_dev *d, unsigned off)
{
	return mmio_r32(cfg_base(d) + off);
}
uint64_t virtio_cfg64(struct virtio_dev *d, unsigned off)
{
	return virtio_cfg32(d, off) | (uint64_t)virtio_cfg32(d, off + 4) << 32;
}

bool virtio_negotiate(struct virtio_dev *d, uint64_t want)
{
	status_set(d, 0); /* reset */
	while (status_get(d) != 0)
		cpu_relax();
	status_set(d, S_ACKNOWLEDGE);
	status_set(d, S_ACKNOWLEDGE | S_DRIVER);
	bool modern = d->transport != VIRTIO_MMIO_V1;
	if (modern)
		want |= VIRTIO_F_VERSION_1;
	else
		want &= 0xffffffffu; /* legacy devices have 32 feature bits */
	uint64_t have = features_get(d, 0) | (modern ? (uint64_t)features_get(d, 1) << 32 : 0);
	d->features = have & want;
	if (modern && !(d->features & VIRTIO_F_VERSION_1)) {
		kprintf("virtio %s: modern transport without VERSION_1\n", d->where);
		status_set(d, S_FAILED);
		return false;
	}
	features_set(d, 0, (uint32_t)d->features);
	if (!modern) {
		mmio_w32(d->base + MMIO_GUEST_PAGE_SIZE, 4096);
		return true;
	}
	features_set(d, 1, (uint32_t)(d->features >> 32));
	status_set(d, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	if (!(status_get(d) & S_FEATURES_OK)) {
		kprintf("virtio %s: device refused features 0x%llx\n", d->where,
			(unsigned long long)d->features);
		status_set(d, S_FAILED);
		return false;
	}
	return true;
}

void virtio_driver_ok(struct virtio_dev *d)
{
	uint8_t s = S_ACKNOWLEDGE | S_DRIVER | S_DRIVER_OK;
	if (d->transport != VIRTIO_MMIO_V1)
		s |= S_FEATURES_OK;
	status_set(d, s);
}

static uint16_t pow2_floor(uint32_t n)
{
	uint16_t p = 1;
	while ((uint32_t)p * 2 <= n && p < 32768)
		p *= 2;
	return p;
}

bool virtio_queue_init(struct virtio_dev *d, struct virtq *q, uint16_t index, uint16_t max)
{
	uint32_t dev_max;
	if (is_mmio(d)) {
		mmio_w32(d->base + MMIO_QUEUE_SEL, index);
		dev_max = mmio_r32(d->base + MMIO_QUEUE_NUM_MAX);
	} else {
		mmio_w16(d->common + PCI_Q_SELECT, index);
		dev_max = mmio_r16(d->common + PCI_Q_SIZE);
	}
	if (dev_max == 0)
		return false;
	uint16_t n = pow2_floor(dev_max < max ? dev_max : max);
	/* One block in the legacy layout (desc, avail, pad to 4 KiB, used),
	 * which also satisfies the modern alignment rules. */
	size_t desc_sz = 16u * n, avail_sz = 6u + 2u * n, used_sz = 6u + 8u * n;
	size_t used_off = (desc_sz + avail_sz + LEGACY_ALIGN - 1) & ~(size_t)(LEGACY_ALIGN - 1);
	uint8_t *mem = mm_alloc(used_off + used_sz, LEGACY_ALIGN);
	memset(q, 0, sizeof *q);
	q->size = n;
	q->index = index;
	q->desc = (struct vring_desc *)mem;
	q->avail = (struct vring_avail *)(mem + desc_sz);
	q->used = (struct vring_used *)(mem + used_off);
	uint64_t pd = (uintptr_t)q->desc, pa = (uintptr_t)q->avail, pu = (uintptr_t)q->used;

	switch (d->transport) {
	case VIRTIO_MMIO_V1:
		mmio_w32(d->base + MMIO_QUEUE_NUM, n);
		mmio_w32(d->base + MMIO_QUEUE_ALIGN, LEGACY_ALIGN);
		mmio_w32(d->base + MMIO_QUEUE_PFN, (uint32_t)(pd / 4096));
		q->notify = d->base + MMIO_QUEUE_NOTIFY;
		break;
	case VIRTIO_MMIO_V2:
		mmio_w32(d->base + MMIO_QUEUE_NUM, n);
		mmio_w32(d->base + MMIO_QUEUE_DESC, (uint32_t)pd);
		mmio_w32(d->base + MMIO_QUEUE_DESC + 4, (uint32_t)(pd >> 32));
		mmio_w32(d->base + MMIO_QUEUE_DRIVER, (uint32_t)pa);
		mmio_w32(d->base + MMIO_QUEUE_DRIVER + 4, (uint32_t)(pa >> 32));
		mmio_w32(d->base + MMIO_QUEUE_DEVICE, (uint32_t)pu);
		mmio_w32(d->base + MMIO_QUEUE_DEVICE + 4, (uint32_t)(pu >> 32));
		mmio_w32(d->base + MMIO_QUEUE_READY, 1);
		q->notify = d->base + MMIO_QUEUE_NOTIFY;
		break;
	case VIRTIO_PCI:
		mmio_w16(d->common + PCI_Q_SIZE, n);
		if (d->msix_cap)
			mmio_w16(d->common + PCI_Q_MSIX, 0); /* table entry 0 */
		mmio_w32(d->common + PCI_Q_DESC, (uint32_t)pd);
		mmio_w32(d->common + PCI_Q_DESC + 4, (uint32_t)(pd >> 32));
		mmio_w32(d->common + PCI_Q_DRIVER, (uint32_t)pa);
		mmio_w32(d->common + PCI_Q_DRIVER + 4, (uint32_t)(pa >> 32));
		mmio_w32(d->common + PCI_Q_DEVICE, (uint32_t)pu);
		mmio_w32(d->common + PCI_Q_DEVICE + 4, (uint32_t)(pu >> 32));
		q->notify =
		    d->notify_base + (uintptr_t)mmio_r16(d->common + PCI_Q_NOFF) * d->notify_mul;
		mmio_w16(d->common + PCI_Q_ENABLE, 1);
		break;
	}
	return true;
}

void virtq_kick(struct virtio_dev *d, struct virtq *q)
{
	/* x86 keeps stores in order: the ring entries are visible before the
	 * index, and the index before the doorbell.  The compiler must keep
	 * them in order too. */
	__asm__ volatile("" ::: "memory");
	q->avail->idx = q->avail_idx;
	__asm__ volatile("" ::: "memory");
	if (is_mmio(d))
		mmio_w32(q->notify, q->index);
	else
		mmio_w16(q->notify, q->index);
}

/* ---- Interrupts -------------------------------------------------------------- */

static void mmio_irq(void *arg)
{
	/* The line is level-triggered: lower it before the EOI. */
	struct virtio_dev *d = arg;
	mmio_w32(d->base + MMIO_INTERRUPT_ACK, mmio_r32(d->base + MMIO_INTERRUPT_STATUS));
}

static void msix_irq(void *arg)
{
}

void virtio_irq_init(struct virtio_dev *d)
{
	if (is_mmio(d)) {
		int vec = irq_alloc(mmio_irq, d);
		if (vec >= 0)
			ioapic_route(d->gsi, vec);
		return;
	}
	if (!d->msix_cap)
		return; /* no interrupts: plat_wait still wakes at each deadline */
	int vec = irq_alloc(msix_irq, d);
	if (vec < 0)
		return;
	uint32_t tab = pci_read32(&d->pci, d->msix_cap + 4);
	uint64_t bar = pci_bar(&d->pci, tab & 7, NULL);
	uintptr_t entry = (uintptr_t)(bar + (tab & ~7u));
	mm_map_mmio(entry, 16);
	/* Message address: the local APIC of our one CPU; data: the vector. */
	mmio_w32(entry + 0, 0xfee00000u | apic_id() << 12);
	mmio_w32(entry + 4, 0);
	mmio_w32(entry + 8, (uint32_t)vec);
	mmio_w32(entry + 12, 0); /* unmasked */
	uint16_t ctl = pci_read16(&d->pci, d->msix_cap + 2);
	pci_write16(&d->pci, d->msix_cap + 2, (uint16_t)((ctl | 0x8000) & ~0x4000));
}

/* ---- Discovery ------------------------------------------------------------------ */

static void mmio_found(uint64_t base, uint64_t size, unsigned gsi)
{
	if (ndevs == MAX_DEVS)
		return;
	mm_map_mmio(base, size);
	uintptr_t b = (uintptr_t)base;
	if (mmio_r32(b + MMIO_MAGIC) != 0x74726976) /* "virt" */
		return;
	uint32_t ver = mmio_r32(b + MMIO_VERSION), id = mmio_r32(b + MMIO_DEVICE_ID);
	if (id == 0 || (ver != 1 && ver != 2))
		return; /* an empty slot */
	struct virtio_dev *d = &devs[ndevs++];
	d->transport = ver == 1 ? VIRTIO_MMIO_V1 : VIRTIO_MMIO_V2;
	d->id = id;
	d->base = b;
	d->gsi = gsi;
	fmt_snprintf(d->where, sizeof d->where, "mmio%s@0x%llx", ver == 1 ? "-legacy" : "",
		     (unsigned long long)base);
}

/* virtio_mmio.device=<size>@<base>:<irq>[:<id>], as Linux reads it. */
static void mmio_parse(const char *w)
{
	static const char key[] = "virtio_mmio.device=";
	if (strncmp(w, key, sizeof key - 1) != 0)
		return;
	char buf[64];
	size_t n = strlen(w + sizeof key - 1);
	if (n >= sizeof buf)
		return;
	memcpy(buf, w + sizeof key - 1, n + 1);
	char *at = strchr(buf, '@'), *colon = at ? strchr(at, ':') : NULL;
	if (!at || !colon)
		return;
	*at = *colon = '\0';
	char *id = strchr(colon + 1, ':');
	if (id)
		*id = '\0';
	uint64_t size, base, irq;
	if (args_parse_u64(buf, &size) || args_parse_u64(at + 1, &base) ||
	    args_parse_u64(colon + 1, &irq) || irq > 23 || size == 0) {
		kprintf("atoll: cannot parse '%s'\n", w);
		return;
	}
	mmio_found(base, size, (unsigned)irq);
}

static void pci_found(const struct pci_dev *p, void *arg)
{
	if (p->vendor != 0x1af4 || ndevs == MAX_DEVS)
		return;
	/* 0x1040 + id is modern-only; 0x1000-0x103f are transitional devices
	 * whose subsystem id is the virtio id.  Both have the modern
	 * capabilities, which are all we use. */
	uint32_t id;
	if (p->device >= 0x1040 && p->device <= 0x107f)
		id = p->device - 0x1040u;
	else if (p->device >= 0x1000 && p->device <= 0x103f)
		id = p->subsys;
	else
		return;
	struct virtio_dev d = {.transport = VIRTIO_PCI, .id = id, .pci = *p};
	for (unsigned off = pci_read8(p, 0x34) & 0xfc, n = 0; off && n < 48;
	     off = pci_read8(p, off + 1) & 0xfc, n++) {
		uint8_t cap = pci_read8(p, off);
		if (cap == 0x11) {
			d.msix_cap = off;
			continue;
		}
		if (cap != 0x09)
			continue;
		uint8_t type = pci_read8(p, off + 3), bar = pci_read8(p, off + 4);
		uint32_t o = pci_read32(p, off + 8), len = pci_read32(p, off + 12);
		uint64_t base = pci_bar(p, bar, NULL);
		if (!base || type < 1 || type > 4)
			continue;
		uintptr_t a = (uintptr_t)(base + o);
		if ((type == 1 && d.common) || (type == 2 && d.notify_base) ||
		    (type == 3 && d.isr) || (type == 4 && d.devcfg))
			continue; /* the first of each kind is the preferred one */
		mm_map_mmio(a, len);
		if (type == 1)
			d.common = a;
		else if (type == 2) {
			d.notify_base = a;
			d.notify_mul = pci_read32(p, off + 16);
		} else if (type == 3)
			d.isr = a;
		else
			d.devcfg = a;
	}
	if (!d.common || !d.notify_base || !d.isr) {
		kprintf("atoll: pci %02x:%02x.%x: virtio device without modern capabilities\n",
			p->bus, p->dev, p->fn);
		return;
	}
	/* Memory decoding and bus mastering (DMA) on, legacy INTx off. */
	pci_write16(p, 0x04, (uint16_t)(pci_read16(p, 0x04) | 0x0006 | 0x0400));
	fmt_snprintf(d.where, sizeof d.where, "pci %02x:%02x.%x", p->bus, p->dev, p->fn);
	devs[ndevs++] = d;
}

void virtio_probe(char **argv, int argc, const struct plat_app *app)
{
	for (unsigned i = 0; i < app->ndevices; i++) {
		if (app->devices[i].kind == PLAT_DEV_NET)
			pvh_want_net++;
		else
			pvh_want_blk++;
	}
	for (int i = 0; i < argc; i++)
		mmio_parse(argv[i]);
	acpi_virtio_mmio_each(mmio_found);
	/* The n-th device is the app's n-th: order the command line's by
	 * address, as Firecracker assigns them in configuration order and
	 * tools/atoll asks QEMU for that order too. */
	for (unsigned i = 1; i < ndevs; i++)
		for (unsigned j = i; j > 0 && devs[j].base < devs[j - 1].base; j--) {
			struct virtio_dev t = devs[j];
			devs[j] = devs[j - 1];
			devs[j - 1] = t;
		}
	pci_scan(pci_found, NULL);

	/* virtio-rng first: its first answer (boot's entropy) is then on its
	 * way while the others start.  Its place does not number anything. */
	for (unsigned i = 0; i < ndevs; i++)
		if (devs[i].id == VIRTIO_ID_RNG)
			vrng_attach(&devs[i]);
	for (unsigned i = 0; i < ndevs; i++) {
		struct virtio_dev *d = &devs[i];
		switch (d->id) {
		case VIRTIO_ID_NET:
			vnet_attach(d);
			break;
		case VIRTIO_ID_BLOCK:
			vblk_attach(d);
			break;
		case VIRTIO_ID_RNG:
			break;
		default:
			kprintf("atoll: virtio %s: ignoring device type %u\n", d->where, d->id);
		}
	}
}
