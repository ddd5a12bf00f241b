/* harness.h — the unit-test harness: one binary per test file, each test a
 * function, a closing "N passed, N failed" line. */
#ifndef BRINE_TEST_HARNESS_H
#define BRINE_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

static int th_passed, th_failed, th_case_failed;
static const char *th_case;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, \
                    th_case, #cond);                                             \
            th_case_failed = 1;                                                  \
        }                                                                        \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                         \
    do {                                                                           \
        long long th_a = (long long)(a), th_b = (long long)(b);                    \
        if (th_a != th_b) {                                                        \
            fprintf(stderr, "%s:%d: %s: %s == %lld, expected %s == %lld\n",        \
                    __FILE__, __LINE__, th_case, #a, th_a, #b, th_b);              \
            th_case_failed = 1;                                                    \
        }                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                              \
    do {                                                                             \
        const char *th_a = (a), *th_b = (b);                                         \
        if (!th_a || !th_b || strcmp(th_a, th_b) != 0) {                             \
            fprintf(stderr, "%s:%d: %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__,      \
                    th_case, th_a ? th_a : "(null)", th_b ? th_b : "(null)");       \
            th_case_failed = 1;                                                      \
        }                                                                            \
    } while (0)

#define RUN(fn)                                          \
    do {                                                 \
        th_case = #fn;                                   \
        th_case_failed = 0;                              \
        fn();                                            \
        if (th_case_failed) th_failed++; else th_passed++; \
    } while (0)

#define TEST_MAIN_END()                                         \
    do {                                                        \
        printf("%s: %d passed, %d failed\n", __FILE__, th_passed, th_failed); \
        return th_failed ? 1 : 0;                               \
    } while (0)

#endif
