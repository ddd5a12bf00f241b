#!/usr/bin/python3
"""Broken and oversized input through `brine scan` (SECURITY.md section 5).

    /usr/bin/python3 tests/security/test_broken.py --brine build-asan/brine

Sources: six small real model files written by Debian's sklearn, joblib
and pickle (a DecisionTreeClassifier and a StandardScaler; pickle
protocols 2, 4, 5; joblib with zlib, gzip, lz4).  From each:
  * every prefix (lengths 0 .. size-1): truncated, so each must scan
    incomplete with a reason;
  * FLIPS single-bit flips of the file (seeded, so the same every run);
  * for the compressed ones, INNER_FLIPS flips of the decompressed stream,
    compressed again (the container is valid, the pickle is not);
  * the unmodified file, which must scan allowed and complete.
A flipped file counts as broken -- and must then scan incomplete with a
reason -- when Python's own decompressor rejects it, or, for plain pickles,
when pickletools.genops (which parses opcodes and never runs anything)
cannot read up to STOP.  Other flips may be anything brine likes, as long
as the JSON line is well-formed and consistent.

Those files are scanned in batches (`brine scan --json F1 ... Fn`, one
process for hundreds of files); a batch that crashes is split until the
crashing files are found.  The batch's exit status must agree with the JSON
lines (1 if any file is unknown or dangerous, else 2 if any is incomplete,
else 0).

Bombs, each scanned and inspected alone, must end within 10 s (20 s for
sanitizer builds) and, in normal builds, within 1 GiB of address space
(prlimit): a 1 GB zlib bomb, xz and lzma bombs (one with a lying size
field), 10^6 MARKs, LONG_BINPUT 0xFFFFFFFF, BINBYTES8 / BINUNICODE8 of
2^40, LONG4 of 2^31 - 1 and of a negative size, FRAME of 2^60,
NumpyArrayWrapper shapes that overflow or are negative, 200 000-deep
nesting, stack underflow and type confusion.

Always: no crash (signal, exit >= 128, sanitizer report), exit in {0, 1, 2}.
Last line: `interop-broken: P passed, F failed` (one count per file).
"""

import gzip
import io
import json
import lzma
import os
import pickle
import pickletools
import random
import struct
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "interop"))
import common  # noqa: E402
import seccommon  # noqa: E402
from pk import (EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, MARK, NEWOBJ, NONE, POP,  # noqa: E402
                BUILD, APPEND, SETITEM, pcall, pdict, pglobal, pint, proto, pstr, ptuple, wrap)

PREFIX = "interop-broken"
FLIPS = 300
INNER_FLIPS = 200
BATCH = 400
VERDICTS = ("allowed", "unknown", "dangerous")


# ---------------------------------------------------------------- sources

def sources(tmp):
    """(name, bytes, compressor or None) of the six real model files."""
    import joblib
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier
    X = [[0.0, 1.0], [1.0, 0.0], [2.0, 3.0], [3.0, 1.0], [4.0, 2.0]]
    y = [0, 1, 0, 1, 1]
    tree = DecisionTreeClassifier(random_state=0, max_depth=2).fit(X, y)
    scaler = StandardScaler().fit(X)

    def jl(obj, comp):
        path = os.path.join(tmp, "src.joblib")
        joblib.dump(obj, path, compress=(comp, 3))
        with open(path, "rb") as f:
            return f.read()
    return [("tree-p2", pickle.dumps(tree, 2), None), ("scaler-p4", pickle.dumps(scaler, 4), None),
            ("tree-p5", pickle.dumps(tree, 5), None), ("scaler-jl-zlib", jl(scaler, "zlib"), "zlib"),
            ("tree-jl-gzip", jl(tree, "gzip"), "gzip"), ("tree-jl-lz4", jl(tree, "lz4"), "lz4")]


def decompress(comp, data):
    if comp == "zlib":
        return zlib.decompress(data)
    if comp == "gzip":
        return gzip.decompress(data)
    import lz4.frame
    return lz4.frame.decompress(data)


def recompress(comp, data):
    if comp == "zlib":
        return zlib.compress(data, 3)
    if comp == "gzip":
        return gzip.compress(data, 3, mtime=0)
    import lz4.frame
    return lz4.frame.compress(data)


def genops_broken(data):
    """True when pickletools cannot parse opcodes up to a STOP (it reads
    arguments, decodes UTF-8 as CPython does, never calls anything)."""
    try:
        for op, _, _ in pickletools.genops(io.BytesIO(data)):
            if op.name == "STOP":
                return False
    except Exception:  # noqa: B902 - any parse failure means broken
        return True
    return True


