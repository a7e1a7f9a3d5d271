/*
 * mm.c - physical memory: the boot memory map, a boot-time allocator for
 * the platform's own needs (page tables, virtqueues, packet buffers), the
 * final page tables, and the one heap region handed to the application.
 *
 * Memory is identity-mapped (virtual == physical), so device DMA
 * addresses are plain pointers.  The page tables are W^X: the image's
 * text is read-only and executable, everything else is no-execute, its
 * rodata is read-only, the zero page and the page under the boot stack
 * are unmapped so that a NULL dereference or a stack overflow faults.
 */
#include <string.h>

#include "cpu.h"
#include "pvh.h"

#define PTE_P	 (1ull << 0)
#define PTE_RW	 (1ull << 1)
#define PTE_PWT	 (1ull << 3)
#define PTE_PCD	 (1ull << 4)
#define PTE_PS	 (1ull << 7)
#define PTE_NX	 (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull
#define PAGE	 4096ull
#define BIG	 (2ull << 20)

#define MAX_REGIONS 16
#define E820_RAM    1

extern char __image_start[], __image_end[], __text_start[], __text_end[], __rodata_start[],
    __rodata_end[], __data_start[], __bss_end[], __syms_start[], boot_stack_guard[];

struct region {
	uint64_t start, end;
};

/* Free RAM (what mm_alloc and the heap may use) and all RAM (what the
 * page tables map). */
static struct region free_rgn[MAX_REGIONS], ram_rgn[MAX_REGIONS];
static unsigned nfree, nram;
static uint64_t *pml4;

static void free_add(uint64_t start, uint64_t end)
{
	start = (start + PAGE - 1) & ~(PAGE - 1);
	end &= ~(PAGE - 1);
	if (start >= end || nfree == MAX_REGIONS)
		return;
	free_rgn[nfree++] = (struct region){start, end};
}

void mm_init(const struct pvh_memmap_entry *map, unsigned n)
{
	uint64_t img_start = (uintptr_t)__image_start, img_end = (uintptr_t)__image_end;
	for (unsigned i = 0; i < n; i++) {
		if (map[i].type != E820_RAM || map[i].size == 0)
			continue;
		uint64_t s = map[i].addr, e = map[i].addr + map[i].size;
		if (nram < MAX_REGIONS)
			ram_rgn[nram++] = (struct region){s, e};
		if (s < PAGE)
			s = PAGE; /* the zero page stays unmapped */
		if (s < img_end && e > img_start) {
			free_add(s, img_start);
			free_add(img_end, e);
		} else {
			free_add(s, e);
		}
	}
	if (nfree == 0)
		crash("no free RAM in the boot memory map", 0, 0, 0, false);
}

uint64_t mm_ram_total(void)
{
	uint64_t t = 0;
	for (unsigned i = 0; i < nram; i++)
		t += ram_rgn[i].end - ram_rgn[i].start;
	return t;
}

void *mm_alloc(size_t size, size_t align)
{
	/* Best fit: small allocations go to the small low-memory region and
	 * leave the large one whole for the heap. */
	struct region *best = NULL;
	uint64_t best_room = UINT64_MAX;
	for (unsigned i = 0; i < nfree; i++) {
		struct region *r = &free_rgn[i];
		uint64_t a = (r->start + align - 1) & ~((uint64_t)align - 1);
		if (a >= r->end || r->end - a < size)
			continue;
		if (r->end - r->start < best_room) {
			best = r;
			best_room = r->end - r->start;
		}
	}
	if (!best) {
		kprintf("mm_alloc: no room for %zu bytes\n", size);
		crash("out of memory during boot", 0, 0, 0, false);
	}
	uint64_t a = (best->start + align - 1) & ~((uint64_t)align - 1);
	best->start = a + size;
	memset((void *)(uintptr_t)a, 0, size);
	return (void *)(uintptr_t)a;
}

