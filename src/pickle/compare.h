/* compare.h — structural equality of two value graphs, shared references
 * and cycles included: the graphs must be isomorphic (a node shared in one
 * is shared in the other).  Iterative.  Used by round-trip tests and by the
 * parse -> write -> parse fuzz target. */
#ifndef BRINE_PICKLE_COMPARE_H
#define BRINE_PICKLE_COMPARE_H

#include "pickle/value.h"

/* 1 when equal; 0 otherwise, with a short description in why (may be NULL). */
int bp_graph_equal(const bv *a, const bv *b, char *why, size_t why_size);

#endif
