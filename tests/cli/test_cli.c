/* test_cli.c — the brine command's contract: exit codes (0, 2, 64), one
 * line of error on stderr naming file and offset, --help everywhere,
 * GNU option order, output naming rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static char brine[512], dir[64];

/* Runs brine with args; returns its exit code, stderr in err_out. */
static int run(const char *args, char *err_out, size_t size) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>stderr.txt >stdout.txt", dir, brine, args);
    int st = system(cmd);
    char path[128];
    snprintf(path, sizeof path, "%s/stderr.txt", dir);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(err_out, 1, size - 1, f) : 0;
    err_out[n] = '\0';
    if (f) fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void write_bytes(const char *name, const char *p, size_t n) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, n, f);
    fclose(f);
}

#define WRITE(name, lit) write_bytes(name, lit, sizeof(lit) - 1)

static void usage_errors_exit_64(void) {
    char err[4096];
    CHECK_EQ_INT(run("", err, sizeof err), 64);
    CHECK_EQ_INT(run("frobnicate", err, sizeof err), 64);
    CHECK_EQ_INT(run("inspect", err, sizeof err), 64);
    CHECK_EQ_INT(run("inspect --bogus x.pkl", err, sizeof err), 64);
    CHECK_EQ_INT(run("convert a.pkl", err, sizeof err), 64);
    CHECK_EQ_INT(run("convert a.pkl b.pkl --protocol 9", err, sizeof err), 64);
    CHECK_EQ_INT(run("convert a.pkl b.pkl --format pickle --compress 3", err, sizeof err), 64);
    CHECK_EQ_INT(run("convert a.pkl b.pkl --compress snappy", err, sizeof err), 64);
    CHECK_EQ_INT(run("inspect --trust nocolon x.pkl", err, sizeof err), 64);
    CHECK(lines(err) == 1);
}

static void help_exits_0(void) {
    char err[4096];
    CHECK_EQ_INT(run("--help", err, sizeof err), 0);
    CHECK_EQ_INT(run("inspect --help", err, sizeof err), 0);
    CHECK_EQ_INT(run("convert --help", err, sizeof err), 0);
    CHECK_EQ_INT(run("--version", err, sizeof err), 0);
}

static void errors_are_one_line_with_offset(void) {
    char err[4096];
    CHECK_EQ_INT(run("inspect missing.pkl", err, sizeof err), 2);
    CHECK(lines(err) == 1 && strstr(err, "missing.pkl"));
    WRITE("evil.pkl", "\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00id\x85R.");
    CHECK_EQ_INT(run("inspect evil.pkl", err, sizeof err), 2);
    CHECK(lines(err) == 1 && strstr(err, "os.system") && strstr(err, "at byte 2"));
    CHECK_EQ_INT(run("convert evil.pkl out.pkl", err, sizeof err), 2);
    char path[128];
    snprintf(path, sizeof path, "%s/out.pkl", dir);
    CHECK(access(path, F_OK) != 0); /* nothing written on failure */
    WRITE("trunc.pkl", "\x80\x04]K\x01");
    CHECK_EQ_INT(run("inspect trunc.pkl", err, sizeof err), 2);
    CHECK(strstr(err, "truncated") && strstr(err, "at byte 5"));
}

/* Options may follow operands; names pick the container. */
static void output_naming_and_option_order(void) {
    char err[4096];
    WRITE("v.pkl", "\x80\x04]K\x01" "a.");
    CHECK_EQ_INT(run("convert v.pkl v2.pkl.gz", err, sizeof err), 0);
    CHECK_EQ_INT(run("inspect --json v2.pkl.gz", err, sizeof err), 0);
    char out[4096], path[128];
    snprintf(path, sizeof path, "%s/stdout.txt", dir);
    FILE *f = fopen(path, "r");
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    fclose(f);
    CHECK(strstr(out, "\"compression\":\"gzip\"") && strstr(out, "\"format\":\"joblib\""));
    CHECK_EQ_INT(run("convert v.pkl --protocol 2 -o v3.pkl", err, sizeof err), 0);
    CHECK_EQ_INT(run("inspect v3.pkl --depth 1", err, sizeof err), 0);
    CHECK_EQ_INT(run("convert v.pkl v4.joblib -- ", err, sizeof err), 0);
}

int main(int argc, char **argv) {
    (void)argc;
    /* build/tests/cli/test_cli -> build/brine */
    char *slash = strrchr(argv[0], '/');
    snprintf(brine, sizeof brine, "%.*s/../../brine", slash ? (int)(slash - argv[0]) : 1, slash ? argv[0] : ".");
    char *real = realpath(brine, NULL);
    if (!real) return 1;
    snprintf(brine, sizeof brine, "%s", real);
    free(real);
    snprintf(dir, sizeof dir, "/tmp/brine-cli-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    RUN(usage_errors_exit_64);
    RUN(help_exits_0);
    RUN(errors_are_one_line_with_offset);
    RUN(output_naming_and_option_order);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return 1;
    TEST_MAIN_END();
}
