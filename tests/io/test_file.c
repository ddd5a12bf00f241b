/* test_file.c — reading, mapping and atomic writing of whole files. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "io/file.h"

static char tmpdir[256];

static void tmp_path(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "%s/%s", tmpdir, name);
}

static int put_file(const char *name, const void *data, size_t n) {
    char path[512];
    tmp_path(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* Names in the temporary directory other than "." and "..". */
static int count_entries(void) {
    DIR *d = opendir(tmpdir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void clear_tmpdir(void) {
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        if (unlink(path) != 0) rmdir(path);
    }
    closedir(d);
}

static uint8_t *pattern(size_t n) {
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 31 + (i >> 8));
    return p;
}

static void test_read_and_map_agree(void) {
    size_t sizes[] = {1, 4095, 4096, 300000};
    for (size_t k = 0; k < 4; k++) {
        uint8_t *p = pattern(sizes[k]);
        char path[512];
        tmp_path(path, sizeof path, "in.bin");
        CHECK(put_file("in.bin", p, sizes[k]));
        for (int mm = 0; mm < 2; mm++) {
            bi_input in;
            brine_error err;
            brine_error_clear(&err);
            CHECK_EQ_INT(bi_input_open(&in, path, mm, 1u << 30, &err), BRINE_OK);
            CHECK_EQ_INT(in.size, sizes[k]);
            CHECK(in.size == sizes[k] && memcmp(in.data, p, sizes[k]) == 0);
            CHECK_EQ_INT(in.mapped, mm);
            CHECK(in.owned != NULL);
            bi_input_release(&in);
            CHECK(in.owned == NULL && in.size == 0);
        }
        free(p);
    }
    clear_tmpdir();
}

static void test_empty_file(void) {
    char path[512];
    tmp_path(path, sizeof path, "empty");
    CHECK(put_file("empty", "", 0));
    for (int mm = 0; mm < 2; mm++) {
        bi_input in;
        brine_error err;
        brine_error_clear(&err);
        CHECK_EQ_INT(bi_input_open(&in, path, mm, 0, &err), BRINE_OK);
        CHECK_EQ_INT(in.size, 0);
        CHECK(in.data != NULL);
        CHECK(in.owned == NULL);
        bi_input_release(&in);
    }
    clear_tmpdir();
}

static void test_missing_file(void) {
    char path[512];
    tmp_path(path, sizeof path, "no-such-file.pkl");
    for (int mm = 0; mm < 2; mm++) {
        bi_input in;
        brine_error err;
        brine_error_clear(&err);
        CHECK_EQ_INT(bi_input_open(&in, path, mm, 100, &err), BRINE_E_IO);
        CHECK_EQ_INT(err.status, BRINE_E_IO);
        CHECK(strstr(err.message, path) != NULL);
        CHECK(strstr(err.message, "No such file") != NULL);
        CHECK(in.owned == NULL);
        bi_input_release(&in); /* harmless on a failed open */
    }
    bi_input in;
    brine_error err;
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_input_open(&in, tmpdir, 0, 100, &err), BRINE_E_IO);
    CHECK(strstr(err.message, "directory") != NULL);
}

static void test_size_limit(void) {
    uint8_t *p = pattern(1000);
    char path[512];
    tmp_path(path, sizeof path, "big");
    CHECK(put_file("big", p, 1000));
    for (int mm = 0; mm < 2; mm++) {
        bi_input in;
        brine_error err;
        brine_error_clear(&err);
        CHECK_EQ_INT(bi_input_open(&in, path, mm, 999, &err), BRINE_E_LIMIT);
        CHECK(strstr(err.message, "1000") != NULL);
        CHECK(in.owned == NULL);
        brine_error_clear(&err);
        CHECK_EQ_INT(bi_input_open(&in, path, mm, 1000, &err), BRINE_OK);
        CHECK_EQ_INT(in.size, 1000);
        bi_input_release(&in);
    }
    free(p);
    clear_tmpdir();
}

/* A FIFO has no size: it is read to its end, under the same limit. */
static void read_fifo(size_t n, uint64_t limit, brine_status want) {
    char path[512];
    tmp_path(path, sizeof path, "fifo");
    CHECK(mkfifo(path, 0600) == 0);
    uint8_t *p = pattern(n);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path, O_WRONLY);
        size_t done = 0;
        while (fd >= 0 && done < n) {
            ssize_t w = write(fd, p + done, n - done);
            if (w <= 0) break;
            done += (size_t)w;
        }
        _exit(0);
    }
    bi_input in;
    brine_error err;
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_input_open(&in, path, 1, limit, &err), want);
    if (want == BRINE_OK) CHECK(in.size == n && memcmp(in.data, p, n) == 0);
    bi_input_release(&in);
    int status;
    waitpid(pid, &status, 0);
    free(p);
    unlink(path);
}

static void test_fifo(void) {
    signal(SIGPIPE, SIG_IGN); /* the writer of a refused FIFO sees EPIPE */
    read_fifo(200000, 1 << 20, BRINE_OK);
    read_fifo(0, 1 << 20, BRINE_OK);
    read_fifo(200000, 1000, BRINE_E_LIMIT);
}

static void test_borrow_and_adopt(void) {
    static const char text[] = "borrowed";
    bi_input in;
    bi_input_borrow(&in, text, 8);
    CHECK(in.data == (const uint8_t *)text && in.size == 8 && in.owned == NULL);
    bi_input_release(&in);
    bi_input_borrow(&in, NULL, 0);
    CHECK(in.data != NULL && in.size == 0);
    uint8_t *block = pattern(64);
    bi_input_adopt(&in, block, 64);
    CHECK(in.data == block && in.size == 64 && in.owned == block && !in.mapped);
    bi_input_release(&in); /* frees block: ASan reports a leak otherwise */
    CHECK(in.owned == NULL);
    bi_input_release(NULL);
}

