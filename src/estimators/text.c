/* text.c — sklearn.feature_extraction.text: CountVectorizer, TfidfVectorizer
 * (documents, one per row, to counts / tf-idf values) and TfidfTransformer
 * (counts to tf-idf), with their results as CSR rows (be_csr) that stay
 * sparse inside brine until the brine_prediction boundary.
 *
 * The analysis follows sklearn's _VectorizerMixin: str.lower (ICU's root
 * locale full case mapping, Final_Sigma included, as CPython's), then
 * strip_accents ('unicode': NFKD less combining marks, skipped for ASCII
 * text; 'ascii': NFKD less everything non-ASCII), then
 *  - word: the token pattern's findall (the default r"(?u)\b\w\w+\b" is
 *    maximal runs of at least two \w characters, \w being CPython's
 *    str.isalnum() or '_'; other patterns run in PCRE2 with UTF and UCP),
 *    stop words removed, word n-grams joined by one space;
 *  - char: runs of two or more whitespace characters (str.isspace) become
 *    one space, then every character n-gram;
 *  - char_wb: n-grams of each whitespace-separated word padded with one
 *    space on each side.
 * Features outside vocabulary_ are ignored; counts follow vocabulary_'s
 * indices and are cast to the vectorizer's dtype (integers wrap as numpy's
 * astype does).
 *
 * TF-IDF is TfidfTransformer.transform: sublinear_tf (log(x) + 1 on stored
 * values), then the idf: sklearn < 1.5 keeps it as `_idf_diag`, a CSR
 * matrix multiplied with scipy's csr_matmat (whose rows come out in the
 * reverse order of first touch: a diagonal reverses each row), later ones
 * as the array `idf_` multiplied into the stored values; then normalize
 * (sklearn's inplace_csr_row_normalize_l1/l2: a double sum over the stored
 * values in storage order, each value divided by it).  float32 vectorizers
 * compute in float32 where numpy and scipy do. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sodium.h>
#include <unicode/utf16.h>

#include "estimators/estimator.h"
#include "estimators/icu.h"
#include "io/error.h"
#include "pickle/text.h"

/* ICU, loaded by text_load before any text is read (icu.c). */
#define ICU be_icu_get(NULL)

enum { TX_COUNT = 1, TX_TFIDF_VEC = 2, TX_TFIDF = 3 };
enum { AN_WORD = 1, AN_CHAR = 2, AN_CHAR_WB = 3 };
enum { ACC_NONE = 0, ACC_ASCII = 1, ACC_UNICODE = 2 };
enum { NORM_NONE = 0, NORM_L1 = 1, NORM_L2 = 2 };
enum { IDF_NONE = 0, IDF_DIAG = 1, IDF_ARRAY = 2 };
enum { TX_MAX_NGRAM = 1000 };

/* The tf-idf step (a TfidfTransformer's state). */
typedef struct tx_tfidf {
    int norm;
    int sublinear;
    int idf;           /* IDF_* */
    size_t n;          /* features */
    /* IDF_DIAG: the CSR matrix _idf_diag (n x n) */
    size_t *d_indptr;
    uint32_t *d_indices;
    double *d_data;
    /* IDF_ARRAY: idf_ */
    double *idf_v;
    int idf_f32;       /* the idf values are float32 */
} tx_tfidf;

typedef struct tx_key {
    const char *s;
    size_t n;
    uint32_t index;
} tx_key;

typedef struct tx_model {
    int kind;
    /* vectorizers */
    int lowercase, accents, analyzer, binary;
    size_t min_n, max_n;
    int default_pattern;
    pcre2_code *re;      /* other token patterns (arena memory) */
    int re_group;        /* the pattern has one capturing group */
    tx_key *vocab;       /* open addressing, vcap slots (s NULL: empty) */
    size_t vcap;
    tx_key *stop;        /* stop words, same scheme */
    size_t scap;
    char dtype_kind;     /* of the counts: 'f', 'i', 'u', 'b' */
    size_t dtype_size;
    size_t n_features;
    int has_tfidf;
    tx_tfidf tf;
    unsigned char hkey[crypto_shorthash_KEYBYTES]; /* the tables' hash key */
} tx_model;

/* ------------------------------------------------------------ CSR */

void be_csr_free(be_csr *x) {
    if (!x) return;
    free(x->indptr);
    free(x->indices);
    free(x->data);
    memset(x, 0, sizeof *x);
}

void be_csr_dense(const be_csr *x, double *out) {
    memset(out, 0, x->rows * x->cols * sizeof *out);
    for (size_t r = 0; r < x->rows; r++)
        for (size_t j = x->indptr[r]; j < x->indptr[r + 1]; j++) out[r * x->cols + x->indices[j]] += x->data[j];
}

void be_csr_dot(const be_csr *x, const double *w, size_t k, double *out) {
    for (size_t r = 0; r < x->rows; r++) {
        double *o = out + r * k;
        for (size_t c = 0; c < k; c++) o[c] = 0.0;
        for (size_t j = x->indptr[r]; j < x->indptr[r + 1]; j++) {
            const double a = x->data[j];
            const double *wr = w + (size_t)x->indices[j] * k;
            for (size_t c = 0; c < k; c++) o[c] += a * wr[c];
        }
    }
}

/* ------------------------------------------------------- hashing */

/* SipHash-2-4 under the model's random key: a vocabulary crafted to
 * collide cannot make loading or lookups quadratic. */
static uint64_t hash_bytes(const unsigned char *key, const char *p, size_t n) {
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *)p, n, key);
    uint64_t h;
    memcpy(&h, out, sizeof h);
    return h;
}

static const tx_key *key_find(const unsigned char *key, const tx_key *t, size_t cap, const char *p, size_t n) {
    if (!cap) return NULL;
    size_t i = (size_t)hash_bytes(key, p, n) & (cap - 1);
    for (;;) {
        const tx_key *k = &t[i];
        if (!k->s) return NULL;
        if (k->n == n && !memcmp(k->s, p, n)) return k;
        i = (i + 1) & (cap - 1);
    }
}

/* Inserts; 0 when the key is already there. */
static int key_add(const unsigned char *key, tx_key *t, size_t cap, const char *p, size_t n, uint32_t index) {
    size_t i = (size_t)hash_bytes(key, p, n) & (cap - 1);
    for (;;) {
        tx_key *k = &t[i];
        if (!k->s) {
            k->s = p;
            k->n = n;
            k->index = index;
            return 1;
        }
        if (k->n == n && !memcmp(k->s, p, n)) return 0;
        i = (i + 1) & (cap - 1);
    }
}

static size_t table_cap(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n + 2) cap <<= 1;
    return cap;
}

/* ------------------------------------------------- Unicode rules */

/* CPython's Py_UNICODE_ISSPACE (str.isspace, \s of str patterns). */
static int py_isspace(uint32_t c) {
    if (c < 128) return (c >= 9 && c <= 13) || (c >= 28 && c <= 32);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* CPython's \w for str patterns: str.isalnum() (letters Lu Ll Lt Lm Lo, or
 * a numeric type) or '_'. */
static int py_assigned(uint32_t c);

static int py_isword(uint32_t c) {
    if (c < 128) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!py_assigned(c)) return 0;
    int8_t t = ICU->char_type((UChar32)c);
    if (t == U_UPPERCASE_LETTER || t == U_LOWERCASE_LETTER || t == U_TITLECASE_LETTER || t == U_MODIFIER_LETTER ||
        t == U_OTHER_LETTER)
        return 1;
    return ICU->int_property((UChar32)c, UCHAR_NUMERIC_TYPE) != U_NT_NONE;
}

/* ---------------------------------------------------- scratch text */

typedef struct tx_buf {
    char *p;
    size_t n, cap;
} tx_buf;

static int buf_reserve(tx_buf *b, size_t extra) {
    if (b->n + extra + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra + 1) {
        if (cap > SIZE_MAX / 2) return 0;
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) return 0;
    b->p = p;
    b->cap = cap;
    return 1;
}

static int buf_put(tx_buf *b, const char *p, size_t n) {
    if (!buf_reserve(b, n)) return 0;
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 1;
}

