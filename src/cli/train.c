/* train.c — brine train ESTIMATOR DATA -o OUT: fits a tree or forest in C
 * (the trees sklearn grows for the same data and random_state) and saves
 * it as the pickle or joblib file sklearn would write.
 *
 * DATA is a CSV file (CONVENTIONS "Reading tabular input"), "-" for
 * standard input, or one of the data sets sklearn ships, by name, read
 * from brine's data directory.  A name that is also an existing file is
 * the file. */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "io/csv.h"
#include "io/file.h"

#ifndef BRINE_DATA_PREFIX
#define BRINE_DATA_PREFIX "/usr/local"
#endif

static const char *cmd = "train";

static const char help[] =
    "usage: brine train ESTIMATOR DATA -o OUT [-p name=value]... [--target COL]...\n"
    "                   [--sample-weight COL] [--format F] [--protocol N] [--compress SPEC]\n"
    "                   [--sklearn-version V] [--no-meta] [--versioned]\n"
    "\n"
    "Fits ESTIMATOR on DATA in C, growing exactly the trees scikit-learn grows for\n"
    "the same data, parameters and random_state, and writes OUT as sklearn pickles\n"
    "it: Python's pickle.load / joblib.load gives a real sklearn estimator.\n"
    "\n"
    "ESTIMATOR (class name or alias):\n"
    "  dt   DecisionTreeClassifier     dtr  DecisionTreeRegressor\n"
    "  xt   ExtraTreeClassifier        xtr  ExtraTreeRegressor\n"
    "  rf   RandomForestClassifier     rfr  RandomForestRegressor\n"
    "  et   ExtraTreesClassifier       etr  ExtraTreesRegressor\n"
    "DATA: a CSV file with an optional header row, - (stdin), or a data set of\n"
    "  sklearn by name: iris, wine, breast_cancer, diabetes, digits (as sklearn's\n"
    "  load_NAME() gives them: no feature names).\n"
    "\n"
    "  -p, --param NAME=VALUE  an estimator parameter in Python literal syntax, e.g.\n"
    "                    -p n_estimators=100 -p random_state=42 -p max_features=0.5\n"
    "                    -p criterion=entropy -p 'class_weight={0: 1.0, 1: 2.5}';\n"
    "                    sklearn's names and meanings; 1 is an int and 1.0 a float.\n"
    "                    n_jobs=N grows trees on N threads (same trees as one).\n"
    "                    Trees: criterion splitter max_depth min_samples_split\n"
    "                    min_samples_leaf min_weight_fraction_leaf max_features\n"
    "                    random_state max_leaf_nodes min_impurity_decrease\n"
    "                    class_weight ccp_alpha(0 only)\n"
    "                    Forests: n_estimators criterion max_depth min_samples_split\n"
    "                    min_samples_leaf min_weight_fraction_leaf max_features\n"
    "                    max_leaf_nodes min_impurity_decrease bootstrap n_jobs\n"
    "                    random_state verbose class_weight max_samples\n"
    "                    oob_score/warm_start(False only) ccp_alpha(0 only)\n"
    "  --target COL      the target column, by header name or 0-based index\n"
    "                    (default: the last column); repeat for several outputs\n"
    "  --sample-weight COL  a column of sample weights\n"
    "  -o, --output OUT  the model file; .joblib and joblib's compressed names\n"
    "                    (.z .gz .bz2 .xz .lzma .lz4) write joblib, others a pickle\n"
    "  --format F        pickle or joblib\n"
    "  --protocol N      pickle protocol 2..5 (default 4)\n"
    "  --compress SPEC   0-9 (zlib level), NAME or NAME:LEVEL (zlib gzip bz2 xz lzma lz4)\n"
    "  --sklearn-version V  reproduce sklearn V's behaviour and write its layout\n"
    "                    (default: the newest layout brine has verified for the class)\n"
    "  --cv K            also K-fold cross-validate as sklearn's cross_val_score(cv=K):\n"
    "                    StratifiedKFold for classifiers (one output), KFold otherwise;\n"
    "                    accuracy or R^2; printed and stored in OUT.meta.json\n"
    "  --versioned       write DIR/NAME_vN_YYYYmmdd_HHMMSS.EXT (UTC) instead of OUT\n"
    "  --no-meta         do not write the OUT.meta.json sidecar\n";

typedef struct options {
    const char *estimator, *data, *output, *format, *protocol, *compress, *version, *weight_col;
    const char **params;
    size_t n_params;
    const char **targets;
    size_t n_targets;
    int meta, versioned;
    size_t cv;
} options;

