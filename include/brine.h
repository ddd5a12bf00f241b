/*
 * brine.h — the whole public C API of libbrine.
 *
 * brine loads, inspects and saves Python pickle and joblib files of the kind
 * scikit-learn users write, without Python and without ever executing what a
 * file says.  A file is read into an immutable *value graph* (None, ints,
 * strings, containers, NumPy arrays, opaque objects with their state) in which
 * shared references and cycles are preserved.  Globals named by a file are
 * resolved only against brine's allowlist of reconstructors it implements;
 * anything else is refused with an error that names the global and its byte
 * offset.
 *
 * Conventions used throughout:
 *  - Every fallible function returns a brine_status; BRINE_OK (0) is success.
 *  - Every fallible function takes a caller-owned brine_error *err (may be
 *    NULL) which, on failure, receives the status, the absolute byte offset of
 *    the fault (-1 when none applies), the container member it lies in and a
 *    one-sentence message.  There is no global "last error".
 *  - Outputs come first and are named `out`.  What a function returns through
 *    a pointer-to-pointer belongs to the caller and is released with that
 *    type's own free function; every free function accepts NULL.  Pointers
 *    returned directly (const brine_value *, const char *) are borrowed from
 *    their parent and live exactly as long as it does.
 *  - Thread rule: a brine_file is immutable once opened; any number of
 *    threads may read it and its values at once.  There is no global state.
 *  - Options structs start with a version field; zero in any other field
 *    means "the documented default".  Initialise them with the _INIT macros.
 *
 * Anything not declared in this header is not part of the API.
 */
#ifndef BRINE_H
#define BRINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; everything declared here
 * is exported. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* ---------------------------------------------------------------- version */

#define BRINE_VERSION_MAJOR 0
#define BRINE_VERSION_MINOR 1
#define BRINE_VERSION_PATCH 0
#define BRINE_VERSION_STRING "0.1.0"
#define BRINE_VERSION_NUMBER \
    (BRINE_VERSION_MAJOR * 10000 + BRINE_VERSION_MINOR * 100 + BRINE_VERSION_PATCH)

/* Run-time twins of the macros above, so a caller can check that the header
 * it was compiled with matches the library it runs with. */
const char *brine_version(void);
int brine_version_number(void);

/* ----------------------------------------------------------------- status */

/* Stable status codes.  Values are pinned once published and never
 * renumbered; new codes are added before BRINE_STATUS_COUNT_. */
typedef enum brine_status {
    BRINE_OK = 0,
    BRINE_E_IO = 1,          /* a file could not be opened, read or written */
    BRINE_E_FORMAT = 2,      /* input is malformed, truncated or inconsistent */
    BRINE_E_UNSUPPORTED = 3, /* input is valid but uses something brine lacks */
    BRINE_E_GLOBAL = 4,      /* a global outside the allowlist was refused */
    BRINE_E_LIMIT = 5,       /* a configured limit was hit (see options) */
    BRINE_E_NOMEM = 6,       /* memory allocation failed */
    BRINE_E_ARGUMENT = 7,    /* the caller passed an invalid argument */
    BRINE_E_TYPE = 8,        /* a value is not of the kind the caller asked */
    BRINE_STATUS_COUNT_      /* sentinel; do not test against it */
} brine_status;

/* Stable upper-case name of a status ("BRINE_E_FORMAT"); "BRINE_E_UNKNOWN"
 * for values outside the enum. */
const char *brine_status_name(brine_status status);

/* The process exit code the brine command uses for a status, per
 * CONVENTIONS: 0 success, 2 errors, 64 bad usage (BRINE_E_ARGUMENT). */
int brine_status_exit_code(brine_status status);

/* ------------------------------------------------------------------ error */

#define BRINE_ERROR_MESSAGE_SIZE 512
#define BRINE_ERROR_WHERE_SIZE 160

/* Filled by a failing call; owned by the caller (stack allocation is fine).
 * A successful call leaves it untouched. */
typedef struct brine_error {
    brine_status status;
    /* Absolute byte offset of the fault within the stream named by `where`
     * (for compressed files: the offset in the decompressed stream), or -1. */
    int64_t offset;
    /* Container member the offset refers to, e.g. "gzip stream", a sidecar
     * file name, "nested pickle at 1234"; empty when the file is plain. */
    char where[BRINE_ERROR_WHERE_SIZE];
    /* One sentence: what was found, and what was expected. */
    char message[BRINE_ERROR_MESSAGE_SIZE];
} brine_error;

/* Reset an error to BRINE_OK, offset -1, empty strings.  NULL is ignored. */
void brine_error_clear(brine_error *err);

/* ---------------------------------------------------------- enumerations */

typedef enum brine_format {
    BRINE_FORMAT_PICKLE = 0, /* one plain pickle stream */
    BRINE_FORMAT_JOBLIB = 1  /* joblib: pickle with arrays spliced after wrappers */
} brine_format;

typedef enum brine_compression {
    BRINE_COMPRESSION_NONE = 0,
    BRINE_COMPRESSION_ZLIB = 1,
    BRINE_COMPRESSION_GZIP = 2,
    BRINE_COMPRESSION_BZ2 = 3,
    BRINE_COMPRESSION_XZ = 4,
    BRINE_COMPRESSION_LZMA = 5,
    BRINE_COMPRESSION_LZ4 = 6,
    BRINE_COMPRESSION_COUNT_
} brine_compression;

/* joblib's own names: "none", "zlib", "gzip", "bz2", "xz", "lzma", "lz4". */
const char *brine_compression_name(brine_compression c);

/* Parses a CONVENTIONS compression spec: "0".."9" (zlib level, 0 = none),
 * "NAME" or "NAME:LEVEL".  *level_out is -1 for the method's default. */
