/* asm.h — a tiny pickle assembler for tests: builds exact byte streams,
 * including hostile ones no writer would emit. */
#ifndef BRINE_TEST_ASM_H
#define BRINE_TEST_ASM_H

#include <stdint.h>
#include <string.h>

#include "io/buf.h"

static inline void a_op(bi_buf *b, uint8_t op) { bi_buf_byte(b, op); }
static inline void a_raw(bi_buf *b, const void *p, size_t n) { bi_buf_put(b, p, n); }

static inline void a_int(bi_buf *b, int64_t v) {
    if (v >= 0 && v < 256) {
        a_op(b, 'K');
        a_op(b, (uint8_t)v);
    } else {
        a_op(b, 'J');
        bi_buf_u32le(b, (uint32_t)(int32_t)v);
    }
}

static inline void a_str(bi_buf *b, const char *s) {
    a_op(b, 'X');
    bi_buf_u32le(b, (uint32_t)strlen(s));
    a_raw(b, s, strlen(s));
}

static inline void a_bytes(bi_buf *b, const void *p, size_t n) {
    a_op(b, 'B');
    bi_buf_u32le(b, (uint32_t)n);
    a_raw(b, p, n);
}

static inline void a_global(bi_buf *b, const char *module, const char *name) {
    a_op(b, 'c');
    a_raw(b, module, strlen(module));
    a_op(b, '\n');
    a_raw(b, name, strlen(name));
    a_op(b, '\n');
}

/* numpy.dtype(typestr, False, True) + BUILD of a plain dtype's state. */
static inline void a_dtype(bi_buf *b, const char *typestr, const char *order) {
    a_global(b, "numpy", "dtype");
    a_str(b, typestr);
    a_op(b, 0x89);
    a_op(b, 0x88);
    a_op(b, 0x87);
    a_op(b, 'R');
    a_op(b, '(');
    a_int(b, 3);
    a_str(b, order);
    a_op(b, 'N');
    a_op(b, 'N');
    a_op(b, 'N');
    a_int(b, -1);
    a_int(b, -1);
    a_int(b, 0);
    a_op(b, 't');
    a_op(b, 'b');
}

static inline void a_shape(bi_buf *b, const int64_t *shape, int ndim) {
    a_op(b, '(');
    for (int k = 0; k < ndim; k++) a_int(b, shape[k]);
    a_op(b, 't');
}

/* _reconstruct(ndarray, (0,), b'b') + BUILD((1, shape, dtype, fortran, data)). */
static inline void a_array(bi_buf *b, const int64_t *shape, int ndim, const char *typestr, const char *order,
                    const void *data, size_t n) {
    a_global(b, "numpy.core.multiarray", "_reconstruct");
    a_global(b, "numpy", "ndarray");
    int64_t zero = 0;
    a_shape(b, &zero, 1);
    a_bytes(b, "b", 1);
    a_op(b, 0x87);
    a_op(b, 'R');
    a_op(b, '(');
    a_int(b, 1);
    a_shape(b, shape, ndim);
    a_dtype(b, typestr, order);
    a_op(b, 0x89);
    a_bytes(b, data, n);
    a_op(b, 't');
    a_op(b, 'b');
}

#endif
