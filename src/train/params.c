/* params.c — the constructor parameters brine train accepts, checked as
 * sklearn 1.2's _parameter_constraints check them.  Anything brine would
 * not reproduce exactly (pruning, oob scores, warm starts, monotonic
 * constraints) is refused naming the parameter, never ignored. */
#include <math.h>
#include <string.h>

#include "io/error.h"
#include "pickle/value.h"
#include "train/train.h"

static const bt_estimator estimators[] = {
    {"DecisionTreeClassifier", "dt", 1, 0, 0},   {"DecisionTreeRegressor", "dtr", 0, 0, 0},
    {"ExtraTreeClassifier", "xt", 1, 0, 1},      {"ExtraTreeRegressor", "xtr", 0, 0, 1},
    {"RandomForestClassifier", "rf", 1, 1, 0},   {"RandomForestRegressor", "rfr", 0, 1, 0},
    {"ExtraTreesClassifier", "et", 1, 1, 1},     {"ExtraTreesRegressor", "etr", 0, 1, 1},
};

enum { N_ESTIMATORS = sizeof estimators / sizeof *estimators };

size_t bt_estimator_count(void) { return N_ESTIMATORS; }
const bt_estimator *bt_estimator_at(size_t i) { return i < N_ESTIMATORS ? &estimators[i] : NULL; }

const bt_estimator *bt_estimator_find(const char *name) {
    for (size_t i = 0; name && i < N_ESTIMATORS; i++)
        if (!strcmp(name, estimators[i].cls) || !strcmp(name, estimators[i].alias)) return &estimators[i];
    return NULL;
}

static const char *const tree_names[] = {"criterion", "splitter", "max_depth", "min_samples_split",
                                         "min_samples_leaf", "min_weight_fraction_leaf", "max_features",
                                         "random_state", "max_leaf_nodes", "min_impurity_decrease",
                                         "class_weight", "ccp_alpha", NULL};
static const char *const tree_names_14[] = {"criterion", "splitter", "max_depth", "min_samples_split",
                                            "min_samples_leaf", "min_weight_fraction_leaf", "max_features",
                                            "random_state", "max_leaf_nodes", "min_impurity_decrease",
                                            "class_weight", "ccp_alpha", "monotonic_cst", NULL};
static const char *const forest_names[] = {"n_estimators", "criterion", "max_depth", "min_samples_split",
                                           "min_samples_leaf", "min_weight_fraction_leaf", "max_features",
                                           "max_leaf_nodes", "min_impurity_decrease", "bootstrap", "oob_score",
                                           "n_jobs", "random_state", "verbose", "warm_start", "class_weight",
                                           "ccp_alpha", "max_samples", NULL};
static const char *const forest_names_14[] = {
    "n_estimators", "criterion", "max_depth", "min_samples_split", "min_samples_leaf", "min_weight_fraction_leaf",
    "max_features", "max_leaf_nodes", "min_impurity_decrease", "bootstrap", "oob_score", "n_jobs", "random_state",
    "verbose", "warm_start", "class_weight", "ccp_alpha", "max_samples", "monotonic_cst", NULL};

const char *const *bt_param_names(const bt_estimator *e, int version) {
    int v14 = version >= 10400;
    if (e->forest) return v14 ? forest_names_14 : forest_names;
    return v14 ? tree_names_14 : tree_names;
}

void bt_config_defaults(bt_config *cfg, const bt_estimator *e, int version) {
    memset(cfg, 0, sizeof *cfg);
    cfg->cls = e->cls;
    cfg->classifier = e->classifier;
    cfg->forest = e->forest;
    cfg->extra = e->extra;
    cfg->version = version;
    cfg->criterion = e->classifier ? BT_GINI : BT_MSE;
    cfg->random_splitter = e->extra;
    cfg->max_depth = -1;
    cfg->mss = 2;
    cfg->msl = 1;
    cfg->max_leaf_nodes = -1;
    cfg->random_state = -1;
    cfg->n_estimators = 100;
    cfg->bootstrap = e->forest && !e->extra;
    /* max_features: DecisionTree* None; ExtraTreeClassifier and the
     * classifier forests "sqrt"; ExtraTreeRegressor and regressor forests 1.0. */
    if (e->classifier && (e->forest || e->extra)) cfg->mf_kind = BT_MF_SQRT;
    else if (e->forest || e->extra) cfg->mf_kind = BT_MF_FLOAT, cfg->mf_float = 1.0;
    else cfg->mf_kind = BT_MF_NONE;
}

