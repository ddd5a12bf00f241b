/* file.c — whole-file input (read or mapped) and atomic output. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_TMPFILE */
#endif
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "mem.h"

/* What an empty input points at, so data is never NULL. */
static const uint8_t empty_byte;

/* Largest single read()/write(): Linux transfers at most 0x7ffff000 bytes
 * per call anyway, and this keeps every count well inside ssize_t. */
#define IO_MAX ((size_t)1 << 30)

static brine_status io_fail(brine_error *err, const char *what, const char *path) {
    return bi_fail(err, BRINE_E_IO, -1, "%s %s: %s", what, path, strerror(errno));
}

static void input_set(bi_input *out, const uint8_t *data, size_t size, void *owned, int mapped) {
    out->data = size ? data : &empty_byte;
    out->size = size;
    out->owned = owned;
    out->owned_size = owned ? size : 0;
    out->mapped = mapped;
}

/* Reads exactly size bytes; a file that shrank meanwhile is an error. */
static brine_status read_exact(int fd, uint8_t *p, size_t size, const char *path,
                               brine_error *err) {
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, p + got, size - got < IO_MAX ? size - got : IO_MAX);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return io_fail(err, "cannot read", path);
        if (n == 0)
            return bi_fail(err, BRINE_E_IO, -1, "cannot read %s: it shrank while being read", path);
        got += (size_t)n;
    }
    return BRINE_OK;
}

static brine_status over_limit(brine_error *err, const char *path, uint64_t size,
                               uint64_t max_bytes) {
    return bi_fail(err, BRINE_E_LIMIT, -1, "%s is %llu bytes, above the limit of %llu bytes",
                   path, (unsigned long long)size, (unsigned long long)max_bytes);
}

/* Pipes and character devices have no size: read until end of file, still
 * refusing to hold more than max_bytes. */
static brine_status read_stream(bi_input *out, int fd, const char *path, uint64_t max_bytes,
                                brine_error *err) {
    bi_buf b = BI_BUF_INIT;
    brine_status st = BRINE_OK;
    for (;;) {
        if (!bi_buf_reserve(&b, 64 * 1024)) {
            st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory reading %s", path);
            goto done;
        }
        ssize_t n = read(fd, b.data + b.len, b.cap - b.len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            st = io_fail(err, "cannot read", path);
            goto done;
        }
        if (n == 0) break;
        b.len += (size_t)n;
        if (b.len > max_bytes) {
            st = bi_fail(err, BRINE_E_LIMIT, -1, "%s holds more than the limit of %llu bytes",
                         path, (unsigned long long)max_bytes);
            goto done;
        }
    }
    size_t len;
    uint8_t *data = bi_buf_take(&b, &len);
    if (len) input_set(out, data, len, data, 0);
    else free(data);
done:
    bi_buf_free(&b);
    return st;
}

static brine_status open_sized(bi_input *out, int fd, size_t size, int use_mmap,
                               const char *path, brine_error *err) {
    if (use_mmap) {
        void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE | (use_mmap == BI_MAP_POPULATE ? MAP_POPULATE : 0), fd, 0);
        if (m == MAP_FAILED) return io_fail(err, "cannot map", path);
        input_set(out, m, size, m, 1);
        return BRINE_OK;
    }
    /* A large file is read into huge pages: with 4 KiB pages, faulting in
     * the buffer cost more than the read itself. */
    uint8_t *p = bi_huge_map(size);
    int huge = p != NULL;
    if (!p) p = malloc(size);
    if (!p) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory reading %s (%zu bytes)", path, size);
    brine_status st = read_exact(fd, p, size, path, err);
    if (st != BRINE_OK) {
        if (huge) bi_unmap(p, size);
        else free(p);
        return st;
    }
    input_set(out, p, size, p, huge);
    return BRINE_OK;
}

static brine_status open_fd(bi_input *out, int fd, const char *path, int use_mmap,
                            uint64_t max_bytes, brine_error *err) {
    struct stat st;
    if (fstat(fd, &st) != 0) return io_fail(err, "cannot stat", path);
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        return io_fail(err, "cannot read", path);
    }
    if (!S_ISREG(st.st_mode)) return read_stream(out, fd, path, max_bytes, err);
    uint64_t size = (uint64_t)st.st_size;
    if (size > max_bytes) return over_limit(err, path, size, max_bytes);
    if (size > SIZE_MAX) return over_limit(err, path, size, SIZE_MAX);
    if (size == 0) return BRINE_OK; /* nothing to map or read */
    return open_sized(out, fd, (size_t)size, use_mmap, path, err);
}

