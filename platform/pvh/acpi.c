/*
 * acpi.c - the little of ACPI a unikernel needs: where the IO APICs are
 * (MADT); the power button as a stop request, either the FADT's
 * fixed-feature event (QEMU pc, q35) or a hardware-reduced platform's
 * Generic Event Device (QEMU microvm); the virtio-mmio devices of a
 * microvm with ACPI; and S5 power-off (PM1 control block, or the sleep
 * control register of a hardware-reduced platform, with SLP_TYP from the
 * DSDT's \_S5 package).
 *
 * There is no AML interpreter: the DSDT is read by bounded byte scans
 * for the few shapes VMMs emit.
 *  - \_S5: NameOp "_S5_" PackageOp, whose first two elements are
 *    constants (ACPI 6.5 7.4.2).  A DSDT that computes them is not
 *    understood: S5 is then not offered and power-off falls back to a
 *    reset.
 *  - Devices: DeviceOp (0x5b 0x82) whose body holds the _HID string;
 *    its _CRS resource template is read for a Memory32Fixed descriptor
 *    (0x86) and an Extended Interrupt descriptor (0x89).  "LNRO0005" is
 *    virtio-mmio; "ACPI0013" is the Generic Event Device, whose event
 *    selector is the SystemMemory OperationRegion in its body.
 *  - The GED's _EVT method is not read: bit 1 of the selector is QEMU's
 *    power-down event (hw/acpi/generic_event_device.c), the only event
 *    QEMU's microvm raises.
 */
#include <string.h>

#include "cpu.h"
#include "pvh.h"

#define RSDP_SCAN_START 0xe0000u /* ACPI 6.5 5.2.5.1: the BIOS read-only area */
#define RSDP_SCAN_END	0x100000u
#define SDT_HEADER	36
#define SDT_MAX		(1u << 20) /* no table we read is larger */

/* FADT fields (ACPI 6.5 5.2.9, Table 5.9). */
#define FADT_DSDT	  40
#define FADT_SCI_INT	  46
#define FADT_SMI_CMD	  48
#define FADT_ACPI_ENABLE  52
#define FADT_PM1A_EVT	  56
#define FADT_PM1B_EVT	  60
#define FADT_PM1A_CNT	  64
#define FADT_PM1B_CNT	  68
#define FADT_PM1_EVT_LEN  88
#define FADT_FLAGS	  112
#define FADT_X_DSDT	  140
#define FADT_SLEEP_CTL	  244	     /* a Generic Address Structure */
#define FADT_F_PWR_BUTTON (1u << 4)  /* set: the power button is not a fixed feature */
#define FADT_F_HW_REDUCED (1u << 20) /* no PM1 blocks, no SCI_EN */

/* PM1 registers (ACPI 6.5 4.8.3). */
#define PM1_PWRBTN    (1u << 8) /* PWRBTN_STS in status, PWRBTN_EN in enable */
#define PM1_SCI_EN    (1u << 0)
#define PM1_SLP_TYP_S 10
#define PM1_SLP_EN    (1u << 13)
/* The hardware-reduced sleep control register (ACPI 6.5 4.8.3.7). */
#define SLEEP_CTL_TYP_S 2
#define SLEEP_CTL_EN	(1u << 5)

/* MADT interrupt source override flags (ACPI 6.5 5.2.12.5). */
#define MPS_POLARITY_MASK (3u << 0)
#define MPS_POLARITY_HIGH (1u << 0)
#define MPS_TRIGGER_MASK  (3u << 2)
#define MPS_TRIGGER_EDGE  (1u << 2)

#define ACPI_MAX_IOAPIC 4
#define ACPI_MAX_MMIO	32
#define GED_PWR_DOWN	(1u << 1)

struct acpi_mmio {
	uint64_t base, size;
	unsigned gsi;
};

static struct {
	struct ioapic_desc ioapic[ACPI_MAX_IOAPIC];
	unsigned nioapic;
	struct acpi_mmio mmio[ACPI_MAX_MMIO];
	unsigned nmmio;
	uint64_t ged_sel; /* the GED's event selector register, 0: none */
	unsigned ged_gsi;
	bool ged_level, ged_low;
	uint16_t sci_irq, sci_flags;
	unsigned sci_gsi;
	bool sci_override;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint16_t pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm1_evt_len;
	uint32_t flags;
	uint64_t sleep_ctl; /* an I/O port or a memory address */
	bool sleep_ctl_io;
	bool have_fadt, have_s5;
	uint8_t s5_a, s5_b;
	bool button;
} acpi;

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof v);
	return v;
}
static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}
static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static bool checksum_ok(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum == 0;
}

