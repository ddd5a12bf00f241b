#!/usr/bin/python3
"""brine convert round trips, checked by Python.

For every object of cases.py x every SOURCE x every TARGET:
  SOURCE  pickle protocol 0..5 (pickle.dump) and joblib.dump with
          compress=0 and each of zlib, gzip, bz2, xz, lzma, lz4 (level 3);
  TARGET  --format pickle --protocol 2..5, --format joblib, and
          --compress zlib|gzip|bz2|xz|lzma|lz4;
run `brine convert SOURCE OUT ...`, load OUT in Python (pickle.load for
pickle targets, joblib.load for joblib targets) and deep-compare it with
what Python loads from SOURCE (common.deep_compare: types, bits, dtypes,
shapes, layout, shared references, recursion).  Also checked:
  * pickle targets start with PROTO N for the requested N;
  * joblib targets carry the requested compressor (joblib's own magic
    detection), and wrap arrays in joblib.numpy_pickle.NumpyArrayWrapper;
  * uncompressed joblib targets load with mmap_mode='r': every array of a
    non-object dtype comes back as a np.memmap, 16-byte aligned.
Plus a 200 000-deep nested list given as raw protocol-4 pickle bytes (and
those bytes zlib-compressed as joblib does), checked for depth after
conversion to every target.

Most objects travel in bundles (a list of up to 14, one brine run, each
element compared and counted on its own; see cases.bundles); a bundle that
fails is retried object by object.  --no-bundles runs every object alone.

Usage: /usr/bin/python3 tests/interop/test_convert.py --brine build/brine
Last lines: `convert: compared N of M (object, source, target) cases` and
`interop-convert: P passed, F failed`; exit status 1 unless F == 0 and N == M.
"""

import bz2
import gzip
import lzma
import os
import pickle
import resource
import shutil
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "interop-convert"
common.require_packages(PREFIX)

import joblib  # noqa: E402
import joblib.numpy_pickle_utils as jl_utils  # noqa: E402
import lz4.frame  # noqa: E402
import numpy as np  # noqa: E402

import cases as cases_mod  # noqa: E402

COMPRESSORS = ["zlib", "gzip", "bz2", "xz", "lzma", "lz4"]

# name -> ("pickle", protocol) | ("joblib", compress argument of joblib.dump)
SOURCES = [("p%d" % p, "pickle", p) for p in range(6)] + \
          [("jl-none", "joblib", 0)] + [("jl-" + c, "joblib", (c, 3)) for c in COMPRESSORS]

# name -> (kind, brine arguments, protocol or compressor)
TARGETS = [("p%d" % p, "pickle", ["--format", "pickle", "--protocol", str(p)], p) for p in (2, 3, 4, 5)] + \
          [("jl-none", "joblib", ["--format", "joblib"], "not-compressed")] + \
          [("jl-" + c, "joblib", ["--compress", c], c) for c in COMPRESSORS]

DEEP_NAME = "deep_list_200000"


def raw_compress(name, data):
    """Compress a pickle stream the way joblib's compressors do."""
    if name == "zlib":
        return zlib.compress(data, 3)
    if name == "gzip":
        return gzip.compress(data, 3)
    if name == "bz2":
        return bz2.compress(data, 3)
    if name == "xz":
        return lzma.compress(data, format=lzma.FORMAT_XZ, preset=3)
    if name == "lzma":
        return lzma.compress(data, format=lzma.FORMAT_ALONE, preset=3)
    if name == "lz4":
        return lz4.frame.compress(data, compression_level=3)
    raise ValueError(name)


def decompress_any(data):
    """The pickle stream inside a (possibly compressed) joblib file."""
    if data[:1] == b"\x78":
        return zlib.decompress(data)
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:3] == b"BZh":
        return bz2.decompress(data)
    if data[:6] == b"\xfd7zXZ\x00" or data[:3] == b"\x5d\x00\x00":
        return lzma.decompress(data)
    if data[:4] == b"\x04\x22\x4d\x18":
        return lz4.frame.decompress(data)
    return data


def walk(obj, into_object_arrays=False):
    """Every object reachable from obj through builtin containers (and,
    optionally, object arrays), each once; iterative."""
    seen = set()
    stack = [obj]
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        yield x
        t = type(x)
        if t in (list, tuple, set, frozenset):
            stack.extend(x)
        elif t is dict:
            stack.extend(x.keys())
            stack.extend(x.values())
        elif t is slice:
            stack.extend((x.start, x.stop, x.step))
        elif isinstance(x, np.ndarray) and x.dtype.hasobject and into_object_arrays:
            stack.extend(x.ravel(order="K").tolist())