/* Per-call working memory. */
typedef struct tx_work {
    tx_buf doc;     /* the preprocessed document, UTF-8 */
    tx_buf gram;    /* one feature being built */
    UChar *u16a, *u16b;
    size_t u16cap;
    size_t *off;    /* code point offsets into doc (ncp + 1) */
    size_t offcap, ncp;
    size_t *tok;    /* word tokens: start, length pairs (bytes into doc) */
    size_t tokcap, ntok;
    uint32_t *count;  /* n_features */
    uint32_t *touched;
    size_t ntouched;
    pcre2_general_context *gctx;
    pcre2_match_data *md;
} tx_work;

static void work_free(tx_work *w) {
    free(w->doc.p);
    free(w->gram.p);
    free(w->u16a);
    free(w->u16b);
    free(w->off);
    free(w->tok);
    free(w->count);
    free(w->touched);
    if (w->md) pcre2_match_data_free(w->md);
    if (w->gctx) pcre2_general_context_free(w->gctx);
}

static int u16_reserve(tx_work *w, size_t n) {
    if (n <= w->u16cap) return 1;
    if (n > INT32_MAX / 2) return 0;
    UChar *a = realloc(w->u16a, n * sizeof *a);
    if (!a) return 0;
    w->u16a = a;
    UChar *b = realloc(w->u16b, n * sizeof *b);
    if (!b) return 0;
    w->u16b = b;
    w->u16cap = n;
    return 1;
}

/* Code points CPython 3.11 (Unicode 14.0, the Python of the tests) does
 * not know are unassigned to it: no letter, no case, no combining class,
 * no decomposition.  ICU 72 knows Unicode 15.0. */
enum { TX_UNICODE_MAJOR = 14 };

static int py_assigned(uint32_t c) {
    if (c < 0x0800) return 1;
    UVersionInfo v;
    ICU->char_age((UChar32)c, v);
    return v[0] <= TX_UNICODE_MAJOR;
}

static int py_cased(uint32_t c) { return ICU->binary_property((UChar32)c, UCHAR_CASED) && py_assigned(c); }
static int py_case_ignorable(uint32_t c) {
    return ICU->binary_property((UChar32)c, UCHAR_CASE_IGNORABLE) && py_assigned(c);
}

/* CPython's handle_capital_sigma: U+03A3 lowercases to final sigma after
 * a cased letter (case-ignorables skipped) not followed by one. */
static int final_sigma(const uint32_t *s, size_t n, size_t i) {
    size_t j = i;
    while (j > 0 && py_case_ignorable(s[j - 1])) j--;
    if (j == 0 || !py_cased(s[j - 1])) return 0;
    j = i + 1;
    while (j < n && py_case_ignorable(s[j])) j++;
    return j == n || !py_cased(s[j]);
}

typedef struct tx_cps {
    uint32_t *p;
    size_t n, cap;
} tx_cps;

static int cps_reserve(tx_cps *c, size_t n) {
    if (n <= c->cap) return 1;
    if (n > SIZE_MAX / 8) return 0;
    uint32_t *p = realloc(c->p, n * sizeof *p);
    if (!p) return 0;
    c->p = p;
    c->cap = n;
    return 1;
}

/* str.lower of a[0..n) appended to out: each code point's full lowercase
 * mapping (ICU, root locale: no language rules), final sigma as CPython. */
static int py_lower(const uint32_t *a, size_t n, tx_cps *out) {
    if (!cps_reserve(out, out->n + 3 * n + 1)) return 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = a[i];
        if (c < 128) {
            out->p[out->n++] = c >= 'A' && c <= 'Z' ? c + 32 : c;
        } else if (c == 0x3A3) {
            out->p[out->n++] = final_sigma(a, n, i) ? 0x3C2 : 0x3C3;
        } else if (!py_assigned(c)) {
            out->p[out->n++] = c;
        } else {
            UChar src[2], dst[8];
            int32_t sl = 0, k = 0;
            U16_APPEND_UNSAFE(src, sl, c);
            UErrorCode ec = U_ZERO_ERROR;
            int32_t dl = ICU->str_to_lower(dst, 8, src, sl, "", &ec);
            if (U_FAILURE(ec) || dl > 8) return 0;
            while (k < dl) {
                UChar32 d;
                U16_NEXT(dst, k, dl, d);
                out->p[out->n++] = (uint32_t)d;
            }
        }
    }
    return 1;
}

/* NFKD of a[0..n) (CPython's unicodedata.normalize), less combining marks
 * (ACC_UNICODE) or less everything non-ASCII (ACC_ASCII), into out.
 * Code points CPython does not know stay as they are (starters). */
static int strip_accents(tx_work *w, int mode, const uint32_t *a, size_t n, tx_cps *out) {
    UErrorCode ec = U_ZERO_ERROR;
    const UNormalizer2 *nfkd = ICU->nfkd_instance(&ec);
    if (U_FAILURE(ec)) return 0;
    out->n = 0;
    size_t i = 0;
    while (i < n) {
        if (!py_assigned(a[i])) {
            if (!cps_reserve(out, out->n + 1)) return 0;
            if (mode != ACC_ASCII) out->p[out->n++] = a[i];
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && py_assigned(a[j])) j++;
        /* a[i..j) through UTF-16 */
        if (!u16_reserve(w, 2 * (j - i) + 16)) return 0;
        int32_t ul = 0;
        for (size_t k = i; k < j; k++) U16_APPEND_UNSAFE(w->u16a, ul, a[k]);
        ec = U_ZERO_ERROR;
        int32_t need = ICU->normalize(nfkd, w->u16a, ul, w->u16b, (int32_t)w->u16cap, &ec);
        UChar *res = w->u16b, *big = NULL;
        if (ec == U_BUFFER_OVERFLOW_ERROR) {
            big = malloc(((size_t)need + 1) * sizeof *big);
            if (!big) return 0;
            ec = U_ZERO_ERROR;
            need = ICU->normalize(nfkd, w->u16a, ul, big, need + 1, &ec);
            res = big;
        }
        if (U_FAILURE(ec) || !cps_reserve(out, out->n + (size_t)need + 1)) {
            free(big);
            return 0;
        }
        for (int32_t k = 0; k < need;) {
            UChar32 c;
            U16_NEXT(res, k, need, c);
            int drop = mode == ACC_ASCII ? c >= 128 : ICU->combining_class(c) != 0;
            if (!drop) out->p[out->n++] = (uint32_t)c;
        }
        free(big);
        i = j;
    }
    return 1;
}

/* lowercase and strip_accents of one document (valid UTF-8) into w->doc. */
static brine_status preprocess(const tx_model *t, tx_work *w, const char *s, size_t n, size_t row, brine_error *err) {
    w->doc.n = 0;
    int ascii = bp_is_ascii((const uint8_t *)s, n);
    if (ascii || (!t->lowercase && t->accents == ACC_NONE)) {
        if (!buf_put(&w->doc, s, n)) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        if (t->lowercase && ascii)
            for (size_t i = 0; i < n; i++)
                if (w->doc.p[i] >= 'A' && w->doc.p[i] <= 'Z') w->doc.p[i] = (char)(w->doc.p[i] + 32);
        return BRINE_OK;
    }
    tx_cps a = {0}, b = {0};
    brine_status st = BRINE_OK;
    if (!cps_reserve(&a, n + 1)) goto nomem;
    for (size_t i = 0; i < n;) i += bp_utf8_get((const uint8_t *)s + i, n - i, &a.p[a.n++]);
    if (t->lowercase) {
        if (!py_lower(a.p, a.n, &b)) goto nomem;
        tx_cps tmp = a;
        a = b;
        b = tmp;
        b.n = 0;
    }
    if (t->accents != ACC_NONE) {
        int still_ascii = 1;
        for (size_t i = 0; i < a.n && still_ascii; i++) still_ascii = a.p[i] < 128;
        if (!(t->accents == ACC_UNICODE && still_ascii)) {
            if (!strip_accents(w, t->accents, a.p, a.n, &b)) goto nomem;
            tx_cps tmp = a;
            a = b;
            b = tmp;
        }
    }
    if (!buf_reserve(&w->doc, 4 * a.n + 4)) goto nomem;
    for (size_t i = 0; i < a.n; i++) w->doc.n += bp_utf8_put((uint8_t *)w->doc.p + w->doc.n, a.p[i]);
    w->doc.p[w->doc.n] = '\0';
    goto done;
nomem:
    st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for document %zu", row);
done:
    free(a.p);
    free(b.p);
    return st;
}