brine_status brine_compression_parse(brine_compression *out, int *level_out,
                                     const char *spec, brine_error *err);

/* ---------------------------------------------------------------- options */

#define BRINE_LOAD_OPTIONS_VERSION 1

/* Limits for loading.  Zero means the default given beside each field; each
 * default accepts every legitimate file CPython loads (CONVENTIONS). */
typedef struct brine_load_options {
    unsigned version;            /* BRINE_LOAD_OPTIONS_VERSION */
    int use_mmap;                /* map uncompressed files; arrays point into
                                    the mapping, which a model from
                                    brine_model_load keeps (default 0: read).
                                    As with numpy's memmaps, a mapped file
                                    must not be truncated while in use */
    uint64_t max_input_bytes;    /* file size; default 64 GiB */
    uint64_t max_decompressed_bytes; /* output of a decompressor; default 64 GiB
                                    (multi-GB models load; bombs stop) */
    uint64_t max_graph_bytes;    /* memory for the value graph itself, array
                                    data excluded; default 16 GiB */
    uint64_t max_depth;          /* stack + mark depth and container nesting;
                                    default 10 000 000 (200 000-deep lists load) */
    uint64_t max_memo_entries;   /* distinct memo slots; default 100 000 000 */
    uint64_t max_long_bytes;     /* bytes of one LONG1/LONG4 integer; default 1 MiB */
    uint64_t max_long_digits;    /* digits of a text LONG/INT; default 4300,
                                    CPython's own int/str limit */
    uint64_t max_nested_streams; /* nested pickles (joblib object arrays,
                                    sidecar files) per load; default 1 000 000 */
    /* Unknown globals admitted for this load as inert objects, each
     * "module:qualname".  Dangerous globals are never admitted. */
    const char *const *trust;
    size_t n_trust;
    /* brine_model_load: refuse (BRINE_E_UNSUPPORTED) a model whose
     * _sklearn_version brine has not verified for its class, instead of
     * loading it (see brine_model_version_verified).  Default 0: load. */
    int strict_version;
    /* A symmetric key file (brine keygen --symmetric; docs/integrity.md)
     * with which files encrypted by brine (.enc, detected by content) are
     * decrypted while they are read, in chunks, into memory (never mapped).
     * Default NULL: an encrypted file fails with BRINE_E_UNSUPPORTED saying
     * it needs a key.  A wrong key or a changed byte: BRINE_E_FORMAT; a key
     * file that cannot be read: BRINE_E_IO.  brine_file_open_memory
     * decrypts too (the plaintext is then owned by the file). */
    const char *key_file;
    /* brine_model_load: threads that check and lay out a forest's trees
     * (RandomForest*, ExtraTrees*), each tree on one; a forest too small
     * to gain uses one.  0 or 1: only the calling thread (default);
     * BRINE_THREADS_ALL: one per online CPU.  The model, its answers and
     * any error message are the same whatever the count.  Negative values
     * other than BRINE_THREADS_ALL: BRINE_E_ARGUMENT.  Ignored by
     * brine_file_open; brine_model_load_many loads each of its files on one
     * thread when it runs several at once. */
    int n_threads;
} brine_load_options;

#define BRINE_LOAD_OPTIONS_INIT {BRINE_LOAD_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, 0, 0, NULL, 0}

#define BRINE_SAVE_OPTIONS_VERSION 1

typedef struct brine_save_options {
    unsigned version;              /* BRINE_SAVE_OPTIONS_VERSION */
    brine_format format;           /* default BRINE_FORMAT_PICKLE */
    int protocol;                  /* 2..5; 0 means 4 */
    brine_compression compression; /* joblib only; default none */
    int level;                     /* compressor level; -1 or 0 with a
                                      compressor means its joblib default */
} brine_save_options;

#define BRINE_SAVE_OPTIONS_INIT {BRINE_SAVE_OPTIONS_VERSION, BRINE_FORMAT_PICKLE, 0, BRINE_COMPRESSION_NONE, -1}

/* ------------------------------------------------------------------ files */

/* A loaded pickle or joblib file: container facts plus the value graph. */
typedef struct brine_file brine_file;

/* A node of the value graph, borrowed from its brine_file. */
typedef struct brine_value brine_value;

/* Opens and fully parses `path`.  The container is detected from content,
 * never from the name.  Legacy multi-file joblib models read their sibling
 * .npy files from the same directory (plain names only).
 * Failures: BRINE_E_IO, BRINE_E_FORMAT, BRINE_E_UNSUPPORTED, BRINE_E_GLOBAL,
 * BRINE_E_LIMIT, BRINE_E_NOMEM.  On failure *out is NULL. */
brine_status brine_file_open(brine_file **out, const char *path,
                             const brine_load_options *opts, brine_error *err);

/* As brine_file_open, from memory.  The bytes are borrowed: they must stay
 * valid and unchanged until brine_file_free.  Multi-file models cannot be
 * opened this way (BRINE_E_UNSUPPORTED). */
brine_status brine_file_open_memory(brine_file **out, const void *data, size_t size,
                                    const brine_load_options *opts, brine_error *err);

/* Releases the file and every value borrowed from it.  NULL is ignored. */
void brine_file_free(brine_file *file);

brine_format brine_file_format(const brine_file *file);
brine_compression brine_file_compression(const brine_file *file);
/* Protocol of the (outer) pickle stream: its PROTO opcode, else 0 or 1. */
int brine_file_protocol(const brine_file *file);
/* 1 when arrays point into a memory mapping of the file. */
int brine_file_is_mapped(const brine_file *file);
/* The object the outer stream's STOP returned. */
const brine_value *brine_file_root(const brine_file *file);