brine_status bi_input_open(bi_input *out, const char *path, int use_mmap,
                           uint64_t max_bytes, brine_error *err) {
    input_set(out, NULL, 0, NULL, 0);
    int fd;
    do fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return io_fail(err, "cannot open", path);
    brine_status st = open_fd(out, fd, path, use_mmap, max_bytes, err);
    close(fd); /* a mapping stays valid without its descriptor */
    return st;
}

brine_status bi_input_open_fd(bi_input *out, int fd, const char *path, int use_mmap,
                              uint64_t max_bytes, brine_error *err) {
    input_set(out, NULL, 0, NULL, 0);
    return open_fd(out, fd, path, use_mmap, max_bytes, err);
}

void bi_input_borrow(bi_input *out, const void *data, size_t size) {
    input_set(out, data, size, NULL, 0);
}

void bi_input_adopt(bi_input *out, uint8_t *data, size_t size) {
    input_set(out, data, size, data, 0);
}

void bi_input_release(bi_input *in) {
    if (!in) return;
    if (in->owned && in->mapped) munmap(in->owned, in->owned_size);
    else free(in->owned);
    input_set(in, NULL, 0, NULL, 0);
}

/* ------------------------------------------------------------ writing */

void bi_path_dirname(const char *path, char *buf, size_t size) {
    if (!size) return;
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/') end--; /* "a/b/" names a/b */
    while (end > 0 && path[end - 1] != '/') end--; /* drop the last name */
    while (end > 1 && path[end - 1] == '/') end--; /* and the slashes before it */
    const char *dir = path;
    if (end == 0) {
        dir = ".";
        end = 1;
    }
    if (end >= size) end = size - 1;
    memcpy(buf, dir, end);
    buf[end] = '\0';
}

/* Six name characters, as mkstemp's XXXXXX would hold. */
static void random_suffix(char *s) {
    static const char alphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        r = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15u ^ (uint64_t)getpid() << 32 ^
            (uint64_t)(uintptr_t)s;
    }
    for (int i = 0; i < 6; i++, r >>= 6) s[i] = alphabet[r & 63];
    s[6] = '\0';
}

/* "<dir>/.<base>.tmpXXXXXX" with a fresh random suffix, the name kept
 * under NAME_MAX for long base names. */
static void temp_name(const char *dir, const char *base, char *name, size_t size) {
    int keep = (int)(strlen(base) < 200 ? strlen(base) : 200);
    char suffix[7];
    random_suffix(suffix);
    snprintf(name, size, "%s/.%.*s.tmp%s", dir, keep, base, suffix);
}

/* Creates a temporary name exclusively, as mkstemp does, but with mode
 * 0666 so the kernel applies the umask (and any default ACL) exactly as for
 * a normal create; reading the umask with umask() would briefly change it
 * for every thread of the process. */
static int create_temp(const char *dir, const char *base, char *name, size_t size) {
    for (int tries = 0; tries < 100; tries++) {
        temp_name(dir, base, name, size);
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

static brine_status write_all(int fd, const uint8_t *p, size_t size, const char *name,
                              brine_error *err) {
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, p + done, size - done < IO_MAX ? size - done : IO_MAX);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return io_fail(err, "cannot write", name);
        done += (size_t)n;
    }
    return BRINE_OK;
}

/* Replacing a file keeps its permission bits, as overwriting it in place
 * would: a model made private stays private when saved again. */
static brine_status keep_mode(int fd, const char *path, const char *tmp, brine_error *err) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return BRINE_OK;
    if (fchmod(fd, st.st_mode & 07777) != 0) return io_fail(err, "cannot set the mode of", tmp);
    return BRINE_OK;
}

/* Makes the rename durable.  Filesystems that cannot sync a directory say
 * EINVAL; the new file is in place either way. */
static brine_status sync_dir(const char *dir, brine_error *err) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_fail(err, "cannot open directory", dir);
    brine_status st = BRINE_OK;
    if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)
        st = io_fail(err, "cannot sync directory", dir);
    close(fd);
    return st;
}