def has_wrapped_array(obj):
    """True if joblib would write a NumpyArrayWrapper for some array in obj
    (arrays inside object arrays go through a nested plain pickle)."""
    return any(type(x) in (np.ndarray, np.matrix, np.memmap) for x in walk(obj))


def mmap_problems(loaded):
    """`loaded` is an uncompressed joblib file loaded with mmap_mode='r':
    every array of a non-object dtype must be a memmap, its data 16-byte
    aligned (joblib pads before the raw bytes)."""
    for x in walk(loaded):
        if isinstance(x, np.ndarray) and not x.dtype.hasobject:
            if not isinstance(x, np.memmap):
                return ("array %s %r loaded with mmap_mode='r' is not a memmap: not written "
                        "as joblib NumpyArrayWrapper + raw bytes" % (x.dtype, x.shape))
            if x.size and x.ctypes.data % 16:
                return "array %s %r: data not 16-byte aligned in the file (offset %% 16 = %d)" % (
                    x.dtype, x.shape, x.ctypes.data % 16)
    return None


def load_plain_via_joblib(path):
    """Decompress with joblib's own machinery, unpickle with the C
    unpickler (used for the deep list: joblib's pure-Python unpickler is
    slow on 400 000 opcodes, and there are no arrays to rebuild)."""
    with open(path, "rb") as f:
        with jl_utils._read_fileobject(f, path, None) as stream:
            return pickle.load(stream)


def write_source(path, obj, kind, arg):
    """Write obj as a SOURCE file; return what Python loads back from it."""
    if kind == "pickle":
        with open(path, "wb") as f:
            pickle.dump(obj, f, protocol=arg)
        with open(path, "rb") as f:
            return pickle.load(f)
    joblib.dump(obj, path, compress=arg)
    return joblib.load(path)


class UnitFailure(Exception):
    """brine (or its output container) failed for a whole unit."""


