/* layout.c — the one table of sklearn layouts brine writes, and why each
 * row may be trusted.
 *
 * CONVENTIONS: brine writes a layout only after its tests have verified it,
 * by loading the file in a real sklearn of that version or field by field
 * against real files of that version.  A row here is such a verification:
 * one estimator class at one sklearn version.  Classes are listed one by one
 * because their key orders really do differ: RandomForestClassifier 1.8.0
 * stores monotonic_cst before ccp_alpha, RandomForestRegressor 1.5.1 and
 * ExtraTreesClassifier 1.7.2 after it.  A forest row also vouches for the
 * tree estimators inside it (its members and its template), which sklearn
 * builds as ordinary tree estimators of the same version.
 *
 * What each row was checked against (tests/interop/test_tree_save.py):
 *   1.2.1  Debian's sklearn 1.2.1 loads brine's files and gives bit-identical
 *          predict, predict_proba and apply, equal get_params(), and state
 *          dicts with sklearn's own keys in sklearn's own order (including
 *          feature_names_in_ and the oob_* attributes);
 *   1.5.1  wild file 059 (RandomForestRegressor and its trees);
 *   1.6.1  wild file 067 (the DecisionTreeRegressor members of a
 *          GradientBoostingRegressor);
 *   1.7.2  wild file 072 (ExtraTreesClassifier and its ExtraTreeClassifier
 *          members);
 *   1.8.0  wild files 088 (RandomForestClassifier, fitted on named columns)
 *          and 082 (the DecisionTreeClassifier members of an AdaBoost).
 * BE_KEEP_* marks optional keys whose place the evidence shows: every
 * 1.2.1 class was fitted here with feature names and (forests) oob_score;
 * of the newer files only 088 has feature_names_in_, and none has oob_*.
 * Adding a row means adding its evidence to that test first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"

/* Parameters of the tree estimators, in sklearn's __init__ order. */
static const char *const tree_params_12[] = {
    "criterion", "splitter", "max_depth", "min_samples_split", "min_samples_leaf", "min_weight_fraction_leaf",
    "max_features", "max_leaf_nodes", "random_state", "min_impurity_decrease", "class_weight", "ccp_alpha", NULL};
static const char *const tree_params_14[] = {
    "criterion", "splitter", "max_depth", "min_samples_split", "min_samples_leaf", "min_weight_fraction_leaf",
    "max_features", "max_leaf_nodes", "random_state", "min_impurity_decrease", "class_weight", "ccp_alpha",
    "monotonic_cst", NULL};

/* A forest's estimator_params: what it copies onto each member. */
static const char *const member_params_12[] = {
    "criterion", "max_depth", "min_samples_split", "min_samples_leaf", "min_weight_fraction_leaf", "max_features",
    "max_leaf_nodes", "min_impurity_decrease", "random_state", "ccp_alpha", NULL};
static const char *const member_params_14[] = {
    "criterion", "max_depth", "min_samples_split", "min_samples_leaf", "min_weight_fraction_leaf", "max_features",
    "max_leaf_nodes", "min_impurity_decrease", "random_state", "ccp_alpha", "monotonic_cst", NULL};

/* A forest's own keys up to its fitted attributes.  "estimator",
 * "estimator_params" and "base_estimator" are filled by the writer (the
 * template, the tuple above, the string 'deprecated'); the rest are
 * parameters. */
static const char *const forest_params_12[] = {
    "estimator", "n_estimators", "estimator_params", "base_estimator", "bootstrap", "oob_score", "n_jobs",
    "random_state", "verbose", "warm_start", "class_weight", "max_samples", "criterion", "max_depth",
    "min_samples_split", "min_samples_leaf", "min_weight_fraction_leaf", "max_features", "max_leaf_nodes",
    "min_impurity_decrease", "ccp_alpha", NULL};
