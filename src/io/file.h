/* file.h — reading whole files (or mapping them) and writing atomically. */
#ifndef BRINE_IO_FILE_H
#define BRINE_IO_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "brine.h"

/* Bytes of an input file, owned by this struct: either a private malloc'd
 * copy or a read-only memory mapping. */
typedef struct bi_input {
    const uint8_t *data;
    size_t size;
    void *owned;   /* malloc'd block or mapping base; NULL when borrowed */
    size_t owned_size;
    int mapped;    /* 1: `owned` is a mapping (munmap), 0: malloc'd (free) */
} bi_input;

/* use_mmap values: read into memory, map, or map with every page faulted
 * in at once (for a reader that will touch all of it: a model's load;
 * not the scanner, which skips array bytes). */
enum { BI_READ = 0, BI_MAP = 1, BI_MAP_POPULATE = 2 };

/* Reads (use_mmap == BI_READ) or maps (otherwise) the file at path.  A file
 * larger than max_bytes fails with BRINE_E_LIMIT before anything is read.
 * An empty file is mapped as size 0 with data pointing at a static byte.
 * Errors: BRINE_E_IO naming the path and errno text. */
brine_status bi_input_open(bi_input *out, const char *path, int use_mmap,
                           uint64_t max_bytes, brine_error *err);
/* As bi_input_open on a descriptor open for reading, at offset 0 of a
 * regular file or anywhere in a pipe (not closed here); path is for
 * messages. */
brine_status bi_input_open_fd(bi_input *out, int fd, const char *path, int use_mmap,
                              uint64_t max_bytes, brine_error *err);
/* Wraps borrowed memory (nothing to release). */
void bi_input_borrow(bi_input *out, const void *data, size_t size);
/* Takes ownership of a malloc'd block. */
void bi_input_adopt(bi_input *out, uint8_t *data, size_t size);
void bi_input_release(bi_input *in);

/* Writes data to path atomically: a temporary file in the same directory,
 * fsync, rename over path, fsync of the directory.  On failure the
 * temporary is removed and path is untouched.  Errors: BRINE_E_IO. */
brine_status bi_write_atomic(const char *path, const void *data, size_t size,
                             brine_error *err);

/* A file being written atomically in pieces: bytes go to an unnamed
 * temporary (O_TMPFILE, so a killed writer leaves nothing behind; a named
 * ".NAME.tmpXXXXXX" where the filesystem lacks it) that bi_atomic_commit
 * syncs and renames over path.  Used where the output is produced in
 * chunks (encryption) and must never be held whole. */
typedef struct bi_atomic {
    int fd;
    char *path, *dir, *tmp; /* tmp: the named temporary, or NULL (unnamed) */
} bi_atomic;

/* Creates the temporary.  mode < 0: the permissions of the file it
 * replaces, else the umask's; mode >= 0: exactly that (0600 for secret
 * keys).  Errors: BRINE_E_IO, BRINE_E_NOMEM. */
brine_status bi_atomic_open(bi_atomic *out, const char *path, int mode, brine_error *err);
brine_status bi_atomic_write(bi_atomic *a, const void *data, size_t size, brine_error *err);
/* Syncs, names and renames the temporary over path; a released in every
 * case.  Errors: BRINE_E_IO (path untouched). */
brine_status bi_atomic_commit(bi_atomic *a, brine_error *err);
/* Discards the temporary; path untouched.  Safe after a failed commit. */
void bi_atomic_abort(bi_atomic *a);

/* Directory part of path ("." when it has none) into buf. */
void bi_path_dirname(const char *path, char *buf, size_t size);

#endif
