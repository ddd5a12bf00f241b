/* convert.c — brine convert IN OUT: load under the allowlist, write back. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char help[] =
    "usage: brine convert IN OUT [--format pickle|joblib] [--protocol N] [--compress SPEC]\n"
    "                            [--trust MODULE:QUALNAME]... [--trust-file FILE]\n"
    "\n"
    "Reads IN (any pickle protocol 0-5, joblib plain or compressed, detected by content)\n"
    "and writes OUT atomically.  Python's pickle.load / joblib.load of OUT gives objects\n"
    "equal to those of IN.\n"
    "\n"
    "  --format F        pickle or joblib (default: by OUT's name: .joblib and joblib's\n"
    "                    compressed names .z .gz .bz2 .xz .lzma .lz4 are joblib)\n"
    "  --protocol N      pickle protocol 2..5 (default 4)\n"
    "  --compress SPEC   0-9 (zlib level), NAME or NAME:LEVEL with NAME in zlib, gzip,\n"
    "                    bz2, xz, lzma, lz4; implies joblib\n"
    "  --trust M:Q       admit an unknown global as an inert object (repeatable)\n"
    "  --trust-file F    one MODULE:QUALNAME per line, # comments\n"
    "  -o, --output OUT  the output file (instead of the second operand)\n";

int cmd_convert(int argc, char **argv) {
    static const struct option opts[] = {
        {"format", required_argument, 0, 'f'}, {"protocol", required_argument, 0, 'p'},
        {"compress", required_argument, 0, 'c'}, {"trust", required_argument, 0, 't'},
        {"trust-file", required_argument, 0, 'T'}, {"output", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    const char *format = NULL, *protocol = NULL, *compress = NULL, *output = NULL;
    cli_trust trust = {0};
    int c, rc = 0;
    optind = 1;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'p': protocol = optarg; break;
        case 'c': compress = optarg; break;
        case 'o': output = optarg; break;
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
    if (st) rc = cli_report("convert", in, &err);
    else if ((st = brine_save(brine_file_root(f), out, &so, &err))) rc = cli_report("convert", out, &err);
    brine_file_free(f);
    cli_trust_free(&trust);
    return rc;
}
