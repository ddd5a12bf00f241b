/* numpy.h — NumPy objects inside pickles: dtypes (including structured
 * ones), ndarrays in the classic _reconstruct + BUILD form and the protocol-5
 * _frombuffer form, numpy scalars, RandomState and ufunc references, under
 * both numpy 1 (numpy.core) and numpy 2 (numpy._core) module names. */
#ifndef BRINE_NUMPY_NUMPY_H
#define BRINE_NUMPY_NUMPY_H

#include "pickle/globals.h"
#include "pickle/value.h"

extern const bp_global_table bn_numpy_table;

/* Parses a dtype string as .npy headers and array-interface use it
 * ("<f8", "|b1", "<U3", "|S5", "|O", "|V56"); NULL on failure. */
bv *bn_dtype_from_descr(bp_arena *a, const char *descr, size_t n);
/* A plain (unstructured) dtype of the given kind, itemsize and byte order,
 * with args and state as numpy pickles them. */
bv *bn_dtype_simple(bp_arena *a, char kind, size_t itemsize, char byteorder);
/* Completes a DTYPE node from its pickled state tuple (BUILD). */
brine_status bn_dtype_setstate(bp_arena *a, bv *dtype, bv *state, brine_error *err, int64_t offset);
/* A structured dtype from (name, dtype, offset) fields and an itemsize. */
bv *bn_dtype_struct(bp_arena *a, size_t nfields, const char *const *names, bv *const *dtypes,
                    const size_t *offsets, size_t itemsize);

/* A new NDARRAY node over data (not copied) of dtype and shape; count and
 * nbytes are checked (overflow, length).  objects: LIST for object dtypes. */
brine_status bn_array_new(bp_arena *a, bv **out, bv *dtype, int ndim, const int64_t *shape, int fortran,
                          const uint8_t *data, size_t nbytes, bv *objects, brine_error *err, int64_t offset);
/* 1 for the globals numpy pickles as an array's class: numpy.ndarray,
 * numpy.matrix (also numpy.matrixlib.defmatrix.matrix), numpy.memmap. */
int bn_is_array_class(const bv *g);
/* count = product of shape, with overflow and negative checks. */
int bn_shape_count(int ndim, const int64_t *shape, int64_t *count);

#endif

/* ------------------------------------------------------------------ .npy */

/* Runs one complete pickle stream found at data[pos..size) and returns its
 * object (how .npy files store object arrays); supplied by the loader. */
typedef brine_status (*bn_pickle_fn)(void *ctx, const uint8_t *data, size_t size, size_t pos, bv **out);

/* Parses a .npy file (format 1.0, 2.0, 3.0).  Array bytes are borrowed from
 * data.  The header is checked against the bytes present (F4). */
brine_status bn_npy_parse(bp_arena *a, const uint8_t *data, size_t size, bn_pickle_fn run_pickle, void *ctx,
                          bv **out, brine_error *err);
/* Writes arr (a non-object NDARRAY) as a .npy 1.0 file into out. */
struct bi_buf;
brine_status bn_npy_write(const bv *arr, struct bi_buf *out, brine_error *err);