void mm_take_heap(void **base, size_t *size)
{
	struct region *best = &free_rgn[0];
	for (unsigned i = 1; i < nfree; i++)
		if (free_rgn[i].end - free_rgn[i].start > best->end - best->start)
			best = &free_rgn[i];
	*base = (void *)(uintptr_t)best->start;
	*size = best->end - best->start;
	best->start = best->end;
}

/* ---- Page tables ---------------------------------------------------------- */

static uint64_t *table_next(uint64_t *table, unsigned idx)
{
	if (!(table[idx] & PTE_P)) {
		uint64_t *t = mm_alloc(PAGE, PAGE);
		/* Upper levels allow everything; the leaf decides. */
		table[idx] = (uintptr_t)t | PTE_P | PTE_RW;
	}
	return (uint64_t *)(uintptr_t)(table[idx] & PTE_ADDR);
}

/* Map [start, end) to itself with flags, in 2 MiB pages where aligned and
 * 4 KiB pages elsewhere.  Pages already mapped by a 2 MiB entry are left
 * alone (a second device in the same window).  Returns whether an entry
 * that was present changed (only then must the TLB be flushed: x86 never
 * caches a not-present entry). */
static bool map_range(uint64_t start, uint64_t end, uint64_t flags)
{
	bool changed = false;
	start &= ~(PAGE - 1);
	end = (end + PAGE - 1) & ~(PAGE - 1);
	for (uint64_t a = start; a < end;) {
		uint64_t *pdpt = table_next(pml4, (a >> 39) & 511);
		uint64_t *pd = table_next(pdpt, (a >> 30) & 511);
		unsigned pdi = (a >> 21) & 511;
		if (pd[pdi] & PTE_PS) {
			a = (a & ~(BIG - 1)) + BIG;
			continue;
		}
		if ((a & (BIG - 1)) == 0 && end - a >= BIG && !(pd[pdi] & PTE_P)) {
			pd[pdi] = a | flags | PTE_P | PTE_PS;
			a += BIG;
			continue;
		}
		uint64_t *pt = table_next(pd, pdi), *pte = &pt[(a >> 12) & 511];
		uint64_t want = a | flags | PTE_P;
		if ((*pte & PTE_P) && *pte != want)
			changed = true;
		*pte = want;
		a += PAGE;
	}
	return changed;
}

void mm_paging_init(void)
{
	pml4 = mm_alloc(PAGE, PAGE);
	uint64_t img_start = (uintptr_t)__image_start, img_end = (uintptr_t)__image_end;
	for (unsigned i = 0; i < nram; i++) {
		uint64_t s = ram_rgn[i].start < PAGE ? PAGE : ram_rgn[i].start, e = ram_rgn[i].end;
		if (s < img_end && e > img_start) {
			if (s < img_start)
				map_range(s, img_start, PTE_RW | PTE_NX);
			if (e > img_end)
				map_range(img_end, e, PTE_RW | PTE_NX);
		} else if (s < e) {
			map_range(s, e, PTE_RW | PTE_NX);
		}
	}
	map_range((uintptr_t)__text_start, (uintptr_t)__text_end, 0);
	map_range((uintptr_t)__rodata_start, (uintptr_t)__rodata_end, PTE_NX);
	map_range((uintptr_t)__data_start, (uintptr_t)boot_stack_guard, PTE_RW | PTE_NX);
	map_range((uintptr_t)boot_stack_guard + PAGE, (uintptr_t)__bss_end, PTE_RW | PTE_NX);
	map_range((uintptr_t)__syms_start, img_end, PTE_NX);
	write_cr3((uintptr_t)pml4);
}

void mm_map_mmio(uint64_t paddr, uint64_t size)
{
	/* Each flush costs every later access a page walk (under TCG a trip
	 * through the softmmu): only when an existing entry changed. */
	if (map_range(paddr, paddr + size, PTE_RW | PTE_NX | PTE_PCD | PTE_PWT))
		write_cr3((uintptr_t)pml4);
}