/* Every global the file referenced, in order of first reference. */
typedef struct brine_global_ref {
    const char *module;  /* after Python-2 renaming, e.g. "builtins" */
    const char *name;    /* qualified name, dotted names kept whole */
    int64_t offset;      /* offset of the opcode that named it */
    int stream;          /* 0 = outer stream, n = n-th nested stream */
} brine_global_ref;

size_t brine_file_global_count(const brine_file *file);
/* Borrowed; NULL when index is out of range. */
const brine_global_ref *brine_file_global(const brine_file *file, size_t index);

/* ----------------------------------------------------------------- values */

typedef enum brine_kind {
    BRINE_NONE = 0,
    BRINE_BOOL = 1,
    BRINE_INT = 2,       /* arbitrary precision */
    BRINE_FLOAT = 3,
    BRINE_COMPLEX = 4,
    BRINE_STR = 5,       /* UTF-8 (lone surrogates kept, as Python's surrogatepass) */
    BRINE_BYTES = 6,
    BRINE_BYTEARRAY = 7,
    BRINE_TUPLE = 8,
    BRINE_LIST = 9,
    BRINE_DICT = 10,
    BRINE_SET = 11,
    BRINE_FROZENSET = 12,
    BRINE_GLOBAL = 13,   /* a reference to module.qualname, never called */
    BRINE_OBJECT = 14,   /* opaque reconstructed object: class, args, state */
    BRINE_NDARRAY = 15,
    BRINE_SCALAR = 16,   /* numpy scalar: dtype + raw item bytes */
    BRINE_DTYPE = 17,
    BRINE_SLICE = 18     /* builtins.slice(start, stop, step) */
} brine_kind;

const char *brine_kind_name(brine_kind kind);
brine_kind brine_value_kind(const brine_value *v);

/* BRINE_BOOL: 0 or 1; other kinds: BRINE_E_TYPE. */
brine_status brine_value_bool(const brine_value *v, int *out);
/* BRINE_INT or BRINE_BOOL that fits int64; BRINE_E_TYPE otherwise. */
brine_status brine_value_int64(const brine_value *v, int64_t *out);
/* BRINE_FLOAT, or BRINE_INT/BRINE_BOOL exactly representable. */
brine_status brine_value_double(const brine_value *v, double *out);
/* BRINE_INT: decimal text into buf (NUL-terminated); BRINE_E_ARGUMENT when
 * buf is too small (needed size in *needed, NUL included). */
brine_status brine_value_int_text(const brine_value *v, char *buf, size_t size, size_t *needed);
/* BRINE_STR, BRINE_BYTES, BRINE_BYTEARRAY: borrowed bytes, length in *len.
 * Not NUL-terminated in general. NULL for other kinds. */
const char *brine_value_bytes(const brine_value *v, size_t *len);
/* BRINE_COMPLEX. */
brine_status brine_value_complex(const brine_value *v, double *re, double *im);

/* Number of items of a tuple, list, set, frozenset (items) or dict (pairs);
 * 0 for other kinds. */
size_t brine_value_len(const brine_value *v);
/* i-th item of a tuple, list, set or frozenset; NULL when out of range. */
const brine_value *brine_value_item(const brine_value *v, size_t i);
/* i-th key / value of a dict, in insertion order. */
const brine_value *brine_value_dict_key(const brine_value *v, size_t i);
const brine_value *brine_value_dict_value(const brine_value *v, size_t i);
/* Value of the str key `key` in a dict; NULL if absent or not a dict. */
const brine_value *brine_value_dict_get(const brine_value *v, const char *key);

/* BRINE_GLOBAL: module and qualified name.  BRINE_OBJECT: those of its class
 * (or reconstructor).  NULL otherwise. */
const char *brine_value_global(const brine_value *v, const char **name);
/* BRINE_OBJECT parts: the constructor's argument tuple (may be NULL) and the
 * state given by BUILD (may be NULL). */
const brine_value *brine_value_object_args(const brine_value *v);
const brine_value *brine_value_object_state(const brine_value *v);

/* Description of an ndarray (BRINE_NDARRAY), a numpy scalar (BRINE_SCALAR,
 * ndim 0) or a dtype (BRINE_DTYPE; shape and data empty). */
typedef struct brine_array_info {
    char kind;            /* numpy kind: b i u f c U S V O M m */
    char byteorder;       /* '<', '>' or '|' */
    size_t itemsize;      /* bytes per element */
    int structured;       /* 1 when the dtype has named fields */
    int ndim;
    const int64_t *shape; /* ndim entries, borrowed */
    int64_t count;        /* product of shape */
    int fortran;          /* 1 when data is in Fortran order */
    const void *data;     /* count * itemsize bytes; NULL for object arrays */
    size_t nbytes;
    const brine_value *dtype;   /* the BRINE_DTYPE node */
    const brine_value *objects; /* object arrays: BRINE_LIST of elements, C order */
} brine_array_info;

brine_status brine_value_array(const brine_value *v, brine_array_info *out);

/* Number of fields of a structured dtype (or of an array/scalar's dtype) and
 * their names, dtypes and byte offsets. */
size_t brine_dtype_field_count(const brine_value *dtype);
brine_status brine_dtype_field(const brine_value *dtype, size_t i, const char **name,
                               const brine_value **field_dtype, size_t *offset);

/* ----------------------------------------------------------------- saving */

/* Writes the graph rooted at `root` (borrowed from any brine_file, or built
 * by brine) to `path` atomically (temporary file, fsync, rename).
 * Failures: BRINE_E_IO, BRINE_E_ARGUMENT (bad options), BRINE_E_UNSUPPORTED
 * (a value that cannot be pickled in the chosen protocol), BRINE_E_NOMEM. */
