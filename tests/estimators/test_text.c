/* test_text.c — CountVectorizer, TfidfVectorizer and TfidfTransformer
 * loaded from pickles Debian's sklearn 1.2.1 wrote (text_pickles.h, made by
 * gen_text_pickles.py): their transform of ASCII and non-ASCII documents
 * (accents, ß, İ, Greek final sigma, CJK, emoji, digits, underscores) is
 * sklearn's bit for bit, through be_transform_csr and the family's own
 * predict; hostile vocabularies and idf matrices fail at load with
 * BRINE_E_FORMAT naming the field; custom callables are BRINE_E_UNSUPPORTED
 * naming them; sparse rows reach linear models through be_predict_csr. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "brine.h"
#include "estimators/estimator.h"
#include "harness.h"
#include "text_pickles.h"

static brine_status load_opts(const char *bytes, size_t n, brine_model **m, brine_error *err,
                              const brine_load_options *o) {
    brine_file *f = NULL;
    brine_error_clear(err);
    *m = NULL;
    brine_status st = brine_file_open_memory(&f, bytes, n, o, err);
    if (!st) st = brine_model_from_file(m, f, err);
    brine_file_free(f);
    return st;
}
#define LOAD(name, m, err) load_opts(P_##name, sizeof P_##name - 1, m, err, NULL)

static void expect_fail(const char *bytes, size_t n, brine_status want, const char *a, const char *b,
                        const brine_load_options *o) {
    brine_model *m;
    brine_error err;
    brine_status st = load_opts(bytes, n, &m, &err, o);
    CHECK_EQ_INT(st, want);
    CHECK(m == NULL);
    if (!strstr(err.message, a) || (b && !strstr(err.message, b))) {
        fprintf(stderr, "  message was: %s (wanted '%s'%s%s)\n", err.message, a, b ? " and " : "", b ? b : "");
        CHECK(0);
    }
    brine_model_free(m);
}
#define EXPECT_FORMAT(name, a, b) expect_fail(P_##name, sizeof P_##name - 1, BRINE_E_FORMAT, a, b, NULL)
#define EXPECT_UNSUPPORTED(name, a, b) expect_fail(P_##name, sizeof P_##name - 1, BRINE_E_UNSUPPORTED, a, b, NULL)

static be_input docs_input(const char *const *docs, size_t n) {
    be_input in;
    memset(&in, 0, sizeof in);
    in.text = docs;
    in.n_rows = n;
    in.n_cols = 1;
    in.n_threads = 1;
    return in;
}

/* The dense transform of T_DOCS through CSR equals sklearn's, bit for bit;
 * the family's predict gives the same. */
static void check_transform(const char *bytes, size_t n, const double *want, size_t width, const char *what) {
    brine_model *m;
    brine_error err;
    CHECK_EQ_INT(load_opts(bytes, n, &m, &err, NULL), BRINE_OK);
    if (!m) {
        fprintf(stderr, "  %s: %s\n", what, err.message);
        return;
    }
    CHECK(be_gives_csr(m));
    CHECK(brine_model_has_method(m, BRINE_METHOD_TRANSFORM));
    CHECK(!brine_model_has_method(m, BRINE_METHOD_PREDICT));
    CHECK_EQ_INT(be_output_columns(m, BRINE_METHOD_TRANSFORM), width);
    be_input in = docs_input(T_DOCS, N_DOCS);
    be_csr x;
    brine_status st = be_transform_csr(m, &in, &x, &err);
    CHECK_EQ_INT(st, BRINE_OK);
    if (st) {
        fprintf(stderr, "  %s: %s\n", what, err.message);
    } else {
        CHECK_EQ_INT(x.rows, N_DOCS);
        CHECK_EQ_INT(x.cols, width);
        double *d = calloc(N_DOCS * width + 1, sizeof *d);
        be_csr_dense(&x, d);
        size_t bad = 0;
        for (size_t i = 0; i < N_DOCS * width; i++) {
            if (memcmp(&d[i], &want[i], sizeof(double)) && bad++ < 5)
                fprintf(stderr, "  %s: cell (%zu, %zu) is %.17g, sklearn %.17g\n", what, i / width, i % width, d[i],
                        want[i]);
        }
        CHECK_EQ_INT(bad, 0);
        for (size_t j = 0; j < x.nnz; j++) CHECK(x.indices[j] < width && x.data[j] != 0.0);
        brine_prediction p;
        memset(&p, 0, sizeof p);
        p.values = calloc(N_DOCS * width + 1, sizeof *p.values);
        p.n_rows = N_DOCS;
        p.n_columns = width;
        CHECK_EQ_INT(m->cls->family->predict(m, BRINE_METHOD_TRANSFORM, &in, &p, &err), BRINE_OK);
        CHECK(!memcmp(p.values, d, N_DOCS * width * sizeof *d));
        free(p.values);
        free(d);
        be_csr_free(&x);
    }
    brine_model_free(m);
}
#define CHECK_TRANSFORM(name) check_transform(P_##name, sizeof P_##name - 1, T_##name, W_##name, #name)

