/* test_version.c — the version policy through the API:
 * brine_model_version_verified and brine_load_options.strict_version. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tree_pickles.h"

/* A stump DecisionTreeClassifier recording `version` (NULL: none), in a
 * temporary file whose name goes to path. */
static int write_tree(char *path, const char *version) {
    tspec s = defaults((tspec){.version = version});
    bi_buf b = BI_BUF_INIT;
    a_op(&b, 0x80);
    a_op(&b, 2);
    a_estimator(&b, &s);
    a_op(&b, '.');
    strcpy(path, "/tmp/brine-version-XXXXXX");
    int fd = mkstemp(path);
    int ok = fd >= 0 && bi_buf_ok(&b) && write(fd, b.data, b.len) == (ssize_t)b.len;
    if (fd >= 0) close(fd);
    bi_buf_free(&b);
    return ok;
}

static brine_status load(const char *path, int strict, brine_model **m, brine_error *err) {
    brine_load_options lo = BRINE_LOAD_OPTIONS_INIT;
    lo.strict_version = strict;
    brine_error_clear(err);
    return brine_model_load(m, path, &lo, err);
}

static void verified_version(void) {
    char path[64];
    CHECK(write_tree(path, "1.2.1"));
    brine_model *m = NULL;
    brine_error err;
    CHECK_EQ_INT(load(path, 1, &m, &err), BRINE_OK);
    CHECK_EQ_INT(brine_model_version_verified(m), 1);
    brine_model_free(m);
    unlink(path);
}

static void unverified_versions(void) {
    static const char *const versions[] = {"0.24.1", "9.9.9", "1.2.1rc1", NULL};
    for (size_t k = 0; k < 4; k++) {
        char path[64];
        CHECK(write_tree(path, versions[k]));
        brine_model *m = NULL;
        brine_error err;
        CHECK_EQ_INT(load(path, 0, &m, &err), BRINE_OK); /* the default loads it */
        CHECK(m != NULL);
        CHECK_EQ_INT(brine_model_version_verified(m), 0);
        brine_model_free(m);
        m = NULL;
        CHECK_EQ_INT(load(path, 1, &m, &err), BRINE_E_UNSUPPORTED); /* strict refuses it */
        CHECK(m == NULL);
        CHECK(strstr(err.message, versions[k] ? versions[k] : "before 0.18") != NULL);
        CHECK(strstr(err.message, "only at 1.2.1") != NULL); /* the verified ones, oldest first */
        CHECK_EQ_INT(brine_status_exit_code(err.status), 2);
        unlink(path);
    }
    CHECK_EQ_INT(brine_model_version_verified(NULL), 0);
}

int main(void) {
    RUN(verified_version);
    RUN(unverified_versions);
    TEST_MAIN_END();
}
