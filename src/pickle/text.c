#define _GNU_SOURCE
#include "pickle/text.h"

#include <ctype.h>
#include <errno.h>
#include <gmp.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bp_is_ascii(const uint8_t *p, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (p[k] & 0x80) return 0;
    return 1;
}

int bp_utf8_valid(const uint8_t *p, size_t n, int allow_surrogates) {
    size_t k = 0;
    while (k < n) {
        uint8_t c = p[k];
        if (c < 0x80) { k++; continue; }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; min = 0x80; }
        else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; min = 0x800; }
        else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; min = 0x10000; }
        else return 0;
        if (n - k < len) return 0;
        for (size_t j = 1; j < len; j++) {
            if ((p[k + j] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (p[k + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff) return 0;
        if (cp >= 0xd800 && cp <= 0xdfff && !allow_surrogates) return 0;
        k += len;
    }
    return 1;
}

size_t bp_utf8_put(uint8_t *out, uint32_t cp) {
    if (cp < 0x80) { out[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

size_t bp_utf8_get(const uint8_t *p, size_t n, uint32_t *cp) {
    uint8_t c = p[0];
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
    if (len > n) len = n;
    uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (size_t j = 1; j < len; j++) v = (v << 6) | (p[j] & 0x3f);
    *cp = v;
    return len;
}

static int hexval(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int bp_escape_decode(const uint8_t *p, size_t n, uint8_t *out, size_t *outn) {
    size_t o = 0;
    for (size_t k = 0; k < n; k++) {
        if (p[k] != '\\') { out[o++] = p[k]; continue; }
        if (++k == n) return 0; /* trailing \ in string */
        uint8_t c = p[k];
        switch (c) {
        case '\n': break;
        case '\\': case '\'': case '"': out[o++] = c; break;
        case 'a': out[o++] = 7; break;
        case 'b': out[o++] = 8; break;
        case 'f': out[o++] = 12; break;
        case 'n': out[o++] = 10; break;
        case 'r': out[o++] = 13; break;
        case 't': out[o++] = 9; break;
        case 'v': out[o++] = 11; break;
        case 'x': {
            if (n - k < 3) return 0;
            int hi = hexval(p[k + 1]), lo = hexval(p[k + 2]);
            if (hi < 0 || lo < 0) return 0;
            out[o++] = (uint8_t)(hi * 16 + lo);
            k += 2;
            break;
        }
        default:
            if (c >= '0' && c <= '7') {
                unsigned v = (unsigned)(c - '0');
                for (int j = 0; j < 2 && k + 1 < n && p[k + 1] >= '0' && p[k + 1] <= '7'; j++)
                    v = v * 8 + (unsigned)(p[++k] - '0');
                out[o++] = (uint8_t)v;
            } else { /* unknown escapes keep their backslash */
                out[o++] = '\\';
                out[o++] = c;
            }
        }
    }
    *outn = o;
    return 1;
}

int bp_raw_unicode_escape_decode(const uint8_t *p, size_t n, uint8_t *out, size_t *outn) {
    size_t o = 0, k = 0;
    while (k < n) {
        if (p[k] != '\\') { o += bp_utf8_put(out + o, p[k]); k++; continue; }
        /* A run of backslashes: only an odd-length run followed by u/U
         * starts an escape, and only its last backslash belongs to it. */
        size_t run = 0;
        while (k + run < n && p[k + run] == '\\') run++;
        int esc = (run & 1) && k + run < n && (p[k + run] == 'u' || p[k + run] == 'U');
        size_t literal = esc ? run - 1 : run;
        for (size_t j = 0; j < literal; j++) out[o++] = '\\';
        k += run;
        if (!esc) continue;
        size_t digits = p[k] == 'u' ? 4 : 8;
        k++;
        if (n - k < digits) return 0;
        uint32_t cp = 0;
        for (size_t j = 0; j < digits; j++) {
            int h = hexval(p[k + j]);
            if (h < 0) return 0;
            cp = cp * 16 + (uint32_t)h;
        }
        if (cp > 0x10ffff) return 0;
        o += bp_utf8_put(out + o, cp);
        k += digits;
    }
    *outn = o;
    return 1;
}

static locale_t c_locale(void) { return newlocale(LC_ALL_MASK, "C", (locale_t)0); }

int bp_parse_float_text(const uint8_t *p, size_t n, double *out) {
    char buf[400];
    if (n == 0 || n >= sizeof buf || memchr(p, 0, n)) return 0;
    memcpy(buf, p, n);
    buf[n] = '\0';
    /* Python's float() takes neither hex floats nor leading spaces here. */
    for (size_t k = 0; k < n; k++)
        if (buf[k] == 'x' || buf[k] == 'X' || isspace((unsigned char)buf[k])) return 0;
    locale_t loc = c_locale();
    if (!loc) return 0;
    char *end;
    errno = 0;
    double f = strtod_l(buf, &end, loc);
    int range = errno == ERANGE && fabs(f) >= 1.0; /* overflow, as OverflowError */
    freelocale(loc);
    if (end != buf + n || range) return 0;
    *out = f;
    return 1;
}

void bp_float_repr(double f, char *buf, size_t size) {
    if (isnan(f)) { snprintf(buf, size, "nan"); return; }
    if (isinf(f)) { snprintf(buf, size, f < 0 ? "-inf" : "inf"); return; }
    locale_t loc = c_locale();
    locale_t old = loc ? uselocale(loc) : (locale_t)0;
    char tmp[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
        if (strtod(tmp, NULL) == f) break;
    }
    /* tmp holds the shortest digits as d.ddde±XX; lay them out as repr does:
     * positional for exponents in [-4, 16), scientific otherwise. */
    char digits[24];
    size_t nd = 0;
    int neg = tmp[0] == '-';
    const char *q = tmp + neg;
    for (; *q && *q != 'e'; q++)
        if (*q != '.') digits[nd++] = *q;
    digits[nd] = '\0';
    int exp10 = atoi(q + 1);
    while (nd > 1 && digits[nd - 1] == '0') digits[--nd] = '\0';
    char out[64];
    size_t o = 0;
    if (neg) out[o++] = '-';
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 < 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int z = 0; z < -exp10 - 1; z++) out[o++] = '0';
            for (size_t k = 0; k < nd; k++) out[o++] = digits[k];
        } else {
            for (int k = 0; k <= exp10; k++) out[o++] = (size_t)k < nd ? digits[k] : '0';
            out[o++] = '.';
            if ((size_t)exp10 + 1 < nd)
                for (size_t k = (size_t)exp10 + 1; k < nd; k++) out[o++] = digits[k];
            else
                out[o++] = '0';
        }
        out[o] = '\0';
    } else {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (size_t k = 1; k < nd; k++) out[o++] = digits[k];
        }
        snprintf(out + o, sizeof out - o, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
    if (loc) {
        uselocale(old);
        freelocale(loc);
    }
    snprintf(buf, size, "%s", out);
}

/* mpz -> little-endian two's complement with at least one sign bit. */
static int mpz_to_le(const mpz_t z, uint8_t **le, size_t *len) {
    size_t bits = mpz_sizeinbase(z, 2);
    size_t n = bits / 8 + 1;
    uint8_t *buf = calloc(n, 1);
    if (!buf) return 0;
    mpz_t mag;
    mpz_init(mag);
    mpz_abs(mag, z);
    size_t count = 0;
    mpz_export(buf, &count, -1, 1, -1, 0, mag);
    mpz_clear(mag);
    if (mpz_sgn(z) < 0) { /* two's complement: invert and add one */
        int carry = 1;
        for (size_t k = 0; k < n; k++) {
            unsigned v = (uint8_t)~buf[k] + (unsigned)carry;
            buf[k] = (uint8_t)v;
            carry = v > 0xff;
        }
    }
    *le = buf;
    *len = n;
    return 1;
}

int bp_parse_int_text(const char *s, int base, uint8_t **le, size_t *len) {
    const char *p = s;
    int neg = 0;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (!*p) return 0;
    /* Base 0 follows strtol, as CPython's INT handler does: 0x.., 0.. octal. */
    int b = base;
    if (base == 0) {
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) { b = 16; p += 2; }
        else if (p[0] == '0' && p[1]) { b = 8; p++; }
        else b = 10;
        if (!*p) return 0;
    }
    for (const char *q = p; *q; q++) {
        int d = hexval((uint8_t)*q);
        if (d < 0 || d >= b) return 0;
    }
    mpz_t z;
    if (mpz_init_set_str(z, p, b) != 0) {
        mpz_clear(z);
        return 0;
    }
    if (neg) mpz_neg(z, z);
    int ok = mpz_to_le(z, le, len);
    mpz_clear(z);
    return ok;
}

char *bp_int_le_to_text(const uint8_t *le, size_t n) {
    mpz_t z;
    mpz_init(z);
    int neg = n && (le[n - 1] & 0x80);
    uint8_t *mag = malloc(n ? n : 1);
    if (!mag) { mpz_clear(z); return NULL; }
    memcpy(mag, le, n);
    if (neg) { /* magnitude of a negative two's complement value */
        int carry = 1;
        for (size_t k = 0; k < n; k++) {
            unsigned v = (uint8_t)~mag[k] + (unsigned)carry;
            mag[k] = (uint8_t)v;
            carry = v > 0xff;
        }
    }
    mpz_import(z, n, -1, 1, -1, 0, mag);
    free(mag);
    if (neg) mpz_neg(z, z);
    char *s = mpz_get_str(NULL, 10, z);
    mpz_clear(z);
    return s; /* allocated by GMP's default malloc */
}
