/* ceiling: scope-bench's raw LMDB mode (ceiling.c). */
#ifndef SCOPE_BENCH_CEILING_H
#define SCOPE_BENCH_CEILING_H

/* scope-bench ceiling --dir DIR [--duration S] [--batch B] [--size B] [--json] */
int cmd_ceiling(int argc, char **argv);

#endif