static const char *path_base(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ------------------------------------------------- writing in pieces */

static void atomic_free(bi_atomic *a) {
    free(a->path);
    free(a->dir);
    free(a->tmp);
    *a = (bi_atomic){-1, NULL, NULL, NULL};
}

/* An unnamed file in dir, or -1.  Naming it later goes through /proc
 * (linkat of /proc/self/fd/N), so without /proc the named way is used. */
static int open_unnamed(const char *dir) {
#ifdef O_TMPFILE
    if (access("/proc/self/fd", X_OK) != 0) return -1;
    return open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
#else
    (void)dir;
    return -1;
#endif
}

static brine_status set_mode(bi_atomic *a, int mode, brine_error *err) {
    const char *name = a->tmp ? a->tmp : a->path;
    if (mode < 0) return keep_mode(a->fd, a->path, name, err);
    if (fchmod(a->fd, (mode_t)mode) != 0) return io_fail(err, "cannot set the mode of", name);
    return BRINE_OK;
}

static size_t tmp_size_for(const char *path) { return 2 * (strlen(path) + 2) + 16; }

brine_status bi_atomic_open(bi_atomic *out, const char *path, int mode, brine_error *err) {
    *out = (bi_atomic){-1, NULL, NULL, NULL};
    const char *base = path_base(path);
    if (!*base) return bi_fail(err, BRINE_E_IO, -1, "cannot write %s: not a file name", path);
    /* The directory is never longer than path itself, nor the temporary
     * longer than path plus its prefix and suffix. */
    out->path = strdup(path);
    out->dir = malloc(strlen(path) + 2);
    out->tmp = malloc(tmp_size_for(path));
    if (!out->path || !out->dir || !out->tmp) {
        atomic_free(out);
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory writing %s", path);
    }
    bi_path_dirname(path, out->dir, strlen(path) + 2);
    out->fd = open_unnamed(out->dir);
    if (out->fd >= 0) {
        free(out->tmp);
        out->tmp = NULL;
    } else {
        out->fd = create_temp(out->dir, base, out->tmp, tmp_size_for(path));
    }
    brine_status st = out->fd < 0 ? io_fail(err, "cannot create a temporary file in", out->dir)
                                  : set_mode(out, mode, err);
    if (st) bi_atomic_abort(out);
    return st;
}

brine_status bi_atomic_write(bi_atomic *a, const void *data, size_t size, brine_error *err) {
    return write_all(a->fd, data, size, a->tmp ? a->tmp : a->path, err);
}

/* An unnamed temporary gets its name only now, just before the rename: a
 * writer killed between the two leaves one ".NAME.tmpXXXXXX" behind, a
 * writer killed earlier leaves nothing. */
static brine_status link_unnamed(bi_atomic *a, brine_error *err) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", a->fd);
    a->tmp = malloc(tmp_size_for(a->path));
    if (!a->tmp) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory writing %s", a->path);
    for (int tries = 0; tries < 100; tries++) {
        temp_name(a->dir, path_base(a->path), a->tmp, tmp_size_for(a->path));
        if (linkat(AT_FDCWD, proc, AT_FDCWD, a->tmp, AT_SYMLINK_FOLLOW) == 0) return BRINE_OK;
        if (errno != EEXIST) break;
    }
    brine_status st = io_fail(err, "cannot name a temporary file in", a->dir);
    free(a->tmp);
    a->tmp = NULL;
    return st;
}

brine_status bi_atomic_commit(bi_atomic *a, brine_error *err) {
    brine_status st = BRINE_OK;
    if (fsync(a->fd) != 0) st = io_fail(err, "cannot sync", a->tmp ? a->tmp : a->path);
    if (!st && !a->tmp) st = link_unnamed(a, err);
    if (close(a->fd) != 0 && !st) st = io_fail(err, "cannot close", a->tmp);
    a->fd = -1;
    if (!st && rename(a->tmp, a->path) != 0) st = io_fail(err, "cannot rename over", a->path);
    if (st) {
        bi_atomic_abort(a);
        return st;
    }
    st = sync_dir(a->dir, err); /* the new file is in place either way */
    atomic_free(a);
    return st;
}

void bi_atomic_abort(bi_atomic *a) {
    if (a->fd >= 0) close(a->fd);
    if (a->tmp) unlink(a->tmp);
    atomic_free(a);
}

brine_status bi_write_atomic(const char *path, const void *data, size_t size,
                             brine_error *err) {
    bi_atomic a;
    brine_status st = bi_atomic_open(&a, path, -1, err);
    if (st) return st;
    st = bi_atomic_write(&a, data, size, err);
    if (st) {
        bi_atomic_abort(&a);
        return st;
    }
    return bi_atomic_commit(&a, err);
}