static const char *const forest_params_14[] = {
    "estimator", "n_estimators", "estimator_params", "bootstrap", "oob_score", "n_jobs", "random_state", "verbose",
    "warm_start", "class_weight", "max_samples", "criterion", "max_depth", "min_samples_split", "min_samples_leaf",
    "min_weight_fraction_leaf", "max_features", "max_leaf_nodes", "min_impurity_decrease", "ccp_alpha",
    "monotonic_cst", NULL};
/* RandomForestClassifier.__init__ assigns monotonic_cst first (088). */
static const char *const forest_params_14_rfc[] = {
    "estimator", "n_estimators", "estimator_params", "bootstrap", "oob_score", "n_jobs", "random_state", "verbose",
    "warm_start", "class_weight", "max_samples", "criterion", "max_depth", "min_samples_split", "min_samples_leaf",
    "min_weight_fraction_leaf", "max_features", "max_leaf_nodes", "min_impurity_decrease", "monotonic_cst",
    "ccp_alpha", NULL};

#define TREE12(cls) {"1.2.1", cls, BE_GEN_12, tree_params_12, NULL, NULL, BE_KEEP_NAMES | BE_KEEP_OOB, "sklearn 1.2.1"}
#define FOREST12(cls)                                                                                          \
    {"1.2.1", cls, BE_GEN_12, forest_params_12, tree_params_12, member_params_12, BE_KEEP_NAMES | BE_KEEP_OOB, \
     "sklearn 1.2.1"}
#define TREE14(v, cls, keep, why) {v, cls, BE_GEN_14, tree_params_14, NULL, NULL, keep, why}
#define FOREST14(v, cls, params, keep, why) {v, cls, BE_GEN_14, params, tree_params_14, member_params_14, keep, why}

/* Sorted by version; the last row of a class is its newest layout. */
static const be_layout layouts[] = {
    TREE12("DecisionTreeClassifier"),
    TREE12("DecisionTreeRegressor"),
    TREE12("ExtraTreeClassifier"),
    TREE12("ExtraTreeRegressor"),
    FOREST12("RandomForestClassifier"),
    FOREST12("RandomForestRegressor"),
    FOREST12("ExtraTreesClassifier"),
    FOREST12("ExtraTreesRegressor"),
    FOREST14("1.5.1", "RandomForestRegressor", forest_params_14, 0, "wild file 059"),
    TREE14("1.5.1", "DecisionTreeRegressor", 0, "wild file 059 (its members)"),
    TREE14("1.6.1", "DecisionTreeRegressor", 0, "wild file 067 (GradientBoostingRegressor members)"),
    FOREST14("1.7.2", "ExtraTreesClassifier", forest_params_14, 0, "wild file 072"),
    TREE14("1.7.2", "ExtraTreeClassifier", 0, "wild file 072 (its members)"),
    FOREST14("1.8.0", "RandomForestClassifier", forest_params_14_rfc, BE_KEEP_NAMES, "wild file 088"),
    TREE14("1.8.0", "DecisionTreeClassifier", 0, "wild files 088 and 082 (their members)"),
};

enum { N_LAYOUTS = sizeof layouts / sizeof *layouts };

size_t be_layout_count(void) { return N_LAYOUTS; }

const be_layout *be_layout_at(size_t i) { return i < N_LAYOUTS ? &layouts[i] : NULL; }

const be_layout *be_layout_find(const char *cls, const char *version) {
    for (size_t i = 0; i < N_LAYOUTS; i++)
        if (!strcmp(layouts[i].cls, cls) && version && !strcmp(layouts[i].version, version)) return &layouts[i];
    return NULL;
}

const be_layout *be_layout_newest(const char *cls) {
    const be_layout *best = NULL;
    for (size_t i = 0; i < N_LAYOUTS; i++)
        if (!strcmp(layouts[i].cls, cls)) best = &layouts[i];
    return best;
}