/* Code point offsets of w->doc into w->off. */
static int index_doc(tx_work *w) {
    if (w->doc.n + 1 > w->offcap) {
        size_t cap = w->doc.n + 1;
        size_t *o = realloc(w->off, cap * sizeof *o);
        if (!o) return 0;
        w->off = o;
        w->offcap = cap;
    }
    size_t k = 0;
    for (size_t i = 0; i < w->doc.n;) {
        uint32_t c;
        w->off[k++] = i;
        i += bp_utf8_get((const uint8_t *)w->doc.p + i, w->doc.n - i, &c);
    }
    w->off[k] = w->doc.n;
    w->ncp = k;
    return 1;
}

static uint32_t cp_at(const tx_work *w, size_t k) {
    uint32_t c;
    bp_utf8_get((const uint8_t *)w->doc.p + w->off[k], w->off[k + 1] - w->off[k], &c);
    return c;
}

/* One feature: counted when in the vocabulary. */
static int feature(const tx_model *t, tx_work *w, const char *p, size_t n) {
    const tx_key *k = key_find(t->hkey, t->vocab, t->vcap, p, n);
    if (!k) return 1;
    if (w->count[k->index]++ == 0) w->touched[w->ntouched++] = k->index;
    return 1;
}

static int tok_push(tx_work *w, size_t start, size_t len) {
    if (w->ntok + 1 > w->tokcap) {
        size_t cap = w->tokcap ? w->tokcap * 2 : 64;
        size_t *p = realloc(w->tok, cap * 2 * sizeof *p);
        if (!p) return 0;
        w->tok = p;
        w->tokcap = cap;
    }
    w->tok[2 * w->ntok] = start;
    w->tok[2 * w->ntok + 1] = len;
    w->ntok++;
    return 1;
}

/* Tokens of w->doc by the token pattern. */
static brine_status tokenize(const tx_model *t, tx_work *w, size_t row, brine_error *err) {
    w->ntok = 0;
    if (t->default_pattern) {
        if (!index_doc(w)) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        size_t k = 0;
        while (k < w->ncp) {
            if (!py_isword(cp_at(w, k))) {
                k++;
                continue;
            }
            size_t start = k;
            while (k < w->ncp && py_isword(cp_at(w, k))) k++;
            if (k - start >= 2 && !tok_push(w, w->off[start], w->off[k] - w->off[start]))
                return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        }
        return BRINE_OK;
    }
    /* findall: non-overlapping matches left to right; an empty match
     * retries at the same place with NOTEMPTY_ATSTART, then advances one
     * character (Python >= 3.7). */
    PCRE2_SIZE start = 0;
    uint32_t opts = 0;
    const PCRE2_SPTR subj = (PCRE2_SPTR)w->doc.p;
    for (;;) {
        if (start > w->doc.n) break;
        int rc = pcre2_match(t->re, subj, w->doc.n, start, opts, w->md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) {
            if (!opts) break;
            /* advance one character after a failed non-empty retry */
            if (start >= w->doc.n) break;
            uint32_t c;
            start += bp_utf8_get((const uint8_t *)w->doc.p + start, w->doc.n - start, &c);
            opts = 0;
            continue;
        }
        if (rc < 0) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(rc, msg, sizeof msg);
            return bi_fail(err, rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT
                                    ? BRINE_E_LIMIT
                                    : BRINE_E_ARGUMENT,
                           -1, "token_pattern on document %zu: %s", row, (const char *)msg);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(w->md);
        size_t s0 = ov[0], e0 = ov[1];
        size_t ts = s0, te = e0;
        if (t->re_group) {
            if (rc >= 2 && ov[2] != PCRE2_UNSET) {
                ts = ov[2];
                te = ov[3];
            } else {
                ts = te = 0; /* an unset group gives '' */
            }
        }
        if (!tok_push(w, ts, te - ts)) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        if (e0 == s0) {
            opts = PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED;
            start = e0;
        } else {
            opts = 0;
            start = e0;
        }
    }
    return BRINE_OK;
}

static int is_stop(const tx_model *t, const char *p, size_t n) {
    return t->stop && key_find(t->hkey, t->stop, t->scap, p, n) != NULL;
}

static brine_status analyze_word(const tx_model *t, tx_work *w, size_t row, brine_error *err) {
    brine_status st = tokenize(t, w, row, err);
    if (st) return st;
    if (t->stop) {
        size_t o = 0;
        for (size_t i = 0; i < w->ntok; i++) {
            if (is_stop(t, w->doc.p + w->tok[2 * i], w->tok[2 * i + 1])) continue;
            w->tok[2 * o] = w->tok[2 * i];
            w->tok[2 * o + 1] = w->tok[2 * i + 1];
            o++;
        }
        w->ntok = o;
    }
    for (size_t n = t->min_n; n <= t->max_n && n <= w->ntok; n++) {
        for (size_t i = 0; i + n <= w->ntok; i++) {
            if (n == 1) {
                feature(t, w, w->doc.p + w->tok[2 * i], w->tok[2 * i + 1]);
                continue;
            }
            w->gram.n = 0;
            for (size_t j = i; j < i + n; j++) {
                if ((j > i && !buf_put(&w->gram, " ", 1)) ||
                    !buf_put(&w->gram, w->doc.p + w->tok[2 * j], w->tok[2 * j + 1]))
                    return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
            }
            feature(t, w, w->gram.p, w->gram.n);
        }
    }
    return BRINE_OK;
}

/* \s\s+ -> " " in w->doc. */
static int collapse_spaces(tx_work *w) {
    if (!index_doc(w)) return 0;
    size_t o = 0;
    for (size_t k = 0; k < w->ncp;) {
        uint32_t c = cp_at(w, k);
        if (py_isspace(c) && k + 1 < w->ncp && py_isspace(cp_at(w, k + 1))) {
            while (k < w->ncp && py_isspace(cp_at(w, k))) k++;
            w->doc.p[o++] = ' ';
            continue;
        }
        size_t a = w->off[k], b = w->off[k + 1];
        memmove(w->doc.p + o, w->doc.p + a, b - a);
        o += b - a;
        k++;
    }
    w->doc.n = o;
    w->doc.p[o] = '\0';
    return index_doc(w);
}

static brine_status analyze_char(const tx_model *t, tx_work *w, brine_error *err) {
    if (!collapse_spaces(w)) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t n = t->min_n; n <= t->max_n && n <= w->ncp; n++)
        for (size_t i = 0; i + n <= w->ncp; i++) feature(t, w, w->doc.p + w->off[i], w->off[i + n] - w->off[i]);
    return BRINE_OK;
}

static brine_status analyze_char_wb(const tx_model *t, tx_work *w, brine_error *err) {
    if (!index_doc(w)) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    /* offsets of the padded word " " + word + " " in w->gram */
    size_t *poff = NULL, pcap = 0;
    brine_status st = BRINE_OK;
    for (size_t k = 0; k < w->ncp && !st;) {
        if (py_isspace(cp_at(w, k))) {
            k++;
            continue;
        }
        size_t start = k;
        while (k < w->ncp && !py_isspace(cp_at(w, k))) k++;
        size_t wl = k - start + 2; /* code points of the padded word */
        if (wl + 1 > pcap) {
            size_t *p = realloc(poff, (wl + 1) * sizeof *p);
            if (!p) {
                st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
                break;
            }
            poff = p;
            pcap = wl + 1;
        }
        w->gram.n = 0;
        if (!buf_put(&w->gram, " ", 1) || !buf_put(&w->gram, w->doc.p + w->off[start], w->off[k] - w->off[start]) ||
            !buf_put(&w->gram, " ", 1)) {
            st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
            break;
        }
        poff[0] = 0;
        for (size_t j = start; j < k; j++) poff[j - start + 1] = 1 + w->off[j] - w->off[start];
        poff[wl - 1] = w->gram.n - 1;
        poff[wl] = w->gram.n;
        for (size_t n = t->min_n; n <= t->max_n; n++) {
            size_t offset = 0;
            size_t e = n < wl ? n : wl;
            feature(t, w, w->gram.p, poff[e]);
            while (offset + n < wl) {
                offset++;
                feature(t, w, w->gram.p + poff[offset], poff[offset + n] - poff[offset]);
            }
            if (offset == 0) break;
        }
    }
    free(poff);
    return st;
}