static void word_tokens_match_sklearn(void) {
    CHECK_TRANSFORM(count_bigram);
    CHECK_TRANSFORM(pattern);
    CHECK_TRANSFORM(stop);
    CHECK_TRANSFORM(spaces);
}

static void char_ngrams_match_sklearn(void) {
    CHECK_TRANSFORM(char_wb);
    CHECK_TRANSFORM(char);
}

static void tfidf_matches_sklearn(void) {
    CHECK_TRANSFORM(tfidf);
    CHECK_TRANSFORM(accents);
    CHECK_TRANSFORM(ascii);
}

static void transformer_on_counts(void) {
    brine_model *m;
    brine_error err;
    CHECK_EQ_INT(LOAD(transformer, &m, &err), BRINE_OK);
    if (!m) return;
    CHECK_EQ_INT(brine_model_n_features_in(m), 3);
    brine_prediction *p = NULL;
    CHECK_EQ_INT(brine_model_predict(&p, m, BRINE_METHOD_TRANSFORM, T_COUNTS, 6, 3, &err), BRINE_OK);
    for (size_t i = 0; p && i < 18; i++) CHECK(!memcmp(&p->values[i], &T_transformer[i], sizeof(double)));
    brine_prediction_free(p);
    /* the same through a CSR of the counts */
    be_csr x = {6, 3, 0, NULL, NULL, NULL, 0};
    x.indptr = calloc(7, sizeof *x.indptr);
    x.indices = calloc(18, sizeof *x.indices);
    x.data = calloc(18, sizeof *x.data);
    for (size_t r = 0; r < 6; r++) {
        for (size_t c = 0; c < 3; c++) {
            if (T_COUNTS[r * 3 + c] == 0.0) continue;
            x.indices[x.nnz] = (uint32_t)c;
            x.data[x.nnz++] = T_COUNTS[r * 3 + c];
        }
        x.indptr[r + 1] = x.nnz;
    }
    CHECK_EQ_INT(be_predict_csr(&p, m, BRINE_METHOD_TRANSFORM, &x, 1, &err), BRINE_OK);
    for (size_t i = 0; p && i < 18; i++) CHECK(!memcmp(&p->values[i], &T_transformer[i], sizeof(double)));
    brine_prediction_free(p);
    /* a vectorizer takes documents, not numbers */
    const double nan_row[] = {1.0, NAN, 0.0};
    CHECK_EQ_INT(brine_model_predict(&p, m, BRINE_METHOD_TRANSFORM, nan_row, 1, 3, &err), BRINE_E_ARGUMENT);
    be_csr_free(&x);
    brine_model_free(m);
}

