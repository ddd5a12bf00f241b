"""Helpers shared by the security tests (test_attacks.py, test_broken.py)."""


BOUND = 10.0            # seconds a bomb may take in a normal build
SANITIZER_FACTOR = 2.0  # ASan/UBSan builds run slower (SECURITY.md 5: bounds
                        # are "not applied under sanitizers"; we keep a wider one)
MEMORY_LIMIT = 1 << 30  # address space for brine on bombs, normal builds only


def is_sanitized(binary):
    """True for a binary built with ASan/UBSan: it references the runtime's
    entry points (__asan_init, __ubsan_handle_*), whether the runtime is
    linked statically or as libasan.so.  ASan reserves terabytes of shadow
    address space, so such a binary cannot run under RLIMIT_AS."""
    with open(binary, "rb") as f:
        data = f.read()
    return any(s in data for s in (b"__asan_init", b"__ubsan_handle_", b"__tsan_init", b"__msan_init"))


def bound(sanitized):
    return BOUND * (SANITIZER_FACTOR if sanitized else 1.0)


def limited(brine, sanitized):
    """argv prefix that runs brine under the memory limit (normal builds;
    prlimit execs brine, so the exit status is brine's own)."""
    if sanitized:
        return [brine]
    return ["prlimit", "--as=%d" % MEMORY_LIMIT, "--", brine]
