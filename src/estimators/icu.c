/* icu.c — ICU loaded on first use (see icu.h).  ICU renames every symbol
 * with its major version (u_charType is u_charType_72 in ICU 72); the
 * macros of its own headers give those names, so the symbols looked up are
 * exactly the ones a direct link would bind. */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "estimators/icu.h"

#define ICU_STR2(x) #x
#define ICU_STR(x) ICU_STR2(x)
#define ICU_LIB "libicuuc.so." ICU_STR(U_ICU_VERSION_MAJOR_NUM)

static be_icu table;
static int loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* dlsym's void * as a function pointer (POSIX guarantees the conversion). */
static void *sym(void *h, const char *name, int *ok) {
    void *p = dlsym(h, name);
    if (!p) *ok = 0;
    return p;
}

static void load(void) {
    void *h = dlopen(ICU_LIB, RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
    be_icu t;
    int ok = 1;
    void *p;
#define GET(field, name) (p = sym(h, ICU_STR(name), &ok), memcpy(&t.field, &p, sizeof p))
    GET(char_type, u_charType);
    GET(int_property, u_getIntPropertyValue);
    GET(char_age, u_charAge);
    GET(binary_property, u_hasBinaryProperty);
    GET(str_to_lower, u_strToLower);
    GET(nfkd_instance, unorm2_getNFKDInstance);
    GET(normalize, unorm2_normalize);
    GET(combining_class, u_getCombiningClass);
#undef GET
    if (!ok) {
        dlclose(h);
        return;
    }
    table = t;
    loaded = 1; /* the handle stays open for the life of the process */
}

const be_icu *be_icu_get(const char **lib) {
    if (lib) *lib = ICU_LIB;
    pthread_once(&once, load);
    return loaded ? &table : NULL;
}