/* ----------------------------------------------------------- values */

static int is_int(const bv *v) { return v->kind == BRINE_INT; }
static int is_float(const bv *v) { return v->kind == BRINE_FLOAT; }
static int is_none(const bv *v) { return v->kind == BRINE_NONE; }

static brine_status bad(brine_error *err, const bt_config *cfg, const char *name, const char *want) {
    return bi_fail(err, BRINE_E_ARGUMENT, -1, "%s: parameter %s must be %s", cfg->cls, name, want);
}

/* An int that fits int64 in [lo, hi] (hi < 0: unbounded). */
static int int_in(const bv *v, int64_t lo, int64_t hi, int64_t *out) {
    int64_t i;
    if (!is_int(v) || !bv_get_i64(v, &i) || i < lo || (hi >= 0 && i > hi)) return 0;
    *out = i;
    return 1;
}

static int str_is(const bv *v, const char *s) { return v->kind == BRINE_STR && bv_is_str(v, s); }

static brine_status set_criterion(bt_config *cfg, const bv *v, brine_error *err) {
    static const struct { const char *name; bt_criterion_kind kind; int classifier; } table[] = {
        {"gini", BT_GINI, 1},          {"entropy", BT_ENTROPY, 1},       {"log_loss", BT_ENTROPY, 1},
        {"squared_error", BT_MSE, 0},  {"friedman_mse", BT_FRIEDMAN_MSE, 0}, {"poisson", BT_POISSON, 0},
        {"absolute_error", BT_MAE, 0},
    };
    for (size_t k = 0; k < sizeof table / sizeof *table; k++)
        if (table[k].classifier == cfg->classifier && str_is(v, table[k].name)) {
            if (table[k].kind == BT_MAE && cfg->version >= 10800)
                return bi_fail(err, BRINE_E_UNSUPPORTED, -1,
                               "%s: criterion='absolute_error' changed in scikit-learn 1.8 and brine reproduces "
                               "only the 1.2-1.7 algorithm; choose --sklearn-version 1.7 or older",
                               cfg->cls);
            cfg->criterion = table[k].kind;
            return BRINE_OK;
        }
    return bad(err, cfg, "criterion",
               cfg->classifier ? "one of 'gini', 'entropy', 'log_loss'"
                               : "one of 'squared_error', 'friedman_mse', 'absolute_error', 'poisson'");
}

/* min_samples_split / min_samples_leaf: an int, or a fraction. */
static brine_status set_min_samples(bt_config *cfg, const char *name, const bv *v, brine_error *err) {
    int split = !strcmp(name, "min_samples_split");
    int64_t *i = split ? &cfg->mss : &cfg->msl;
    double *f = split ? &cfg->mss_f : &cfg->msl_f;
    int *isf = split ? &cfg->mss_float : &cfg->msl_float;
    if (int_in(v, split ? 2 : 1, -1, i)) {
        *isf = 0;
        return BRINE_OK;
    }
    /* sklearn reads the int 1 as the fraction 1.0's interval allows, then as an int. */
    if (split && int_in(v, 1, 1, i)) {
        *isf = 0;
        return BRINE_OK;
    }
    if (is_float(v) && v->u.f > 0.0 && (split ? v->u.f <= 1.0 : v->u.f < 1.0)) {
        *f = v->u.f;
        *isf = 1;
        return BRINE_OK;
    }
    return bad(err, cfg, name, split ? "an int >= 2 or a float in (0, 1]" : "an int >= 1 or a float in (0, 1)");
}