static const char *const builtin[] = {"iris", "wine", "breast_cancer", "diabetes", "digits", NULL};

/* ---------------------------------------------------------------- data */

typedef struct table {
    double *x;
    brine_label *y;
    double *w;
    char **names;     /* feature names, or NULL */
    size_t n_rows, n_features, n_outputs;
    char *data_sha256; /* of the bytes read */
    char **columns;   /* every column name (meta), or NULL */
    size_t n_columns;
} table;

static void table_free(table *t) {
    free(t->x);
    free(t->y);
    free(t->w);
    for (size_t i = 0; t->names && i < t->n_features; i++) free(t->names[i]);
    free(t->names);
    for (size_t i = 0; t->columns && i < t->n_columns; i++) free(t->columns[i]);
    free(t->columns);
    free(t->data_sha256);
}


/* Where the built-in data sets live: $BRINE_DATA_DIR, else data/ beside
 * the build directory of this executable, else PREFIX/share/brine/data. */
static char *builtin_path(const char *name) {
    const char *env = getenv("BRINE_DATA_DIR");
    char exe[PATH_MAX], buf[PATH_MAX + 64];
    if (env && *env) {
        snprintf(buf, sizeof buf, "%s/%s.csv", env, name);
        return strdup(buf);
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        static const char *const rel[] = {"%s/../data/%s.csv", "%s/../share/brine/data/%s.csv", "%s/data/%s.csv"};
        for (size_t k = 0; k < sizeof rel / sizeof *rel; k++) {
            snprintf(buf, sizeof buf, rel[k], exe, name);
            if (!access(buf, R_OK)) return strdup(buf);
        }
    }
    snprintf(buf, sizeof buf, "%s/share/brine/data/%s.csv", BRINE_DATA_PREFIX, name);
    return strdup(buf);
}

static int is_builtin(const char *name) {
    for (size_t k = 0; builtin[k]; k++)
        if (!strcmp(name, builtin[k])) return 1;
    return 0;
}

/* Column index of spec: a header name, else a 0-based index. */
static int find_column(const bi_csv *c, int header, const char *spec, size_t *out) {
    for (size_t j = 0; header && j < c->n_cols; j++) {
        size_t n;
        const char *s = bi_csv_cell(c, 0, j, &n);
        if (strlen(spec) == n && !memcmp(s, spec, n)) {
            *out = j;
            return 1;
        }
    }
    char *end;
    long v = strtol(spec, &end, 10);
    if (!*spec || *end || v < 0 || (size_t)v >= c->n_cols) return 0;
    *out = (size_t)v;
    return 1;
}

/* An integer literal as pandas reads one (optional sign, digits). */
static int is_integer_text(const char *s, size_t n, int64_t *out) {
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (!n || n > 19) return 0;
    size_t k = (*s == '-' || *s == '+');
    if (k == n) return 0;
    for (size_t i = k; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    char buf[24];
    memcpy(buf, s, n);
    buf[n] = '\0';
    *out = strtoll(buf, NULL, 10);
    return 1;
}

/* Labels of column j: all integers -> INT, all numbers -> FLOAT, else text. */
static int read_labels(const char *file, const bi_csv *c, size_t first, size_t j, table *t, size_t k) {
    int all_int = 1, all_num = 1;
    for (size_t r = first; r < c->n_rows; r++) {
        size_t n;
        const char *s = bi_csv_cell(c, r, j, &n);
        double v;
        int64_t i;
        int number = cli_cell_number(s, n, &v);
        if (number && isnan(v))
            return cli_fail(cmd, file, "row %zu (line %zu): the target is missing", r - first, c->row_line[r]);
        if (!number) all_num = 0;
        if (!is_integer_text(s, n, &i)) all_int = 0;
    }
    for (size_t r = first; r < c->n_rows; r++) {
        size_t n;
        const char *s = bi_csv_cell(c, r, j, &n);
        brine_label *l = &t->y[(r - first) * t->n_outputs + k];
        memset(l, 0, sizeof *l);
        if (all_int) {
            l->kind = BRINE_LABEL_INT;
            is_integer_text(s, n, &l->i);
        } else if (all_num) {
            l->kind = BRINE_LABEL_FLOAT;
            cli_cell_number(s, n, &l->f);
        } else {
            l->kind = BRINE_LABEL_STR;
            l->s = s;
            l->len = n;
        }
    }
    return 0;
}

static int is_target(const size_t *tcol, size_t nt, size_t j) {
    for (size_t k = 0; k < nt; k++)
        if (tcol[k] == j) return 1;
    return 0;
}

static char *cell_dup(const bi_csv *c, size_t r, size_t j) {
    size_t n;
    const char *s = bi_csv_cell(c, r, j, &n);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n), d[n] = '\0';
    return d;
}

