# atoll - one GNU make build for every target.
#
#   make                  every app for the hosted target: build/hosted/<app>
#   make TARGET=pvh       (later) VM images: build/pvh/<app>.elf
#   make test             build everything and run the whole test suite
#   make unit             build and run the unit tests only
#   make fuzz             build the libFuzzer targets: build/fuzz/<name>
#   make format           apply .clang-format;  make format-check  checks it
#   make CC=clang         any of the above with clang (gcc is the default)

TARGET ?= hosted
CC ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif

# gcc builds land in build/<target>; another compiler's in build/<target>-<cc>,
# so switching compilers never leaves a stale image that looks up to date.
ifeq ($(notdir $(CC)),gcc)
BUILD := build/$(TARGET)
else
BUILD := build/$(TARGET)-$(notdir $(CC))
endif
OBJ := build/obj/$(TARGET)-$(notdir $(CC))

APPS := hello echo udpclient dns bulk tlsd tlsc web

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
        -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 $(WARN) $(CFLAGS) -fno-strict-aliasing -fno-common \
              -Iplatform -Ilib -MMD -MP
LDFLAGS ?=
# BearSSL (Debian libbearssl-dev): SHA-256 for TCP's RFC 6528 sequence numbers.
LDLIBS := -lbearssl

CORE_SRCS := $(wildcard lib/core/*.c lib/core/*.S)
NET_SRCS := $(wildcard lib/net/*.c)
DNS_SRCS := $(wildcard lib/dns/*.c)
TLS_SRCS := $(wildcard lib/tls/*.c)
HTTP_SRCS := $(wildcard lib/http/*.c)
ACME_SRCS := $(wildcard lib/acme/*.c)
LIB_SRCS := $(CORE_SRCS) $(NET_SRCS) $(DNS_SRCS) $(TLS_SRCS) $(HTTP_SRCS) $(ACME_SRCS)

ifeq ($(TARGET),hosted)
PLAT_SRCS := $(wildcard platform/hosted/*.c)
ALL_CFLAGS += -D_GNU_SOURCE
else ifneq ($(wildcard platform/$(TARGET)/$(TARGET).mk),)
# A target's own rules: it sets PLAT_SRCS, adjusts ALL_CFLAGS/LDFLAGS and
# defines how an app is linked (see the file).
include platform/$(TARGET)/$(TARGET).mk
else
$(error unknown TARGET=$(TARGET): one of hosted pvh sim)
endif

objs = $(patsubst %,$(OBJ)/%.o,$(basename $(1)))

LIB_OBJS := $(call objs,$(LIB_SRCS))
PLAT_OBJS := $(call objs,$(PLAT_SRCS))
# The libraries go into one archive, so an app (or unit test) links only
# the objects it calls into: the DNS server carries no TLS.
LIB_A := $(OBJ)/libatoll-$(TARGET).a

.SECONDARY:
.PHONY: all apps test unit unit-bins fuzz format format-check clean
all: apps
APP_OUTPUTS ?= $(foreach a,$(APPS),$(BUILD)/$(a))
apps: $(APP_OUTPUTS)

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OBJ)/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# Each app links with a one-line object naming its struct plat_app.
$(OBJ)/apps/%/linked.o: platform/app_linked.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DAPP_SYM=$*_app -c $< -o $@

ifndef TARGET_LINKS_APPS
define app_rule
$(BUILD)/$(1): $(call objs,$(wildcard apps/$(1)/*.c)) $(OBJ)/apps/$(1)/linked.o $(PLAT_OBJS) $(LIB_A)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIB_A) $$(LDLIBS)
endef
$(foreach a,$(APPS),$(eval $(call app_rule,$(a))))
endif

# ---- unit tests: tests/unit/test_<name>.c -> build/test/test_<name> ----
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
TEST_BIN := build/test/$(notdir $(CC))
UNIT_BINS := $(patsubst tests/unit/%.c,$(TEST_BIN)/%,$(UNIT_SRCS))
UNIT_LIB_OBJS := $(call objs,tests/unit/fakeplat.c)

$(TEST_BIN)/%: $(OBJ)/tests/unit/%.o $(UNIT_LIB_OBJS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_A) $(LDLIBS)

unit-bins: $(UNIT_BINS)
unit: $(UNIT_BINS)
	@tests/run --unit-only

test: apps $(UNIT_BINS)
	@tests/run

# ---- fuzz targets: tests/fuzz/fuzz_<name>.c -> build/fuzz/fuzz_<name> ----
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
FUZZ_CFLAGS := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               -Iplatform -Ilib -D_GNU_SOURCE -DATOLL_FUZZ
# lib/tls only where a target fuzzes it: every target compiles its
# sources with the sanitizers, and no other target calls it.
FUZZ_LIB_SRCS := $(filter-out $(TLS_SRCS) $(ACME_SRCS),$(LIB_SRCS)) tests/unit/fakeplat.c

build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS) $(wildcard lib/*/*.h platform/*.h tests/fuzz/*.h)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< $(filter %.c %.S,$(FUZZ_LIB_SRCS)) $(LDLIBS)

build/fuzz/fuzz_tls build/fuzz/fuzz_tls_cert: FUZZ_LIB_SRCS += $(TLS_SRCS)
build/fuzz/fuzz_tls build/fuzz/fuzz_tls_cert: $(TLS_SRCS)
build/fuzz/fuzz_acme: FUZZ_LIB_SRCS += $(ACME_SRCS)
build/fuzz/fuzz_acme: $(ACME_SRCS)
# fuzz_site includes the web unikernel's site index (apps/web/site.c).
build/fuzz/fuzz_site: apps/web/site.c apps/web/site.h

fuzz: $(FUZZ_BINS)

# ---- benchmark tools (Linux programs, not unikernels) ----
build/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<

# ---- test tools (Linux programs): the fault relay of tests/e2e/test_tcp_faults.sh ----
build/tools/relay: tools/relay/relay.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -Werror -Wshadow -Wvla -D_GNU_SOURCE -o $@ $<

FORMAT_FILES = $(shell git ls-files '*.c' '*.h')
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build

-include $(shell find build/obj -name '*.d' 2>/dev/null)