/* --------------------------------------------------------- tf-idf */

/* x (float64 values; f32: float32 values widened) through the tf-idf step. */
static brine_status apply_tfidf(const tx_tfidf *tf, be_csr *x, brine_error *err) {
    int f32 = x->f32;
    if (tf->sublinear) {
        for (size_t j = 0; j < x->nnz; j++) {
            if (f32) {
                float v = (float)x->data[j];
                v = logf(v);
                v = v + 1.0f;
                x->data[j] = v;
            } else {
                x->data[j] = log(x->data[j]) + 1.0;
            }
        }
    }
    if (tf->idf == IDF_ARRAY) {
        for (size_t j = 0; j < x->nnz; j++) {
            double d = tf->idf_v[x->indices[j]];
            if (f32 && tf->idf_f32) x->data[j] = (float)x->data[j] * (float)d;
            else if (f32) x->data[j] = (float)(x->data[j] * d);
            else x->data[j] = x->data[j] * d;
        }
    } else if (tf->idf == IDF_DIAG) {
        /* scipy's csr_matmat: per row, sums over B's rows, columns kept in
         * a linked list of first touch, emitted head first; zeros dropped. */
        int t32 = f32 && tf->idf_f32;
        size_t n = tf->n;
        size_t cap = x->nnz + 1, nnz = 0;
        size_t *indptr = malloc((x->rows + 1) * sizeof *indptr);
        uint32_t *indices = malloc(cap * sizeof *indices);
        double *data = malloc(cap * sizeof *data);
        double *sums = calloc(n + 1, sizeof *sums);
        int64_t *next = malloc((n + 1) * sizeof *next);
        if (!indptr || !indices || !data || !sums || !next) {
            free(indptr);
            free(indices);
            free(data);
            free(sums);
            free(next);
            return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu rows", x->rows);
        }
        for (size_t k = 0; k < n; k++) next[k] = -1;
        indptr[0] = 0;
        brine_status st = BRINE_OK;
        for (size_t r = 0; r < x->rows && !st; r++) {
            int64_t head = -2;
            size_t length = 0;
            for (size_t jj = x->indptr[r]; jj < x->indptr[r + 1]; jj++) {
                uint32_t j = x->indices[jj];
                double v = x->data[jj];
                for (size_t kk = tf->d_indptr[j]; kk < tf->d_indptr[j + 1]; kk++) {
                    uint32_t k = tf->d_indices[kk];
                    if (t32) sums[k] = (float)((float)sums[k] + (float)v * (float)tf->d_data[kk]);
                    else sums[k] += v * tf->d_data[kk];
                    if (next[k] == -1) {
                        next[k] = head;
                        head = k;
                        length++;
                    }
                }
            }
            if (nnz + length > cap) {
                size_t ncap = (nnz + length) * 2;
                uint32_t *ni = realloc(indices, ncap * sizeof *ni);
                if (ni) indices = ni;
                double *nd = ni ? realloc(data, ncap * sizeof *nd) : NULL;
                if (nd) data = nd;
                if (!ni || !nd) {
                    st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu rows", x->rows);
                    break;
                }
                cap = ncap;
            }
            for (size_t q = 0; q < length; q++) {
                size_t k = (size_t)head;
                if (sums[k] != 0) {
                    indices[nnz] = (uint32_t)k;
                    data[nnz] = t32 ? (double)(float)sums[k] : sums[k];
                    nnz++;
                }
                head = next[k];
                next[k] = -1;
                sums[k] = 0;
            }
            indptr[r + 1] = nnz;
        }
        free(sums);
        free(next);
        if (st) {
            free(indptr);
            free(indices);
            free(data);
            return st;
        }
        free(x->indptr);
        free(x->indices);
        free(x->data);
        x->indptr = indptr;
        x->indices = indices;
        x->data = data;
        x->nnz = nnz;
        x->cols = n;
        x->f32 = t32;
    }
    if (tf->norm != NORM_NONE) {
        for (size_t r = 0; r < x->rows; r++) {
            double sum = 0.0;
            for (size_t j = x->indptr[r]; j < x->indptr[r + 1]; j++) {
                if (tf->norm == NORM_L1) sum += fabs(x->data[j]);
                else if (x->f32) sum += (float)x->data[j] * (float)x->data[j];
                else sum += x->data[j] * x->data[j];
            }
            if (sum == 0.0) continue;
            if (tf->norm == NORM_L2) sum = sqrt(sum);
            for (size_t j = x->indptr[r]; j < x->indptr[r + 1]; j++)
                x->data[j] = x->f32 ? (double)(float)(x->data[j] / sum) : x->data[j] / sum;
        }
    }
    return BRINE_OK;
}

/* ------------------------------------------------------ transform */