brine_status brine_save(const brine_value *root, const char *path,
                        const brine_save_options *opts, brine_error *err);

/* As brine_save, into memory.  *out is the caller's; free it with brine_free. */
brine_status brine_save_memory(void **out, size_t *out_size, const brine_value *root,
                               const brine_save_options *opts, brine_error *err);

/* Frees memory that brine returned to the caller.  NULL is ignored. */
void brine_free(void *p);

/* -------------------------------------------------------------- checksums */

/* Lowercase hex SHA-256 plus its NUL. */
#define BRINE_SHA256_HEX_SIZE 65

/* SHA-256 of the whole file at path (streamed; any size), as CONVENTIONS
 * writes checksums: 64 lowercase hex digits into out.  Failures:
 * BRINE_E_IO (naming the path), BRINE_E_ARGUMENT. */
brine_status brine_sha256_file(char out[BRINE_SHA256_HEX_SIZE], const char *path, brine_error *err);
/* The same over size bytes of memory. */
brine_status brine_sha256_memory(char out[BRINE_SHA256_HEX_SIZE], const void *data, size_t size,
                                 brine_error *err);

/* ================================================================ models
 * Fitted scikit-learn estimators, loaded into typed models that predict
 * without Python and give sklearn's own answers (floats bit for bit where
 * sklearn's arithmetic is reproducible; see docs/predict.md).
 *
 * Supported classes (every module path sklearn has pickled them under):
 * DecisionTreeClassifier/Regressor, ExtraTreeClassifier/Regressor,
 * RandomForestClassifier/Regressor, ExtraTreesClassifier/Regressor;
 * GradientBoostingClassifier/Regressor and
 * HistGradientBoostingClassifier/Regressor (any sklearn version with the
 * common loss module for HistGradientBoosting, i.e. >= 1.1; written back
 * verbatim);
 * IsolationForest, AdaBoostClassifier/Regressor, BaggingClassifier/Regressor,
 * VotingClassifier/Regressor, StackingClassifier/Regressor over members
 * brine loads (predicting; written back verbatim);
 * linear models LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor,
 * LinearSVR, LogisticRegression, RidgeClassifier, SGDClassifier,
 * Perceptron, LinearSVC; scalers StandardScaler, MinMaxScaler,
 * MaxAbsScaler, RobustScaler, Normalizer, Binarizer (transform); Pipeline
 * of these (see docs/SUPPORT.md); OneHotEncoder, OrdinalEncoder and
 * LabelEncoder (transform, inverse_transform), SimpleImputer,
 * PolynomialFeatures, FunctionTransformer without a function,
 * ColumnTransformer and FeatureUnion (transform), which read text cells
 * (brine_model_predict_cells).
 * SVC, NuSVC, SVR, NuSVR, OneClassSVM (libsvm, dense and sparse fits),
 * OneVsRestClassifier, OneVsOneClassifier, GridSearchCV and
 * RandomizedSearchCV (every method of best_estimator_), SelectKBest,
 * SelectPercentile and VarianceThreshold (transform).
 * CountVectorizer and TfidfVectorizer (transform of documents given as text
 * cells, one a row) and TfidfTransformer (transform), alone or as the first
 * steps of a Pipeline, whose sparse rows go on sparse to linear models.
 * KMeans, MiniBatchKMeans, BisectingKMeans and Birch (predict: cluster
 * labels as the model's classes; transform), MeanShift and
 * AffinityPropagation (predict), PCA (transform, score_samples),
 * IncrementalPCA, TruncatedSVD, FastICA, FactorAnalysis (transform),
 * MLPClassifier (binary, multiclass, multilabel) and MLPRegressor (all
 * written back verbatim).
 * Linear models, scalers and pipelines
 * cannot be saved yet (BRINE_E_UNSUPPORTED).
 *
 * Loading validates everything prediction relies on (node links, shapes,
 * dtypes, class tables, agreement between a forest's trees), so a damaged
 * or hostile file fails at load with BRINE_E_FORMAT and a message naming the
 * estimator and the field; prediction itself cannot crash or loop.
 *
 * Thread rule: a brine_model is immutable once loaded; any number of threads
 * may query it and call brine_model_predict on it at once.  A model from
 * brine_model_from_file does not depend on the brine_file it was built
 * from, which may be freed at once. */

typedef struct brine_model brine_model;

/* Loads the model stored at path (brine_file_open, then what
 * brine_model_from_file does).  Where the file holds a tree's node records
 * and values as the model reads them, the model reads them in place and
 * keeps the file's bytes (read into memory, decompressed, or mapped with
 * use_mmap) until brine_model_free, instead of copying them: loading a
 * large forest then costs little more than checking it.  Failures: those of
 * brine_file_open;
 * BRINE_E_UNSUPPORTED when the root object is not a supported estimator
 * (the message names its class); BRINE_E_FORMAT when its state is invalid
 * or the estimator is not fitted.  On failure *out is NULL. */
brine_status brine_model_load(brine_model **out, const char *path, const brine_load_options *opts,
                              brine_error *err);

/* Builds the model from the root object of an open file.  The file is only
 * read; the model keeps no reference to it.  Failures as brine_model_load
 * (BRINE_E_UNSUPPORTED, BRINE_E_FORMAT, BRINE_E_NOMEM). */
brine_status brine_model_from_file(brine_model **out, const brine_file *file, brine_error *err);

/* Releases a model.  NULL is ignored. */
void brine_model_free(brine_model *model);

/* The estimator's class as the file names it, "module.qualname"
 * ("sklearn.tree._classes.DecisionTreeClassifier"). */
