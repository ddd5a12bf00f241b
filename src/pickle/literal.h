/* literal.h — Python literal syntax to value nodes: None, True, False,
 * ints (any size), floats, str and bytes literals, tuples, lists, dicts and
 * sets.  Used for .npy headers and for estimator parameters given on the
 * command line.  Iterative: nesting depth is bounded by max_depth, not by
 * the C stack. */
#ifndef BRINE_PICKLE_LITERAL_H
#define BRINE_PICKLE_LITERAL_H

#include <stddef.h>

#include "pickle/value.h"

enum {
    BP_LIT_BARE_WORDS = 1 /* an unquoted identifier is a str ("sqrt") */
};

/* Parses the whole of text[0..n) as one literal (surrounding whitespace
 * allowed).  Errors: BRINE_E_FORMAT with the offset within text. */
brine_status bp_literal_parse(bp_arena *a, const char *text, size_t n, unsigned flags, size_t max_depth,
                              bv **out, brine_error *err);

#endif
