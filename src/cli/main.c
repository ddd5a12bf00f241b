/* main.c — the brine command: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: brine COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "Load, inspect and save scikit-learn pickle and joblib files without Python.\n"
    "Nothing in a file is ever executed.\n"
    "\n"
    "commands:\n"
    "  inspect FILE [--json]            what a file holds: container, globals, object tree\n"
    "  convert IN OUT [--format F] [--protocol N] [--compress SPEC]\n"
    "                                   rewrite a file as pickle or joblib\n"
    "  predict MODEL INPUT [--method M] [-o FILE]\n"
    "                                   run a fitted tree or forest on CSV or .npy rows\n"
    "  scan FILE... [--json]            what each file would do to a Python that loads it\n"
    "  train ESTIMATOR DATA -o OUT [-p name=value]...\n"
    "                                   fit a tree or forest, the very trees sklearn grows\n"
    "  keygen -o NAME [--symmetric]     a signing pair NAME.key + NAME.pub, or an encryption key\n"
    "  sign FILE --key NAME.key         write the detached signature FILE.sig\n"
    "  verify FILE [--pubkey NAME.pub]  check FILE.meta.json's checksum, or FILE.sig\n"
    "  encrypt FILE --key K [-o OUT]    encrypt into FILE.enc (predict, inspect: --key K)\n"
    "  decrypt FILE.enc --key K [-o OUT]\n"
    "                                   decrypt a file made by brine encrypt\n"
    "  registry [--registry DIR] add|list|show|promote|rollback|path|verify ...\n"
    "                                   a directory of versioned models with stages\n"
    "\n"
    "  brine COMMAND --help             options of a command\n"
    "  brine --version                  print the version\n";

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("brine %s\n", brine_version());
        return EXIT_OK;
    }
    if (!strcmp(cmd, "inspect")) return cmd_inspect(argc - 1, argv + 1);
    if (!strcmp(cmd, "convert")) return cmd_convert(argc - 1, argv + 1);
    if (!strcmp(cmd, "predict")) return cmd_predict(argc - 1, argv + 1);
    if (!strcmp(cmd, "scan")) return cmd_scan(argc - 1, argv + 1);
    if (!strcmp(cmd, "train")) return cmd_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "keygen")) return cmd_keygen(argc - 1, argv + 1);
    if (!strcmp(cmd, "sign")) return cmd_sign(argc - 1, argv + 1);
    if (!strcmp(cmd, "verify")) return cmd_verify(argc - 1, argv + 1);
    if (!strcmp(cmd, "encrypt")) return cmd_encrypt(argc - 1, argv + 1);
    if (!strcmp(cmd, "decrypt")) return cmd_decrypt(argc - 1, argv + 1);
    if (!strcmp(cmd, "registry")) return cmd_registry(argc - 1, argv + 1);
    fprintf(stderr, "brine: unknown command '%s' (see 'brine --help')\n", cmd);
    return EXIT_USAGE;
}
