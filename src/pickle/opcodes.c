#include "pickle/opcodes.h"

#include <string.h>

#include "io/error.h"

static const bp_opinfo table[] = {
#define OP(byte, name, arg, proto, effect) {byte, #name, arg, proto, effect},
#include "pickle/opcodes.def"
#undef OP
};

enum { N_OPS = sizeof table / sizeof table[0] };

enum {
#define OP(b, name, arg, proto, effect) BP_IDX_##name,
#include "pickle/opcodes.def"
#undef OP
};

/* The compiler turns this switch, generated from the same table, into a
 * jump table: one lookup per opcode without a hand-kept second table. */
const bp_opinfo *bp_opinfo_of(uint8_t byte) {
    switch (byte) {
#define OP(b, name, arg, proto, effect) case b: return &table[BP_IDX_##name];
#include "pickle/opcodes.def"
#undef OP
    default: return NULL;
    }
}

size_t bp_opcode_count(void) { return N_OPS; }
const bp_opinfo *bp_opinfo_at(size_t i) { return i < N_OPS ? &table[i] : NULL; }

static uint64_t read_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int k = 0; k < n; k++) v |= (uint64_t)p[k] << (8 * k);
    return v;
}

static brine_status truncated(brine_error *err, const bp_opinfo *op, int64_t off) {
    return bi_fail(err, BRINE_E_FORMAT, off, "truncated input: the argument of %s runs past the end", op->name);
}

/* A fixed-width field of n bytes. */
static brine_status fixed(const bp_opinfo *op, size_t size, size_t pos, size_t n, int64_t off,
                          brine_error *err) {
    if (size - pos < n) return truncated(err, op, off);
    return BRINE_OK;
}

/* A length prefix of lw bytes followed by that many bytes. */
static brine_status counted(const bp_opinfo *op, const uint8_t *data, size_t size, size_t pos,
                            int lw, int is_signed, int64_t off, bp_arg *out, size_t *next,
                            brine_error *err) {
    if (size - pos < (size_t)lw) return truncated(err, op, off);
    uint64_t len = read_le(data + pos, lw);
    if (is_signed && lw == 4 && (len & 0x80000000u))
        return bi_fail(err, BRINE_E_FORMAT, off, "%s has a negative length", op->name);
    pos += (size_t)lw;
    if (len > size - pos)
        return bi_fail(err, BRINE_E_FORMAT, off,
                       "%s declares %llu bytes but only %zu remain", op->name,
                       (unsigned long long)len, size - pos);
    out->u = len;
    out->p = data + pos;
    out->n = (size_t)len;
    *next = pos + (size_t)len;
    return BRINE_OK;
}

/* A text line ending in '\n' (split only there, as CPython does). */
static brine_status line(const bp_opinfo *op, const uint8_t *data, size_t size, size_t pos,
                         int64_t off, const uint8_t **p, size_t *n, size_t *next, brine_error *err) {
    const uint8_t *nl = memchr(data + pos, '\n', size - pos);
    if (!nl)
        return bi_fail(err, BRINE_E_FORMAT, off, "truncated input: the text argument of %s has no newline", op->name);
    *p = data + pos;
    *n = (size_t)(nl - (data + pos));
    *next = pos + *n + 1;
    return BRINE_OK;
}

brine_status bp_decode_arg(const bp_opinfo *op, const uint8_t *data, size_t size, size_t pos,
                           int64_t off, bp_arg *out, size_t *next, brine_error *err) {
    memset(out, 0, sizeof *out);
    brine_status st = BRINE_OK;
    size_t w = 0;
    switch (op->arg) {
    case BP_ARG_NONE: *next = pos; return BRINE_OK;
    case BP_ARG_UINT1: w = 1; break;
    case BP_ARG_UINT2: w = 2; break;
    case BP_ARG_UINT4: case BP_ARG_INT4: w = 4; break;
    case BP_ARG_UINT8: case BP_ARG_FLOAT8: w = 8; break;
    case BP_ARG_LONG1: return counted(op, data, size, pos, 1, 0, off, out, next, err);
    case BP_ARG_LONG4: return counted(op, data, size, pos, 4, 1, off, out, next, err);
    case BP_ARG_BYTES1: case BP_ARG_STRING1: case BP_ARG_UNICODE1:
        return counted(op, data, size, pos, 1, 0, off, out, next, err);
    case BP_ARG_BYTES4: case BP_ARG_UNICODE4:
        return counted(op, data, size, pos, 4, 0, off, out, next, err);
    case BP_ARG_STRING4: return counted(op, data, size, pos, 4, 1, off, out, next, err);
    case BP_ARG_BYTES8: case BP_ARG_UNICODE8:
        return counted(op, data, size, pos, 8, 0, off, out, next, err);
    case BP_ARG_DECIMALNL_SHORT: case BP_ARG_DECIMALNL_LONG: case BP_ARG_FLOATNL:
    case BP_ARG_STRINGNL: case BP_ARG_STRINGNL_NOESCAPE: case BP_ARG_UNICODESTRINGNL:
        return line(op, data, size, pos, off, &out->p, &out->n, next, err);
    case BP_ARG_STRINGNL_PAIR:
        st = line(op, data, size, pos, off, &out->p, &out->n, next, err);
        if (st) return st;
        return line(op, data, size, *next, off, &out->p2, &out->n2, next, err);
    }
    st = fixed(op, size, pos, w, off, err);
    if (st) return st;
    out->u = read_le(data + pos, (int)w);
    if (op->arg == BP_ARG_INT4) out->i = (int32_t)(uint32_t)out->u;
    else out->i = (int64_t)out->u;
    if (op->arg == BP_ARG_FLOAT8) {
        /* BINFLOAT is the one big-endian argument. */
        uint64_t be = 0;
        for (int k = 0; k < 8; k++) be = (be << 8) | data[pos + k];
        memcpy(&out->f, &be, sizeof out->f);
    }
    *next = pos + w;
    return BRINE_OK;
}