/* numpy's astype of an int count to the vectorizer's dtype, as a double. */
static double cast_count(const tx_model *t, uint32_t c) {
    if (t->binary) return 1.0;
    switch (t->dtype_kind) {
    case 'f':
        return t->dtype_size == 4 ? (double)(float)c : (double)c;
    case 'b':
        return c != 0;
    case 'i':
        if (t->dtype_size == 1) return (int8_t)(uint8_t)c;
        if (t->dtype_size == 2) return (int16_t)(uint16_t)c;
        return t->dtype_size == 4 ? (double)(int32_t)c : (double)c;
    default:
        if (t->dtype_size == 1) return (uint8_t)c;
        if (t->dtype_size == 2) return (uint16_t)c;
        return (double)c;
    }
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* CountVectorizer part: documents to sorted CSR counts. */
static brine_status vectorize(const brine_model *m, const tx_model *t, const be_input *in, be_csr *x,
                              brine_error *err) {
    if (!in->text) return be_fail_status(err, BRINE_E_ARGUMENT, m, "needs text documents, not numbers");
    if (in->n_cols != 1)
        return be_fail_status(err, BRINE_E_ARGUMENT, m, "takes one document per row, not %zu columns", in->n_cols);
    tx_work w;
    memset(&w, 0, sizeof w);
    brine_status st = BRINE_OK;
    size_t cap = 64;
    x->rows = in->n_rows;
    x->cols = t->n_features;
    x->nnz = 0;
    x->f32 = t->dtype_kind == 'f' && t->dtype_size == 4;
    x->indptr = malloc((in->n_rows + 1) * sizeof *x->indptr);
    x->indices = malloc(cap * sizeof *x->indices);
    x->data = malloc(cap * sizeof *x->data);
    w.count = calloc(t->n_features + 1, sizeof *w.count);
    w.touched = malloc((t->n_features + 1) * sizeof *w.touched);
    if (!x->indptr || !x->indices || !x->data || !w.count || !w.touched) {
        st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu documents", in->n_rows);
        goto done;
    }
    if (t->re) {
        w.gctx = pcre2_general_context_create(NULL, NULL, NULL);
        w.md = w.gctx ? pcre2_match_data_create_from_pattern(t->re, w.gctx) : NULL;
        if (!w.md) {
            st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
            goto done;
        }
    }
    x->indptr[0] = 0;
    for (size_t r = 0; r < in->n_rows; r++) {
        const char *doc = in->text[r];
        if (!doc) {
            st = be_fail_status(err, BRINE_E_ARGUMENT, m,
                                "document %zu is missing (sklearn refuses np.nan as a document)", r);
            goto done;
        }
        size_t len = strlen(doc);
        if (!bp_utf8_valid((const uint8_t *)doc, len, 0)) {
            st = be_fail_status(err, BRINE_E_ARGUMENT, m, "document %zu is not valid UTF-8", r);
            goto done;
        }
        if ((st = preprocess(t, &w, doc, len, r, err))) goto done;
        w.ntouched = 0;
        if (t->analyzer == AN_WORD) st = analyze_word(t, &w, r, err);
        else if (t->analyzer == AN_CHAR) st = analyze_char(t, &w, err);
        else st = analyze_char_wb(t, &w, err);
        if (st) goto done;
        qsort(w.touched, w.ntouched, sizeof *w.touched, cmp_u32);
        if (x->nnz + w.ntouched > cap) {
            while (cap < x->nnz + w.ntouched) cap *= 2;
            uint32_t *ni = realloc(x->indices, cap * sizeof *ni);
            if (ni) x->indices = ni;
            double *nd = ni ? realloc(x->data, cap * sizeof *nd) : NULL;
            if (nd) x->data = nd;
            if (!ni || !nd) {
                st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu documents", in->n_rows);
                goto done;
            }
        }
        for (size_t q = 0; q < w.ntouched; q++) {
            uint32_t idx = w.touched[q];
            x->indices[x->nnz] = idx;
            x->data[x->nnz] = cast_count(t, w.count[idx]);
            x->nnz++;
            w.count[idx] = 0;
        }
        x->indptr[r + 1] = x->nnz;
    }
done:
    work_free(&w);
    if (st) be_csr_free(x);
    return st;
}

/* Dense numbers (a standalone TfidfTransformer) to CSR: nonzeros only,
 * as scipy's csr_matrix(X) keeps them. */
static brine_status dense_to_csr(const brine_model *m, const be_input *in, be_csr *x, brine_error *err) {
    brine_status st = be_check_rows(m, in->xd, in->n_rows * in->n_cols, in->n_cols, 0, err);
    if (st) return st;
    size_t nnz = 0;
    for (size_t i = 0; i < in->n_rows * in->n_cols; i++) nnz += in->xd[i] != 0.0;
    x->rows = in->n_rows;
    x->cols = in->n_cols;
    x->nnz = nnz;
    x->f32 = 0;
    x->indptr = malloc((in->n_rows + 1) * sizeof *x->indptr);
    x->indices = malloc((nnz + 1) * sizeof *x->indices);
    x->data = malloc((nnz + 1) * sizeof *x->data);
    if (!x->indptr || !x->indices || !x->data) {
        be_csr_free(x);
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu rows", in->n_rows);
    }
    size_t k = 0;
    x->indptr[0] = 0;
    for (size_t r = 0; r < in->n_rows; r++) {
        for (size_t c = 0; c < in->n_cols; c++) {
            double v = in->xd[r * in->n_cols + c];
            if (v == 0.0) continue;
            x->indices[k] = (uint32_t)c;
            x->data[k++] = v;
        }
        x->indptr[r + 1] = k;
    }
    return BRINE_OK;
}

int be_gives_csr(const brine_model *m) { return m && (m->cls->family == &be_text_family || be_encoder_gives_csr(m)); }

brine_status be_transform_csr(const brine_model *m, const be_input *in, be_csr *out, brine_error *err) {
    memset(out, 0, sizeof *out);
    if (m->cls->family != &be_text_family) return be_encoder_csr(m, in, out, err);
    const tx_model *t = m->impl;
    brine_status st;
    if (t->kind == TX_TFIDF) {
        if (in->n_cols != t->n_features)
            return be_fail_status(err, BRINE_E_ARGUMENT, m, "X has %zu features, but the model expects %zu",
                                  in->n_cols, t->n_features);
        st = dense_to_csr(m, in, out, err);
    } else {
        st = vectorize(m, t, in, out, err);
    }
    if (!st && t->has_tfidf) {
        /* TfidfTransformer's check_array: integer counts become float64 */
        if (t->kind != TX_TFIDF && t->dtype_kind != 'f') out->f32 = 0;
        st = apply_tfidf(&t->tf, out, err);
        if (st) be_csr_free(out);
    }
    return st;
}

int be_takes_csr(const brine_model *m) {
    return m && m->cls->family == &be_text_family && ((const tx_model *)m->impl)->kind == TX_TFIDF;
}

brine_status be_csr_transform(const brine_model *m, be_csr *x, brine_error *err) {
    const tx_model *t = m->cls->family == &be_text_family ? m->impl : NULL;
    if (!t || t->kind != TX_TFIDF)
        return be_fail_status(err, BRINE_E_ARGUMENT, m, "takes documents, not the numbers of the step before");
    if (x->cols != t->n_features)
        return be_fail_status(err, BRINE_E_ARGUMENT, m, "X has %zu features, but the model expects %zu", x->cols,
                              t->n_features);
    return apply_tfidf(&t->tf, x, err);
}

static brine_prediction *prediction_alloc(const brine_model *m, brine_method method, size_t rows, size_t cols) {
    brine_prediction *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->method = method;
    p->n_rows = rows;
    p->n_columns = cols;
    if (be_method_gives_indices(m, method)) p->indices = calloc(rows * cols + 1, sizeof *p->indices);
    else p->values = calloc(rows * cols + 1, sizeof *p->values);
    if (!p->indices && !p->values) {
        free(p);
        return NULL;
    }
    return p;
}

brine_status be_predict_csr(brine_prediction **out, const brine_model *m, brine_method method, const be_csr *x,
                            int n_threads, brine_error *err) {
    *out = NULL;
    size_t cols = be_output_columns(m, method);
    if (cols == BE_NO_METHOD)
        return be_fail_status(err, BRINE_E_ARGUMENT, m, "the estimator has no %s", brine_method_name(method));
    if (m->n_features_in >= 0 && x->cols != (size_t)m->n_features_in)
        return be_fail_status(err, BRINE_E_ARGUMENT, m, "X has %zu features, but the model expects %lld", x->cols,
                              (long long)m->n_features_in);
    if (x->rows && cols > SIZE_MAX / sizeof(double) / x->rows)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "X of %zu rows is too large", x->rows);
    if (m->cls->family == &be_linear_family || be_takes_csr(m)) {
        brine_prediction *p = prediction_alloc(m, method, x->rows, cols);
        if (!p) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu rows", x->rows);
        brine_status st;
        if (be_takes_csr(m)) {
            be_csr y = *x;
            y.indptr = malloc((x->rows + 1) * sizeof *y.indptr);
            y.indices = malloc((x->nnz + 1) * sizeof *y.indices);
            y.data = malloc((x->nnz + 1) * sizeof *y.data);
            st = y.indptr && y.indices && y.data ? BRINE_OK : bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
            if (!st) {
                memcpy(y.indptr, x->indptr, (x->rows + 1) * sizeof *y.indptr);
                memcpy(y.indices, x->indices, x->nnz * sizeof *y.indices);
                memcpy(y.data, x->data, x->nnz * sizeof *y.data);
                st = be_csr_transform(m, &y, err);
            }
            if (!st) be_csr_dense(&y, p->values);
            be_csr_free(&y);
        } else {
            st = be_linear_predict_csr(m, method, x, p, err);
        }
        if (st) {
            brine_prediction_free(p);
            return st;
        }
        *out = p;
        return BRINE_OK;
    }
    /* Other estimators take the rows densified. */
    if (x->rows && x->cols > SIZE_MAX / sizeof(double) / x->rows)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "X of %zu rows is too large", x->rows);
    double *dense = malloc((x->rows * x->cols + 1) * sizeof *dense);
    if (!dense) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu rows", x->rows);
    be_csr_dense(x, dense);
    brine_predict_options po = BRINE_PREDICT_OPTIONS_INIT;
    po.n_threads = n_threads;
    brine_status st = brine_predict(out, m, method, dense, BRINE_DTYPE_FLOAT64, x->rows, x->cols, &po, err);
    free(dense);
    return st;
}

static size_t text_columns(const brine_model *m, brine_method method) {
    const tx_model *t = m->impl;
    return method == BRINE_METHOD_TRANSFORM ? t->n_features : BE_NO_METHOD;
}

static brine_status text_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                                 brine_error *err) {
    be_csr x;
    brine_status st = be_transform_csr(m, in, &x, err);
    if (st) return st;
    be_csr_dense(&x, out->values);
    be_csr_free(&x);
    return BRINE_OK;
}

/* ---------------------------------------------------------- loading */

static int is_none(const bv *v) { return !v || v->kind == BRINE_NONE; }

static brine_status get_bool(brine_model *m, const bv *state, const char *key, int dflt, int *out, brine_error *err) {
    const bv *v = bv_dict_get(state, key);
    int64_t i;
    if (is_none(v)) {
        *out = dflt;
        return BRINE_OK;
    }
    if (!be_get_int(v, &i)) return be_fail(err, m, "%s is a %s, not a bool", key, brine_kind_name((brine_kind)v->kind));
    *out = i != 0;
    return BRINE_OK;
}

