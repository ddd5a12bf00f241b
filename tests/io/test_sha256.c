/* test_sha256.c — brine_sha256_file / brine_sha256_memory: FIPS 180-2
 * vectors, a file larger than one read chunk, and the errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brine.h"
#include "harness.h"

static void vectors(void) {
    char hex[BRINE_SHA256_HEX_SIZE];
    CHECK_EQ_INT(brine_sha256_memory(hex, "", 0, NULL), BRINE_OK);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_EQ_INT(brine_sha256_memory(hex, "abc", 3, NULL), BRINE_OK);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK_EQ_INT(brine_sha256_memory(hex, two, strlen(two), NULL), BRINE_OK);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* One million 'a' (FIPS 180-2 vector 3), through a file: many 64 KiB reads. */
static void file_of_a_million(void) {
    char path[] = "/tmp/brine-sha256-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    char *buf = malloc(1000000);
    CHECK(buf != NULL);
    if (buf) {
        memset(buf, 'a', 1000000);
        CHECK(write(fd, buf, 1000000) == 1000000);
    }
    close(fd);
    char hex[BRINE_SHA256_HEX_SIZE], mem[BRINE_SHA256_HEX_SIZE];
    CHECK_EQ_INT(brine_sha256_file(hex, path, NULL), BRINE_OK);
    CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    if (buf) CHECK_EQ_INT(brine_sha256_memory(mem, buf, 1000000, NULL), BRINE_OK);
    CHECK_STR(mem, hex);
    free(buf);
    unlink(path);
}

static void errors(void) {
    char hex[BRINE_SHA256_HEX_SIZE];
    brine_error err;
    brine_error_clear(&err);
    CHECK_EQ_INT(brine_sha256_file(hex, "/nonexistent/brine-file", &err), BRINE_E_IO);
    CHECK(strstr(err.message, "/nonexistent/brine-file") != NULL);
    brine_error_clear(&err);
    CHECK_EQ_INT(brine_sha256_file(hex, "/tmp", &err), BRINE_E_IO); /* a directory cannot be read */
    CHECK_EQ_INT(brine_sha256_file(NULL, "/tmp", NULL), BRINE_E_ARGUMENT);
    CHECK_EQ_INT(brine_sha256_memory(hex, NULL, 3, NULL), BRINE_E_ARGUMENT);
}

int main(void) {
    RUN(vectors);
    RUN(file_of_a_million);
    RUN(errors);
    TEST_MAIN_END();
}