static void bad_documents_are_refused(void) {
    brine_model *m;
    brine_error err;
    CHECK_EQ_INT(LOAD(tfidf, &m, &err), BRINE_OK);
    if (!m) return;
    const char *docs[] = {"fine", NULL};
    be_input in = docs_input(docs, 2);
    be_csr x;
    CHECK_EQ_INT(be_transform_csr(m, &in, &x, &err), BRINE_E_ARGUMENT);
    CHECK(strstr(err.message, "document 1 is missing") != NULL);
    const char *bad_utf8[] = {"ok \xff\xfe"};
    in = docs_input(bad_utf8, 1);
    brine_error_clear(&err);
    CHECK_EQ_INT(be_transform_csr(m, &in, &x, &err), BRINE_E_ARGUMENT);
    if (!strstr(err.message, "UTF-8")) {
        fprintf(stderr, "  message was: %s\n", err.message);
        CHECK(0);
    }
    in = docs_input(docs, 1);
    in.n_cols = 2;
    CHECK_EQ_INT(be_transform_csr(m, &in, &x, &err), BRINE_E_ARGUMENT);
    in.text = NULL;
    in.n_cols = 1;
    CHECK_EQ_INT(be_transform_csr(m, &in, &x, &err), BRINE_E_ARGUMENT);
    brine_model_free(m);
}

static void hostile_vocabularies_fail(void) {
    EXPECT_FORMAT(vocab_range, "vocabulary_['bb'] = 9 is out of range", NULL);
    EXPECT_FORMAT(vocab_dup, "vocabulary_ gives index 1 to two terms", NULL);
    EXPECT_FORMAT(vocab_key, "vocabulary_ has a int key", NULL);
    EXPECT_FORMAT(vocab_val, "vocabulary_['bb'] is not an int", NULL);
    EXPECT_FORMAT(vocab_neg, "vocabulary_['bb'] = -1", NULL);
    EXPECT_FORMAT(vocab_list, "vocabulary_ is a list", NULL);
    EXPECT_FORMAT(ngram_bad, "ngram_range (3, 2)", NULL);
}

static void hostile_idf_fails(void) {
    EXPECT_FORMAT(idf_shape, "_idf_diag is 7 x 7", "4 features");
    EXPECT_FORMAT(idf_index, "_idf_diag.indices[1] = 40 is out of range", NULL);
    EXPECT_FORMAT(idf_indptr, "_idf_diag.indptr", NULL);
    EXPECT_UNSUPPORTED(norm_max, "norm 'max'", NULL);
    EXPECT_UNSUPPORTED(two_groups, "2 capturing groups", NULL);
    EXPECT_UNSUPPORTED(ngram_huge, "max_n 5000", NULL);
    EXPECT_UNSUPPORTED(dtype_str, "dtype numpy.str_", NULL);
    EXPECT_FORMAT(idf_len, "idf_ has 3 values", "4 features");
}

static void callables_are_unsupported(void) {
    const char *trust[] = {"mytok:tok"};
    brine_load_options o = BRINE_LOAD_OPTIONS_INIT;
    o.trust = trust;
    o.n_trust = 1;
    expect_fail(P_tokenizer, sizeof P_tokenizer - 1, BRINE_E_UNSUPPORTED, "custom tokenizer (mytok.tok)", NULL, &o);
    expect_fail(P_analyzer, sizeof P_analyzer - 1, BRINE_E_UNSUPPORTED, "analyzer mytok.tok", NULL, &o);
    /* without trust the global itself is refused */
    brine_model *m;
    brine_error err;
    CHECK_EQ_INT(LOAD(tokenizer, &m, &err), BRINE_E_GLOBAL);
    CHECK(strstr(err.message, "mytok") != NULL);
}

/* be_csr_dot sums in storage order from 0.0, as scipy's csr @ dense. */
static void csr_dot_follows_storage_order(void) {
    size_t indptr[] = {0, 3, 3};
    uint32_t indices[] = {2, 0, 1};
    double data[] = {1.0, 1e16, -1e16};
    be_csr x = {2, 3, 3, indptr, indices, data, 0};
    double w[] = {1.0, 1.0, 1.0}; /* k = 1 */
    double out[2];
    be_csr_dot(&x, w, 1, out);
    /* ((0 + 1e16) + 1) - 1e16 == 0 in doubles; ascending order would give 1 */
    CHECK(out[0] == 0.0);
    CHECK(out[1] == 0.0);
    double dense[6];
    be_csr_dense(&x, dense);
    CHECK(dense[0] == 1e16 && dense[1] == -1e16 && dense[2] == 1.0 && dense[3] == 0.0);
}