static brine_status read_norm(brine_model *m, const bv *state, tx_tfidf *tf, brine_error *err) {
    const bv *v = bv_dict_get(state, "norm");
    if (is_none(v)) tf->norm = NORM_NONE;
    else if (bv_is_str(v, "l2")) tf->norm = NORM_L2;
    else if (bv_is_str(v, "l1")) tf->norm = NORM_L1;
    else if (v->kind == BRINE_STR)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "norm '%.*s' is not supported (l1, l2 or None)",
                              (int)(v->u.s.n > 40 ? 40 : v->u.s.n), (const char *)v->u.s.p);
    else return be_fail(err, m, "norm is a %s", brine_kind_name((brine_kind)v->kind));
    return BRINE_OK;
}

/* A 1-D numeric array of int indices (indptr / indices of a CSR state). */
static brine_status read_index_array(brine_model *m, const bv *v, const char *field, size_t want, size_t limit,
                                     size_t **out_sz, uint32_t **out_u32, brine_error *err) {
    const bv_array *a = be_array(v);
    if (!a || a->ndim != 1) return be_fail(err, m, "%s is not a 1-D array", field);
    const bv_dtype *dt = a->dtype->u.dt;
    if (dt->nfields || (dt->kind != 'i' && dt->kind != 'u')) return be_fail(err, m, "%s is not an integer array", field);
    if (want != (size_t)-1 && (uint64_t)a->count != want)
        return be_fail(err, m, "%s has %lld values, not %zu", field, (long long)a->count, want);
    size_t n = (size_t)a->count;
    if (out_sz) *out_sz = be_alloc(m, n + 1, sizeof **out_sz);
    if (out_u32) *out_u32 = be_alloc(m, n + 1, sizeof **out_u32);
    if ((out_sz && !*out_sz) || (out_u32 && !*out_u32)) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < n; i++) {
        int64_t k;
        if (!be_array_int(a, i, &k)) return be_fail(err, m, "%s has no data for element %zu", field, i);
        if (k < 0 || (uint64_t)k > limit) return be_fail(err, m, "%s[%zu] = %lld is out of range", field, i, (long long)k);
        if (out_sz) (*out_sz)[i] = (size_t)k;
        if (out_u32) (*out_u32)[i] = (uint32_t)k;
    }
    return BRINE_OK;
}

/* _idf_diag: a scipy CSR matrix n x n. */
static brine_status read_idf_diag(brine_model *m, const bv *v, tx_tfidf *tf, int64_t want_n, brine_error *err) {
    const char *mod, *name = NULL;
    mod = v && v->kind == BRINE_OBJECT ? brine_value_global(v, &name) : NULL;
    if (!mod || strncmp(mod, "scipy.sparse", 12) || !name || (strcmp(name, "csr_matrix") && strcmp(name, "csr_array")))
        return be_fail(err, m, "_idf_diag is not a scipy csr_matrix");
    const bv *s = v->u.obj.state;
    if (!s || s->kind != BRINE_DICT) return be_fail(err, m, "_idf_diag has no state");
    const bv *shape = bv_dict_get(s, "_shape");
    int64_t r = -1, c = -1;
    if (!shape || shape->kind != BRINE_TUPLE || shape->u.seq.n != 2 || !be_get_int(shape->u.seq.items[0], &r) ||
        !be_get_int(shape->u.seq.items[1], &c))
        return be_fail(err, m, "_idf_diag._shape is not a (rows, cols) tuple");
    if (r < 1 || c < 1 || r != c || r > INT32_MAX)
        return be_fail(err, m, "_idf_diag._shape is (%lld, %lld), not square", (long long)r, (long long)c);
    if (want_n >= 0 && r != want_n)
        return be_fail(err, m, "_idf_diag is %lld x %lld but there are %lld features", (long long)r, (long long)r,
                       (long long)want_n);
    tf->n = (size_t)r;
    const bv_array *da = be_array(bv_dict_get(s, "data"));
    if (!da || da->ndim != 1 || da->dtype->u.dt->kind != 'f' || da->dtype->u.dt->nfields)
        return be_fail(err, m, "_idf_diag.data is not a float array");
    size_t nnz = (size_t)da->count;
    brine_status st = read_index_array(m, bv_dict_get(s, "indptr"), "_idf_diag.indptr", tf->n + 1, nnz, &tf->d_indptr,
                                       NULL, err);
    if (!st) st = read_index_array(m, bv_dict_get(s, "indices"), "_idf_diag.indices", nnz, tf->n - 1, NULL,
                                   &tf->d_indices, err);
    if (st) return st;
    if (tf->d_indptr[0] != 0 || tf->d_indptr[tf->n] != nnz)
        return be_fail(err, m, "_idf_diag.indptr does not span its %zu values", nnz);
    for (size_t i = 0; i < tf->n; i++)
        if (tf->d_indptr[i] > tf->d_indptr[i + 1]) return be_fail(err, m, "_idf_diag.indptr decreases at %zu", i);
    tf->d_data = be_alloc(m, nnz + 1, sizeof *tf->d_data);
    if (!tf->d_data) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < nnz; i++)
        if (!be_array_double(da, i, &tf->d_data[i])) return be_fail(err, m, "_idf_diag.data has no element %zu", i);
    tf->idf_f32 = da->dtype->u.dt->itemsize == 4;
    if (da->dtype->u.dt->itemsize != 4 && da->dtype->u.dt->itemsize != 8)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "_idf_diag.data of %zu-byte floats is not supported",
                              da->dtype->u.dt->itemsize);
    tf->idf = IDF_DIAG;
    return BRINE_OK;
}

/* A TfidfTransformer's state into tf; want_n: the vocabulary size or -1. */
static brine_status read_tfidf(brine_model *m, const bv *state, tx_tfidf *tf, int64_t want_n, brine_error *err) {
    brine_status st = read_norm(m, state, tf, err);
    int use_idf;
    if (!st) st = get_bool(m, state, "sublinear_tf", 0, &tf->sublinear, err);
    if (!st) st = get_bool(m, state, "use_idf", 1, &use_idf, err);
    if (st) return st;
    tf->n = want_n >= 0 ? (size_t)want_n : 0;
    const bv *diag = bv_dict_get(state, "_idf_diag");
    const bv *idf = bv_dict_get(state, "idf_");
    if (!is_none(diag)) {
        if (use_idf) return read_idf_diag(m, diag, tf, want_n, err);
        return BRINE_OK;
    }
    if (!is_none(idf)) {
        be_matrix v;
        if ((st = be_read_matrix(m, idf, "idf_", 1, &v, err))) return st;
        if (v.ndim != 1) return be_fail(err, m, "idf_ is not 1-D");
        if (want_n >= 0 && v.cols != (size_t)want_n)
            return be_fail(err, m, "idf_ has %zu values but there are %lld features", v.cols, (long long)want_n);
        const bv_array *a = be_array(idf);
        tf->idf_f32 = a->dtype->u.dt->kind == 'f' && a->dtype->u.dt->itemsize == 4;
        tf->idf_v = v.v;
        tf->n = v.cols;
        tf->idf = IDF_ARRAY;
        return BRINE_OK;
    }
    if (use_idf)
        return be_fail(err, m, "use_idf is True but neither _idf_diag nor idf_ is there (not fitted)");
    return BRINE_OK;
}

/* Arena memory for PCRE2. */
static void *re_alloc(PCRE2_SIZE n, void *data) { return bp_arena_alloc(data, n ? n : 1); }
static void re_free(void *p, void *data) {
    (void)p;
    (void)data;
}

