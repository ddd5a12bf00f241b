# libs.mk — the libraries libbrine links against, in one place: the top
# Makefile, fuzz/Makefile, bench/Makefile and brine.pc (Libs.private) all
# take them from here.  tools/deps.sh names the Debian packages behind them.
BRINE_LIBS := -lz -ldeflate -lbz2 -llzma -llz4 -lgmp -lsodium -ljansson -lpcre2-8 -ldl -lpthread -lm
# The brine command links the same libraries statically (Debian's -dev
# packages ship the archives), libc and the loader's own libraries aside:
# a process then maps 3 shared objects instead of 12, which was ~1.5 ms of
# every cold start (`brine --version` 4.7 -> 3.2 ms on a 2-core VM).
BRINE_CLI_LIBS := -Wl,-Bstatic -lz -ldeflate -lbz2 -llzma -llz4 -lgmp -lsodium -ljansson -lpcre2-8 -Wl,-Bdynamic \
                  -ldl -lpthread -lm
