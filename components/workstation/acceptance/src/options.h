// Command-line options of the acceptance programs. Plain C++ (no CUDA), so
// that tests/unit/acceptance/options.test.ts compiles it with g++ alone.
// Every value is used exactly as given or refused: a number that does not
// parse whole, or is out of range, is a usage error (exit 1), never clamped
// or replaced by a default.
#pragma once
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

struct Options {
    int device = 0;
    int warmup = 3;
    int repeats = 20;  // the program's default (parse_options' default_repeats) unless --repeats
    double gib = 0;    // working-set size in GiB (0: the program's default)
    int size = 0;      // GEMM dimension (0: default)
    bool info = false; // print the device line only
    bool list = false; // print the device count only
};

static void usage(const char* prog, const char* extra) {
    fprintf(stderr,
            "usage: %s [--device N] [--warmup N] [--repeats N] [--gib X] [--size N] [--info] [--list]\n%s",
            prog, extra);
}

static int option_int(const char* prog, const char* name, const char* s, long lo, long hi) {
    char* end = nullptr;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "%s: %s '%s': expected a whole number from %ld to %ld\n", prog, name, s, lo, hi);
        exit(1);
    }
    return (int)v;
}

static double option_double(const char* prog, const char* name, const char* s, double lo, double hi) {
    char* end = nullptr;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !std::isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "%s: %s '%s': expected a number from %g to %g\n", prog, name, s, lo, hi);
        exit(1);
    }
    return v;
}

// `default_repeats`: the program's own default for --repeats; an explicit
// --repeats is always what runs.
static Options parse_options(int argc, char** argv, const char* extra, int default_repeats = 20) {
    Options o;
    o.repeats = default_repeats;
    const char* prog = argv[0];
    for (int i = 1; i < argc; i++) {
        const char* a = argv[i];
        auto next = [&](void) -> const char* {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: %s needs a value\n", prog, a);
                usage(prog, extra);
                exit(1);
            }
            return argv[++i];
        };
        if (!strcmp(a, "--device")) o.device = option_int(prog, a, next(), 0, 1023);
        else if (!strcmp(a, "--warmup")) o.warmup = option_int(prog, a, next(), 0, 1000000);
        else if (!strcmp(a, "--repeats")) o.repeats = option_int(prog, a, next(), 1, 1000000);
        else if (!strcmp(a, "--gib")) o.gib = option_double(prog, a, next(), 0, 1048576);
        else if (!strcmp(a, "--size")) o.size = option_int(prog, a, next(), 0, INT_MAX);
        else if (!strcmp(a, "--info")) o.info = true;
        else if (!strcmp(a, "--list")) o.list = true;
        else { usage(prog, extra); exit(1); }
    }
    return o;
}
