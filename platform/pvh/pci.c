/*
 * pci.c - PCI configuration space through the 0xcf8/0xcfc ports, which
 * QEMU's pc and q35 provide (q35 also has ECAM, which we do not need: the
 * virtio registers we use all sit in the first 256 bytes).  The firmware
 * (SeaBIOS, which runs before a PVH kernel on pc and q35) has already
 * assigned every BAR; we only read them.
 */
#include "cpu.h"
#include "pvh.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc

static uint32_t cfg_addr(const struct pci_dev *d, unsigned off)
{
	return 1u << 31 | (uint32_t)d->bus << 16 | (uint32_t)d->dev << 11 | (uint32_t)d->fn << 8 |
	       (off & 0xfc);
}

uint32_t pci_read32(const struct pci_dev *d, unsigned off)
{
	outl(PCI_ADDR, cfg_addr(d, off));
	return inl(PCI_DATA);
}

void pci_write32(const struct pci_dev *d, unsigned off, uint32_t v)
{
	outl(PCI_ADDR, cfg_addr(d, off));
	outl(PCI_DATA, v);
}

uint16_t pci_read16(const struct pci_dev *d, unsigned off)
{
	outl(PCI_ADDR, cfg_addr(d, off));
	return inw((uint16_t)(PCI_DATA + (off & 2)));
}

void pci_write16(const struct pci_dev *d, unsigned off, uint16_t v)
{
	outl(PCI_ADDR, cfg_addr(d, off));
	outw((uint16_t)(PCI_DATA + (off & 2)), v);
}

uint8_t pci_read8(const struct pci_dev *d, unsigned off)
{
	outl(PCI_ADDR, cfg_addr(d, off));
	return inb((uint16_t)(PCI_DATA + (off & 3)));
}

uint64_t pci_bar(const struct pci_dev *d, unsigned n, uint64_t *size)
{
	if (n > 5)
		return 0;
	uint32_t lo = pci_read32(d, 0x10 + 4 * n);
	if (lo & 1)
		return 0; /* an I/O BAR: virtio 1.0 structures are in memory BARs */
	uint64_t a = lo & ~0xfull;
	if (((lo >> 1) & 3) == 2 && n < 5)
		a |= (uint64_t)pci_read32(d, 0x10 + 4 * (n + 1)) << 32;
	if (size)
		*size = 0; /* callers map only the windows the capabilities name */
	return a;
}

static void scan_bus(uint8_t bus, unsigned depth, void (*fn)(const struct pci_dev *, void *),
		     void *arg)
{
	for (uint8_t dev = 0; dev < 32; dev++) {
		for (uint8_t f = 0; f < 8; f++) {
			struct pci_dev d = {bus, dev, f, 0, 0, 0};
			uint32_t id = pci_read32(&d, 0);
			if ((id & 0xffff) == 0xffff) {
				if (f == 0)
					break;
				continue;
			}
			d.vendor = (uint16_t)id;
			d.device = (uint16_t)(id >> 16);
			uint8_t hdr = pci_read8(&d, 0x0e);
			if ((hdr & 0x7f) == 0) {
				d.subsys = pci_read16(&d, 0x2e);
				fn(&d, arg);
			} else if ((hdr & 0x7f) == 1 && depth < 8) {
				uint8_t sec = pci_read8(&d, 0x19); /* a bridge */
				if (sec > bus)
					scan_bus(sec, depth + 1, fn, arg);
			}
			if (f == 0 && !(hdr & 0x80))
				break; /* not multi-function */
		}
	}
}

void pci_scan(void (*fn)(const struct pci_dev *d, void *arg), void *arg)
{
	scan_bus(0, 0, fn, arg);
}