static brine_status set_max_features(bt_config *cfg, const bv *v, brine_error *err) {
    if (is_none(v)) cfg->mf_kind = BT_MF_NONE;
    else if (str_is(v, "sqrt")) cfg->mf_kind = BT_MF_SQRT;
    else if (str_is(v, "log2")) cfg->mf_kind = BT_MF_LOG2;
    else if (str_is(v, "auto") && cfg->version < 10300) cfg->mf_kind = BT_MF_AUTO;
    else if (int_in(v, 1, -1, &cfg->mf_int)) cfg->mf_kind = BT_MF_INT;
    else if (is_float(v) && v->u.f > 0.0 && v->u.f <= 1.0) cfg->mf_kind = BT_MF_FLOAT, cfg->mf_float = v->u.f;
    else
        return bad(err, cfg, "max_features",
                   cfg->version < 10300 ? "None, 'sqrt', 'log2', 'auto', an int >= 1 or a float in (0, 1]"
                                        : "None, 'sqrt', 'log2', an int >= 1 or a float in (0, 1]");
    return BRINE_OK;
}

static int is_label_key(const bv *k) { return k->kind == BRINE_INT || k->kind == BRINE_FLOAT || k->kind == BRINE_STR || k->kind == BRINE_BOOL; }

static int weight_dict(const bv *d) {
    if (d->kind != BRINE_DICT) return 0;
    for (size_t i = 0; i < d->u.seq.n; i++) {
        const bv *k = d->u.seq.items[2 * i], *w = d->u.seq.items[2 * i + 1];
        if (!is_label_key(k) || (w->kind != BRINE_INT && w->kind != BRINE_FLOAT)) return 0;
        if (w->kind == BRINE_INT && (w->flags & BV_F_BIGINT)) return 0;
    }
    return 1;
}

static brine_status set_class_weight(bt_config *cfg, const bv *v, brine_error *err) {
    if (!cfg->classifier) return bi_fail(err, BRINE_E_ARGUMENT, -1, "%s has no parameter class_weight", cfg->cls);
    if (is_none(v)) {
        cfg->cw_kind = BT_CW_NONE;
    } else if (str_is(v, "balanced")) {
        cfg->cw_kind = BT_CW_BALANCED;
    } else if (str_is(v, "balanced_subsample") && cfg->forest) {
        cfg->cw_kind = BT_CW_SUBSAMPLE;
    } else if (weight_dict(v)) {
        cfg->cw_kind = BT_CW_DICT;
        cfg->class_weight = v;
    } else if (v->kind == BRINE_LIST) {
        for (size_t i = 0; i < v->u.seq.n; i++)
            if (!weight_dict(v->u.seq.items[i])) return bad(err, cfg, "class_weight", "a list of {label: weight} dicts");
        cfg->cw_kind = BT_CW_DICT;
        cfg->class_weight = v;
    } else {
        return bad(err, cfg, "class_weight",
                   cfg->forest ? "None, 'balanced', 'balanced_subsample', a {label: weight} dict or a list of them"
                               : "None, 'balanced', a {label: weight} dict or a list of them");
    }
    return BRINE_OK;
}

static brine_status set_max_samples(bt_config *cfg, const bv *v, brine_error *err) {
    if (is_none(v)) cfg->ms_kind = BT_MS_NONE;
    else if (int_in(v, 1, -1, &cfg->ms_int)) cfg->ms_kind = BT_MS_INT;
    else if (is_float(v) && v->u.f > 0.0 && v->u.f <= 1.0) cfg->ms_kind = BT_MS_FLOAT, cfg->ms_float = v->u.f;
    else return bad(err, cfg, "max_samples", "None, an int >= 1 or a float in (0, 1]");
    return BRINE_OK;
}

static brine_status set_bool(bt_config *cfg, const char *name, const bv *v, int *out, brine_error *err) {
    if (v->kind != BRINE_BOOL) return bad(err, cfg, name, "True or False");
    *out = (int)v->u.i;
    return BRINE_OK;
}