/* ACPI tables sit in memory the page tables leave out (reserved or ACPI
 * areas of the memory map): map each before reading it.  NULL for a
 * table that is not one (bad length or checksum). */
static const uint8_t *acpi_table(uint64_t paddr, uint32_t *len)
{
	if (!paddr || paddr >= (1ull << 40))
		return NULL;
	mm_map_mmio(paddr, SDT_HEADER);
	const uint8_t *t = (const uint8_t *)(uintptr_t)paddr;
	uint32_t n = rd32(t + 4);
	if (n < SDT_HEADER || n > SDT_MAX)
		return NULL;
	mm_map_mmio(paddr, n);
	if (!checksum_ok(t, n))
		return NULL;
	*len = n;
	return t;
}

/* The RSDP: from the start record, else where a BIOS leaves it. */
static uint64_t rsdp_find(uint64_t given)
{
	if (given)
		return given;
	mm_map_mmio(RSDP_SCAN_START, RSDP_SCAN_END - RSDP_SCAN_START);
	for (uint64_t a = RSDP_SCAN_START; a < RSDP_SCAN_END; a += 16) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)a;
		if (memcmp(p, "RSD PTR ", 8) == 0 && checksum_ok(p, 20))
			return a;
	}
	return 0;
}

static void madt_read(const uint8_t *t, uint32_t len)
{
	for (uint32_t e = 44; e + 2 <= len && t[e + 1] >= 2 && e + t[e + 1] <= len; e += t[e + 1]) {
		if (t[e] == 1 && t[e + 1] >= 12 && acpi.nioapic < ACPI_MAX_IOAPIC)
			acpi.ioapic[acpi.nioapic++] =
			    (struct ioapic_desc){rd32(t + e + 4), rd32(t + e + 8)};
		if (t[e] == 2 && t[e + 1] >= 10 && t[e + 3] == acpi.sci_irq) {
			acpi.sci_gsi = rd32(t + e + 4);
			acpi.sci_flags = rd16(t + e + 8);
			acpi.sci_override = true;
		}
	}
}

/* A PkgLength (ACPI 6.5 20.2.4): returns the bytes it takes, 0 if p does
 * not hold one within end. */
static unsigned pkg_length_size(const uint8_t *p, const uint8_t *end)
{
	if (p >= end)
		return 0;
	unsigned n = 1 + (p[0] >> 6);
	return p + n <= end ? n : 0;
}

