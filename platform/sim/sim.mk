# platform/sim/sim.mk - the simulation target's rules, included by the
# top-level Makefile for `make TARGET=sim`.
#
# Each scenario tests/sim/<name>.c becomes a program build/sim/<name>.  A
# scenario links several apps, naming their `const struct plat_app
# <app>_app` objects itself, so platform/app_linked.c is not used.  Apps and
# libraries go in through archives: the linker takes only the apps a
# scenario names and what they need.

# The top-level Makefile defines `all` after including us: keep it first.
.DEFAULT_GOAL := all

PLAT_SRCS := $(wildcard platform/sim/*.c platform/sim/*.S)
ALL_CFLAGS += -D_GNU_SOURCE
TARGET_LINKS_APPS := 1

SIM_SCENARIOS := $(basename $(notdir $(wildcard tests/sim/*.c)))
APP_OUTPUTS := $(foreach s,$(SIM_SCENARIOS),$(BUILD)/$(s))

sim_objs = $(patsubst %,$(OBJ)/%.o,$(basename $(1)))
SIM_PLAT_OBJS := $(call sim_objs,$(PLAT_SRCS))
SIM_APPS_A := $(OBJ)/sim-apps.a
SIM_LIB_A := $(OBJ)/sim-lib.a

$(SIM_APPS_A): $(call sim_objs,$(wildcard apps/*/*.c))
	@rm -f $@
	$(AR) rcs $@ $^

$(SIM_LIB_A): $(call sim_objs,$(LIB_SRCS))
	@rm -f $@
	$(AR) rcs $@ $^

$(APP_OUTPUTS): $(BUILD)/%: $(OBJ)/tests/sim/%.o $(SIM_PLAT_OBJS) $(SIM_APPS_A) $(SIM_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(SIM_APPS_A) $(SIM_LIB_A) $(LDLIBS)