/* Parameters brine accepts only at the value that changes nothing. */
static brine_status only_default(bt_config *cfg, const char *name, const bv *v, brine_error *err) {
    int ok = 0, b = 0;
    if (!strcmp(name, "ccp_alpha")) ok = (is_float(v) && v->u.f == 0.0) || (is_int(v) && v->u.i == 0);
    else if (!strcmp(name, "monotonic_cst")) ok = is_none(v);
    else if (!strcmp(name, "oob_score") || !strcmp(name, "warm_start")) ok = !set_bool(cfg, name, v, &b, err) && !b;
    if (ok) return BRINE_OK;
    return bi_fail(err, BRINE_E_UNSUPPORTED, -1, "%s: brine train does not support %s (only its default)", cfg->cls,
                   name);
}

brine_status bt_config_set(bt_config *cfg, const char *name, const bv *v, brine_error *err) {
    int64_t i;
    if (!strcmp(name, "criterion")) return set_criterion(cfg, v, err);
    if (!strcmp(name, "splitter")) {
        if (str_is(v, "best")) cfg->random_splitter = 0;
        else if (str_is(v, "random")) cfg->random_splitter = 1;
        else return bad(err, cfg, name, "'best' or 'random'");
        return BRINE_OK;
    }
    if (!strcmp(name, "max_depth")) {
        if (is_none(v)) cfg->max_depth = -1;
        else if (int_in(v, 1, -1, &i)) cfg->max_depth = i;
        else return bad(err, cfg, name, "None or an int >= 1");
        return BRINE_OK;
    }
    if (!strcmp(name, "min_samples_split") || !strcmp(name, "min_samples_leaf")) return set_min_samples(cfg, name, v, err);
    if (!strcmp(name, "min_weight_fraction_leaf")) {
        double f = is_float(v) ? v->u.f : is_int(v) ? (double)v->u.i : -1.0;
        if (!(f >= 0.0 && f <= 0.5) || (is_int(v) && (v->flags & BV_F_BIGINT))) return bad(err, cfg, name, "a float in [0, 0.5]");
        cfg->min_weight_fraction_leaf = f;
        return BRINE_OK;
    }
    if (!strcmp(name, "max_features")) return set_max_features(cfg, v, err);
    if (!strcmp(name, "max_leaf_nodes")) {
        if (is_none(v)) cfg->max_leaf_nodes = -1;
        else if (int_in(v, 2, -1, &i)) cfg->max_leaf_nodes = i;
        else return bad(err, cfg, name, "None or an int >= 2");
        return BRINE_OK;
    }
    if (!strcmp(name, "min_impurity_decrease")) {
        double f = is_float(v) ? v->u.f : is_int(v) ? (double)v->u.i : -1.0;
        if (!(f >= 0.0) || isinf(f)) return bad(err, cfg, name, "a float >= 0");
        cfg->min_impurity_decrease = f;
        return BRINE_OK;
    }
    if (!strcmp(name, "random_state")) {
        if (is_none(v)) cfg->random_state = -1;
        else if (int_in(v, 0, 0xFFFFFFFFLL, &i)) cfg->random_state = i;
        else return bad(err, cfg, name, "None or an int in [0, 2**32 - 1]");
        return BRINE_OK;
    }
    if (!strcmp(name, "class_weight")) return set_class_weight(cfg, v, err);
    if (!strcmp(name, "n_estimators")) {
        if (!int_in(v, 1, 1000000, &cfg->n_estimators)) return bad(err, cfg, name, "an int in [1, 1000000]");
        return BRINE_OK;
    }
    if (!strcmp(name, "bootstrap")) return set_bool(cfg, name, v, &cfg->bootstrap, err);
    if (!strcmp(name, "max_samples")) return set_max_samples(cfg, v, err);
    if (!strcmp(name, "n_jobs")) {
        if (is_none(v)) cfg->n_jobs = 0;
        else if (is_int(v) && bv_get_i64(v, &i) && i != 0 && i >= -1024 && i <= 1024) cfg->n_jobs = i;
        else return bad(err, cfg, name, "None or a non-zero int");
        return BRINE_OK;
    }
    if (!strcmp(name, "verbose")) {
        if (!is_int(v)) return bad(err, cfg, name, "an int");
        return BRINE_OK;
    }
    return only_default(cfg, name, v, err);
}