size_t be_layout_versions(const char *cls, const char **out, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < N_LAYOUTS; i++) {
        if (strcmp(layouts[i].cls, cls)) continue;
        if (n < max) out[n] = layouts[i].version;
        n++;
    }
    return n;
}

/* "1.2.1, 1.8.0" for messages. */
static void version_list(const char *cls, char *buf, size_t size) {
    const char *v[N_LAYOUTS];
    size_t n = be_layout_versions(cls, v, N_LAYOUTS), used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < n && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", k ? ", " : "", v[k]);
}

/* Whether the model's optional keys have a verified place in lay. */
static int admits(const brine_model *m, const be_layout *lay) {
    return (!m->n_feature_names || (lay->keeps & BE_KEEP_NAMES)) && (!be_has_oob(m) || (lay->keeps & BE_KEEP_OOB));
}

/* The newest layout of the model's class that can hold it, or NULL. */
static const be_layout *newest_admitting(const brine_model *m) {
    const be_layout *best = NULL;
    for (size_t i = 0; i < N_LAYOUTS; i++)
        if (!strcmp(layouts[i].cls, m->short_name) && admits(m, &layouts[i])) best = &layouts[i];
    return best;
}

brine_status be_layout_choose(const brine_model *m, const char *requested, const be_layout **out, brine_error *err) {
    char list[160];
    *out = NULL;
    const be_layout *lay = be_layout_find(m->short_name, requested ? requested : m->sklearn_version);
    if (!requested && (!lay || !admits(m, lay))) lay = newest_admitting(m);
    if (!lay) {
        version_list(m->short_name, list, sizeof list);
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m,
                              "brine has not verified sklearn %s's layout for this estimator, so it does not "
                              "write it; verified: %s",
                              requested ? requested : "any", list);
    }
    *out = lay;
    return BRINE_OK;
}

brine_status be_layout_admits(const brine_model *m, const be_layout *lay, brine_error *err) {
    const char *why = NULL;
    if (m->n_feature_names && !(lay->keeps & BE_KEEP_NAMES)) why = "feature_names_in_";
    else if (be_has_oob(m) && !(lay->keeps & BE_KEEP_OOB)) why = "the oob_score_ attributes";
    if (!why) return BRINE_OK;
    char list[160];
    size_t n = 0;
    list[0] = '\0';
    for (size_t i = 0; i < N_LAYOUTS; i++) {
        const be_layout *l = &layouts[i];
        if (!strcmp(l->cls, m->short_name) && admits(m, l) && n < sizeof list)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", l->version);
    }
    return be_fail_status(err, BRINE_E_UNSUPPORTED, m,
                          "where sklearn %s stores %s is not verified, so brine does not write this model in "
                          "that layout; verified for it: %s",
                          lay->version, why, n ? list : "none");
}

/* ------------------------------------------- classes written back verbatim
 *
 * Estimators whose family has no writer of its own (linear models, scalers,
 * pipelines, boosting, ...) are written back as the file held them: the
 * same object graph at the file's own version, never re-targeted.  What
 * brine vouches for there is the reading: every such class is fitted by
 * Debian's sklearn 1.2.1 in its interop test, predicted with and written
 * back (so 1.2.1 is listed for all of them), and the rows below are the
 * real files of other versions that tests/interop checks against an
 * independent numpy evaluation of their own arrays (wild NNN). */
typedef struct read_check {
    const char *cls, *version, *evidence;
} read_check;