/* A PkgLength's value: the length of the package from its PkgLength on. */
static uint32_t pkg_length(const uint8_t *p, unsigned n)
{
	if (n == 1)
		return p[0] & 0x3f;
	uint32_t v = p[0] & 0x0f;
	for (unsigned i = 1; i < n; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

static const uint8_t *find(const uint8_t *p, const uint8_t *end, const void *s, size_t n)
{
	for (; p + n <= end; p++)
		if (memcmp(p, s, n) == 0)
			return p;
	return NULL;
}

/* Within a device's body: its Memory32Fixed window and its first
 * Extended Interrupt (flags: bit 1 edge, bit 2 active low). */
static bool crs_read(const uint8_t *p, const uint8_t *end, uint64_t *base, uint64_t *size,
		     unsigned *gsi, uint8_t *irq_flags)
{
	bool mem = false, irq = false;
	for (; p + 9 <= end; p++) {
		if (!mem && base && p + 12 <= end && p[0] == 0x86 && p[1] == 9 && p[2] == 0) {
			*base = rd32(p + 4);
			*size = rd32(p + 8);
			mem = true;
		}
		if (!irq && p[0] == 0x89 && rd16(p + 1) >= 6 && p[4] >= 1) {
			*gsi = rd32(p + 5);
			*irq_flags = p[3];
			irq = true;
		}
	}
	return (mem || !base) && irq;
}

/* The Generic Event Device: its interrupt and its event selector, the
 * SystemMemory OperationRegion in its body (0x5b 0x80 NameSeg 0x00 then
 * a DWordConst or QWordConst offset). */
static void ged_read(const uint8_t *p, const uint8_t *end)
{
	uint8_t fl;
	if (!crs_read(p, end, NULL, NULL, &acpi.ged_gsi, &fl))
		return;
	for (; p + 16 <= end; p++) {
		if (p[0] != 0x5b || p[1] != 0x80 || p[6] != 0x00)
			continue;
		if (p[7] == 0x0c)
			acpi.ged_sel = rd32(p + 8);
		else if (p[7] == 0x0e)
			acpi.ged_sel = rd64(p + 8);
		else
			continue;
		acpi.ged_level = !(fl & 2);
		acpi.ged_low = fl & 4;
		return;
	}
}

/* The _HID string (StringPrefix, text, NUL) in a device's own body, not
 * in a device nested before it: NULL if not there. */
static const uint8_t *own_hid(const uint8_t *body, const uint8_t *dend, const char *hid, size_t n)
{
	static const uint8_t device_op[2] = {0x5b, 0x82};
	const uint8_t *h = find(body, dend, hid, n);
	return h && !find(body, h, device_op, sizeof device_op) ? h : NULL;
}

static void devices_scan(const uint8_t *t, uint32_t len)
{
	static const char hid_virtio[] = "\x0dLNRO0005", hid_ged[] = "\x0d"
								     "ACPI0013";
	const uint8_t *end = t + len;
	for (const uint8_t *p = t + SDT_HEADER; p + 8 < end; p++) {
		if (p[0] != 0x5b || p[1] != 0x82)
			continue;
		unsigned n = pkg_length_size(p + 2, end);
		if (!n)
			continue;
		uint32_t plen = pkg_length(p + 2, n);
		if (plen < n + 4 || plen > (uint32_t)(end - (p + 2)))
			continue;
		const uint8_t *body = p + 2 + n + 4, *dend = p + 2 + plen;
		const uint8_t *h = own_hid(body, dend, hid_virtio, sizeof hid_virtio);
		struct acpi_mmio m;
		uint8_t fl;
		if (h && acpi.nmmio < ACPI_MAX_MMIO &&
		    crs_read(h, dend, &m.base, &m.size, &m.gsi, &fl)) {
			acpi.mmio[acpi.nmmio++] = m;
			p = dend - 1;
		} else if (own_hid(body, dend, hid_ged, sizeof hid_ged)) {
			ged_read(body, dend);
			p = dend - 1;
		}
	}
}

/* A constant package element: Zero, One, or a BytePrefix byte. */
static bool aml_byte(const uint8_t **pp, const uint8_t *end, uint8_t *v)
{
	const uint8_t *p = *pp;
	if (p >= end)
		return false;
	if (p[0] == 0x00 || p[0] == 0x01) {
		*v = p[0];
		*pp = p + 1;
		return true;
	}
	if (p[0] == 0x0a && p + 1 < end) {
		*v = p[1];
		*pp = p + 2;
		return true;
	}
	return false;
}

/* NameOp "_S5_" PackageOp PkgLength NumElements SLP_TYPa SLP_TYPb. */
static void s5_scan(const uint8_t *t, uint32_t len)
{
	const uint8_t *end = t + len;
	for (const uint8_t *p = t + SDT_HEADER; p + 6 < end; p++) {
		if (memcmp(p, "_S5_", 4) != 0 || p[4] != 0x12)
			continue;
		if (!(p[-1] == 0x08 || (p[-1] == '\\' && p[-2] == 0x08)))
			continue;
		const uint8_t *q = p + 5;
		unsigned n = pkg_length_size(q, end);
		if (!n)
			return;
		q += n + 1; /* NumElements */
		if (aml_byte(&q, end, &acpi.s5_a) && aml_byte(&q, end, &acpi.s5_b))
			acpi.have_s5 = true;
		return;
	}
}

static void fadt_read(const uint8_t *t, uint32_t len)
{
	if (len < 116)
		return;
	acpi.have_fadt = true;
	acpi.sci_irq = rd16(t + FADT_SCI_INT);
	acpi.sci_gsi = acpi.sci_irq;
	acpi.smi_cmd = rd32(t + FADT_SMI_CMD);
	acpi.acpi_enable = t[FADT_ACPI_ENABLE];
	acpi.pm1a_evt = (uint16_t)rd32(t + FADT_PM1A_EVT);
	acpi.pm1b_evt = (uint16_t)rd32(t + FADT_PM1B_EVT);
	acpi.pm1a_cnt = (uint16_t)rd32(t + FADT_PM1A_CNT);
	acpi.pm1b_cnt = (uint16_t)rd32(t + FADT_PM1B_CNT);
	acpi.pm1_evt_len = t[FADT_PM1_EVT_LEN];
	acpi.flags = rd32(t + FADT_FLAGS);
	if (len >= FADT_SLEEP_CTL + 12 && t[FADT_SLEEP_CTL] <= 1) {
		acpi.sleep_ctl = rd64(t + FADT_SLEEP_CTL + 4);
		acpi.sleep_ctl_io = t[FADT_SLEEP_CTL] == 1; /* address space 1: I/O */
	}
	uint64_t dsdt = rd32(t + FADT_DSDT);
	if (len >= FADT_X_DSDT + 8 && rd64(t + FADT_X_DSDT))
		dsdt = rd64(t + FADT_X_DSDT);
	uint32_t dlen;
	const uint8_t *d = acpi_table(dsdt, &dlen);
	if (d) {
		s5_scan(d, dlen);
		devices_scan(d, dlen);
	}
}

void acpi_init(uint64_t rsdp_given)
{
	uint64_t rsdp = rsdp_find(rsdp_given);
	if (!rsdp)
		return;
	mm_map_mmio(rsdp, 36);
	const uint8_t *r = (const uint8_t *)(uintptr_t)rsdp;
	uint64_t sdt;
	unsigned entsz;
	if (r[15] >= 2 && rd64(r + 24)) {
		sdt = rd64(r + 24); /* XSDT */
		entsz = 8;
	} else {
		sdt = rd32(r + 16); /* RSDT */
		entsz = 4;
	}
	uint32_t len;
	const uint8_t *t = acpi_table(sdt, &len);
	if (!t)
		return;
	/* The FADT first: the MADT's overrides are looked up by its SCI. */
	const uint8_t *madt = NULL;
	uint32_t madt_len = 0;
	for (uint32_t off = SDT_HEADER; off + entsz <= len; off += entsz) {
		uint64_t p = entsz == 8 ? rd64(t + off) : rd32(t + off);
		uint32_t hlen;
		const uint8_t *h = acpi_table(p, &hlen);
		if (h && memcmp(h, "FACP", 4) == 0)
			fadt_read(h, hlen);
		else if (h && memcmp(h, "APIC", 4) == 0) {
			madt = h;
			madt_len = hlen;
		}
	}
	if (madt)
		madt_read(madt, madt_len);
}

unsigned acpi_ioapics(struct ioapic_desc *out, unsigned max)
{
	unsigned n = acpi.nioapic < max ? acpi.nioapic : max;
	memcpy(out, acpi.ioapic, n * sizeof out[0]);
	return n;
}

void acpi_virtio_mmio_each(void (*fn)(uint64_t base, uint64_t size, unsigned gsi))
{
	for (unsigned i = 0; i < acpi.nmmio; i++)
		fn(acpi.mmio[i].base, acpi.mmio[i].size, acpi.mmio[i].gsi);
}

/* ---- The power button ------------------------------------------------------ */

static uint16_t pm1_en(uint16_t evt)
{
	return (uint16_t)(evt + acpi.pm1_evt_len / 2);
}

static void sci_irq(void *arg)
{
	(void)arg;
	uint16_t blk[2] = {acpi.pm1a_evt, acpi.pm1b_evt};
	for (int i = 0; i < 2; i++) {
		if (!blk[i])
			continue;
		uint16_t sts = inw(blk[i]);
		if (sts & PM1_PWRBTN) {
			outw(blk[i], PM1_PWRBTN); /* write 1 to clear */
			pvh_stop_request();
		}
	}
}

static void ged_irq(void *arg)
{
	(void)arg;
	if (mmio_r32((uintptr_t)acpi.ged_sel) & GED_PWR_DOWN) /* reading clears it */
		pvh_stop_request();
}

static bool ged_init(void)
{
	mm_map_mmio(acpi.ged_sel, 4);
	int vec = irq_alloc(ged_irq, NULL);
	if (vec < 0)
		return false;
	if (mmio_r32((uintptr_t)acpi.ged_sel) & GED_PWR_DOWN) /* pressed before we listened */
		pvh_stop_request();
	ioapic_route_mode(acpi.ged_gsi, vec, acpi.ged_level, acpi.ged_low);
	acpi.button = true;
	return true;
}

bool acpi_power_button_init(void)
{
	if (acpi.have_fadt && (acpi.flags & FADT_F_HW_REDUCED) && acpi.ged_sel)
		return ged_init();
	if (!acpi.have_fadt || (acpi.flags & (FADT_F_HW_REDUCED | FADT_F_PWR_BUTTON)) ||
	    !acpi.pm1a_evt || !acpi.pm1a_cnt || acpi.pm1_evt_len < 4)
		return false;
	/* ACPI mode: the firmware may have left the chipset in legacy mode,
	 * where events go to SMM instead of raising the SCI (ACPI 6.5 4.8.2.1). */
	if (!(inw(acpi.pm1a_cnt) & PM1_SCI_EN) && acpi.smi_cmd && acpi.acpi_enable) {
		outb((uint16_t)acpi.smi_cmd, acpi.acpi_enable);
		for (int i = 0; i < 100000 && !(inw(acpi.pm1a_cnt) & PM1_SCI_EN); i++)
			cpu_relax();
	}
	if (!(inw(acpi.pm1a_cnt) & PM1_SCI_EN))
		return false;
	int vec = irq_alloc(sci_irq, NULL);
	if (vec < 0)
		return false;
	/* The SCI is level-triggered, active low unless the MADT says
	 * otherwise (ACPI 6.5 5.2.9); QEMU overrides it to active high. */
	bool level = true, low = true;
	if (acpi.sci_override) {
		if ((acpi.sci_flags & MPS_POLARITY_MASK) == MPS_POLARITY_HIGH)
			low = false;
		if ((acpi.sci_flags & MPS_TRIGGER_MASK) == MPS_TRIGGER_EDGE)
			level = false;
	}
	ioapic_route_mode(acpi.sci_gsi, vec, level, low);
	uint16_t blk[2] = {acpi.pm1a_evt, acpi.pm1b_evt};
	for (int i = 0; i < 2; i++) {
		if (!blk[i])
			continue;
		outw(blk[i], PM1_PWRBTN); /* a press from before we listened */
		outw(pm1_en(blk[i]), (uint16_t)(inw(pm1_en(blk[i])) | PM1_PWRBTN));
	}
	acpi.button = true;
	return true;
}

/* ---- S5 ------------------------------------------------------------------------ */

void acpi_poweroff(void)
{
	if (!acpi.have_fadt || !acpi.have_s5)
		return;
	if (acpi.flags & FADT_F_HW_REDUCED) {
		if (!acpi.sleep_ctl)
			return;
		uint8_t v = (uint8_t)(((acpi.s5_a & 7) << SLEEP_CTL_TYP_S) | SLEEP_CTL_EN);
		if (acpi.sleep_ctl_io) {
			outb((uint16_t)acpi.sleep_ctl, v);
		} else {
			mm_map_mmio(acpi.sleep_ctl, 1);
			mmio_w8((uintptr_t)acpi.sleep_ctl, v);
		}
	} else {
		if (!acpi.pm1a_cnt)
			return;
		/* SLP_TYP first, then SLP_EN with it (ACPI 6.5 7.4.2.2). */
		uint16_t a = (uint16_t)(inw(acpi.pm1a_cnt) & ~(7u << PM1_SLP_TYP_S | PM1_SLP_EN));
		a |= (uint16_t)((acpi.s5_a & 7) << PM1_SLP_TYP_S);
		outw(acpi.pm1a_cnt, a);
		if (acpi.pm1b_cnt) {
			uint16_t b =
			    (uint16_t)(inw(acpi.pm1b_cnt) & ~(7u << PM1_SLP_TYP_S | PM1_SLP_EN));
			b |= (uint16_t)((acpi.s5_b & 7) << PM1_SLP_TYP_S);
			outw(acpi.pm1b_cnt, b);
			outw(acpi.pm1b_cnt, (uint16_t)(b | PM1_SLP_EN));
		}
		outw(acpi.pm1a_cnt, (uint16_t)(a | PM1_SLP_EN));
	}
	/* The VMM stops us; give it a moment before the caller tries else. */
	for (int i = 0; i < 1000000; i++)
		cpu_relax();
}

bool acpi_has_power_button(void)
{
	return acpi.button;
}

bool acpi_has_s5(void)
{
	return acpi.have_fadt && acpi.have_s5;
}
