/* convert.c — brine convert IN OUT: load under the allowlist, write back.
 *
 * A tree or forest estimator (one the estimator registry knows) goes
 * through its typed model: it is loaded and validated, then written as the
 * sklearn version chosen by --sklearn-version, or its own version when
 * brine has verified that layout, else the newest verified one (said on
 * stderr).  Anything else is rewritten as the value graph it is. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "estimators/estimator.h"

static const char help[] =
    "usage: brine convert IN OUT [--format pickle|joblib] [--protocol N] [--compress SPEC]\n"
    "                            [--sklearn-version V] [--trust MODULE:QUALNAME]... [--trust-file FILE]\n"
    "\n"
    "Reads IN (any pickle protocol 0-5, joblib plain or compressed, detected by content)\n"
    "and writes OUT atomically.  Python's pickle.load / joblib.load of OUT gives objects\n"
    "equal to those of IN.  Tree and forest estimators (DecisionTree*, ExtraTree*,\n"
    "RandomForest*, ExtraTrees*) are validated and written in the layout of one sklearn\n"
    "version, which that version loads and predicts with as IN does.\n"
    "\n"
    "  --format F        pickle or joblib (default: by OUT's name: .joblib and joblib's\n"
    "                    compressed names .z .gz .bz2 .xz .lzma .lz4 are joblib)\n"
    "  --protocol N      pickle protocol 2..5 (default 4)\n"
    "  --compress SPEC   0-9 (zlib level), NAME or NAME:LEVEL with NAME in zlib, gzip,\n"
    "                    bz2, xz, lzma, lz4; implies joblib\n"
    "  --sklearn-version V\n"
    "                    tree and forest estimators: write the layout of sklearn V\n"
    "                    (default: IN's own version when brine has verified it for\n"
    "                    that estimator, else the newest verified one); versions\n"
    "                    brine has not verified are refused with the list of those\n"
    "                    it has (docs/SUPPORT.md); other estimators are written\n"
    "                    back as IN holds them, at IN's own version only\n"
    "  --trust M:Q       admit an unknown global as an inert object (repeatable)\n"
    "  --trust-file F    one MODULE:QUALNAME per line, # comments\n"
    "  -o, --output OUT  the output file (instead of the second operand)\n"
    "  --versioned       write DIR/NAME_vN_YYYYmmdd_HHMMSS.EXT (UTC) instead of OUT =\n"
    "                    DIR/NAME.EXT, N one more than the highest N of NAME in DIR;\n"
    "                    the name written is printed on stdout\n"
    "  --no-meta         do not write the OUT.meta.json sidecar (brine version, sklearn\n"
    "                    layout, estimator, parameters, SHA-256; docs/meta-json.md)\n"
    "  --strict-version  refuse (exit 2) a tree or forest whose sklearn version brine\n"
    "                    has not verified, instead of warning\n";

/* The estimator registry's row for the root object, or NULL. */
static const be_class *root_class(const brine_file *f) {
    const brine_value *root = brine_file_root(f);
    const char *name = NULL;
    const char *module = root && brine_value_kind(root) == BRINE_OBJECT ? brine_value_global(root, &name) : NULL;
    return be_class_find(module, name);
}

/* An estimator saved before fit has nothing to validate or re-target, only
 * its parameters, which a plain rewrite keeps (sklearn's check_is_fitted
 * rule; a Pipeline by its last step). */
static int is_fitted(const brine_file *f) { return be_value_looks_fitted(brine_file_root(f)); }

/* Through the typed model: validate, pick the layout, write it. */
static int convert_model(const brine_file *f, const char *in, const char *out, const brine_save_options *so,
                         const char *version, int meta, int strict, brine_error *err) {
    brine_model *m = NULL;
    const char *target = NULL;
    int rc = EXIT_OK;
    if (brine_model_from_file(&m, f, err)) {
        rc = cli_report("convert", in, err);
        goto done;
    }
    if (strict && (rc = cli_version_check("convert", in, m, 1))) goto done;
    if (brine_model_save_version(m, version, &target, err)) {
        rc = cli_report("convert", in, err);
        goto done;
    }
    /* Without --sklearn-version the note below names both versions. */
    if (version) cli_version_check("convert", in, m, 0);
    const char *own = brine_model_sklearn_version(m);
    if (!version && target && (!own || strcmp(own, target)))
        fprintf(stderr,
                "brine convert: %s: note: the file is sklearn %s; writing sklearn %s's layout, the newest brine has "
                "verified for %s and this model\n",
                in, own ? own : "before 0.18 (no _sklearn_version)", target, m->short_name);
    brine_model_save_options mo = BRINE_MODEL_SAVE_OPTIONS_INIT;
    mo.file = *so;
    mo.sklearn_version = target;
    if (brine_model_save(m, out, &mo, err)) rc = cli_report("convert", out, err);
    else if (meta) rc = cli_write_meta("convert", out, m, target, NULL);
done:
    brine_model_free(m);
    return rc;
}