def is_broken(comp, data):
    """Broken per Python's decompressor, or (plain pickles) per genops;
    None when there is no oracle (a joblib stream with array bytes)."""
    if comp is None:
        return genops_broken(data)
    try:
        decompress(comp, data)
    except Exception:  # noqa: B902 - zlib.error, EOFError, RuntimeError (lz4), ...
        return True
    return None


def flip(data, pos, bit):
    b = bytearray(data)
    b[pos] ^= 1 << bit
    return bytes(b)


def mutants(name, data, comp):
    """(label, bytes, expect) with expect 'broken', 'clean' or 'any'."""
    out = [("%s.orig" % name, data, "clean")]
    for n in range(len(data)):
        out.append(("%s.prefix%05d" % (name, n), data[:n], "broken"))
    rng = random.Random("flip:" + name)
    seen = set()
    while len(seen) < min(FLIPS, 8 * len(data)):
        seen.add((rng.randrange(len(data)), rng.randrange(8)))
    for pos, bit in sorted(seen):
        m = flip(data, pos, bit)
        out.append(("%s.flip%05d.%d" % (name, pos, bit), m, "broken" if is_broken(comp, m) else "any"))
    if comp:
        inner = decompress(comp, data)
        rng = random.Random("inner:" + name)
        for k in range(INNER_FLIPS):
            pos, bit = rng.randrange(len(inner)), rng.randrange(8)
            out.append(("%s.inner%05d.%d" % (name, pos, bit), recompress(comp, flip(inner, pos, bit)), "any"))
    return out


# ---------------------------------------------------------------- bombs

