"""A tiny pickle assembler for the security corpora.

Hostile files need byte-exact control that Python's pickler never gives
(opcodes in odd protocols, lying lengths, memo tricks), so the attack and
broken-input generators write opcodes with these helpers instead.  Each
helper returns bytes; `p` is the protocol whose opcodes the caller wants
(0: text opcodes, 1-3: binary without STACK_GLOBAL, >= 4: STACK_GLOBAL and
SHORT_BINUNICODE).  Nothing here imports or runs what it names.
"""

import struct

STOP = b"."
MARK = b"("
POP = b"0"
POP_MARK = b"1"
DUP = b"2"
REDUCE = b"R"
BUILD = b"b"
NONE = b"N"
EMPTY_TUPLE = b")"
EMPTY_LIST = b"]"
EMPTY_DICT = b"}"
APPEND = b"a"
APPENDS = b"e"
SETITEM = b"s"
SETITEMS = b"u"
TUPLE = b"t"
TUPLE1 = b"\x85"
TUPLE2 = b"\x86"
TUPLE3 = b"\x87"
NEWOBJ = b"\x81"
NEWOBJ_EX = b"\x92"
STACK_GLOBAL = b"\x93"
MEMOIZE = b"\x94"
OBJ = b"o"
NEWTRUE = b"\x88"


def proto(n):
    return b"\x80" + bytes([n])


def header(p):
    """PROTO opcode for binary protocols; protocol 0/1 files have none."""
    return proto(p) if p >= 2 else b""


def wrap(body, p):
    """A whole pickle: PROTO (if p >= 2), body, STOP."""
    return header(p) + body + STOP


def frame(body):
    """One FRAME (protocol 4+) around `body`."""
    return b"\x95" + struct.pack("<Q", len(body)) + body


def pstr(s, p):
    """Push a str as protocol p's pickler would."""
    raw = s.encode("utf-8", "surrogatepass")
    if p == 0:
        # raw-unicode-escape keeps ASCII as is; our strings never hold a
        # newline or backslash, which this opcode would need escaped.
        assert "\n" not in s and "\\" not in s
        return b"V" + s.encode("raw_unicode_escape") + b"\n"
    if p >= 4 and len(raw) < 256:
        return b"\x8c" + bytes([len(raw)]) + raw
    return b"X" + struct.pack("<I", len(raw)) + raw


def pint(n, p):
    if p == 0:
        return b"I%d\n" % n
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if -2**31 <= n < 2**31:
        return b"J" + struct.pack("<i", n)
    raw = n.to_bytes(n.bit_length() // 8 + 1, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def pbytes(b, p):
    """Push bytes: SHORT_BINBYTES/BINBYTES from protocol 3 on, else the
    `_codecs.encode(latin-1 text, 'latin1')` call protocol 2 writes."""
    if p >= 3:
        if len(b) < 256:
            return b"C" + bytes([len(b)]) + b
        return b"B" + struct.pack("<I", len(b)) + b
    return pcall(pglobal("_codecs", "encode", p), [pstr(b.decode("latin1"), p), pstr("latin1", p)], p)


def pglobal(module, name, p):
    """GLOBAL (text operands) below protocol 4, STACK_GLOBAL from 4 on."""
    if p >= 4:
        return pstr(module, p) + pstr(name, p) + STACK_GLOBAL
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def ptuple(items, p):
    if p >= 2 and len(items) <= 3:
        return b"".join(items) + (EMPTY_TUPLE, TUPLE1, TUPLE2, TUPLE3)[len(items)]
    if p >= 1 and not items:
        return EMPTY_TUPLE
    return MARK + b"".join(items) + TUPLE


def plist(items, p):
    if p == 0:
        return MARK + b"l" + b"".join(it + APPEND for it in items)
    return EMPTY_LIST + (MARK + b"".join(items) + APPENDS if items else b"")


def pdict(pairs, p):
    """pairs: [(key bytes, value bytes)]"""
    kv = b"".join(k + v for k, v in pairs)
    if p == 0:
        return MARK + b"d" + b"".join(k + v + SETITEM for k, v in pairs)
    return EMPTY_DICT + (MARK + kv + SETITEMS if pairs else b"")


def pcall(fn, args, p):
    """fn(*args) by REDUCE; fn and args are already-assembled pushes."""
    return fn + ptuple(args, p) + REDUCE


def binput(i):
    return (b"q" + bytes([i])) if i < 256 else (b"r" + struct.pack("<I", i))


def binget(i):
    return (b"h" + bytes([i])) if i < 256 else (b"j" + struct.pack("<I", i))
