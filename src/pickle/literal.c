#include "pickle/literal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "io/error.h"
#include "pickle/text.h"

typedef struct frame {
    bv *c;          /* container being filled */
    char close;     /* ')', ']' or '}' */
    bv *key;        /* dict: key waiting for its value */
    size_t count;   /* items so far */
    int comma;      /* a comma followed the last item */
    int is_dict;    /* '{' turned out to be a dict (0: set, -1: undecided) */
} frame;

typedef struct parser {
    bp_arena *a;
    const char *s;
    size_t n, pos;
    unsigned flags;
    brine_error *err;
} parser;

static brine_status perr(parser *p, const char *what) {
    return bi_fail(p->err, BRINE_E_FORMAT, (int64_t)p->pos, "invalid literal at character %zu: %s", p->pos, what);
}

static void skip_ws(parser *p) {
    while (p->pos < p->n && isspace((unsigned char)p->s[p->pos])) p->pos++;
}

static int hexdig(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A quoted string; bytes when prefixed with b. */
static brine_status parse_string(parser *p, int is_bytes, bv **out) {
    char q = p->s[p->pos++];
    size_t cap = p->n - p->pos + 1;
    uint8_t *buf = bp_arena_alloc(p->a, cap * 4);
    if (!buf) return perr(p, "out of memory");
    size_t o = 0;
    while (p->pos < p->n && p->s[p->pos] != q) {
        char c = p->s[p->pos++];
        if (c != '\\') { buf[o++] = (uint8_t)c; continue; }
        if (p->pos >= p->n) return perr(p, "unterminated escape");
        char e = p->s[p->pos++];
        uint32_t cp = 0;
        int digits = 0;
        switch (e) {
        case 'n': buf[o++] = '\n'; break;
        case 't': buf[o++] = '\t'; break;
        case 'r': buf[o++] = '\r'; break;
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
            cp = (uint32_t)(e - '0');
            for (int k = 0; k < 2 && p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '7'; k++)
                cp = cp * 8 + (uint32_t)(p->s[p->pos++] - '0');
            digits = -1;
            break;
        case 'x': digits = 2; break;
        case 'u': digits = is_bytes ? 0 : 4; break;
        case 'U': digits = is_bytes ? 0 : 8; break;
        case '\\': case '\'': case '"': buf[o++] = (uint8_t)e; break;
        case '\n': break;
        default: buf[o++] = '\\'; buf[o++] = (uint8_t)e;
        }
        if (digits > 0) {
            if (p->n - p->pos < (size_t)digits) return perr(p, "truncated escape");
            for (int k = 0; k < digits; k++) {
                int h = hexdig(p->s[p->pos++]);
                if (h < 0) return perr(p, "bad hex escape");
                cp = cp * 16 + (uint32_t)h;
            }
        }
        if (digits != 0) {
            if (is_bytes) buf[o++] = (uint8_t)cp;
            else if (cp > 0x10ffff) return perr(p, "code point out of range");
            else o += bp_utf8_put(buf + o, cp);
        }
    }
    if (p->pos >= p->n) return perr(p, "unterminated string");
    p->pos++;
    if (!is_bytes && !bp_utf8_valid(buf, o, 1)) return perr(p, "string is not UTF-8");
    *out = bv_bytes_kind(p->a, is_bytes ? BRINE_BYTES : BRINE_STR, buf, o, 0);
    return *out ? BRINE_OK : perr(p, "out of memory");
}

static brine_status parse_number(parser *p, bv **out) {
    size_t start = p->pos;
    if (p->s[p->pos] == '-' || p->s[p->pos] == '+') p->pos++;
    int is_float = 0;
    while (p->pos < p->n) {
        char c = p->s[p->pos];
        if (isdigit((unsigned char)c) || c == '_') p->pos++;
        else if (c == '.' || c == 'e' || c == 'E') {
            is_float = 1;
            p->pos++;
            if ((c == 'e' || c == 'E') && p->pos < p->n && (p->s[p->pos] == '-' || p->s[p->pos] == '+')) p->pos++;
        } else break;
    }
    size_t len = p->pos - start;
    /* Python's rules: '_' only between digits; no leading zeros in a
     * nonzero decimal integer ("0600" is a syntax error). */
    for (size_t k = start; k < p->pos; k++)
        if (p->s[k] == '_' && (k == start || k + 1 >= p->pos || !isdigit((unsigned char)p->s[k - 1]) ||
                               !isdigit((unsigned char)p->s[k + 1])))
            return perr(p, "misplaced '_' in a number");
    if (!is_float) {
        size_t d = start + (p->s[start] == '-' || p->s[start] == '+');
        int nonzero = 0;
        for (size_t k = d; k < p->pos; k++) nonzero |= p->s[k] != '0' && p->s[k] != '_';
        if (p->pos - d > 1 && p->s[d] == '0' && nonzero) return perr(p, "leading zeros in a decimal integer");
    }
    char tmp[512];
    size_t t = 0;
    if (len >= sizeof tmp) return perr(p, "number too long");
    for (size_t k = start; k < p->pos; k++)
        if (p->s[k] != '_') tmp[t++] = p->s[k];
    tmp[t] = '\0';
    if (is_float) {
        double f;
        if (!bp_parse_float_text((const uint8_t *)tmp, t, &f)) return perr(p, "bad float");
        *out = bv_float(p->a, f);
    } else {
        uint8_t *le;
        size_t n;
        if (!bp_parse_int_text(tmp, 10, &le, &n)) return perr(p, "bad integer");
        *out = bv_int_le(p->a, le, n);
        free(le);
    }
    return *out ? BRINE_OK : perr(p, "out of memory");
}

static int word_is(const parser *p, size_t start, size_t len, const char *w) {
    return strlen(w) == len && memcmp(p->s + start, w, len) == 0;
}

/* One scalar (not a container opener). */
static brine_status parse_atom(parser *p, bv **out) {
    char c = p->s[p->pos];
    if (c == '\'' || c == '"') return parse_string(p, 0, out);
    if ((c == 'b' || c == 'B') && p->pos + 1 < p->n && (p->s[p->pos + 1] == '\'' || p->s[p->pos + 1] == '"')) {
        p->pos++;
        return parse_string(p, 1, out);
    }
    if (isdigit((unsigned char)c) || c == '-' || c == '+' || c == '.') return parse_number(p, out);
    if (isalpha((unsigned char)c) || c == '_') {
        size_t start = p->pos;
        while (p->pos < p->n && (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_' || p->s[p->pos] == '.'))
            p->pos++;
        size_t len = p->pos - start;
        if (word_is(p, start, len, "None")) *out = bv_none(p->a);
        else if (word_is(p, start, len, "True")) *out = bv_bool(p->a, 1);
        else if (word_is(p, start, len, "False")) *out = bv_bool(p->a, 0);
        else if (p->flags & BP_LIT_BARE_WORDS) *out = bv_bytes_kind(p->a, BRINE_STR, p->s + start, len, 1);
        else { p->pos = start; return perr(p, "unknown name"); }
        return *out ? BRINE_OK : perr(p, "out of memory");
    }
    return perr(p, "unexpected character");
}

/* Adds a finished value to the innermost frame. */
static brine_status add_value(parser *p, frame *f, bv *v) {
    if (f->count && !f->comma && !(f->is_dict == 1 && f->key)) return perr(p, "missing comma");
    brine_status st = BRINE_OK;
    if (f->close == '}') {
        if (f->key) {
            st = bv_dict_set(p->a, f->c, f->key, v, p->err, (int64_t)p->pos);
            f->key = NULL;
            f->count++;
        } else {
            skip_ws(p);
            if (p->pos < p->n && p->s[p->pos] == ':' && f->is_dict != 0) {
                p->pos++;
                f->is_dict = 1;
                f->c->kind = BRINE_DICT;
                f->key = v;
                f->comma = 0;
                return BRINE_OK;
            }
            if (f->is_dict == 1) return perr(p, "dict item without a value");
            f->is_dict = 0;
            f->c->kind = BRINE_SET;
            st = bv_seq_push(p->a, f->c, v, p->err, (int64_t)p->pos);
            f->count++;
        }
    } else {
        st = bv_seq_push(p->a, f->c, v, p->err, (int64_t)p->pos);
        f->count++;
    }
    f->comma = 0;
    return st;
}

brine_status bp_literal_parse(bp_arena *a, const char *text, size_t n, unsigned flags, size_t max_depth,
                              bv **out, brine_error *err) {
    parser p = {a, text, n, 0, flags, err};
    frame *stack = NULL;
    size_t depth = 0, cap = 0;
    bv *result = NULL;
    brine_status st = BRINE_OK;
    for (;;) {
        skip_ws(&p);
        if (p.pos >= p.n) { st = perr(&p, "unexpected end"); break; }
        char c = p.s[p.pos];
        frame *f = depth ? &stack[depth - 1] : NULL;
        bv *v = NULL;
        if (f && c == ',') {
            if (f->comma || (!f->count && !f->key) || f->key) { st = perr(&p, "misplaced comma"); break; }
            f->comma = 1;
            p.pos++;
            continue;
        }
        if (f && c == f->close) {
            if (f->key) { st = perr(&p, "dict key without a value"); break; }
            p.pos++;
            v = f->c;
            /* (x) is x; (x,) and () are tuples. */
            if (f->close == ')' && f->count == 1 && !f->comma) v = f->c->u.seq.items[0];
            if (f->close == '}' && f->is_dict != 0) f->c->kind = BRINE_DICT;
            depth--;
        } else if (c == '(' || c == '[' || c == '{') {
            if (depth >= max_depth) { st = bi_fail(err, BRINE_E_LIMIT, (int64_t)p.pos, "literal nested deeper than %zu", max_depth); break; }
            if (depth == cap) {
                size_t nc = cap ? cap * 2 : 16;
                frame *ns = realloc(stack, nc * sizeof *ns);
                if (!ns) { st = perr(&p, "out of memory"); break; }
                stack = ns;
                cap = nc;
            }
            bv *cont = bv_new(a, c == '(' ? BRINE_TUPLE : c == '[' ? BRINE_LIST : BRINE_DICT);
            if (!cont) { st = perr(&p, "out of memory"); break; }
            stack[depth++] = (frame){cont, c == '(' ? ')' : c == '[' ? ']' : '}', NULL, 0, 0, -1};
            p.pos++;
            continue;
        } else {
            st = parse_atom(&p, &v);
            if (st) break;
        }
        if (!depth) {
            result = v;
            break;
        }
        st = add_value(&p, &stack[depth - 1], v);
        if (st) break;
    }
    free(stack);
    if (st) return st;
    skip_ws(&p);
    if (p.pos != p.n) return perr(&p, "trailing characters");
    *out = result;
    return BRINE_OK;
}
