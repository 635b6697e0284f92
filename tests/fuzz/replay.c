/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replay.c - run a fuzz target's corpus without libFuzzer.
 *
 * Linked with one tests/fuzz/fuzz-<name>.c, it feeds every file named on
 * the command line, and every regular file in a directory named there or
 * in its immediate subdirectories, to LLVMFuzzerTestOneInput.  Built
 * with ASan+UBSan by make fuzz-replay, so the corpus and the crash
 * regressions in it run in ordinary CI.
 */

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path, size_t *count);
static int replay_path(const char *path, int depth, size_t *count);


static int
replay_file(const char *path, size_t *count)
{
    FILE     *f;
    long      size;
    uint8_t  *data;

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "fuzz-replay: %s: %s\n", path, strerror(errno));
        return -1;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fprintf(stderr, "fuzz-replay: %s: cannot size\n", path);
        fclose(f);
        return -1;
    }

    /* an exact-size heap copy, so ASan sees any read past the input */

    data = malloc(size ? (size_t) size : 1);
    if (data == NULL) {
        fclose(f);
        return -1;
    }

    if (size && fread(data, 1, (size_t) size, f) != (size_t) size) {
        fprintf(stderr, "fuzz-replay: %s: short read\n", path);
        free(data);
        fclose(f);
        return -1;
    }

    fclose(f);

    LLVMFuzzerTestOneInput(data, (size_t) size);
    free(data);
    (*count)++;

    return 0;
}


static int
replay_path(const char *path, int depth, size_t *count)
{
    DIR            *dir;
    char           *sub;
    size_t          n;
    struct stat     st;
    struct dirent  *de;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "fuzz-replay: %s: %s\n", path, strerror(errno));
        return -1;
    }

    if (S_ISREG(st.st_mode)) {
        return replay_file(path, count);
    }

    if (!S_ISDIR(st.st_mode) || depth > 1) {
        return 0;
    }

    dir = opendir(path);
    if (dir == NULL) {
        fprintf(stderr, "fuzz-replay: %s: %s\n", path, strerror(errno));
        return -1;
    }

    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }

        n = strlen(path) + strlen(de->d_name) + 2;
        sub = malloc(n);
        if (sub == NULL) {
            closedir(dir);
            return -1;
        }

        snprintf(sub, n, "%s/%s", path, de->d_name);

        if (replay_path(sub, depth + 1, count) != 0) {
            free(sub);
            closedir(dir);
            return -1;
        }

        free(sub);
    }

    closedir(dir);

    return 0;
}


int
main(int argc, char **argv)
{
    int     i;
    size_t  count;

    count = 0;

    for (i = 1; i < argc; i++) {
        if (replay_path(argv[i], 0, &count) != 0) {
            return EXIT_FAILURE;
        }
    }

    printf("fuzz-replay: %zu inputs\n", count);

    return EXIT_SUCCESS;
}
