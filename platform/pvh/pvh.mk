# platform/pvh/pvh.mk - the pvh target's build, included by the Makefile
# for TARGET=pvh.
#
# Everything is compiled freestanding against the target's own headers
# (platform/pvh/include) and the compiler's (stdarg, stddef, stdint ...),
# with the stack protector and frame pointers on (crash backtraces walk
# them).  Each app is linked twice: the first link fixes every address,
# its symbols become a table (mksyms.sh) that the second link appends in
# a segment of its own, so the image can name functions in a crash
# report.  build/pvh/<app>.dbg.elf keeps the symbols and DWARF for gdb;
# build/pvh/<app>.elf is the same image stripped.

PVH := platform/pvh
PLAT_SRCS := $(wildcard $(PVH)/*.c $(PVH)/*.S)

ALL_CFLAGS += -ffreestanding -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
              -I$(PVH)/include -fno-pie -fno-pic -fstack-protector-strong \
              -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
              -fno-asynchronous-unwind-tables -fno-unwind-tables \
              -ffunction-sections -fdata-sections
PVH_LDFLAGS := -nostdlib -static $(if $(findstring clang,$(CC)),,-no-pie) -Wl,-T,$(PVH)/link.ld -Wl,--gc-sections \
               -Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack $(LDFLAGS)
PVH_LIBGCC := $(shell $(CC) -print-libgcc-file-name)
PVH_LIB := $(OBJ)/libatoll.a
# The Makefile defines objs, LIB_OBJS and PLAT_OBJS after including this
# file, and rule prerequisites are expanded at once: name them here.
pvh_objs = $(patsubst %,$(OBJ)/%.o,$(basename $(1)))
PVH_OBJS := $(call pvh_objs,$(PLAT_SRCS))
PVH_LIB_OBJS := $(call pvh_objs,$(LIB_SRCS))

# This file is read before the Makefile names its first target.
.DEFAULT_GOAL := all
TARGET_LINKS_APPS := 1
APP_OUTPUTS := $(foreach a,$(APPS),$(BUILD)/$(a).elf $(BUILD)/$(a).dbg.elf)

$(PVH_LIB): $(PVH_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

# pvh_app NAME OBJECTS EXTRA_LIBS: the two links, the table, the strip.
define pvh_app
$(OBJ)/$(1).pass1.elf: $(2) $(PVH_OBJS) $(PVH_LIB) $(PVH)/link.ld
	@mkdir -p $$(@D)
	$$(CC) $$(PVH_LDFLAGS) -o $$@ $(2) $$(PVH_OBJS) $$(PVH_LIB) $(3) $$(PVH_LIBGCC)

$(OBJ)/$(1).syms.o: $(OBJ)/$(1).pass1.elf $(PVH)/mksyms.sh
	$(PVH)/mksyms.sh $$< > $(OBJ)/$(1).syms.S
	$$(CC) -c $(OBJ)/$(1).syms.S -o $$@

# The table must not move anything: compare the code symbols of both links.
$(BUILD)/$(1).dbg.elf: $(OBJ)/$(1).pass1.elf $(OBJ)/$(1).syms.o
	@mkdir -p $$(@D)
	$$(CC) $$(PVH_LDFLAGS) -o $$@ $(2) $$(PVH_OBJS) $$(PVH_LIB) $(3) $$(PVH_LIBGCC) \
		$(OBJ)/$(1).syms.o
	@nm -n $$< | grep -v ' __syms_\(start\|end\)$$$$\| __image_end$$$$' > $$@.n1
	@nm -n $$@ | grep -v ' __syms_\(start\|end\)$$$$\| __image_end$$$$' > $$@.n2
	@cmp -s $$@.n1 $$@.n2 || { echo "$$@: the symbol table moved code"; rm -f $$@; exit 1; }
	@rm -f $$@.n1 $$@.n2

$(BUILD)/$(1).elf: $(BUILD)/$(1).dbg.elf
	strip --strip-all -o $$@ $$<
endef

# Debian's static libraries link unchanged (the runtime in libc.c provides
# what they call); their headers come after ours, from /usr/include.
PVH_BEARSSL := /usr/lib/x86_64-linux-gnu/libbearssl.a
PVH_ZLIB := /usr/lib/x86_64-linux-gnu/libz.a
PVH_SYSINC := -idirafter /usr/include

# lib/ may use BearSSL (TCP's RFC 6528 sequence numbers) through
# "bearssl/...": a folder holding only that link to Debian's headers keeps
# the rest of /usr/include (glibc's) out of every other object.  Every app
# links libbearssl.a; only what it calls comes in.
PVH_BEARSSL_INC := $(OBJ)/pvh-bearssl-include
$(shell mkdir -p $(PVH_BEARSSL_INC) && ln -sfn /usr/include/bearssl $(PVH_BEARSSL_INC)/bearssl)
ALL_CFLAGS += -idirafter $(PVH_BEARSSL_INC)

$(foreach a,$(APPS),$(eval $(call pvh_app,$(a),$(call pvh_objs,$(wildcard apps/$(a)/*.c)) $(OBJ)/apps/$(a)/linked.o,$(PVH_BEARSSL))))


# Test unikernels (tests/pvh/<name>.c): build/pvh/test/<name>.elf.
PVH_TESTS := crash pvhcheck kat
$(foreach t,crash pvhcheck,$(eval $(call pvh_app,test/$(t),$(call pvh_objs,tests/pvh/$(t).c) $(OBJ)/apps/$(t)/linked.o,)))
$(eval $(call pvh_app,test/kat,$(OBJ)/tests/pvh/kat.o $(OBJ)/apps/kat/linked.o,$(PVH_BEARSSL) $(PVH_ZLIB)))
$(OBJ)/tests/pvh/kat.o: ALL_CFLAGS += $(PVH_SYSINC)
.PHONY: pvh-tests
pvh-tests: $(foreach t,$(PVH_TESTS),$(BUILD)/test/$(t).elf)