static int read_features(const char *file, const bi_csv *c, size_t first, const size_t *tcol, size_t nt,
                         size_t wcol, int has_w, table *t) {
    size_t f = 0;
    for (size_t j = 0; j < c->n_cols; j++) {
        if (is_target(tcol, nt, j) || (has_w && j == wcol)) continue;
        for (size_t r = first; r < c->n_rows; r++) {
            size_t n;
            const char *s = bi_csv_cell(c, r, j, &n);
            double v;
            if (!cli_cell_number(s, n, &v))
                return cli_fail(cmd, file, "row %zu (line %zu), column %zu: '%.40s' is not a number", r - first,
                                 c->row_line[r], j, s);
            if (isnan(v))
                return cli_fail(cmd, file, "row %zu (line %zu), column %zu: a missing value (sklearn 1.2's trees refuse "
                                 "NaN in X)", r - first, c->row_line[r], j);
            t->x[(r - first) * t->n_features + f] = v;
        }
        if (t->names && !(t->names[f] = cell_dup(c, 0, j))) return cli_fail(cmd, file, "out of memory");
        f++;
    }
    if (has_w)
        for (size_t r = first; r < c->n_rows; r++) {
            size_t n;
            const char *s = bi_csv_cell(c, r, wcol, &n);
            if (!cli_cell_number(s, n, &t->w[r - first]) || isnan(t->w[r - first]))
                return cli_fail(cmd, file, "row %zu (line %zu): sample weight '%.40s' is not a number", r - first,
                                 c->row_line[r], s);
        }
    return 0;
}

static int read_table(const char *file, const options *o, int named_set, const bi_csv *c, table *t) {
    int header = cli_row_is_header(c);
    size_t first = header ? 1 : 0;
    if (c->n_rows <= first) return cli_fail(cmd, file, "no data rows");
    size_t nt = o->n_targets ? o->n_targets : 1, wcol = 0;
    size_t *tcol = calloc(nt, sizeof *tcol);
    if (!tcol) return cli_fail(cmd, file, "out of memory");
    int rc = 0;
    for (size_t k = 0; !rc && k < nt; k++) {
        if (!o->n_targets) tcol[k] = c->n_cols - 1;
        else if (!find_column(c, header, o->targets[k], &tcol[k]))
            rc = cli_fail(cmd, file, "no column '%s' for --target", o->targets[k]);
        for (size_t q = 0; !rc && q < k; q++)
            if (tcol[q] == tcol[k]) rc = cli_fail(cmd, file, "column '%s' is given twice as a target", o->targets[k]);
    }
    if (!rc && o->weight_col && !find_column(c, header, o->weight_col, &wcol))
        rc = cli_fail(cmd, file, "no column '%s' for --sample-weight", o->weight_col);
    if (!rc && o->weight_col && is_target(tcol, nt, wcol)) rc = cli_fail(cmd, file, "the sample weights are a target");
    size_t used = nt + (o->weight_col ? 1 : 0);
    if (!rc && c->n_cols <= used) rc = cli_fail(cmd, file, "no feature columns left besides the target and weights");
    if (!rc) {
        t->n_rows = c->n_rows - first;
        t->n_features = c->n_cols - used;
        t->n_outputs = nt;
        t->x = malloc(t->n_rows * t->n_features * sizeof *t->x);
        t->y = calloc(t->n_rows * nt, sizeof *t->y);
        t->w = o->weight_col ? malloc(t->n_rows * sizeof *t->w) : NULL;
        t->names = header && !named_set ? calloc(t->n_features, sizeof *t->names) : NULL;
        if (!t->x || !t->y || (o->weight_col && !t->w) || (header && !named_set && !t->names))
            rc = cli_fail(cmd, file, "out of memory for %zu x %zu values", t->n_rows, c->n_cols);
    }
    if (!rc) rc = read_features(file, c, first, tcol, nt, wcol, o->weight_col != NULL, t);
    for (size_t k = 0; !rc && k < nt; k++) rc = read_labels(file, c, first, tcol[k], t, k);
    if (!rc && header) {
        t->columns = calloc(c->n_cols, sizeof *t->columns);
        for (size_t j = 0; t->columns && j < c->n_cols; j++) t->columns[j] = cell_dup(c, 0, j);
        t->n_columns = t->columns ? c->n_cols : 0;
    }
    free(tcol);
    return rc;
}