/* TfidfVectorizer -> LogisticRegression and CountVectorizer ->
 * TfidfTransformer -> LogisticRegression through the public cells API: the
 * CSR rows reach the linear model sparse, so its scores are sklearn's bit
 * for bit (scipy's csr @ dense order over tf-idf rows stored in reverse). */
static void check_pipeline(const char *bytes, size_t n, const double *want, const char *what) {
    brine_model *m;
    brine_error err;
    CHECK_EQ_INT(load_opts(bytes, n, &m, &err, NULL), BRINE_OK);
    if (!m) {
        fprintf(stderr, "  %s: %s\n", what, err.message);
        return;
    }
    CHECK(brine_model_takes_text(m));
    CHECK(brine_model_is_classifier(m));
    brine_prediction *p = NULL;
    brine_status st = brine_model_predict_cells(&p, m, BRINE_METHOD_DECISION_FUNCTION, T_DOCS_NE, N_DOCS_NE, 1, NULL, &err);
    CHECK_EQ_INT(st, BRINE_OK);
    if (p) {
        CHECK_EQ_INT(p->n_columns, 3);
        for (size_t i = 0; i < N_DOCS_NE * 3; i++) {
            if (memcmp(&p->values[i], &want[i], sizeof(double))) {
                fprintf(stderr, "  %s: score %zu is %.17g, sklearn %.17g\n", what, i, p->values[i], want[i]);
                CHECK(0);
                break;
            }
        }
    } else {
        fprintf(stderr, "  %s: %s\n", what, err.message);
    }
    brine_prediction_free(p);
    p = NULL;
    /* a missing document ("" is one, as in CSV) is refused as sklearn refuses NaN */
    const char *cells[] = {"fine", ""};
    CHECK_EQ_INT(brine_model_predict_cells(&p, m, BRINE_METHOD_PREDICT, cells, 2, 1, NULL, &err), BRINE_E_ARGUMENT);
    CHECK(p == NULL);
    brine_model_free(m);
}

static void pipelines_hand_on_sparse_rows(void) {
    check_pipeline(P_pipe_lr, sizeof P_pipe_lr - 1, T_pipe_lr, "pipe_lr");
    check_pipeline(P_pipe_count_tfidf_lr, sizeof P_pipe_count_tfidf_lr - 1, T_pipe_count_tfidf_lr, "pipe_count_tfidf_lr");
}

static void registry_rows(void) {
    const be_class *c = be_class_find("sklearn.feature_extraction.text", "TfidfVectorizer");
    CHECK(c && c->family == &be_text_family);
    c = be_class_find("sklearn.feature_extraction.text", "CountVectorizer");
    CHECK(c && c->family == &be_text_family && !c->classifier);
    c = be_class_find("sklearn.feature_extraction.text", "TfidfTransformer");
    CHECK(c && c->family == &be_text_family);
    CHECK(be_text_family.save == NULL);
    CHECK((be_text_family.flags & BE_FAM_TEXT) != 0);
}

int main(void) {
    RUN(word_tokens_match_sklearn);
    RUN(char_ngrams_match_sklearn);
    RUN(tfidf_matches_sklearn);
    RUN(transformer_on_counts);
    RUN(bad_documents_are_refused);
    RUN(hostile_vocabularies_fail);
    RUN(hostile_idf_fails);
    RUN(callables_are_unsupported);
    RUN(csr_dot_follows_storage_order);
    RUN(pipelines_hand_on_sparse_rows);
    RUN(registry_rows);
    TEST_MAIN_END();
}