def zlib_bomb(total=1 << 30):
    """A zlib stream of `total` zero bytes in ~1 MB, built in a fraction of
    a second: after a full flush deflate restarts, so the compressed form
    of each 16 MiB zero chunk is the same bytes, repeated."""
    chunk = 1 << 24
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(chunk)) + c.flush(zlib.Z_FULL_FLUSH)
    adler = ((total % 65521) << 16) | 1       # adler32 of `total` zeros
    return b"\x78\xda" + block * (total // chunk) + c.flush(zlib.Z_FINISH) + struct.pack(">I", adler)


def zlib_binbytes_bomb():
    """The 1 GB zlib bomb, but its stream starts with PROTO 4 and a
    BINBYTES8 declaring all of it, so a reader must inflate it to judge it."""
    total = 1 << 30
    chunk = 1 << 24
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(proto(4) + b"\x8e" + struct.pack("<Q", total)) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(bytes(chunk)) + c.flush(zlib.Z_FULL_FLUSH)
    adler = zlib.adler32(proto(4) + b"\x8e" + struct.pack("<Q", total))
    # adler32 over the zeros that follow: a stays, b grows by a per byte
    a, b = adler & 0xFFFF, adler >> 16
    b = (b + a * total) % 65521
    # no STOP: truncated after the bytes, so it is broken either way
    return b"\x78\xda" + head + block * (total // chunk) + c.flush(zlib.Z_FINISH) + struct.pack(">I", (b << 16) | a)


def xz_bomb():
    """16 concatenated xz streams of 64 MiB of zeros (1 GiB): xz readers
    must go on after the first stream."""
    one = lzma.compress(bytes(1 << 26), lzma.FORMAT_XZ, preset=0)
    return one * 16


def lzma_bomb(size_field):
    """joblib's lzma (.lzma, FORMAT_ALONE) of 64 MiB of zeros; the header's
    uncompressed size is replaced by `size_field` (all FF: unknown)."""
    raw = lzma.compress(bytes(1 << 26), lzma.FORMAT_ALONE, preset=0)
    return raw[:5] + struct.pack("<Q", size_field) + raw[13:]


def wrapper(shape, data=b""):
    """A NumpyArrayWrapper (as joblib 1.2 writes it) for a uint8 array of
    `shape`, then its data bytes."""
    p = 4
    dt = pcall(pglobal("numpy", "dtype", p), [pstr("u1", p), b"\x89", b"\x88"], p) + MARK + pint(3, p) + \
        pstr("|", p) + NONE + NONE + NONE + pint(-1, p) + pint(-1, p) + pint(0, p) + b"t" + BUILD
    st = pdict([(pstr("subclass", p), pglobal("numpy", "ndarray", p)),
                (pstr("shape", p), ptuple([pint(n, p) for n in shape], p)), (pstr("order", p), pstr("C", p)),
                (pstr("dtype", p), dt), (pstr("allow_mmap", p), b"\x89"),
                (pstr("numpy_array_alignment_bytes", p), pint(16, p))], p)
    head = proto(p) + pglobal("joblib.numpy_pickle", "NumpyArrayWrapper", p) + EMPTY_TUPLE + NEWOBJ + st + BUILD
    pad = (-(len(head) + 1)) % 16
    return head + bytes([pad]) + b"\xff" * pad + data + b"."


def bombs():
    """(label, bytes, expect): expect 'broken' when the input cannot be
    complete, 'any' when it may be legitimate (brine may also hit a limit)."""
    q = lambda n: struct.pack("<Q", n)  # noqa: E731
    i = lambda n: struct.pack("<i", n)  # noqa: E731
    deep = 200_000
    return [
        ("zlib-1GB-zeros", zlib_bomb(), "broken"),
        ("zlib-1GB-binbytes8-no-stop", zlib_binbytes_bomb(), "broken"),
        ("xz-1GiB-16-streams", xz_bomb(), "broken"),
        ("lzma-64MiB-size-unknown", lzma_bomb(2 ** 64 - 1), "broken"),
        ("lzma-64MiB-size-2p62", lzma_bomb(2 ** 62), "broken"),
        ("lzma-64MiB-size-1", lzma_bomb(1), "broken"),
        ("marks-1e6", proto(4) + MARK * 1_000_000 + NONE + b".", "any"),
        ("memo-long-binput-ffffffff", wrap(NONE + b"r\xff\xff\xff\xff", 4), "any"),
        ("memo-get-missing", wrap(b"h\x07", 4), "broken"),
        ("binbytes8-2p40", proto(4) + b"\x8e" + q(2 ** 40) + b"abc.", "broken"),
        ("binunicode8-2p40", proto(4) + b"\x8d" + q(2 ** 40) + b"abc.", "broken"),
        ("bytearray8-2p63", proto(5) + b"\x96" + q(2 ** 63) + b"abc.", "broken"),
        ("binstring-negative", proto(2) + b"T" + i(-5) + b"abc.", "broken"),
        ("long4-2p31-1", proto(2) + b"\x8b" + i(2 ** 31 - 1) + b"\x01" * 64 + b".", "broken"),
        ("long4-negative", proto(2) + b"\x8b" + i(-2 ** 31) + b"\x01.", "broken"),
        ("long-text-1e6-digits", b"L" + b"7" * 1_000_000 + b"L\n.", "any"),
        # A FRAME longer than the file: the pure-Python unpickler (and so
        # joblib.load) still runs its content, so brine reads it too and
        # the scanner reports frame.inconsistent (SECURITY E4).
        ("frame-2p60", proto(4) + b"\x95" + q(2 ** 60) + b"N.", "any"),
        ("frame-2p64-1", proto(4) + b"\x95" + q(2 ** 64 - 1) + b"N.", "any"),
        ("shape-2p62", wrapper([2 ** 62], b"\x01\x02"), "broken"),
        ("shape-overflow-int64", wrapper([2 ** 32, 2 ** 32, 2 ** 32], b"\x01"), "broken"),
        ("shape-product-wraps-to-0", wrapper([2 ** 32, 2 ** 32], b""), "broken"),
        ("shape-negative", wrapper([-1], b"\x01"), "broken"),
        ("shape-2p63-1-times-2", wrapper([2 ** 63 - 1, 2], b""), "broken"),
        ("deep-list-200000", proto(4) + EMPTY_LIST * deep + APPEND * (deep - 1) + b".", "any"),
        ("deep-tuple1-1e6", proto(4) + EMPTY_TUPLE + b"\x85" * 1_000_000 + b".", "any"),
        ("deep-dict-200000", proto(4) + (EMPTY_DICT + pint(1, 4)) * deep + NONE + SETITEM * deep + b".", "any"),
        ("pop-empty-stack", proto(4) + POP + b".", "broken"),
        ("stop-empty-stack", proto(4) + b".", "broken"),
        ("tuple-without-mark", proto(4) + NONE + b"t.", "broken"),
        ("pop-mark-depth-0", proto(4) + b"1N.", "broken"),
        ("append-on-dict", proto(4) + EMPTY_DICT + NONE + APPEND + b".", "any"),
        ("setitem-on-list", proto(4) + EMPTY_LIST + pint(0, 4) + NONE + SETITEM + b".", "any"),
        ("build-on-int", proto(4) + pint(5, 4) + EMPTY_DICT + BUILD + b".", "any"),
        ("setitems-odd", proto(4) + EMPTY_DICT + MARK + NONE + b"u.", "broken"),
        ("list-in-itself", proto(4) + EMPTY_LIST + b"q\x00h\x00a.", "any"),
        ("empty-file", b"", "broken"),
        ("proto-6", b"\x80\x06N.", "broken"),
    ]


# ---------------------------------------------------------------- checking

def json_problems(doc, path):
    """None if one scan JSON object is well-formed and consistent."""
    want = {"file": str, "verdict": str, "complete": bool, "container": str, "compression": str,
            "streams": int, "globals": list, "findings": list}
    for k, t in want.items():
        if not isinstance(doc.get(k), t):
            return "key %r missing or not %s" % (k, t.__name__)
    if doc["file"] != path:
        return "file %r, expected %r" % (doc["file"], path)
    if doc["verdict"] not in VERDICTS:
        return "verdict %r" % doc["verdict"]
    reason, off = doc.get("reason", 0), doc.get("reason_offset", 0)
    if doc["complete"] and (reason is not None or off is not None):
        return "complete, yet reason %r at %r" % (reason, off)
    if not doc["complete"] and not (isinstance(reason, str) and reason.strip()):
        return "incomplete without a reason"
    if off is not None and not (isinstance(off, int) and off >= 0):
        return "reason_offset %r" % off
    for f in doc["findings"]:
        if not (isinstance(f, dict) and f.get("severity") in VERDICTS and isinstance(f.get("rule"), str)
                and isinstance(f.get("message"), str) and isinstance(f.get("stream"), int)):
            return "malformed finding %r" % (f,)
    worst = max([VERDICTS.index(f["severity"]) for f in doc["findings"]] + [0])
    if VERDICTS[worst] != doc["verdict"] and doc["verdict"] != "dangerous":
        return "verdict %s but worst finding %s" % (doc["verdict"], VERDICTS[worst])
    return None


def expect_problems(doc, expect):
    if expect == "broken" and doc["complete"]:
        return "broken input scanned complete (%s)" % doc["verdict"]
    if expect == "clean" and not (doc["complete"] and doc["verdict"] == "allowed"):
        return "the original file scanned %s, complete=%s: %s" % (doc["verdict"], doc["complete"], doc.get("reason"))
    return None


def batch_exit(docs):
    if any(d["verdict"] != "allowed" for d in docs):
        return 1
    return 2 if any(not d["complete"] for d in docs) else 0


def scan_batch(argv0, items, timeout):
    """Scan items [(label, path, expect)] in one process; returns
    {label: [problems]}.  A crash is bisected down to single files."""
    res = common.run_brine(argv0[0], argv0[1:] + ["scan", "--json"] + [p for _, p, _ in items], timeout=timeout)
    crash = res.crash_reason()
    if crash:
        if len(items) == 1:
            return {items[0][0]: ["brine scan crashed: %s\n%s" % (crash, res.describe())]}
        half = len(items) // 2
        out = scan_batch(argv0, items[:half], timeout)
        out.update(scan_batch(argv0, items[half:], timeout))
        return out
    lines = [l for l in res.stdout_text.split("\n") if l.strip()]
    out = {label: [] for label, _, _ in items}
    if len(lines) != len(items):
        for label, _, _ in items:
            out[label].append("batch printed %d JSON lines for %d files (exit %d)" % (len(lines), len(items), res.rc))
        return out
    docs = []
    for (label, path, expect), line in zip(items, lines):
        try:
            doc = json.loads(line)
        except ValueError as e:
            out[label].append("not JSON (%s): %r" % (e, line[:300]))
            continue
        p = json_problems(doc, path) or expect_problems(doc, expect)
        if p:
            out[label].append(p + "\n  json: " + line[:600])
        docs.append(doc)
    if res.rc not in (0, 1, 2):
        for label in out:
            out[label].append("batch exit %d" % res.rc)
    elif len(docs) == len(items) and res.rc != batch_exit(docs):
        for label in out:
            out[label].append("batch exit %d, but its JSON lines make it %d" % (res.rc, batch_exit(docs)))
    return out


BOMB_SECONDS = {}


def check_bomb(argv0, label, path, expect, limit):
    probs = []
    BOMB_SECONDS[label] = 0.0
    for what in ("scan", "inspect"):
        args = ["scan", "--json", path] if what == "scan" else ["inspect", path]
        res = common.run_brine(argv0[0], argv0[1:] + args, timeout=max(60, 3 * limit))
        crash = res.crash_reason()
        if crash:
            probs.append("%s crashed: %s\n%s" % (what, crash, res.describe()))
            continue
        BOMB_SECONDS[label] = max(BOMB_SECONDS[label], res.seconds)
        if res.seconds > limit:
            probs.append("%s took %.1f s (bound %.0f s)" % (what, res.seconds, limit))
        if res.rc not in (0, 1, 2):
            probs.append("%s exit %d" % (what, res.rc))
        if what == "inspect":
            if res.rc == 2 and common.one_line_error(res):
                probs.append("inspect: %s: %r" % (common.one_line_error(res), res.stderr_text[:300]))
            if expect == "broken" and res.rc == 0:
                probs.append("inspect of broken input exited 0")
            continue
        lines = [l for l in res.stdout_text.split("\n") if l.strip()]
        try:
            doc = json.loads(lines[0]) if len(lines) == 1 else None
        except ValueError:
            doc = None
        if doc is None:
            probs.append("scan printed no single JSON line: %r" % res.stdout_text[:300])
            continue
        p = json_problems(doc, path) or expect_problems(doc, expect)
        if p:
            probs.append(p + "\n  json: " + lines[0][:600])
        elif res.rc != batch_exit([doc]):
            probs.append("scan exit %d, but its JSON makes it %d" % (res.rc, batch_exit([doc])))
    return probs


def write_all(d, items):
    """Write [(label, bytes, expect)] as files; returns [(label, path, expect)]."""
    os.makedirs(d, exist_ok=True)
    out = []
    for label, data, expect in items:
        path = os.path.join(d, label)
        with open(path, "wb") as f:
            f.write(data)
        out.append((label, path, expect))
    return out


def main():
    args = common.parse_args(__doc__.split("\n")[1])
    common.require_packages(PREFIX)
    brine = common.find_brine(args.brine, PREFIX)
    sanitized = seccommon.is_sanitized(brine)
    limit = seccommon.bound(sanitized)
    summary = common.Summary(PREFIX, args.max_failures_shown)
    t0 = time.monotonic()
    with common.TempDir(args.keep, prefix="brine-broken-") as tmp:
        corpus = []
        for name, data, comp in sources(tmp):
            corpus += write_all(os.path.join(tmp, name), mutants(name, data, comp))
        kinds = {}
        for label, _, _ in corpus:
            k = label.split(".")[1].rstrip("0123456789")
            kinds[k] = kinds.get(k, 0) + 1
        bomb_files = write_all(os.path.join(tmp, "bombs"), bombs())
        print("%s: %d mutated files (%s), %d bombs (%.1f s)" % (
            PREFIX, len(corpus), ", ".join("%d %s" % (n, k) for k, n in sorted(kinds.items())),
            len(bomb_files), time.monotonic() - t0))
        sys.stdout.flush()

        results = {}
        batches = [corpus[k:k + BATCH] for k in range(0, len(corpus), BATCH)]
        common.run_parallel(lambda b: results.update(scan_batch([brine], b, 600)), batches, max(2, args.jobs - 1))
        t_batch = time.monotonic() - t0
        argv0 = seccommon.limited(brine, sanitized)
        common.run_parallel(lambda b: results.update({b[0]: check_bomb(argv0, b[0], b[1], b[2], limit)}),
                            bomb_files, 2)
        slow = sorted(BOMB_SECONDS.items(), key=lambda kv: -kv[1])[:6]
        print("%s: slowest bombs (scan or inspect): %s" % (PREFIX, ", ".join("%s %.1f s" % kv for kv in slow)))
        for label, path, _ in corpus + bomb_files:
            probs = results.get(label, ["no result"])
            if probs:
                summary.fail("%s (%s)" % (label, path), "".join("  - %s\n" % p.replace("\n", "\n    ") for p in probs))
            else:
                summary.ok()
        print("%s: %d files in %d batches (%.1f s), %d bombs, %.1f s in all%s" % (
            PREFIX, len(corpus), len(batches), t_batch, len(bomb_files), time.monotonic() - t0,
            " (sanitizer build: bound %.0f s, no memory limit)" % limit if sanitized
            else " (bound %.0f s, 1 GiB address space for bombs)" % limit))
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
