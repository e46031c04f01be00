// The floor of a hard-link checkout in C: the fstatat and linkat of every
// object of a repository, from the open objects directory into new
// directories of N files each, in one thread (docs/benchmarks.md, design J).
//
//   (cd REPO/objects && find . -type f | sed 's|^\./||') > list.txt
//   gcc -O2 -o link-floor bench/link-floor.c
//   ./link-floor list.txt REPO/objects DEST 12 1     # last: 1 with fstatat, 0 without
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s LIST OBJECTS DEST FILES-PER-DIR STAT(0|1)\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "r");
  if (!f) return perror(argv[1]), 1;
  size_t cap = 1024, n = 0;
  char **names = malloc(cap * sizeof(char *));
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    if (n == cap) names = realloc(names, (cap *= 2) * sizeof(char *));
    names[n++] = strdup(line);
  }
  int per = atoi(argv[4]), with_stat = atoi(argv[5]);
  int objects = open(argv[2], O_PATH | O_DIRECTORY);
  if (objects < 0 || mkdir(argv[3], 0755) != 0) return perror(argv[3]), 1;
  int root = open(argv[3], O_PATH | O_DIRECTORY);
  double start = now_ms(), dirs_ms = 0;
  int dir = -1;
  for (size_t i = 0; i < n; i++) {
    if (i % (size_t)per == 0) {
      double t = now_ms();
      char name[32];
      snprintf(name, sizeof name, "d%zu", i / (size_t)per);
      if (mkdirat(root, name, 0755) != 0) return perror(name), 1;
      if (dir >= 0) close(dir);
      dir = openat(root, name, O_PATH | O_DIRECTORY);
      dirs_ms += now_ms() - t;
    }
    struct stat st;
    if (with_stat && fstatat(objects, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) return perror(names[i]), 1;
    if (linkat(objects, names[i], dir, strrchr(names[i], '/') + 1, 0) != 0) return perror(names[i]), 1;
  }
  printf("%zu files, %.1f ms (of which mkdirat and open %.1f ms)\n", n, now_ms() - start, dirs_ms);
  return 0;
}
