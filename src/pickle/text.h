/* text.h — the text codecs pickle uses (UTF-8 with surrogatepass, Python
 * 2 string escapes, raw-unicode-escape) and number <-> text conversions that
 * match Python's (float repr, arbitrary-precision integers). */
#ifndef BRINE_PICKLE_TEXT_H
#define BRINE_PICKLE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Strict UTF-8; with allow_surrogates, encoded U+D800..U+DFFF pass (as
 * Python's "surrogatepass"). */
int bp_utf8_valid(const uint8_t *p, size_t n, int allow_surrogates);
int bp_is_ascii(const uint8_t *p, size_t n);
/* Appends the UTF-8 (surrogatepass) encoding of cp to out; returns bytes. */
size_t bp_utf8_put(uint8_t *out, uint32_t cp);
/* Decodes one code point at p (valid input assumed); returns its length. */
size_t bp_utf8_get(const uint8_t *p, size_t n, uint32_t *cp);

/* Python 2 string-escape (codecs.escape_decode); out needs n bytes. */
int bp_escape_decode(const uint8_t *p, size_t n, uint8_t *out, size_t *outn);
/* raw-unicode-escape to UTF-8; out needs 2*n bytes. */
int bp_raw_unicode_escape_decode(const uint8_t *p, size_t n, uint8_t *out, size_t *outn);

/* A Python float literal (repr form, inf, nan) covering the whole text;
 * locale-independent.  0 when invalid or out of range. */
int bp_parse_float_text(const uint8_t *p, size_t n, double *out);
/* Python's repr of a double: the shortest text that reads back to it
 * ("1.5", "1e+300", "inf", "nan", "-0.0"); buf needs 32 bytes. */
void bp_float_repr(double f, char *buf, size_t size);

/* Integer text (base 0: Python-2 style prefixes as strtol; base 10) to a
 * malloc'd little-endian two's-complement buffer.  0 when invalid. */
int bp_parse_int_text(const char *s, int base, uint8_t **le, size_t *len);
/* Decimal text of a little-endian two's complement integer; malloc'd. */
char *bp_int_le_to_text(const uint8_t *le, size_t n);

#endif
