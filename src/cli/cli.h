/* cli.h — what the brine command's subcommands share: error reporting in
 * one line with the offset, exit codes, trust lists, output naming rules. */
#ifndef BRINE_CLI_CLI_H
#define BRINE_CLI_CLI_H

#include <stdio.h>

#include "brine.h"

enum { EXIT_OK = 0, EXIT_NEGATIVE = 1, EXIT_ERROR = 2, EXIT_USAGE = 64 };

/* Prints "brine CMD: FILE: message (at byte N in WHERE)" and returns the
 * exit code of err's status. */
int cli_report(const char *cmd, const char *file, const brine_error *err);
/* Prints "brine CMD: FILE: message" (one line) and returns 2. */
int cli_fail(const char *cmd, const char *file, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Prints a usage error and returns 64. */
int cli_usage_error(const char *cmd, const char *fmt, ...);

/* --trust MODULE:QUALNAME and --trust-file FILE collect into one list. */
typedef struct cli_trust {
    char **items;
    size_t n;
} cli_trust;
int cli_trust_add(cli_trust *t, const char *spec, const char *cmd);
int cli_trust_file(cli_trust *t, const char *path, const char *cmd);
void cli_trust_free(cli_trust *t);

/* Output format and compression from --format / --compress and the file
 * name (CONVENTIONS "Model files").  Returns 0 or an exit code. */
int cli_output_format(const char *cmd, const char *path, const char *format_opt, const char *compress_opt,
                      const char *protocol_opt, brine_save_options *out);

/* A JSON string of text taken from a file (names, messages, summaries):
 * bytes that are not valid UTF-8 are written as \xNN so the key is never
 * lost (jansson refuses invalid UTF-8). */
struct json_t;
struct json_t *cli_json_text(const char *s);

/* ------------------------------------------ metadata, versions (meta.c) */

typedef struct cli_train_info {
    const char *data_sha256;     /* hex of the data file (or built-in data set's bytes); NULL when unknown */
    size_t n_rows, n_columns;
    const char *const *columns;  /* n_columns names, or NULL */
    const char *const *metric_names;  /* n_metrics entries, e.g. "cv_accuracy_mean" */
    const double *metric_values;
    size_t n_metrics;
    const char *cv_scores_name;  /* e.g. "cv_scores" or NULL */
    const double *cv_scores; size_t n_cv_scores;
} cli_train_info;
/* Writes MODEL_PATH.meta.json for a model just saved at model_path;
   info is NULL for convert.  Returns 0 or an exit code after printing the error. */
int cli_write_meta(const char *cmd, const char *model_path, const brine_model *model, const char *sklearn_version_written, const cli_train_info *info);
/* --versioned: *out (malloc'd) is DIR/NAME_vN_YYYYmmdd_HHMMSS.EXT for the requested path. Returns 0 or an exit code. */
int cli_versioned_path(const char *cmd, const char *path, char **out);

/* The version policy: 0 when the model's _sklearn_version is verified for
 * its class; otherwise a warning naming both versions on stderr and 0, or,
 * with strict, the same as an error and EXIT_ERROR. */
int cli_version_check(const char *cmd, const char *path, const brine_model *model, int strict);
/* A parameter value as JSON (docs/inspect-json.md "params"). */
struct json_t *cli_param_json(const brine_value *v);
/* o with its keys sorted, as sklearn's get_params orders them (o is consumed). */
struct json_t *cli_json_sorted(struct json_t *o);
/* What sklearn's get_params() gives for the model (a JSON object). */
struct json_t *cli_model_params(const brine_model *model);
/* classes_ as JSON: one array, or one per output for multi-output models;
 * null for regressors. */
struct json_t *cli_model_classes(const brine_model *model);

/* A CSV cell as a number (CONVENTIONS "Reading tabular input"):
 * surrounding blanks are ignored; empty, nan, NaN and NA are missing (NaN).
 * 0 when it is neither. */
struct bi_csv;
int cli_cell_number(const char *s, size_t n, double *out);
/* 1 when the first row is a header: a cell in it is neither a number nor
 * a missing marker. */
int cli_row_is_header(const struct bi_csv *c);
/* The whole of file path, or of standard input for "-", into in
 * (bi_input_release frees it).  Returns 0 or an exit code after the error. */
struct bi_input;
int cli_read_input(const char *cmd, const char *path, struct bi_input *in);

int cmd_inspect(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_train(int argc, char **argv);

/* ------------------------------------- integrity, encryption (keys.c) */

/* The symmetric key file for reading models: opt (--key), else
 * $BRINE_KEY_FILE when set and not empty, else NULL. */
const char *cli_key_file(const char *opt);
/* --require-signature PUB: 0 when MODEL.sig is a valid signature of MODEL
 * by PUB; otherwise the reason is printed and 1 returned (unsigned,
 * tampered, another signer) or 2 (PUB or MODEL unreadable). */
int cli_require_signature(const char *cmd, const char *model, const char *pub);
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_encrypt(int argc, char **argv);
int cmd_decrypt(int argc, char **argv);
int cmd_registry(int argc, char **argv);

#endif