const char *brine_model_class(const brine_model *model);
/* 1 for classifiers, 0 for regressors. */
int brine_model_is_classifier(const brine_model *model);
/* The input width: n_features_in_ (n_features_ in older files). */
size_t brine_model_n_features_in(const brine_model *model);
/* Number of outputs (targets): n_outputs_, 1 for single-output models. */
size_t brine_model_n_outputs(const brine_model *model);
/* Trees in the model: 1 for a single tree (columns of BRINE_METHOD_APPLY). */
size_t brine_model_n_estimators(const brine_model *model);
/* 1 when NaN in X is a valid input (trees written by sklearn >= 1.3, whose
 * nodes record where a missing value goes), 0 when it is refused. */
int brine_model_accepts_nan(const brine_model *model);
/* 1 when the model reads X as float32, as sklearn's trees and forests do
 * (infinities and values beyond float32's range are refused); 0 when it
 * reads float64 (linear models, HistGradientBoosting, preprocessing, ...),
 * where each estimator refuses what its sklearn refuses. */
int brine_model_reads_float32(const brine_model *model);
/* The _sklearn_version the file records, or NULL when it has none (files
 * written before sklearn 0.18). */
const char *brine_model_sklearn_version(const brine_model *model);
/* feature_names_in_: count (0 when the model was not fitted on named
 * columns) and the i-th name (UTF-8; NULL when i is out of range). */
size_t brine_model_n_feature_names(const brine_model *model);
const char *brine_model_feature_name(const brine_model *model, size_t i);

/* One class label, as sklearn's classes_ holds it. */
typedef enum brine_label_kind {
    BRINE_LABEL_INT = 0,   /* an integer: `i` */
    BRINE_LABEL_FLOAT = 1, /* a float: `f` */
    BRINE_LABEL_STR = 2,   /* text: `s`, `len` bytes of UTF-8 (NUL-terminated) */
    BRINE_LABEL_BOOL = 3,  /* a bool: `i` is 0 or 1 */
    BRINE_LABEL_NONE = 4   /* Python's None (inverse_transform of an unknown
                              category); only in brine_prediction.labels */
} brine_label_kind;

typedef struct brine_label {
    brine_label_kind kind;
    int64_t i;
    double f;
    const char *s; /* borrowed from the model; NULL unless BRINE_LABEL_STR */
    size_t len;
} brine_label;

/* classes_ of output `output` (0-based) in sklearn's order, which is also
 * the column order of predict_proba.  Borrowed from the model; *n receives
 * the count.  NULL (and *n = 0) for regressors or an output out of range. */
const brine_label *brine_model_classes(const brine_model *model, size_t output, size_t *n);

/* The methods of sklearn's estimators.  Values are stable; a model offers
 * those sklearn's estimator offers (brine_model_has_method). */
typedef enum brine_method {
    BRINE_METHOD_PREDICT = 0,           /* labels (classifiers) or values (regressors) */
    BRINE_METHOD_PREDICT_PROBA = 1,     /* class probabilities (classifiers only) */
    BRINE_METHOD_APPLY = 2,             /* index of the leaf reached, per tree */
    BRINE_METHOD_DECISION_FUNCTION = 3, /* decision values (float64 columns) */
    BRINE_METHOD_PREDICT_LOG_PROBA = 4, /* log of predict_proba */
    BRINE_METHOD_SCORE_SAMPLES = 5,     /* one score per row (outlier detectors, density models) */
    BRINE_METHOD_TRANSFORM = 6,         /* transformed features (scalers, encoders, decompositions) */
    BRINE_METHOD_INVERSE_TRANSFORM = 7  /* encoders: the categories or labels back
                                           (brine_prediction.labels) */
} brine_method;

/* 1 when the model has the method, as the sklearn estimator has it. */
int brine_model_has_method(const brine_model *model, brine_method method);

/* "predict", "predict_proba", "apply", "decision_function",
 * "predict_log_proba", "score_samples", "transform", "inverse_transform";
 * NULL for other values. */
const char *brine_method_name(brine_method method);
/* Parses a method name; BRINE_E_ARGUMENT for unknown names. */
brine_status brine_method_parse(brine_method *out, const char *name, brine_error *err);

/* What brine_model_predict returns: a row-major table of n_rows rows of
 * n_columns cells, in exactly one of two arrays:
 *  - `values` (float64): PREDICT_PROBA, the classes of output 0, then those
 *    of output 1, ... (columns follow brine_model_classes); PREDICT of
 *    regressors, one column per output.
 *  - `indices` (int64): PREDICT of classifiers, one column per output
 *    holding the index of the predicted label in brine_model_classes(output);
 *    APPLY, one column per tree holding the leaf's node index.
 *  - `labels`: INVERSE_TRANSFORM of encoders (LabelEncoder, OrdinalEncoder,
 *    OneHotEncoder), one label per cell as sklearn's object array holds it:
 *    strings borrowed from the model (valid while it lives), numbers, and
 *    BRINE_LABEL_NONE where sklearn gives None (an unknown category); and
 *    TRANSFORM of a SimpleImputer of str columns, whose cells that were not
 *    missing are borrowed from the cells given to the call. */
typedef struct brine_prediction {
    brine_method method;
    size_t n_rows;
    size_t n_columns;
    double *values;   /* NULL unless the method gives floats */
    int64_t *indices; /* NULL unless the method gives indices */
    brine_label *labels; /* NULL unless the method gives labels */
} brine_prediction;

/* Runs `method` on X: n_rows rows of n_cols doubles, row-major.  As sklearn
 * does, X is first converted to float32.  n_cols must equal
 * brine_model_n_features_in.  NaN is accepted only by trees written by
 * sklearn >= 1.3 (their nodes say where a missing value goes); infinities
 * and values beyond float32's range are refused, as sklearn refuses them.
 * Failures: BRINE_E_ARGUMENT (NULL model or out, wrong width, a method the
 * model lacks, n_rows * n_cols overflowing, NaN or infinity in X: the message
 * names the row and column, both 0-based), BRINE_E_NOMEM.  On success *out is
 * the caller's, released with brine_prediction_free; on failure *out is NULL. */