int cmd_convert(int argc, char **argv) {
    static const struct option opts[] = {
        {"format", required_argument, 0, 'f'}, {"protocol", required_argument, 0, 'p'},
        {"compress", required_argument, 0, 'c'}, {"trust", required_argument, 0, 't'},
        {"trust-file", required_argument, 0, 'T'}, {"output", required_argument, 0, 'o'},
        {"sklearn-version", required_argument, 0, 'S'}, {"help", no_argument, 0, 'h'},
        {"versioned", no_argument, 0, 'V'}, {"no-meta", no_argument, 0, 'M'}, {"strict-version", no_argument, 0, 'X'},
        {0, 0, 0, 0},
    };
    const char *format = NULL, *protocol = NULL, *compress = NULL, *output = NULL, *version = NULL;
    cli_trust trust = {0};
    int c, rc = 0, versioned = 0, meta = 1, strict = 0;
    char *named = NULL;
    optind = 1;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'p': protocol = optarg; break;
        case 'c': compress = optarg; break;
        case 'o': output = optarg; break;
        case 'S':
            version = optarg;
            if (!*version) rc = cli_usage_error("convert", "--sklearn-version takes a version such as 1.2.1");
            break;
        case 'V': versioned = 1; break;
        case 'M': meta = 0; break;
        case 'X': strict = 1; break;
        case 't': rc = cli_trust_add(&trust, optarg, "convert"); break;
        case 'T': rc = cli_trust_file(&trust, optarg, "convert"); break;
        case 'h': fputs(help, stdout); cli_trust_free(&trust); return EXIT_OK;
        default: rc = cli_usage_error("convert", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    int nops = argc - optind;
    if (!rc && (nops < 1 || nops > 2 || (nops == 2) == (output != NULL)))
        rc = cli_usage_error("convert", "expected IN OUT");
    if (rc) {
        cli_trust_free(&trust);
        return rc;
    }
    const char *in = argv[optind], *out = output ? output : argv[optind + 1];
    brine_save_options so;
    rc = cli_output_format("convert", out, format, compress, protocol, &so);
    if (!rc && versioned && !(rc = cli_versioned_path("convert", out, &named))) out = named;
    if (rc) {
        cli_trust_free(&trust);
        return rc;
    }
    brine_load_options lo = BRINE_LOAD_OPTIONS_INIT;
    lo.trust = (const char *const *)trust.items;
    lo.n_trust = trust.n;
    brine_error err;
    brine_error_clear(&err);
    brine_file *f = NULL;
    brine_status st = brine_file_open(&f, in, &lo, &err);
    if (st) {
        rc = cli_report("convert", in, &err);
    } else if (root_class(f) && (version || is_fitted(f))) {
        rc = convert_model(f, in, out, &so, version, meta, strict, &err);
    } else if (version) {
        const char *name = NULL, *module = brine_value_global(brine_file_root(f), &name);
        fprintf(stderr, "brine convert: %s: --sklearn-version applies to estimators brine reads; this file holds %s%s%s\n",
                in, module ? module : brine_kind_name(brine_value_kind(brine_file_root(f))), module ? "." : "",
                module ? name : "");
        rc = EXIT_ERROR;
    } else if ((st = brine_save(brine_file_root(f), out, &so, &err))) {
        rc = cli_report("convert", out, &err);
    } else if (meta) {
        rc = cli_write_meta("convert", out, NULL, NULL, NULL);
    }
    if (!rc && named) printf("%s\n", named);
    brine_file_free(f);
    cli_trust_free(&trust);
    free(named);
    return rc;
}
