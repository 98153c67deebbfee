# strait - top-level entry points. meson + ninja do the building; this file
# only names the jobs. See README.md.
#
#   make demo    install what is missing, build, run the seeds' scenario
#   make check   install what is missing, build with ASan+UBSan, run every test
#   make bench   build optimised and run the benchmarks (bench/README.md)
#   make format  clang-format every C file in place

BUILD      ?= build
TESTBUILD  ?= build-test
FUZZBUILD  ?= build-fuzz
FUZZ_SECS  ?= 30

.PHONY: all deps build demo check crash test fuzz bench format format-check docs clean

all: build

deps:
	@scripts/deps.sh all

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized >/dev/null

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) >/dev/null

demo: build
	@scripts/demo.sh $(BUILD)

$(TESTBUILD)/build.ninja:
	meson setup $(TESTBUILD) --buildtype=debug -Db_sanitize=address,undefined \
		-Db_lundef=false >/dev/null

$(FUZZBUILD)/build.ninja:
	CC=clang meson setup $(FUZZBUILD) --buildtype=debug -Dfuzz=true -Dbench=false \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null

check: build $(TESTBUILD)/build.ninja $(FUZZBUILD)/build.ninja
	@ninja -C $(TESTBUILD) >/dev/null
	@ninja -C $(FUZZBUILD) >/dev/null
	@scripts/check.sh $(TESTBUILD) $(FUZZBUILD) $(FUZZ_SECS) $(BUILD)

fuzz: deps $(FUZZBUILD)/build.ninja
	@ninja -C $(FUZZBUILD) >/dev/null
	@scripts/fuzz.sh $(FUZZBUILD) 600 fuzz_load
	@scripts/fuzz.sh $(FUZZBUILD) 300 fuzz_nbd
	@scripts/fuzz.sh $(FUZZBUILD) 300 fuzz_xp
	@scripts/fuzz.sh $(FUZZBUILD) 300 fuzz_bgp_open
	@scripts/fuzz.sh $(FUZZBUILD) 300 fuzz_bgp_update

# The long crash run: 100 SIGKILL trials of replication (10 run in make check).
crash: build $(TESTBUILD)/build.ninja
	@ninja -C $(TESTBUILD) >/dev/null
	@STRAIT=$(abspath $(TESTBUILD))/strait STRAIT_CRASH_TRIALS=100 tests/scripts/replicate.py

bench: deps
	@[ -f build-bench/build.ninja ] || meson setup build-bench --buildtype=release >/dev/null
	@ninja -C build-bench >/dev/null
	@bench/run.sh build-bench

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

docs: build
	@scripts/gen-docs.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(TESTBUILD) $(FUZZBUILD) build-bench