brine_status brine_model_predict(brine_prediction **out, const brine_model *model, brine_method method,
                                 const double *X, size_t n_rows, size_t n_cols, brine_error *err);

/* 1 when the model reads text: its input (or its first step's, or one of a
 * ColumnTransformer's transformers') holds strings, as encoders fitted on
 * str categories, imputers of object columns and text vectorizers do.
 * Such a model takes its rows as cells (brine_model_predict_cells); given
 * only numbers (brine_predict) it sees them as numbers, which match no str
 * category. */
int brine_model_takes_text(const brine_model *model);

/* Runs `method` on n_rows rows of n_cols cells given as text: row-major
 * UTF-8 strings, NULL for a missing value, borrowed for the call.  As in
 * CONVENTIONS' CSV rule, "", "nan", "NaN" and "NA" are missing too; every
 * other cell is a number (strtod syntax, surrounding blanks allowed) or a
 * string.  col_names (n_cols names, or NULL) are the columns' names: when
 * both they and the model's feature_names_in_ exist, columns are matched
 * by name, in any order (a missing or unknown name: BRINE_E_ARGUMENT
 * naming it); otherwise they are taken in order and n_cols must equal
 * brine_model_n_features_in.  A model that does not take text
 * (brine_model_takes_text) gets the cells as numbers: a cell that is
 * neither a number nor missing is BRINE_E_ARGUMENT naming its row and
 * column (0-based).  Other checks and failures as brine_model_predict.
 * On success *out is the caller's (brine_prediction_free). */
brine_status brine_model_predict_cells(brine_prediction **out, const brine_model *model, brine_method method,
                                       const char *const *cells, size_t n_rows, size_t n_cols,
                                       const char *const *col_names, brine_error *err);

/* Releases a prediction.  NULL is ignored. */
void brine_prediction_free(brine_prediction *prediction);

/* ---------------------------------------------- fast prediction, many loads
 * brine_predict is brine_model_predict over the caller's own buffer, float32
 * (no copy) or float64 (converted as sklearn converts it), on one or more
 * threads.  Its answers are bit for bit those of brine_model_predict,
 * whatever the thread count: trees are walked in a compact layout built at
 * load (float32 thresholds rounded toward -inf, which decide every float
 * input exactly as the float64 ones), over blocks of rows, and each row
 * sums its trees in sklearn's order (docs/performance.md). */

typedef enum brine_dtype {
    BRINE_DTYPE_FLOAT32 = 0, /* float, 4 bytes */
    BRINE_DTYPE_FLOAT64 = 1  /* double, 8 bytes */
} brine_dtype;

#define BRINE_PREDICT_OPTIONS_VERSION 1
/* n_threads value: one thread per online CPU. */
#define BRINE_THREADS_ALL (-1)

typedef struct brine_predict_options {
    unsigned version; /* BRINE_PREDICT_OPTIONS_VERSION */
    int n_threads;    /* threads over blocks of 1024 rows; 0 or 1: only the
                         calling thread (default); BRINE_THREADS_ALL: one per
                         online CPU.  Never more threads than blocks. */
    int reference;    /* 1: the straightforward path (the loaded float64
                         nodes, one row at a time), for checking; default 0 */
} brine_predict_options;

#define BRINE_PREDICT_OPTIONS_INIT {BRINE_PREDICT_OPTIONS_VERSION, 0, 0}

/* Runs `method` on rows: n_rows rows of n_cols values of `dtype`,
 * row-major, borrowed for the call.  opts may be NULL (defaults).  Checks
 * and failures as brine_model_predict, plus BRINE_E_ARGUMENT for an unknown
 * dtype or options version or a negative n_threads other than
 * BRINE_THREADS_ALL.  On success *out is the caller's (brine_prediction_free);
 * on failure *out is NULL.  Any number of threads may call it on one model. */
brine_status brine_predict(brine_prediction **out, const brine_model *model, brine_method method, const void *rows,
                           brine_dtype dtype, size_t n_rows, size_t n_cols, const brine_predict_options *opts,
                           brine_error *err);

/* Loads n model files in parallel: models_out[i] and errors_out[i] (n
 * entries each; errors_out may be NULL) receive what brine_model_load gives
 * for paths[i] with opts.  n_threads: 0 or BRINE_THREADS_ALL one per online
 * CPU, else at most that many (never more than n).  Returns BRINE_OK when
 * every file loaded, else the status of the first failed file (lowest
 * index); a failed file leaves models_out[i] NULL and does not stop the
 * others.  BRINE_E_ARGUMENT when models_out or paths is NULL (with n > 0). */
brine_status brine_model_load_many(brine_model **models_out, brine_error *errors_out, const char *const *paths,
                                   size_t n, const brine_load_options *opts, int n_threads);

/* ------------------------------------------------------- saving models
 * A loaded model can be written back as the pickle a chosen sklearn version
 * would write: its own class, parameters (as the file stored them, with
 * sklearn's defaults for parameters the file predates), fitted attributes
 * and trees, in that version's keys, key order, node records (56 bytes up
 * to 1.2, 64 with missing_go_to_left from 1.3) and value semantics (class
 * counts up to 1.3, fractions from 1.4).
 *
 * brine writes a version's layout only after its tests verified it for that
 * estimator class: by loading brine's files in that sklearn, or field by
 * field against real files of that version (docs/SUPPORT.md lists them;
 * brine_model_verified_version enumerates them).  Anything else is
 * refused rather than guessed.
 *
 * Estimators other than trees and forests (linear models, scalers,
 * pipelines, boosting, ...) are written back verbatim: the object graph the
 * file held (state keys in order, arrays, Cython objects with their
 * checksums), in any container, at the file's own sklearn version only;
 * another sklearn_version is refused with BRINE_E_UNSUPPORTED. */

