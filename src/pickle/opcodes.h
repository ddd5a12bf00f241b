/* opcodes.h — pickle opcode metadata and the one argument decoder shared by
 * the VM, the scanner and the disassembler. */
#ifndef BRINE_PICKLE_OPCODES_H
#define BRINE_PICKLE_OPCODES_H

#include <stddef.h>
#include <stdint.h>

#include "brine.h"

typedef enum bp_arg_kind {
    BP_ARG_NONE,
    BP_ARG_UINT1, BP_ARG_UINT2, BP_ARG_UINT4, BP_ARG_UINT8, BP_ARG_INT4,
    BP_ARG_FLOAT8,
    BP_ARG_LONG1, BP_ARG_LONG4,
    BP_ARG_BYTES1, BP_ARG_BYTES4, BP_ARG_BYTES8,
    BP_ARG_STRING1, BP_ARG_STRING4,
    BP_ARG_UNICODE1, BP_ARG_UNICODE4, BP_ARG_UNICODE8,
    BP_ARG_DECIMALNL_SHORT, BP_ARG_DECIMALNL_LONG, BP_ARG_FLOATNL,
    BP_ARG_STRINGNL, BP_ARG_STRINGNL_NOESCAPE, BP_ARG_STRINGNL_PAIR,
    BP_ARG_UNICODESTRINGNL
} bp_arg_kind;

enum {
#define OP(byte, name, arg, proto, effect) BP_OP_##name = byte,
#include "pickle/opcodes.def"
#undef OP
};

typedef struct bp_opinfo {
    uint8_t byte;
    const char *name;
    bp_arg_kind arg;
    int proto;
    const char *effect;
} bp_opinfo;

/* Metadata of an opcode byte, or NULL for bytes that are not opcodes. */
const bp_opinfo *bp_opinfo_of(uint8_t byte);
/* Number of opcodes in the table (68). */
size_t bp_opcode_count(void);
const bp_opinfo *bp_opinfo_at(size_t i);

/* A decoded argument.  Integers land in u/i, floats in f, byte ranges (the
 * payload of length-prefixed args, a text line without its newline, or the
 * module line of a pair) in p/n, the second line of a pair in p2/n2. */
typedef struct bp_arg {
    uint64_t u;
    int64_t i;
    double f;
    const uint8_t *p, *p2;
    size_t n, n2;
} bp_arg;

/* Decodes the argument of op at data[pos] (pos = just after the opcode
 * byte) without copying; *next is the position after it.  Lengths are
 * checked against the bytes remaining before anything else happens.
 * Errors (BRINE_E_FORMAT) name op_offset. */
brine_status bp_decode_arg(const bp_opinfo *op, const uint8_t *data, size_t size, size_t pos,
                           int64_t op_offset, bp_arg *out, size_t *next, brine_error *err);

#endif