/* ---------------------------------------------------------- progress */

static void progress(void *ctx, size_t done, size_t total) {
    (void)ctx;
    int width = 40, fill = (int)(width * done / (total ? total : 1));
    fprintf(stderr, "\rtraining [%.*s%*s] %zu/%zu trees", fill, "========================================",
            width - fill, "", done, total);
    if (done == total) fputc('\n', stderr);
    fflush(stderr);
}

/* ------------------------------------------------------------ options */

static int add_to(const char ***list, size_t *n, const char *item) {
    const char **l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l) return cli_usage_error(cmd, "out of memory");
    l[(*n)++] = item;
    *list = l;
    return 0;
}

static int parse_options(int argc, char **argv, options *o) {
    static const struct option longs[] = {
        {"param", required_argument, 0, 'p'},     {"target", required_argument, 0, 't'},
        {"sample-weight", required_argument, 0, 'w'}, {"output", required_argument, 0, 'o'},
        {"format", required_argument, 0, 'f'},    {"protocol", required_argument, 0, 'P'},
        {"compress", required_argument, 0, 'c'},  {"sklearn-version", required_argument, 0, 'V'},
        {"no-meta", no_argument, 0, 'M'},         {"versioned", no_argument, 0, 'N'},
        {"cv", required_argument, 0, 'K'},
        {"help", no_argument, 0, 'h'},            {0, 0, 0, 0},
    };
    int c, rc = 0;
    optind = 1;
    opterr = 0;
    o->meta = 1;
    while (!rc && (c = getopt_long(argc, argv, "p:o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'p': rc = add_to(&o->params, &o->n_params, optarg); break;
        case 't': rc = add_to(&o->targets, &o->n_targets, optarg); break;
        case 'w': o->weight_col = optarg; break;
        case 'o': o->output = optarg; break;
        case 'f': o->format = optarg; break;
        case 'P': o->protocol = optarg; break;
        case 'c': o->compress = optarg; break;
        case 'V': o->version = optarg; break;
        case 'M': o->meta = 0; break;
        case 'N': o->versioned = 1; break;
        case 'K': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 2 || v > 1000) rc = cli_usage_error(cmd, "--cv takes 2..1000 folds, not '%s'", optarg);
            else o->cv = (size_t)v;
            break;
        }
        case 'h': fputs(help, stdout); return -1;
        default: rc = cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!rc && argc - optind != 2) rc = cli_usage_error(cmd, "expected ESTIMATOR DATA (see brine train --help)");
    if (!rc && !o->output) rc = cli_usage_error(cmd, "missing -o OUT");
    if (!rc) {
        o->estimator = argv[optind];
        o->data = argv[optind + 1];
    }
    return rc;
}

/* ---------------------------------------------------------------- run */

static int load_table(const options *o, table *t) {
    int named_set = is_builtin(o->data) && access(o->data, F_OK) != 0;
    char *path = named_set ? builtin_path(o->data) : strdup(o->data);
    if (!path) return cli_fail(cmd, o->data, "out of memory");
    bi_input in = {0};
    int rc = cli_read_input(cmd, path, &in);
    bi_csv csv = {0};
    brine_error err;
    brine_error_clear(&err);
    if (!rc && bi_csv_parse(&csv, in.data, in.size, NULL, &err)) rc = cli_report(cmd, path, &err);
    if (!rc) rc = read_table(named_set ? path : o->data, o, named_set, &csv, t);
    if (!rc) {
        char hex[65];
        if (!brine_sha256_memory(hex, in.data, in.size, &err)) t->data_sha256 = strdup(hex);
    }
    /* Text labels point into the CSV: copy them before it goes. */
    for (size_t i = 0; !rc && i < t->n_rows * t->n_outputs; i++)
        if (t->y[i].kind == BRINE_LABEL_STR) {
            char *s = malloc(t->y[i].len + 1);
            if (!s) rc = cli_fail(cmd, o->data, "out of memory");
            else memcpy(s, t->y[i].s, t->y[i].len), s[t->y[i].len] = '\0', t->y[i].s = s;
        }
    bi_csv_free(&csv);
    bi_input_release(&in);
    free(path);
    return rc;
}

static void free_labels(table *t) {
    for (size_t i = 0; t->y && i < t->n_rows * t->n_outputs; i++)
        if (t->y[i].kind == BRINE_LABEL_STR) free((char *)t->y[i].s);
}