#define BRINE_MODEL_SAVE_OPTIONS_VERSION 1

typedef struct brine_model_save_options {
    unsigned version;            /* BRINE_MODEL_SAVE_OPTIONS_VERSION */
    brine_save_options file;     /* format, protocol, compression, level, as for
                                    brine_save (a zeroed one means its defaults) */
    const char *sklearn_version; /* the layout to write, e.g. "1.2.1"; NULL: the
                                    model's own version when verified for its
                                    class, else the newest verified one (of
                                    those where the model's feature names and
                                    oob_* attributes have a verified place) */
} brine_model_save_options;

#define BRINE_MODEL_SAVE_OPTIONS_INIT {BRINE_MODEL_SAVE_OPTIONS_VERSION, BRINE_SAVE_OPTIONS_INIT, NULL}

/* Writes the model to path atomically, as sklearn opts->sklearn_version
 * pickles it; opts may be NULL (plain pickle, protocol 4, default layout).
 * Python loads the file to an estimator that predicts exactly as this model
 * does, except where docs/SUPPORT.md says otherwise (class fractions of
 * sklearn >= 1.4 that no count table reproduces bit for bit in <= 1.3).
 * What cannot be known is left out rather than invented: sklearn >= 1.4's
 * _n_samples (training-set size) for a model read from an older file.
 * Failures: BRINE_E_UNSUPPORTED (a version not verified for this class, the
 * message listing those that are; feature names or oob_* attributes whose
 * place in that version is unverified; trees lacking impurity or sample
 * counts), BRINE_E_ARGUMENT, BRINE_E_IO, BRINE_E_NOMEM.  The model is only
 * read: threads may save one model at once. */
brine_status brine_model_save(const brine_model *model, const char *path, const brine_model_save_options *opts,
                              brine_error *err);

/* As brine_model_save, into memory; *out is the caller's (brine_free). */
brine_status brine_model_save_memory(void **out, size_t *out_size, const brine_model *model,
                                     const brine_model_save_options *opts, brine_error *err);

/* The sklearn version brine_model_save writes for `requested` (NULL: the
 * default rule above): *out is a static string.  BRINE_E_UNSUPPORTED, with
 * the verified versions in the message, when requested is not verified for
 * this model's class. */
brine_status brine_model_save_version(const brine_model *model, const char *requested, const char **out,
                                      brine_error *err);

/* The sklearn versions whose layout is verified for this model's class,
 * oldest first: their count, and the i-th (static; NULL out of range).  For
 * classes written back verbatim: the versions whose files of that class the
 * test suite has read and checked (1.2.1 and the real files it holds). */
size_t brine_model_verified_version_count(const brine_model *model);
const char *brine_model_verified_version(const brine_model *model, size_t i);

/* The version policy (like sklearn's InconsistentVersionWarning): 1 when
 * the model's _sklearn_version is one whose layout brine has verified for
 * its class (brine_model_verified_version lists them), 0 otherwise (another
 * version, or none recorded).  A model that is not verified still loads and
 * predicts; the brine command warns on stderr, and refuses it under
 * --strict-version (brine_load_options.strict_version). */
int brine_model_version_verified(const brine_model *model);

/* --------------------------------------------------------- training
 * brine_train fits a tree or forest in C and grows exactly the trees
 * scikit-learn grows for the same data, parameters and random_state: same
 * node order, features, thresholds, impurities, sample counts and values
 * (docs/training.md).  Classes: DecisionTreeClassifier/Regressor,
 * ExtraTreeClassifier/Regressor, RandomForestClassifier/Regressor,
 * ExtraTreesClassifier/Regressor, single and multi-output, dense data. */

/* Training data, borrowed for the call. */
typedef struct brine_train_data {
    const double *x;                  /* n_rows * n_features, row-major; converted
                                         to float32 as sklearn converts it */
    size_t n_rows, n_features;
    const brine_label *y;             /* n_rows * n_outputs targets, row-major.
                                         Classifiers: INT, FLOAT, BOOL or STR
                                         labels (one kind per output; INT and
                                         FLOAT mix as float64); regressors:
                                         INT or FLOAT values */
    size_t n_outputs;                 /* >= 1 */
    const double *sample_weight;      /* n_rows weights, or NULL for ones */
    const char *const *feature_names; /* n_features names (feature_names_in_),
                                         or NULL */
} brine_train_data;

/* Called after each tree (from the training threads, one call at a time). */
typedef void (*brine_progress_fn)(void *ctx, size_t trees_done, size_t trees_total);

#define BRINE_TRAIN_OPTIONS_VERSION 1

typedef struct brine_train_options {
    unsigned version;            /* BRINE_TRAIN_OPTIONS_VERSION */
    const char *sklearn_version; /* whose behaviour and layout to reproduce:
                                    a version brine_train_versions lists;
                                    NULL: the newest verified layout of the
                                    class.  It decides what differs between
                                    versions (class fractions as values from
                                    1.4, max_features='auto' before 1.3, ...) */
    brine_progress_fn progress;  /* or NULL */
    void *progress_ctx;
} brine_train_options;

#define BRINE_TRAIN_OPTIONS_INIT {BRINE_TRAIN_OPTIONS_VERSION, NULL, NULL, NULL}

