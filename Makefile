# SPDX-License-Identifier: GPL-2.0
# cranegate build. Every output goes under build/. `make V=1` shows commands.

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_ARCH := $(shell uname -m)
BUILD := build
PREFIX ?= /usr/local
DESTDIR ?=

CLANG ?= clang
CC ?= gcc
BPFTOOL ?= bpftool
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	  -std=gnu11 -D_GNU_SOURCE
CPPFLAGS += -Imaps -Iuser -I$(BUILD) -Itests/lib
LDLIBS += -lxdp -lbpf -lelf -lz -lyaml -lpcap -lcrypto -lm

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SUFFIXES:
.PHONY: all clean test demo bench lint install deps check-deps vmlinux

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

# Everything in user/ but main.c goes into a library that the tests link too.
LIB_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
LIB_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(LIB_SRCS))
LIB := $(BUILD)/libcranegate.a

TEST_SRCS := $(wildcard tests/unit/*.c tests/bpf/*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TEST_LIB_SRCS := $(filter-out tests/lib/harness.h,$(wildcard tests/lib/*.c))
TEST_LIB_OBJS := $(patsubst tests/lib/%.c,$(BUILD)/tests/lib/%.o,$(TEST_LIB_SRCS))

all: $(BUILD)/cranegate $(BPF_OBJS) $(TEST_BINS)

# vmlinux.h: from the running kernel's BTF when there is one, else the
# committed copy for this architecture.
$(BUILD)/vmlinux.h:
	$(Q)mkdir -p $(@D)
	$(call msg,GEN,$@)
	$(Q)if [ -r /sys/kernel/btf/vmlinux ] && command -v $(BPFTOOL) >/dev/null; then \
		$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@; \
	else \
		cp vmlinux/$(VMLINUX_ARCH)/vmlinux.h $@; \
	fi

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h maps/cranegate.h $(wildcard bpf/*.h)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) -D__bpf__ \
		-I$(BUILD) -Imaps -Ibpf -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# User objects depend on every skeleton (they are few and small).
$(BUILD)/user/%.o: user/%.c $(wildcard user/*.h) maps/cranegate.h $(SKELS)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/cranegate: $(BUILD)/user/main.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/lib/%.o: tests/lib/%.c $(wildcard tests/lib/*.h) $(wildcard user/*.h) $(SKELS)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/%: tests/%.c $(TEST_LIB_OBJS) $(LIB) $(wildcard tests/lib/*.h)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(TEST_LIB_OBJS) $(LIB) -o $@ $(LDLIBS)

# Debian packages the build, the tests and the demo need; installed when
# missing (a fresh Debian 12 machine, as root).
deps:
	$(Q)tests/lib/deps.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/e2e/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/bench/cgbench
	$(Q)tests/bench/run.sh

$(BUILD)/bench/cgbench: tests/bench/cgbench.c $(TEST_LIB_OBJS) $(LIB)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(TEST_LIB_OBJS) $(LIB) -o $@ $(LDLIBS)

lint:
	$(Q)clang-format --dry-run --Werror bpf/*.c user/*.c user/*.h maps/*.h
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--suppress=missingIncludeSystem -Imaps -Iuser user/

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/lib/cranegate \
		$(DESTDIR)$(PREFIX)/share/cranegate/policies
	install -m 0755 $(BUILD)/cranegate $(DESTDIR)$(PREFIX)/sbin/cranegate
	install -m 0644 $(BUILD)/gate.bpf.o $(DESTDIR)$(PREFIX)/lib/cranegate/
	install -m 0644 policies/*.yaml $(DESTDIR)$(PREFIX)/share/cranegate/policies/

clean:
	rm -rf $(BUILD)