def main():
    def extra(p):
        p.add_argument("--only", default="", help="comma-separated substrings of object names to run")
        p.add_argument("--sources", default="", help="comma-separated source names (" +
                       ",".join(s[0] for s in SOURCES) + ")")
        p.add_argument("--targets", default="", help="comma-separated target names (" +
                       ",".join(t[0] for t in TARGETS) + ")")
        p.add_argument("--no-deep", action="store_true", help="leave out the 200 000-deep list")
        p.add_argument("--no-bundles", action="store_true",
                       help="convert every object on its own (about 3.5x more brine runs)")
        p.add_argument("--isolate-limit", type=int, default=300,
                       help="at most this many failed bundle conversions are retried object by object")
        p.add_argument("--list", action="store_true", help="list objects, units, sources and targets, then exit")
        p.add_argument("--globals", action="store_true",
                       help="print the globals each (object, source) file references, then exit")
    args = common.parse_args(__doc__.split("\n")[1], extra)

    objects = dict(cases_mod.cases())
    order = [n for n, _ in cases_mod.cases()]
    if args.only:
        subs = args.only.split(",")
        order = [n for n in order if any(x in n for x in subs)]
    selected = set(order)
    if args.no_bundles:
        units = [(n, [n]) for n in order]
    else:
        units = [(u, [n for n in names if n in selected]) for u, names in cases_mod.bundles()]
        units = [(u if len(names) > 1 or u in selected else names[0], names) for u, names in units if names]
    sources = [x for x in SOURCES if not args.sources or x[0] in args.sources.split(",")]
    targets = [t for t in TARGETS if not args.targets or t[0] in args.targets.split(",")]
    want_deep = not args.no_deep and (not args.only or any(x in DEEP_NAME for x in args.only.split(",")))
    # the deep list: raw protocol-4 bytes, and the same bytes zlib-compressed
    # as joblib would (a joblib file without arrays is a compressed pickle)
    deep_sources = [x for x in sources if x[0] in ("p4", "jl-zlib")]

    if args.list:
        for u, names in units:
            print("unit %-45s %s" % (u, " ".join(names)))
        print("sources:", " ".join(x[0] for x in sources))
        print("targets:", " ".join(t[0] for t in targets))
        return 0

    summary = common.Summary(PREFIX, args.max_failures_shown)
    problems = common.self_test()
    if problems:
        for p in problems:
            summary.fail("comparator-self-test", p)
    else:
        print("comparator self-test: ok")

    brine = None if args.globals else common.find_brine(args.brine, PREFIX)
    t_start = time.monotonic()
    with common.TempDir(args.keep) as tmp:
        srcdir = os.path.join(tmp, "src")
        outdir = os.path.join(tmp, "out")
        os.makedirs(srcdir)
        os.makedirs(outdir)

        # ---- write every unit's source files; Python's load is the reference
        src_path = {}     # (unit or object name, source) -> path
        expected = {}     # (unit or object name, source) -> list of loaded objects
        setup_failures = []

        def make_source(key, names, sname, kind, arg):
            """Source file for a unit (a bundle is a list of its objects)."""
            path = os.path.join(srcdir, "%s.%s.src" % (key, sname))
            obj = objects[names[0]] if len(names) == 1 else [objects[n] for n in names]
            got = write_source(path, obj, kind, arg)
            src_path[key, sname] = path
            expected[key, sname] = [got] if len(names) == 1 else got

        for u, names in units:
            for sname, kind, arg in sources:
                try:
                    make_source(u, names, sname, kind, arg)
                except Exception as e:
                    setup_failures.append((u, names, sname, "%s: %s" % (type(e).__name__, e)))
        if want_deep:
            raw = cases_mod.deep_list_pickle()
            for sname, kind, arg in deep_sources:
                path = os.path.join(srcdir, "%s.%s.src" % (DEEP_NAME, sname))
                data = raw if kind == "pickle" else raw_compress(arg[0], raw)
                with open(path, "wb") as f:
                    f.write(data)
                src_path[DEEP_NAME, sname] = path
                # the source itself must be readable by Python/joblib
                d = common.nested_list_depth(load_plain_via_joblib(path) if kind == "joblib"
                                             else pickle.loads(raw))
                if d != cases_mod.DEEP_DEPTH:
                    setup_failures.append((DEEP_NAME, [DEEP_NAME], sname, "Python reads depth %d" % d))
        print("convert: wrote %d source files (%d objects in %d units x %d sources%s) in %.1f s" % (
            len(src_path), len(order), len(units), len(sources),
            ", + deep list x %d" % len(deep_sources) if want_deep else "",
            time.monotonic() - t_start))

        if args.globals:
            for (name, sname), path in sorted(src_path.items()):
                with open(path, "rb") as f:
                    data = decompress_any(f.read())
                print("%-45s %-8s %s" % (name, sname, " ".join(common.pickle_globals(data))))
            return 0

        # ---- the work list: one brine run per (unit, source, target)
        work = []
        for u, names in units:
            for sname, _, _ in sources:
                for t in targets:
                    work.append((u, names, sname, t))
        if want_deep:
            for sname, _, _ in deep_sources:
                for t in targets:
                    work.append((DEEP_NAME, [DEEP_NAME], sname, t))
        total = sum(len(w[1]) for w in work)   # (object, source, target) cases
        bad_setup = set()
        for u, names, sname, why in setup_failures:
            bad_setup.add((u, sname))
            for n in names:
                for t in targets:
                    summary.fail("%s/%s->%s" % (n, sname, t[0]),
                                 "  Python could not produce or read the source: %s" % why)
        wrapped = {key: [has_wrapped_array(o) for o in objs] for key, objs in expected.items()}

        compared = [0]
        isolations = [0]
        timings = []
        single_src = {}   # worker-local cache: (object name, source) -> key of its single source

        # ---- runs in the forked workers ------------------------------------
        def convert_and_load(key, sname, target, timing):
            """Run brine on the unit's source; check the container; return
            (loaded output, mmap-loaded output or None, brine result).
            Raises UnitFailure(message) on any unit-level problem."""
            tname, tkind, targs, tparam = target
            inp = src_path[key, sname]
            out = os.path.join(outdir, "%s.%s.%s.out" % (key, sname, tname))
            res = common.run_brine(brine, ["convert", inp, out] + targs, timeout=args.timeout)
            timing.append((res.seconds, "%s/%s->%s" % (key, sname, tname)))
            try:
                crash = res.crash_reason()
                if crash or res.rc != 0:
                    raise UnitFailure("  brine %s\n%s" % (crash or "failed", res.describe()))
                if not os.path.isfile(out):
                    raise UnitFailure("  brine exited 0 but wrote no output file\n" + res.describe())
                with open(out, "rb") as f:
                    data = f.read()
                if tkind == "pickle":
                    if data[:2] != b"\x80" + bytes([tparam]):
                        raise UnitFailure("  output does not start with PROTO %d: %r\n%s" % (
                            tparam, data[:8], res.describe()))
                else:
                    with open(out, "rb") as f:
                        detected = jl_utils._detect_compressor(f)
                    if detected != tparam:
                        raise UnitFailure("  joblib detects compressor %r, wanted %r (first bytes %r)\n%s"
                                          % (detected, tparam, data[:8], res.describe()))
                    stream = decompress_any(data)
                    if stream[:1] != b"\x80":
                        raise UnitFailure("  decompressed joblib stream does not start with PROTO: %r\n%s"
                                          % (stream[:8], res.describe()))
                    if key != DEEP_NAME and any(wrapped[key, sname]) and b"NumpyArrayWrapper" not in stream:
                        raise UnitFailure("  joblib target without joblib.numpy_pickle.NumpyArrayWrapper "
                                          "(arrays must use joblib's layout)\n" + res.describe())
                try:
                    if key == DEEP_NAME:
                        got = load_plain_via_joblib(out) if tkind == "joblib" else pickle.loads(data)
                    elif tkind == "pickle":
                        got = pickle.loads(data)
                    else:
                        got = joblib.load(out)
                    mm = joblib.load(out, mmap_mode="r") \
                        if tparam == "not-compressed" and key != DEEP_NAME else None
                except Exception as e:
                    raise UnitFailure("  Python cannot load the output: %s: %s\n%s" % (
                        type(e).__name__, str(e)[:500], res.describe()))
                return got, mm, res
            finally:
                if not args.keep:
                    try:
                        os.unlink(out)
                    except OSError:
                        pass

        def compare_one(name, exp, got, mm, tkind, res):
            """None if object `name` converted correctly, else the message."""
            if name == DEEP_NAME:
                d = common.nested_list_depth(got)
                diff = None if d == cases_mod.DEEP_DEPTH else \
                    "nested list depth %d, expected %d" % (d, cases_mod.DEEP_DEPTH)
            else:
                diff = common.deep_compare(exp, got)
                if diff is None and mm is not None:
                    diff = mmap_problems(mm)
            if not diff:
                return None
            hint = ""
            if tkind == "joblib" and "identity" in diff and "ndarray" in diff:
                hint = ("  hint: joblib.load returns a fresh array per NumpyArrayWrapper; to keep a "
                        "shared array shared, write the wrapper once and MEMOIZE after its BUILD and "
                        "raw bytes (the memo then holds the array), then GET it for later references\n")
            return "  first difference: %s\n%s%s" % (diff, hint, res.describe())

        def do_unit(key, names, sname, target):
            """A worker task: one brine run for a unit.  Returns a dict with
            events [(label, None | failure text)], compared, timing, and
            unit_failed (text) when brine or the container failed."""
            timing = []
            r = {"events": [], "compared": 0, "timing": timing, "unit_failed": None}
            tname = target[0]
            try:
                got, mm, res = convert_and_load(key, sname, target, timing)
            except UnitFailure as e:
                r["unit_failed"] = str(e)
                return r
            exp = expected.get((key, sname), [None])
            if len(names) > 1:
                if type(got) is not list or len(got) != len(names):
                    r["unit_failed"] = "  bundle %s came back as %s, not a list of %d\n%s" % (
                        key, type(got).__name__, len(names), res.describe())
                    return r
                gots = got
                mms = mm if mm is not None else [None] * len(names)
            else:
                gots, mms = [got], [mm]
            r["compared"] = len(names)
            for i, n in enumerate(names):
                msg = compare_one(n, exp[i], gots[i], mms[i], target[1], res)
                if msg and len(names) > 1:
                    msg = "  (in %s)\n%s" % (key, msg)
                r["events"].append(("%s/%s->%s" % (n, sname, tname), msg))
            return r

        def do_single(name, sname, target):
            """A worker task: convert object `name` alone (isolation)."""
            timing = []
            r = {"msg": None, "compared": 0, "timing": timing}
            kind, arg = next((k, a) for s_, k, a in sources if s_ == sname)
            key = single_src.get((name, sname))
            if key is None:
                key = "single_%s_%d" % (name, os.getpid())
                make_source(key, [name], sname, kind, arg)
                wrapped[key, sname] = [has_wrapped_array(expected[key, sname][0])]
                single_src[name, sname] = key
            try:
                got, mm, res = convert_and_load(key, sname, target, timing)
            except UnitFailure as e:
                r["msg"] = str(e)
                return r
            r["compared"] = 1
            r["msg"] = compare_one(name, expected[key, sname][0], got, mm, target[1], res)
            return r

        def handler(task):
            if task[0] == "unit":
                _, key, names, sname, ti = task
                return do_unit(key, names, sname, targets[ti])
            _, name, sname, ti, _bundle, _why = task
            return do_single(name, sname, targets[ti])

        # ---- runs in the parent --------------------------------------------
        def command_of(key, sname, ti):
            t = targets[ti]
            out = os.path.join(outdir, "%s.%s.%s.out" % (key, sname, t[0]))
            return "  command: %s\n" % " ".join(
                [brine, "convert", src_path.get((key, sname), "?"), out] + t[2])

        def isolate(key, names, sname, ti, why):
            """Queue each object of a failed bundle alone, or fail them all."""
            if isolations[0] >= args.isolate_limit:
                isolations[0] += 1
                for n in names:
                    summary.fail("%s/%s->%s" % (n, sname, targets[ti][0]),
                                 "  (in %s; not retried alone: --isolate-limit reached)\n%s" % (key, why))
                return []
            isolations[0] += 1
            return [("single", n, sname, ti, key, why) for n in names]

        def on_result(task, r):
            timings.extend(r["timing"])
            compared[0] += r["compared"]
            if task[0] == "unit":
                _, key, names, sname, ti = task
                if r["unit_failed"] is not None:
                    if len(names) == 1:
                        summary.fail("%s/%s->%s" % (names[0], sname, targets[ti][0]), r["unit_failed"])
                        return []
                    return isolate(key, names, sname, ti, r["unit_failed"])
                for label, msg in r["events"]:
                    if msg:
                        summary.fail(label, msg)
                    else:
                        summary.ok()
                return []
            _, name, sname, ti, bundle, why = task
            label = "%s/%s->%s" % (name, sname, targets[ti][0])
            if r["msg"] is None:
                summary.fail(label, "  converts alone, but its bundle %s failed:\n%s" % (bundle, why))
            else:
                summary.fail(label, "  (converted alone after bundle %s failed)\n%s" % (bundle, r["msg"]))
            return []

        def on_crash(task, reason):
            if task[0] == "unit":
                _, key, names, sname, ti = task
                why = "  %s\n%s" % (reason, command_of(key, sname, ti))
                if len(names) == 1:
                    summary.fail("%s/%s->%s" % (names[0], sname, targets[ti][0]), why)
                    return []
                return isolate(key, names, sname, ti, why)
            _, name, sname, ti, bundle, _why = task
            summary.fail("%s/%s->%s" % (name, sname, targets[ti][0]),
                         "  (converted alone after bundle %s failed) %s\n"
                         "  (the object's single source is single_%s_<pid>.%s.src)\n" % (
                             bundle, reason, name, sname))
            return []

        tasks = [("unit", key, names, sname, targets.index(t)) for key, names, sname, t in work
                 if (key, sname) not in bad_setup]
        print("convert: %d (object, source, target) cases in %d brine runs on %d worker processes" % (
            total, len(work), args.jobs))
        common.run_forked(tasks, handler, args.jobs, on_result, on_crash,
                          common.progress_printer("convert", len(tasks)),
                          task_timeout=4 * args.timeout + 120)
        expected.clear()
        timings.sort(reverse=True)
        print("convert: brine ran %d times, %.1f s in all; slowest: %s" % (
            len(timings), sum(t for t, _ in timings),
            ", ".join("%s %.2f s" % (l, t) for t, l in timings[:4])))
        if isolations[0]:
            print("convert: %d failed bundle conversions (retried object by object: %d)" % (
                isolations[0], min(isolations[0], args.isolate_limit)))
        if not args.keep:
            shutil.rmtree(outdir, ignore_errors=True)

    ru = resource.getrusage(resource.RUSAGE_SELF)
    rc_ = resource.getrusage(resource.RUSAGE_CHILDREN)
    print("convert: %.1f s in all (CPU: %.1f s this process, %.1f s workers and brine)" % (
        time.monotonic() - t_start, ru.ru_utime + ru.ru_stime, rc_.ru_utime + rc_.ru_stime))
    print("convert: compared %d of %d (object, source, target) cases" % (compared[0], total))
    rc = summary.finish()
    return 1 if rc or compared[0] != total else 0


if __name__ == "__main__":
    sys.exit(main())
