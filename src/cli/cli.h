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

int cmd_inspect(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_scan(int argc, char **argv);

#endif