/* Python's leading global flags "(?aiLmsux)" to PCRE2 options. */
static brine_status compile_pattern(brine_model *m, tx_model *t, const char *p, size_t n, brine_error *err) {
    uint32_t opts = PCRE2_UTF | PCRE2_UCP;
    size_t at = 0;
    while (at + 2 < n && p[at] == '(' && p[at + 1] == '?') {
        size_t k = at + 2;
        uint32_t o = opts;
        while (k < n && strchr("aiLmsux", p[k]) && p[k]) {
            switch (p[k]) {
            case 'a': o &= ~PCRE2_UCP; break;
            case 'i': o |= PCRE2_CASELESS; break;
            case 'm': o |= PCRE2_MULTILINE; break;
            case 's': o |= PCRE2_DOTALL; break;
            case 'x': o |= PCRE2_EXTENDED; break;
            case 'L':
                return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "token_pattern's locale flag (?L) is not supported");
            default: break;
            }
            k++;
        }
        if (k == at + 2 || k >= n || p[k] != ')') break;
        opts = o;
        at = k + 1;
    }
    /* Python's \Z is PCRE2's \z, its x{,n} PCRE2's x{0,n}; Python's \s (str.isspace) is spelled
     * out, as PCRE2's differs (U+180E, U+001C..U+001F); the rest is
     * common syntax. */
    static const char space_set[] =
        "\\t-\\r\\x1c-\\x20\\x85\\xa0\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}";
    size_t qcap;
    if (__builtin_mul_overflow(n - at + 1, sizeof space_set + 4, &qcap))
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    char *q = be_alloc(m, qcap, 1);
    if (!q) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    size_t qn = 0;
    int in_class = 0, ucp = (opts & PCRE2_UCP) != 0;
    for (size_t i = at; i < n; i++) {
        char c = p[i];
        if (c == '\\' && i + 1 < n) {
            char d = p[++i];
            if (ucp && d == 's') {
                qn += (size_t)sprintf(q + qn, in_class ? "%s" : "[%s]", space_set);
                continue;
            }
            if (ucp && d == 'S' && !in_class) {
                qn += (size_t)sprintf(q + qn, "[^%s]", space_set);
                continue;
            }
            q[qn++] = c;
            q[qn++] = (!in_class && d == 'Z') ? 'z' : d;
            continue;
        }
        if (c == '{' && !in_class && i + 1 < n && p[i + 1] == ',') {
            /* Python's x{,n} is x{0,n}; PCRE2 10.42 reads "{," as text */
            size_t k = i + 2;
            while (k < n && p[k] >= '0' && p[k] <= '9') k++;
            if (k > i + 2 && k < n && p[k] == '}') {
                q[qn++] = '{';
                q[qn++] = '0';
                continue;
            }
        }
        if (c == '[' && !in_class) {
            in_class = 1;
            q[qn++] = c;
            if (i + 1 < n && p[i + 1] == '^') q[qn++] = p[++i];
            if (i + 1 < n && p[i + 1] == ']') q[qn++] = p[++i];
            continue;
        }
        if (c == ']' && in_class) in_class = 0;
        q[qn++] = c;
    }
    pcre2_general_context *g = pcre2_general_context_create(re_alloc, re_free, &m->arena);
    pcre2_compile_context *cc = g ? pcre2_compile_context_create(g) : NULL;
    if (!cc) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    int ec = 0;
    PCRE2_SIZE eo = 0;
    t->re = pcre2_compile((PCRE2_SPTR)q, qn, opts, &ec, &eo, cc);
    if (!t->re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "token_pattern does not compile in PCRE2 at %zu: %s",
                              (size_t)eo, (const char *)msg);
    }
    uint32_t groups = 0;
    pcre2_pattern_info(t->re, PCRE2_INFO_CAPTURECOUNT, &groups);
    if (groups > 1)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m,
                              "token_pattern has %u capturing groups (sklearn allows at most one)", groups);
    t->re_group = groups == 1;
    return BRINE_OK;
}

static const char *const english_stop_words[] = {
#include "estimators/text_stop_words.inc"
};

static brine_status read_stop_words(brine_model *m, tx_model *t, const bv *v, brine_error *err) {
    if (is_none(v)) return BRINE_OK;
    if (v->kind == BRINE_STR) {
        if (!bv_is_str(v, "english"))
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "stop_words '%.*s' is not a built-in list",
                                  (int)(v->u.s.n > 40 ? 40 : v->u.s.n), (const char *)v->u.s.p);
        size_t n = sizeof english_stop_words / sizeof *english_stop_words;
        t->scap = table_cap(n);
        t->stop = be_alloc(m, t->scap, sizeof *t->stop);
        if (!t->stop) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        for (size_t i = 0; i < n; i++)
            key_add(t->hkey, t->stop, t->scap, english_stop_words[i], strlen(english_stop_words[i]), 0);
        return BRINE_OK;
    }
    if (v->kind != BRINE_LIST && v->kind != BRINE_TUPLE && v->kind != BRINE_SET && v->kind != BRINE_FROZENSET)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "stop_words is a %s (expected 'english', a list or None)",
                              brine_kind_name((brine_kind)v->kind));
    size_t n = v->u.seq.n;
    t->scap = table_cap(n);
    t->stop = be_alloc(m, t->scap, sizeof *t->stop);
    if (!t->stop) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const bv *w = v->u.seq.items[i];
        if (!w || w->kind != BRINE_STR) continue; /* never equal to a token */
        char *s = bp_arena_strdup(&m->arena, w->u.s.p, w->u.s.n);
        if (!s) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        key_add(t->hkey, t->stop, t->scap, s, w->u.s.n, 0);
    }
    return BRINE_OK;
}

/* The counts' dtype: a numpy type global (numpy.float64) or a dtype. */
static brine_status read_dtype(brine_model *m, tx_model *t, const bv *v, brine_error *err) {
    t->dtype_kind = t->kind == TX_COUNT ? 'i' : 'f';
    t->dtype_size = 8;
    if (is_none(v)) return BRINE_OK;
    const char *name = NULL, *mod = NULL;
    if (v->kind == BRINE_GLOBAL) {
        mod = v->u.g.module;
        name = v->u.g.name;
    } else if (v->kind == BRINE_DTYPE && !v->u.dt->nfields) {
        t->dtype_kind = v->u.dt->kind;
        t->dtype_size = v->u.dt->itemsize;
    } else {
        return be_fail(err, m, "dtype is a %s, not a numpy type", brine_kind_name((brine_kind)v->kind));
    }
    if (name) {
        static const struct {
            const char *name;
            char kind;
            size_t size;
        } types[] = {{"float64", 'f', 8}, {"float32", 'f', 4}, {"float16", 'f', 2}, {"int64", 'i', 8},
                     {"int32", 'i', 4},   {"int16", 'i', 2},   {"int8", 'i', 1},    {"uint64", 'u', 8},
                     {"uint32", 'u', 4},  {"uint16", 'u', 2},  {"uint8", 'u', 1},   {"bool_", 'b', 1},
                     {"float", 'f', 8},   {"int", 'i', 8},     {"double", 'f', 8},  {"intc", 'i', 4},
                     {"longlong", 'i', 8}, {"single", 'f', 4}, {"intp", 'i', 8}};
        size_t k;
        int numpy = mod && !strcmp(mod, "numpy");
        int builtins = mod && !strcmp(mod, "builtins") && (!strcmp(name, "float") || !strcmp(name, "int"));
        for (k = 0; k < sizeof types / sizeof *types; k++)
            if (!strcmp(types[k].name, name)) break;
        if ((!numpy && !builtins) || k == sizeof types / sizeof *types)
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "dtype %s.%s is not supported", mod ? mod : "?", name);
        t->dtype_kind = types[k].kind;
        t->dtype_size = types[k].size;
    }
    if ((t->dtype_kind != 'f' && t->dtype_kind != 'i' && t->dtype_kind != 'u' && t->dtype_kind != 'b') ||
        (t->dtype_kind == 'f' && t->dtype_size != 4 && t->dtype_size != 8))
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "dtype of kind '%c' and %zu bytes is not supported",
                              t->dtype_kind, t->dtype_size);
    return BRINE_OK;
}