static const read_check read_checks[] = {
    {"AdaBoostClassifier", "1.8.0", "wild 082"},
    {"ColumnTransformer", "1.3.0", "wild 050"},
    {"ColumnTransformer", "1.6.1", "wild 065"},
    {"GaussianNB", "0.18.1", "wild 009"},
    {"GaussianNB", "1.8.0", "wild 087"},
    {"GradientBoostingClassifier", "1.4.0", "wild 055 (a member, pickled alone)"},
    {"GradientBoostingRegressor", "1.6.1", "wild 067"},
    {"GridSearchCV", "1.7.2", "wild 070"},
    {"HistGradientBoostingClassifier", "1.4.0", "wild 055 (a member, pickled alone)"},
    {"HistGradientBoostingRegressor", "1.6.1", "wild 068"},
    {"KMeans", "1.6.1", "wild 061"},
    {"KNeighborsClassifier", "0.19.1", "wild 013"},
    {"KNeighborsRegressor", "1.5.1", "wild 058"},
    {"LabelEncoder", "1.7.2", "wild 073"},
    {"LinearRegression", "0.20.2", "wild 019"},
    {"LinearRegression", "0.22.1", "wild 027"},
    {"LinearRegression", "0.24.1", "wild 031"},
    {"LinearRegression", "1.7.2", "wild 081"},
    {"LinearSVC", "0.19.2", "wild 017"},
    {"LogisticRegression", "0.19.1", "wild 015"},
    {"LogisticRegression", "0.24.1", "wild 034"},
    {"LogisticRegression", "1.7.2", "wild 078"},
    {"MLPClassifier", "0.18.1", "wild 010"},
    {"MLPClassifier", "1.3.2", "wild 053"},
    {"MultinomialNB", "0.21.3", "wild 024"},
    {"OrdinalEncoder", "1.6.1", "wild 066"},
    {"Pipeline", "1.2.2", "wild 047"},
    {"SGDClassifier", "0.24.2", "wild 038"},
    {"SVC", "0.20.3", "wild 020"},
    {"StandardScaler", "0.24.1", "wild 032"},
    {"StandardScaler", "1.3.2", "wild 054"},
    {"StandardScaler", "1.7.2", "wild 080"},
    {"TfidfVectorizer", "0.21.3", "wild 025 (test_text.py: its own vocabulary and idf matrix)"},
};
#define N_READ_CHECKS (sizeof read_checks / sizeof *read_checks)
static const char checked_everywhere[] = "1.2.1";

int be_read_checked(const char *cls, const char *version) {
    if (!cls || !version) return 0;
    if (!strcmp(version, checked_everywhere)) return 1;
    for (size_t i = 0; i < N_READ_CHECKS; i++)
        if (!strcmp(read_checks[i].cls, cls) && !strcmp(read_checks[i].version, version)) return 1;
    return 0;
}

/* Versions compare as dotted numbers ("0.24.1" < "1.2.1" < "1.10.0"). */
static int version_cmp(const char *a, const char *b) {
    while (*a || *b) {
        unsigned long x = strtoul(a, (char **)&a, 10), y = strtoul(b, (char **)&b, 10);
        if (x != y) return x < y ? -1 : 1;
        if (*a == '.') a++;
        if (*b == '.') b++;
        if (!*a != !*b) return *a ? 1 : -1;
        if (*a && !(*a >= '0' && *a <= '9')) break;
    }
    return strcmp(a, b);
}

size_t be_read_checked_versions(const char *cls, const char **out, size_t max) {
    const char *found[N_READ_CHECKS + 1];
    size_t n = 0;
    found[n++] = checked_everywhere;
    for (size_t i = 0; i < N_READ_CHECKS; i++) {
        if (strcmp(read_checks[i].cls, cls)) continue;
        size_t j = n++;
        while (j > 0 && version_cmp(found[j - 1], read_checks[i].version) > 0) {
            found[j] = found[j - 1];
            j--;
        }
        found[j] = read_checks[i].version;
    }
    for (size_t i = 0; out && i < n && i < max; i++) out[i] = found[i];
    return n;
}

int be_model_verbatim(const brine_model *m) { return m && m->cls && !m->cls->family->save; }

size_t be_model_versions(const brine_model *m, const char **out, size_t max) {
    return be_model_verbatim(m) ? be_read_checked_versions(m->short_name, out, max)
                                : be_layout_versions(m->short_name, out, max);
}
