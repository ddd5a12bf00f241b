/* icu.h — the few ICU functions the text vectorizers need (text.c),
 * loaded from libicuuc on first use rather than linked: ICU (C++, with its
 * runtime) costs every process about 1.5 ms to load, and a shell script
 * scoring three rows with a forest should not pay for text it never reads.
 * The table is filled once (pthread_once) and never changes afterwards. */
#ifndef BRINE_ESTIMATORS_ICU_H
#define BRINE_ESTIMATORS_ICU_H

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

typedef struct be_icu {
    int8_t (*char_type)(UChar32 c);
    int32_t (*int_property)(UChar32 c, UProperty which);
    void (*char_age)(UChar32 c, UVersionInfo age);
    UBool (*binary_property)(UChar32 c, UProperty which);
    int32_t (*str_to_lower)(UChar *dest, int32_t cap, const UChar *src, int32_t len, const char *locale,
                            UErrorCode *ec);
    const UNormalizer2 *(*nfkd_instance)(UErrorCode *ec);
    int32_t (*normalize)(const UNormalizer2 *n, const UChar *src, int32_t len, UChar *dest, int32_t cap,
                         UErrorCode *ec);
    uint8_t (*combining_class)(UChar32 c);
} be_icu;

/* The table, or NULL when libicuuc (the version brine was built against)
 * cannot be loaded; *lib names the library for messages. */
const be_icu *be_icu_get(const char **lib);

#endif
