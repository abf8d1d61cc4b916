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
# user/ in layers, arrows pointing down: policy (the language, no libbpf),
# kernel (instances, the live gate, the apply transaction), ops (change
# control, shadow, run), cli (the command table). See user/README.md.
USER_DIRS := user/policy user/kernel user/ops user/cli
USER_HDRS := $(wildcard $(addsuffix /*.h,$(USER_DIRS)))
CPPFLAGS += -Imaps $(addprefix -I,$(USER_DIRS)) -I$(BUILD)
# Tests, benchmarks and fuzz targets also see tests/lib; the product never does.
TEST_CPPFLAGS = $(CPPFLAGS) -Itests/lib
LDLIBS += -lxdp -lbpf -lelf -lz -lyaml -lpcap -lcrypto -lmicrohttpd -lcap-ng -lm -pthread
# IPFIX export (connection records): libfixbuf, on glib.
FIXBUF_CFLAGS := $(shell pkg-config --cflags libfixbuf 2>/dev/null)
FIXBUF_LIBS := $(shell pkg-config --libs libfixbuf 2>/dev/null || echo -lfixbuf)
CPPFLAGS += $(FIXBUF_CFLAGS)
LDLIBS += $(FIXBUF_LIBS)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SUFFIXES:
.PHONY: all clean test demo bench lint install deps check-deps vmlinux man

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

# Everything in user/ but the command line goes into a library that the
# tests link too.
LIB_SRCS := $(filter-out user/cli/%,$(wildcard $(addsuffix /*.c,$(USER_DIRS))))
LIB_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(LIB_SRCS))
LIB := $(BUILD)/libcranegate.a

TEST_SRCS := $(wildcard tests/unit/*.c tests/bpf/*.c)
E2E_BPF_OBJS := $(patsubst tests/e2e/%.bpf.c,$(BUILD)/tests/e2e/%.bpf.o,$(wildcard tests/e2e/*.bpf.c))
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TEST_LIB_SRCS := $(filter-out tests/lib/harness.h,$(wildcard tests/lib/*.c))
TEST_LIB_OBJS := $(patsubst tests/lib/%.c,$(BUILD)/tests/lib/%.o,$(TEST_LIB_SRCS))

# Helper programs of the end-to-end tests, on Debian's libmodbus.
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(wildcard tests/tools/*.c))

all: $(BUILD)/cranegate $(BPF_OBJS) $(TEST_BINS) $(TOOL_BINS) $(E2E_BPF_OBJS)

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
$(BUILD)/user/%.o: user/%.c $(USER_HDRS) maps/cranegate.h $(SKELS)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/cranegate: $(BUILD)/user/cli/main.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/lib/%.o: tests/lib/%.c $(wildcard tests/lib/*.h) $(USER_HDRS) $(SKELS)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(TEST_CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/%: tests/%.c $(TEST_LIB_OBJS) $(LIB) $(wildcard tests/lib/*.h)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(TEST_CPPFLAGS) $(CFLAGS) $< $(TEST_LIB_OBJS) $(LIB) -o $@ $(LDLIBS)

# BPF programs the end-to-end tests load into their own namespaces.
$(BUILD)/tests/e2e/%.bpf.o: tests/e2e/%.bpf.c $(BUILD)/vmlinux.h
	$(Q)mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) \
		-I$(BUILD) -c $< -o $@

$(BUILD)/tests/tools/%: tests/tools/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ -lmodbus

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

# The benchmarks (tests/bench): cgbench and its BPF programs, then run.sh.
BENCH_SRCS := $(filter-out %.bpf.c,$(wildcard tests/bench/*.c))

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/bench/cgbench
	$(Q)tests/bench/run.sh

$(BUILD)/bench/%.bpf.o: tests/bench/%.bpf.c $(BUILD)/vmlinux.h
	$(Q)mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) \
		-I$(BUILD) -c $< -o $@

$(BUILD)/bench/%.skel.h: $(BUILD)/bench/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(BUILD)/bench/cgbench: $(BENCH_SRCS) tests/bench/bench.h \
		$(BUILD)/bench/bench.skel.h $(BUILD)/empty.skel.h \
		$(TEST_LIB_OBJS) $(LIB)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(TEST_CPPFLAGS) -I$(BUILD)/bench $(CFLAGS) $(BENCH_SRCS) \
		$(TEST_LIB_OBJS) $(LIB) -o $@ $(LDLIBS)

lint:
	$(Q)clang-format --dry-run --Werror bpf/*.c user/*/*.c user/*/*.h maps/*.h
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--suppress=missingIncludeSystem -Imaps $(addprefix -I,$(USER_DIRS)) \
		'-DLIBBPF_OPTS(TYPE,NAME,...)=struct TYPE NAME' user/

# The manual pages are written in Markdown (user/dist/*.md, readable in the
# repository) and rendered to roff by pandoc; both are committed, so that
# neither the build nor install needs pandoc. tests/docs/run.sh checks that
# they agree wherever pandoc is installed.
# The SYNOPSIS of cranegate(8) is made from the usage lines of --help.
MAN_PAGES := user/dist/cranegate.8 user/dist/cranegate-policy.5
man: $(BUILD)/cranegate
	$(Q)user/dist/synopsis.sh $(BUILD)/cranegate user/dist/cranegate.8.md
	$(Q)$(MAKE) --no-print-directory $(MAN_PAGES)

user/dist/%: user/dist/%.md
	$(call msg,MAN,$@)
	$(Q)pandoc -s -f markdown-smart -t man $< -o $@

# The BPF object is embedded in the binary (the libbpf skeleton), so the
# binary is all the gate needs. The policy under $(SYSCONFDIR)/cranegate is
# installed only where none exists: an operator's policy is never replaced.
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
install: $(BUILD)/cranegate
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/cranegate/policies \
		$(DESTDIR)$(UNITDIR)
	install -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/cranegate
	install -m 0755 $(BUILD)/cranegate $(DESTDIR)$(PREFIX)/sbin/cranegate
	install -m 0644 user/dist/cranegate.8 $(DESTDIR)$(PREFIX)/share/man/man8/cranegate.8
	install -m 0644 user/dist/cranegate-policy.5 \
		$(DESTDIR)$(PREFIX)/share/man/man5/cranegate-policy.5
	install -m 0644 user/dist/cranegate.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/cranegate
	sed -e 's|/usr/local/sbin/|$(PREFIX)/sbin/|g' \
		-e 's|/etc/cranegate/|$(SYSCONFDIR)/cranegate/|g' \
		user/dist/cranegate.service >$(DESTDIR)$(UNITDIR)/cranegate.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/cranegate.service
	install -D -m 0644 user/dist/cranegate.logrotate \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d/cranegate
	install -m 0644 policies/*.yaml $(DESTDIR)$(PREFIX)/share/cranegate/policies/
	[ -e $(DESTDIR)$(SYSCONFDIR)/cranegate/policy.yaml ] || \
		install -m 0640 policies/example.yaml $(DESTDIR)$(SYSCONFDIR)/cranegate/policy.yaml

clean:
	rm -rf $(BUILD)

# ---- Fuzzing (tests/fuzz) and the soak test.
# Each fuzz target (tests/fuzz/fuzz_T.c) is built twice: with libFuzzer
# (clang) into build/fuzz/fuzz_T for `make fuzz`, and with regress_main.c
# into build/tests/fuzz/regress_T, which `make test` runs over the committed
# corpus and every input that once failed (tests/fuzz/regress/T/). Both
# builds carry AddressSanitizer and UndefinedBehaviorSanitizer, with their
# own copies of the user objects the targets reach.
.PHONY: fuzz fuzz-bins soak
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_USER := policy/policy policy/policy_diag policy/policy_node \
	     policy/policy_names policy/policy_flows \
	     policy/policy_check policy/values policy/compile policy/reference \
	     policy/reference_ics policy/reference_stream \
	     policy/output policy/modbus_rules policy/enip kernel/replay \
	     kernel/gate kernel/sys \
	     kernel/self
# nonnull-attribute is recoverable so that tests/fuzz/ubsan.supp can hold a
# reported bug back; tests/fuzz/options.c makes every report stop the run.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fsanitize-recover=nonnull-attribute -fno-omit-frame-pointer
FUZZ_CFLAGS := -O1 -g -Wall -Wextra -Wno-unused-parameter \
	       -Wno-missing-field-initializers -std=gnu11 -D_GNU_SOURCE \
	       -DCG_FUZZ_SUPP='"$(CURDIR)/tests/fuzz/ubsan.supp"'
FUZZ_REGRESS_BINS := $(patsubst %,$(BUILD)/tests/fuzz/regress_%,$(FUZZ_TARGETS))
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))

all: $(FUZZ_REGRESS_BINS)
# Keep the sanitized objects: they are intermediates of the pattern rules.
.SECONDARY: $(patsubst %,$(BUILD)/tests/fuzz/obj/%.o,$(FUZZ_USER)) \
	    $(patsubst %,$(BUILD)/fuzz/obj/%.o,$(FUZZ_USER))

$(BUILD)/tests/fuzz/obj/%.o: user/%.c $(USER_HDRS) maps/cranegate.h $(SKELS)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(TEST_CPPFLAGS) $(FUZZ_CFLAGS) $(FUZZ_SAN) -c $< -o $@

$(BUILD)/tests/fuzz/regress_%: tests/fuzz/fuzz_%.c tests/fuzz/regress_main.c \
		tests/fuzz/options.c \
		$(patsubst %,$(BUILD)/tests/fuzz/obj/%.o,$(FUZZ_USER))
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(TEST_CPPFLAGS) $(FUZZ_CFLAGS) $(FUZZ_SAN) -DFUZZ_TARGET='"$*"' \
		$(filter %.c %.o,$^) -o $@ $(LDLIBS)

$(BUILD)/fuzz/obj/%.o: user/%.c $(USER_HDRS) maps/cranegate.h $(SKELS)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CLANG) $(TEST_CPPFLAGS) $(FUZZ_CFLAGS) $(FUZZ_SAN) \
		-fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/options.c \
		$(patsubst %,$(BUILD)/fuzz/obj/%.o,$(FUZZ_USER))
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CLANG) $(TEST_CPPFLAGS) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer \
		$(filter %.c %.o,$^) -o $@ $(LDLIBS)

fuzz-bins: $(FUZZ_BINS)

# FUZZ_SECONDS (default 60) per target; FUZZ_JOBS parallel runs of each.
fuzz: deps
	$(Q)tests/fuzz/deps.sh
	$(Q)$(MAKE) --no-print-directory all fuzz-bins
	$(Q)tests/fuzz/run.sh

# SOAK_SECONDS (default 180) of mixed traffic and a reload every second;
# then the flood test for FLOOD_SECONDS (default here 120).
soak: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)CG_TEST_TIMEOUT=$$(( $${SOAK_SECONDS:-180} + 600 )) tests/run.sh test_soak
	$(Q)FLOOD_SECONDS=$${FLOOD_SECONDS:-120} \
		CG_TEST_TIMEOUT=$$(( $${FLOOD_SECONDS:-120} + 600 )) tests/run.sh test_flood