static brine_status read_vocabulary(brine_model *m, tx_model *t, const bv *state, brine_error *err) {
    const bv *v = bv_dict_get(state, "vocabulary_");
    if (is_none(v)) return be_fail(err, m, "is not fitted (vocabulary_ is missing)");
    if (v->kind != BRINE_DICT) return be_fail(err, m, "vocabulary_ is a %s, not a dict", brine_kind_name((brine_kind)v->kind));
    size_t n = v->u.seq.n;
    if (!n) return be_fail(err, m, "vocabulary_ is empty");
    if (n > UINT32_MAX / 4) return be_fail_status(err, BRINE_E_LIMIT, m, "vocabulary_ has %zu entries", n);
    t->n_features = n;
    t->vcap = table_cap(n);
    t->vocab = be_alloc(m, t->vcap, sizeof *t->vocab);
    uint8_t *seen = calloc(n, 1);
    if (!t->vocab || !seen) {
        free(seen);
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    }
    brine_status st = BRINE_OK;
    for (size_t i = 0; i < n && !st; i++) {
        const bv *k = v->u.seq.items[2 * i], *val = v->u.seq.items[2 * i + 1];
        int64_t idx;
        if (!k || k->kind != BRINE_STR) {
            st = be_fail(err, m, "vocabulary_ has a %s key, not a str", k ? brine_kind_name((brine_kind)k->kind) : "missing");
        } else if (!be_get_int(val, &idx)) {
            st = be_fail(err, m, "vocabulary_['%.*s'] is not an int", (int)(k->u.s.n > 40 ? 40 : k->u.s.n),
                         (const char *)k->u.s.p);
        } else if (idx < 0 || (uint64_t)idx >= n) {
            st = be_fail(err, m, "vocabulary_['%.*s'] = %lld is out of range for %zu terms",
                         (int)(k->u.s.n > 40 ? 40 : k->u.s.n), (const char *)k->u.s.p, (long long)idx, n);
        } else if (seen[idx]) {
            st = be_fail(err, m, "vocabulary_ gives index %lld to two terms", (long long)idx);
        } else {
            seen[idx] = 1;
            char *s = bp_arena_strdup(&m->arena, k->u.s.p, k->u.s.n);
            if (!s) st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
            else if (!key_add(t->hkey, t->vocab, t->vcap, s, k->u.s.n, (uint32_t)idx))
                st = be_fail(err, m, "vocabulary_ lists a term twice");
        }
    }
    free(seen);
    return st;
}

static int name_is(const brine_model *m, const char *s) { return !strcmp(m->short_name, s); }

static brine_status load_vectorizer(brine_model *m, tx_model *t, const bv *state, brine_error *err) {
    static const char *const callables[] = {"preprocessor", "tokenizer"};
    for (size_t i = 0; i < 2; i++) {
        const bv *v = bv_dict_get(state, callables[i]);
        if (!is_none(v)) {
            const char *name = NULL, *mod = brine_value_global(v, &name);
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "a custom %s (%s%s%s) is not supported", callables[i],
                                  mod ? mod : brine_kind_name((brine_kind)v->kind), mod ? "." : "", mod ? name : "");
        }
    }
    const bv *in = bv_dict_get(state, "input");
    if (!is_none(in) && !bv_is_str(in, "content"))
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "input other than 'content' (file names, files) is not supported");
    const bv *an = bv_dict_get(state, "analyzer");
    if (is_none(an) || bv_is_str(an, "word")) t->analyzer = AN_WORD;
    else if (bv_is_str(an, "char")) t->analyzer = AN_CHAR;
    else if (bv_is_str(an, "char_wb")) t->analyzer = AN_CHAR_WB;
    else {
        const char *name = NULL, *mod = brine_value_global(an, &name);
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "analyzer %s%s%s is not supported (word, char, char_wb)",
                              mod ? mod : an->kind == BRINE_STR ? "(unknown name)" : brine_kind_name((brine_kind)an->kind),
                              mod ? "." : "", mod ? name : "");
    }
    brine_status st = get_bool(m, state, "lowercase", 1, &t->lowercase, err);
    if (!st) st = get_bool(m, state, "binary", 0, &t->binary, err);
    if (st) return st;
    const bv *sa = bv_dict_get(state, "strip_accents");
    if (is_none(sa) || (sa->kind == BRINE_BOOL && !sa->u.i)) t->accents = ACC_NONE;
    else if (bv_is_str(sa, "ascii")) t->accents = ACC_ASCII;
    else if (bv_is_str(sa, "unicode")) t->accents = ACC_UNICODE;
    else {
        const char *name = NULL, *mod = brine_value_global(sa, &name);
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "strip_accents %s%s%s is not supported (ascii, unicode, None)",
                              mod ? mod : brine_kind_name((brine_kind)sa->kind), mod ? "." : "", mod ? name : "");
    }
    const bv *ng = bv_dict_get(state, "ngram_range");
    int64_t lo = 1, hi = 1;
    if (!is_none(ng)) {
        if ((ng->kind != BRINE_TUPLE && ng->kind != BRINE_LIST) || ng->u.seq.n != 2 || !be_get_int(ng->u.seq.items[0], &lo) ||
            !be_get_int(ng->u.seq.items[1], &hi))
            return be_fail(err, m, "ngram_range is not a (min_n, max_n) pair");
    }
    if (lo < 1 || hi < lo) return be_fail(err, m, "ngram_range (%lld, %lld) is invalid", (long long)lo, (long long)hi);
    if (hi > TX_MAX_NGRAM)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "ngram_range's max_n %lld is above brine's limit %d",
                              (long long)hi, TX_MAX_NGRAM);
    t->min_n = (size_t)lo;
    t->max_n = (size_t)hi;
    if (t->analyzer == AN_WORD) {
        const bv *tp = bv_dict_get(state, "token_pattern");
        if (is_none(tp)) {
            if (!be_version_at_least(m, 0, 24, 0))
                return be_fail(err, m, "token_pattern is None");
            /* sklearn >= 0.24 with a tokenizer only; none here */
            return be_fail(err, m, "token_pattern is None without a tokenizer");
        }
        if (tp->kind != BRINE_STR) return be_fail(err, m, "token_pattern is a %s, not a str", brine_kind_name((brine_kind)tp->kind));
        if (bv_is_str(tp, "(?u)\\b\\w\\w+\\b") || bv_is_str(tp, "\\b\\w\\w+\\b")) t->default_pattern = 1;
        else if ((st = compile_pattern(m, t, (const char *)tp->u.s.p, tp->u.s.n, err))) return st;
        if ((st = read_stop_words(m, t, bv_dict_get(state, "stop_words"), err))) return st;
    }
    if ((st = read_dtype(m, t, bv_dict_get(state, "dtype"), err))) return st;
    if ((st = read_vocabulary(m, t, state, err))) return st;
    if (t->kind == TX_TFIDF_VEC) {
        const bv *tfo = bv_dict_get(state, "_tfidf");
        const char *name = NULL;
        const char *mod = tfo && tfo->kind == BRINE_OBJECT ? brine_value_global(tfo, &name) : NULL;
        if (!mod || !name || strcmp(name, "TfidfTransformer") || strncmp(mod, "sklearn.feature_extraction", 26))
            return be_fail(err, m, "_tfidf is not a TfidfTransformer");
        const bv *ts = tfo->u.obj.state;
        if (!ts || ts->kind != BRINE_DICT) return be_fail(err, m, "_tfidf has no state");
        t->has_tfidf = 1;
        if ((st = read_tfidf(m, ts, &t->tf, (int64_t)t->n_features, err))) return st;
        if (t->dtype_kind == 'f' && t->dtype_size == 2)
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "dtype float16 is not supported");
    }
    m->n_features_in = 1;
    return BRINE_OK;
}

static brine_status text_load(brine_model *m, const bv *state, brine_error *err) {
    const char *lib;
    if (!be_icu_get(&lib))
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "text needs ICU, and %s cannot be loaded (Debian: libicu72)",
                              lib);
    tx_model *t = be_alloc(m, 1, sizeof *t);
    if (!t) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    if (sodium_init() >= 0) randombytes_buf(t->hkey, sizeof t->hkey);
    brine_status st;
    m->n_outputs = 1;
    m->n_estimators = 1;
    if (name_is(m, "TfidfTransformer")) {
        t->kind = TX_TFIDF;
        t->has_tfidf = 1;
        int64_t nf;
        if ((st = be_read_n_features(m, state, &nf, err))) return st;
        if ((st = read_tfidf(m, state, &t->tf, nf, err))) return st;
        if (nf < 0 && t->tf.idf == IDF_NONE)
            return be_fail(err, m, "has neither n_features_in_ nor an idf to tell its width");
        t->n_features = t->tf.idf != IDF_NONE ? t->tf.n : (size_t)nf;
        m->n_features_in = (int64_t)t->n_features;
        if ((st = be_read_feature_names(m, state, err))) return st;
    } else {
        t->kind = name_is(m, "TfidfVectorizer") ? TX_TFIDF_VEC : TX_COUNT;
        if ((st = load_vectorizer(m, t, state, err))) return st;
        m->takes_text = 1;
    }
    m->impl = t;
    return be_keep_params(m, state, err);
}

const be_family be_text_family = {"text", text_load, text_predict, NULL, text_columns, BE_FAM_TEXT | BE_FAM_FLOAT64};