static uint8_t *slurp(const char *path, size_t *n) {
    bi_input in;
    brine_error err;
    brine_error_clear(&err);
    if (bi_input_open(&in, path, 0, 1u << 30, &err) != BRINE_OK) return NULL;
    uint8_t *copy = malloc(in.size + 1);
    memcpy(copy, in.data, in.size);
    *n = in.size;
    bi_input_release(&in);
    return copy;
}

static void check_content(const char *path, const void *want, size_t n) {
    size_t got_n = 0;
    uint8_t *got = slurp(path, &got_n);
    CHECK(got != NULL);
    CHECK_EQ_INT(got_n, n);
    CHECK(got && got_n == n && memcmp(got, want, n) == 0);
    free(got);
}

static unsigned mode_of(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0xffffu;
}

static void test_atomic_write(void) {
    char path[512];
    tmp_path(path, sizeof path, "model.joblib");
    brine_error err;
    brine_error_clear(&err);
    mode_t old = umask(022);
    uint8_t *p = pattern(500000);
    CHECK_EQ_INT(bi_write_atomic(path, p, 500000, &err), BRINE_OK);
    check_content(path, p, 500000);
    CHECK_EQ_INT(count_entries(), 1); /* no temporary left behind */
    CHECK_EQ_INT(mode_of(path), 0644);
    /* Replacing: new content, still one entry. */
    CHECK_EQ_INT(bi_write_atomic(path, "short", 5, &err), BRINE_OK);
    check_content(path, "short", 5);
    CHECK_EQ_INT(count_entries(), 1);
    /* Replacing keeps the permission bits of the file it replaces. */
    CHECK(chmod(path, 0600) == 0);
    CHECK_EQ_INT(bi_write_atomic(path, "again", 5, &err), BRINE_OK);
    CHECK_EQ_INT(mode_of(path), 0600);
    CHECK_EQ_INT(bi_write_atomic(path, "", 0, &err), BRINE_OK);
    check_content(path, "", 0);
    clear_tmpdir();
    /* A new file follows the umask. */
    umask(077);
    CHECK_EQ_INT(bi_write_atomic(path, "x", 1, &err), BRINE_OK);
    CHECK_EQ_INT(mode_of(path), 0600);
    umask(old);
    CHECK_EQ_INT(err.status, BRINE_OK);
    free(p);
    clear_tmpdir();
}

static void test_atomic_write_relative(void) {
    char cwd[512];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir(tmpdir) == 0);
    brine_error err;
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_write_atomic("plain-name.pkl", "abc", 3, &err), BRINE_OK);
    CHECK(chdir(cwd) == 0);
    char path[512];
    tmp_path(path, sizeof path, "plain-name.pkl");
    check_content(path, "abc", 3);
    CHECK_EQ_INT(count_entries(), 1);
    clear_tmpdir();
}

static void test_atomic_write_failures(void) {
    char path[512];
    brine_error err;
    tmp_path(path, sizeof path, "missing-dir/model.pkl");
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_write_atomic(path, "abc", 3, &err), BRINE_E_IO);
    CHECK(strstr(err.message, "missing-dir") != NULL);
    CHECK(strstr(err.message, "No such file") != NULL);
    CHECK_EQ_INT(count_entries(), 0);
    /* Renaming over a directory fails; the temporary is removed. */
    tmp_path(path, sizeof path, "a-directory");
    CHECK(mkdir(path, 0755) == 0);
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_write_atomic(path, "abc", 3, &err), BRINE_E_IO);
    CHECK_EQ_INT(count_entries(), 1);
    /* A path ending in a slash names no file. */
    tmp_path(path, sizeof path, "trailing/");
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_write_atomic(path, "abc", 3, &err), BRINE_E_IO);
    CHECK_EQ_INT(count_entries(), 1);
    clear_tmpdir();
}

/* A name near NAME_MAX still gets a temporary that fits. */
static void test_atomic_write_long_name(void) {
    char name[256], path[1024];
    memset(name, 'n', 250);
    name[250] = '\0';
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    brine_error err;
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_write_atomic(path, "abc", 3, &err), BRINE_OK);
    check_content(path, "abc", 3);
    CHECK_EQ_INT(count_entries(), 1);
    clear_tmpdir();
}

static void check_dirname(const char *path, const char *want) {
    char buf[64];
    bi_path_dirname(path, buf, sizeof buf);
    CHECK_STR(buf, want);
}

static void test_dirname(void) {
    check_dirname("a/b", "a");
    check_dirname("a/b/c.pkl", "a/b");
    check_dirname("b", ".");
    check_dirname("", ".");
    check_dirname("/b", "/");
    check_dirname("/", "/");
    check_dirname("a/b/", "a");
    check_dirname("a//b", "a");
    check_dirname("./x", ".");
    check_dirname("../x", "..");
    char small[3];
    bi_path_dirname("abcdef/x", small, sizeof small);
    CHECK_STR(small, "ab");
    bi_path_dirname("abcdef/x", small, 0); /* no room: nothing written */
}

int main(void) {
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/brine-file-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "cannot create a temporary directory\n");
        return 1;
    }
    RUN(test_read_and_map_agree);
    RUN(test_empty_file);
    RUN(test_missing_file);
    RUN(test_size_limit);
    RUN(test_fifo);
    RUN(test_borrow_and_adopt);
    RUN(test_atomic_write);
    RUN(test_atomic_write_relative);
    RUN(test_atomic_write_failures);
    RUN(test_atomic_write_long_name);
    RUN(test_dirname);
    clear_tmpdir();
    rmdir(tmpdir);
    TEST_MAIN_END();
}