typedef struct cv_result {
    double *scores;
    size_t n;
    double mean, std;
    const char *metric; /* "accuracy" or "r2" */
} cv_result;

/* numpy's mean and (population) std of the fold scores. */
static void cv_summary(cv_result *r) {
    double s = 0.0, q = 0.0;
    for (size_t i = 0; i < r->n; i++) s += r->scores[i];
    r->mean = s / (double)r->n;
    for (size_t i = 0; i < r->n; i++) q += (r->scores[i] - r->mean) * (r->scores[i] - r->mean);
    r->std = sqrt(q / (double)r->n);
}

static int cross_validate(const options *o, const brine_model *m, const brine_train_data *d,
                          const brine_train_options *to, cv_result *r) {
    r->n = o->cv;
    r->scores = calloc(o->cv, sizeof *r->scores);
    if (!r->scores) return cli_fail(cmd, o->data, "out of memory");
    brine_error err;
    brine_error_clear(&err);
    brine_train_options quiet = *to;
    quiet.progress = NULL;
    if (brine_cross_val_score(r->scores, o->cv, o->estimator, d, o->params, o->n_params, &quiet, &err)) {
        cli_report(cmd, o->data, &err);
        return EXIT_ERROR;
    }
    r->metric = brine_model_is_classifier(m) ? "accuracy" : "r2";
    cv_summary(r);
    printf("cv %s (%zu folds): mean %.17g, std %.17g; folds:", r->metric, r->n, r->mean, r->std);
    for (size_t i = 0; i < r->n; i++) printf(" %.17g", r->scores[i]);
    printf("\n");
    return 0;
}

static int save(const options *o, const brine_model *m, const table *t, const cv_result *cv) {
    brine_model_save_options mo = BRINE_MODEL_SAVE_OPTIONS_INIT;
    int rc = cli_output_format(cmd, o->output, o->format, o->compress, o->protocol, &mo.file);
    char *named = NULL;
    const char *out = o->output;
    if (!rc && o->versioned && !(rc = cli_versioned_path(cmd, out, &named))) out = named;
    brine_error err;
    brine_error_clear(&err);
    const char *written = NULL;
    if (!rc && brine_model_save_version(m, NULL, &written, &err)) rc = cli_report(cmd, out, &err);
    if (!rc && brine_model_save(m, out, &mo, &err)) rc = cli_report(cmd, out, &err);
    if (!rc && o->meta) {
        char mean_name[40], std_name[40];
        snprintf(mean_name, sizeof mean_name, "cv_%s_mean", cv->metric ? cv->metric : "");
        snprintf(std_name, sizeof std_name, "cv_%s_std", cv->metric ? cv->metric : "");
        const char *names[] = {mean_name, std_name};
        double values[] = {cv->mean, cv->std};
        cli_train_info info = {t->data_sha256, t->n_rows, t->n_columns, (const char *const *)t->columns,
                               names, values, cv->n ? 2 : 0, cv->n ? "cv_scores" : NULL, cv->scores, cv->n};
        rc = cli_write_meta(cmd, out, m, written, &info);
    }
    if (!rc && o->versioned) printf("%s\n", out);
    free(named);
    return rc;
}

int cmd_train(int argc, char **argv) {
    options o = {0};
    table t = {0};
    int rc = parse_options(argc, argv, &o);
    if (!rc) rc = load_table(&o, &t);
    brine_model *m = NULL;
    cv_result cv = {0};
    if (!rc) {
        brine_train_data d = {t.x, t.n_rows, t.n_features, t.y, t.n_outputs, t.w, (const char *const *)t.names};
        brine_train_options to = BRINE_TRAIN_OPTIONS_INIT;
        to.sklearn_version = o.version;
        if (isatty(STDERR_FILENO)) to.progress = progress;
        brine_error err;
        brine_error_clear(&err);
        /* A parameter or data set sklearn would refuse is an error (2), not
         * a usage error: the command line itself was well formed. */
        if (brine_train(&m, o.estimator, &d, o.params, o.n_params, &to, &err)) {
            cli_report(cmd, o.data, &err);
            rc = EXIT_ERROR;
        }
        if (!rc && o.cv) rc = cross_validate(&o, m, &d, &to, &cv);
    }
    if (!rc) rc = save(&o, m, &t, &cv);
    free(cv.scores);
    brine_model_free(m);
    free_labels(&t);
    table_free(&t);
    free(o.params);
    free(o.targets);
    return rc < 0 ? EXIT_OK : rc;
}