/* Fits `estimator` (a class name above or its alias: dt, dtr, xt, xtr, rf,
 * rfr, et, etr) on data with params: n_params strings "name=value", the
 * value in Python literal syntax ("max_depth=3", "max_features=0.5",
 * "criterion=entropy", "class_weight={0: 1.0, 1: 2.5}"), sklearn's own
 * names and meanings; the model keeps them as given, so sklearn's
 * get_params() returns them.  n_jobs=N grows a forest's trees on N
 * threads with the same result as one.  random_state=None draws a fresh
 * seed (as sklearn, not reproducible).  opts may be NULL.
 * Failures: BRINE_E_ARGUMENT (unknown estimator or parameter, a value
 * sklearn refuses, data sklearn refuses: NaN or infinite X, NaN targets,
 * mismatched sizes; the message names it), BRINE_E_UNSUPPORTED (a
 * parameter value brine cannot reproduce exactly: ccp_alpha > 0,
 * oob_score, warm_start, monotonic_cst; an unverified sklearn_version),
 * BRINE_E_NOMEM.  On success *out is the caller's (brine_model_free). */
brine_status brine_train(brine_model **out, const char *estimator, const brine_train_data *data,
                         const char *const *params, size_t n_params, const brine_train_options *opts,
                         brine_error *err);

/* K-fold cross-validation as sklearn's cross_val_score(estimator, X, y,
 * cv=k) computes it: StratifiedKFold(k) (no shuffle) for a single-output
 * classifier, KFold(k) otherwise; each fold's model is brine_train with the
 * same params and opts on the training rows (in their order, with their
 * sample weights), scored on the test rows with sklearn's default score:
 * accuracy for classifiers (subset accuracy for several binary outputs),
 * R^2 (uniform average over outputs) for regressors.  scores receives k
 * values, fold 0 first.  Failures: those of brine_train, and
 * BRINE_E_ARGUMENT for k < 2, k above the number of rows, k above the size
 * of every class (as StratifiedKFold refuses), or several outputs of more
 * than two classes (sklearn's score does not take them). */
brine_status brine_cross_val_score(double *scores, size_t k, const char *estimator, const brine_train_data *data,
                                   const char *const *params, size_t n_params, const brine_train_options *opts,
                                   brine_error *err);

/* The estimators brine_train fits: i-th class name and alias; NULL past
 * the end. */
const char *brine_train_estimator(size_t i, const char **alias);

/* ============================================================ end models */

/* --------------------------------------------------------------- scanning */

/* What a file would do to a Python that loads it (SECURITY.md 3.4). */
typedef enum brine_verdict {
    BRINE_VERDICT_ALLOWED = 0,  /* every reference is on the allowlist */
    BRINE_VERDICT_UNKNOWN = 1,  /* names or operations brine cannot vouch for */
    BRINE_VERDICT_DANGEROUS = 2 /* runs code, touches the system, patches state */
} brine_verdict;

/* "allowed", "unknown", "dangerous". */
const char *brine_verdict_name(brine_verdict v);

/* One thing a Python unpickler would do that brine refuses.  Strings are
 * borrowed from the report. */
typedef struct brine_finding {
    brine_verdict severity;
    const char *rule;    /* stable id: global.unknown, global.dangerous, global.computed,
                            call.schema, call.computed, build.target, state.invalid,
                            opcode.unsupported, proto.misplaced, stack.residue,
                            trailing.data, sidecar.path */
    const char *module;  /* the global concerned, or NULL */
    const char *name;
    int64_t offset;      /* byte offset in the (decompressed) stream */
    int stream;          /* 0 outer pickle, n-th further or nested pickle */
    const char *message;
} brine_finding;

/* The outcome of scanning one file; immutable once made. */
typedef struct brine_scan_report brine_scan_report;

/* Reads every pickle stream of a file at the opcode level without executing
 * anything: the outer stream, pickles after its STOP, joblib payloads
 * (skipping raw array bytes), nested object-array pickles, legacy sidecar
 * files; inside every compressor brine reads.  Nothing is refused: each
 * refusal the loader would make becomes a finding.  A file that cannot be
 * read to the end (corrupt, truncated, unsupported container such as zip,
 * a limit hit) still gets a report, marked incomplete with the reason.
 * Returns BRINE_OK with *out set, or BRINE_E_NOMEM / BRINE_E_ARGUMENT. */
brine_status brine_scan(brine_scan_report **out, const char *path, const brine_load_options *opts,
                        brine_error *err);
/* As brine_scan on borrowed memory (no sidecar files). */
brine_status brine_scan_memory(brine_scan_report **out, const void *data, size_t size,
                               const brine_load_options *opts, brine_error *err);
void brine_scan_report_free(brine_scan_report *r);

/* The worst severity among the findings. */
brine_verdict brine_scan_verdict(const brine_scan_report *r);
/* 1 when every byte a consumer could interpret was read. */
int brine_scan_complete(const brine_scan_report *r);
/* Why the scan stopped early (status, offset, message), or NULL. */
const brine_error *brine_scan_incomplete_reason(const brine_scan_report *r);
/* "pickle", "joblib", "npy" or "zip". */
const char *brine_scan_container(const brine_scan_report *r);
brine_compression brine_scan_compression(const brine_scan_report *r);
/* Pickle streams read (outer, following and nested ones). */
int brine_scan_stream_count(const brine_scan_report *r);

size_t brine_scan_finding_count(const brine_scan_report *r);
const brine_finding *brine_scan_finding(const brine_scan_report *r, size_t i);
/* Every global referenced (first reference) with its grade. */
size_t brine_scan_global_count(const brine_scan_report *r);
const brine_global_ref *brine_scan_global(const brine_scan_report *r, size_t i, brine_verdict *grade);
/* The value graph as far as it was built (unknown names as inert objects),
 * for further checks such as estimator validation; NULL if none. */
const brine_file *brine_scan_file(const brine_scan_report *r);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* BRINE_H */
