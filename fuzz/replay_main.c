/* replay_main.c — runs a fuzz target over saved inputs without libFuzzer,
 * so `make check` can replay the corpus and the regressions with any
 * compiler (gcc included) under ASan + UBSan.
 *
 *   replay_<target> DIR|FILE...
 *
 * Each input runs in a forked child: one crash does not hide the others,
 * every failing file is named, and a hang is cut off by an alarm.  Inputs
 * are copied into a buffer of exactly their size so ASan sees overreads. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Per input; generous, as sanitizers slow the library down a lot. */
#define INPUT_TIMEOUT_S 60

typedef struct tally {
    const char *target;
    unsigned long inputs, failures;
} tally;

static int read_file(const char *path, uint8_t **out, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *g = realloc(buf, cap *= 2);
            if (!g) { free(buf); buf = NULL; }
            else buf = g;
        }
    }
    int ok = buf && !ferror(f);
    fclose(f);
    if (!ok) { free(buf); return 0; }
    /* Exact-size copy: the read buffer has slack ASan would not flag. */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact && len) memcpy(exact, buf, len);
    free(buf);
    *out = exact;
    *size = len;
    return exact != NULL;
}

/* Runs one input in a child; 1 when it passed. */
static int run_one(const char *path) {
    uint8_t *data;
    size_t size;
    if (!read_file(path, &data, &size)) {
        fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
        return 0;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "replay: fork failed: %s\n", strerror(errno));
        free(data);
        return 0;
    }
    if (pid == 0) {
        alarm(INPUT_TIMEOUT_S);
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        exit(0); /* not _exit: LeakSanitizer checks at exit */
    }
    free(data);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 1;
    if (WIFSIGNALED(status))
        fprintf(stderr, "replay: FAIL %s (signal %d%s)\n", path, WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? ", timeout" : "");
    else
        fprintf(stderr, "replay: FAIL %s (exit %d)\n", path, WEXITSTATUS(status));
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(tally *t, const char *path);

/* Directory entries in name order, so runs print in a stable order. */
static void run_dir(tally *t, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open %s: %s\n", dir, strerror(errno));
        t->failures++;
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue; /* ., .., and hidden files such as .gitkeep */
        if (n == cap) {
            char **g = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
            if (!g) break;
            names = g;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if (!(names[n] = malloc(len))) break;
        snprintf(names[n++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, by_name);
    for (size_t k = 0; k < n; k++) {
        run_path(t, names[k]);
        free(names[k]);
    }
    free(names);
}

static void run_path(tally *t, const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        t->failures++;
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        run_dir(t, path);
        return;
    }
    t->inputs++;
    if (!run_one(path)) t->failures++;
}

/* "build-fuzz/replay_load" -> "load". */
static const char *target_name(const char *argv0) {
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    return strncmp(base, "replay_", 7) == 0 ? base + 7 : base;
}

int main(int argc, char **argv) {
    tally t = {target_name(argv[0]), 0, 0};
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 64;
    }
    for (int k = 1; k < argc; k++) run_path(&t, argv[k]);
    printf("replay %s: %lu inputs, %lu failures\n", t.target, t.inputs, t.failures);
    return t.failures ? 1 : 0;
}
