# libs.mk — the libraries libbrine links against, in one place: the top
# Makefile, fuzz/Makefile, bench/Makefile and brine.pc (Libs.private) all
# take them from here.  tools/deps.sh names the Debian packages behind them.
BRINE_LIBS := -lz -ldeflate -lbz2 -llzma -llz4 -lgmp -lsodium -ljansson -lpcre2-8 -ldl -lpthread -lm
