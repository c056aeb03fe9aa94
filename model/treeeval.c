/* Evaluates flattened regression tree ensembles (model.trees, written by model/compiled.py) over float64 rows.
 *
 * Built into libtreeeval.so by //model:treeeval and called through ctypes. The arithmetic is
 * the one scikit-learn's HistGradientBoosting predictor does: start from the baseline, go left
 * when the value is <= the threshold (NaN goes the way the node's missing flag says), and add
 * the leaf values tree by tree in order, so the sums are the same doubles sklearn computes.
 * Large batches are split by rows over threads: each row's sum is still taken tree by tree in
 * order, so the result does not depend on the thread count.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

/* One node, 16 bytes. feature: bits 0-15 the column, bit 16 set when NaN goes right. The left
 * child is at child, the right one at child + 1. A leaf has threshold NaN, NaN going right and
 * child = its own index - 1: every step from a leaf lands on the leaf itself, so rows walked
 * together need no leaf test: a block stops when a step moves none of its rows (or after the
 * tree's depth). */
typedef struct {
  double threshold;
  int32_t feature;
  int32_t child;
} node_t;

/* Rows walked through a tree together: independent walks let the CPU overlap their loads. The
 * "GCC unroll 8" pragmas below (a pragma takes no macro) unroll the loops over a block: -O2 alone
 * left them rolled, and unrolled they took 25 % less time (measured on 1,000 rows). */
#define BLOCK 8

/* Fewest rows worth a thread of their own (starting and joining one costs tens of microseconds). */
#define MIN_ROWS_PER_THREAD 128

static inline int32_t step(const node_t *nodes, int32_t n, const double *row) {
  const node_t *node = &nodes[n];
  const double value = row[node->feature & 0xFFFF];
  /* Branch-free choice of the child; the NaN test almost never fires. */
  const int32_t right = (value != value) ? ((node->feature >> 16) & 1) : !(value <= node->threshold);
  return node->child + right;
}

/* The same step for a row known to hold no NaN: only a NaN needs the node's missing flag. A
 * leaf's NaN threshold still sends every value right, to the leaf itself. Blocks of such rows
 * (nearly all) take this step: 24 % less time on 1,000 rows of the test split. */
static inline int32_t step_finite(const node_t *nodes, int32_t n, const double *row) {
  const node_t *node = &nodes[n];
  return node->child + !(row[node->feature & 0xFFFF] <= node->threshold);
}

static inline int32_t step_any(const node_t *nodes, int32_t n, const double *row, int finite) {
  return finite ? step_finite(nodes, n, row) : step(nodes, n, row);
}

static int holds_nan(const double *values, int64_t count) {
  int any = 0;
  for (int64_t i = 0; i < count; ++i) any |= values[i] != values[i];
  return any;
}

/* One ensemble's trees: every tree's nodes and node values, concatenated; roots[t], depths[t]:
 * tree t's root index and depth. */
typedef struct {
  const node_t *nodes;
  const double *values;
  const int32_t *roots;
  const int32_t *depths;
  int32_t n_trees;
} trees_t;

typedef struct {
  trees_t trees;
  const double *x;
  int64_t n_rows;
  int32_t n_features;
  double *out;
} job_t;

/* One row through trees [first, first + BLOCK) walked together (their walks are independent,
 * so the CPU overlaps them as it does a block of rows); returns the leaf values in tree order. */
static inline void walk_trees(const job_t *job, int32_t first, const double *row, int finite, double leaf[BLOCK]) {
  const node_t *nodes = job->trees.nodes;
  int32_t n[BLOCK];
  int32_t depth = 0;
#pragma GCC unroll 8
  for (int j = 0; j < BLOCK; ++j) {
    n[j] = job->trees.roots[first + j];
    if (job->trees.depths[first + j] > depth) depth = job->trees.depths[first + j];
  }
  for (int32_t d = 0; d < depth; ++d) {
    int moved = 0;
#pragma GCC unroll 8
    for (int j = 0; j < BLOCK; ++j) {
      const int32_t next = step_any(nodes, n[j], row, finite);
      moved |= next != n[j];
      n[j] = next;
    }
    if (!moved) break;
  }
#pragma GCC unroll 8
  for (int j = 0; j < BLOCK; ++j) leaf[j] = job->trees.values[n[j]];
}

/* Walks one block of rows through the tree at root, two steps per test of whether any row
 * moved (a step from a leaf stays on it, so the extra step is harmless; testing every other
 * step took 8 % less time than testing every step). */
static inline void walk_block(const node_t *nodes, int32_t root, int32_t depth, const double *rows[BLOCK], int finite,
                              int32_t n[BLOCK]) {
#pragma GCC unroll 8
  for (int j = 0; j < BLOCK; ++j) n[j] = root;
  for (int32_t d = 0; d < depth; d += 2) {
#pragma GCC unroll 8
    for (int j = 0; j < BLOCK; ++j) n[j] = step_any(nodes, n[j], rows[j], finite);
    int moved = 0;
#pragma GCC unroll 8
    for (int j = 0; j < BLOCK; ++j) {
      const int32_t next = step_any(nodes, n[j], rows[j], finite);
      moved |= next != n[j];
      n[j] = next;
    }
    if (!moved) break;
  }
}

/* Whole blocks of rows: trees are the outer loop, so one tree stays in cache for all of the
 * job's rows. A tree's depth is its deepest leaf, but most rows stop far earlier (measured:
 * depth 15 on average, paths of 4-8 steps), so a block stops as soon as its steps move none of
 * its rows. The last n_rows % BLOCK rows (all of a one-record request) go one row at a time
 * through blocks of trees instead. Either way each row's sum is taken tree by tree in order. */
static void accumulate(const job_t *job) {
  const node_t *nodes = job->trees.nodes;
  const double *x = job->x;
  const int64_t n_features = job->n_features;
  const int64_t blocks = job->n_rows / BLOCK;
  const int64_t blocked = blocks * BLOCK;
  double *out = job->out;
  /* Whether each block of rows is free of NaN, worked out once for all trees. Without memory
   * every block takes the step that tests for NaN. */
  unsigned char *finite = blocks > 0 ? malloc((size_t)blocks) : NULL;
  for (int64_t b = 0; finite != NULL && b < blocks; ++b) {
    finite[b] = !holds_nan(x + b * BLOCK * n_features, BLOCK * n_features);
  }
  for (int32_t t = 0; t < job->trees.n_trees; ++t) {
    const int32_t root = job->trees.roots[t];
    const int32_t depth = job->trees.depths[t];
    for (int64_t b = 0; b < blocks; ++b) {
      const double *rows[BLOCK];
      int32_t n[BLOCK];
#pragma GCC unroll 8
      for (int j = 0; j < BLOCK; ++j) rows[j] = x + (b * BLOCK + j) * n_features;
      if (finite != NULL && finite[b]) {
        walk_block(nodes, root, depth, rows, 1, n);
      } else {
        walk_block(nodes, root, depth, rows, 0, n);
      }
#pragma GCC unroll 8
      for (int j = 0; j < BLOCK; ++j) out[b * BLOCK + j] += job->trees.values[n[j]];
    }
  }
  free(finite);
  for (int64_t r = blocked; r < job->n_rows; ++r) {
    const double *row = x + r * n_features;
    const int row_finite = !holds_nan(row, n_features);
    double sum = out[r];
    int32_t t = 0;
    for (; t + BLOCK <= job->trees.n_trees; t += BLOCK) {
      double leaf[BLOCK];
      if (row_finite) {
        walk_trees(job, t, row, 1, leaf);
      } else {
        walk_trees(job, t, row, 0, leaf);
      }
#pragma GCC unroll 8
      for (int j = 0; j < BLOCK; ++j) sum += leaf[j];
    }
    for (; t < job->trees.n_trees; ++t) {
      int32_t n = job->trees.roots[t];
      for (int32_t d = 0; d < job->trees.depths[t]; ++d) {
        const int32_t next = step(nodes, n, row);
        if (next == n) break;
        n = next;
      }
      sum += job->trees.values[n];
    }
    out[r] = sum;
  }
}

static void *run_job(void *job) {
  accumulate(job);
  return NULL;
}

#define MAX_THREADS 64

/* Adds each tree's leaf value to out[row] for every row, on up to n_threads threads.
 *
 * nodes, values: every tree's nodes and node values, concatenated; roots[t], depths[t]: tree
 * t's root index and depth. x: n_rows x n_features, row-major. out: n_rows values, already
 * holding the baseline. Each thread takes a slice of the rows; a slice whose thread cannot be
 * started runs on the calling thread. */
void treeeval_accumulate(const node_t *nodes, const double *values, const int32_t *roots, const int32_t *depths,
                         int32_t n_trees, const double *x, int64_t n_rows, int32_t n_features, double *out,
                         int32_t n_threads) {
  int64_t threads = n_rows / MIN_ROWS_PER_THREAD;
  if (threads > n_threads) threads = n_threads;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (threads < 1) threads = 1;
  job_t jobs[MAX_THREADS];
  pthread_t ids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  /* Slices of whole blocks, so only the last one has a remainder. */
  const int64_t slice = (n_rows / threads + BLOCK - 1) / BLOCK * BLOCK;
  for (int64_t i = 0; i < threads; ++i) {
    const int64_t first = i * slice;
    const int64_t last = i + 1 == threads || first + slice > n_rows ? n_rows : first + slice;
    jobs[i] = (job_t){{nodes, values, roots, depths, n_trees}, x + first * n_features, last - first > 0 ? last - first : 0,
                      n_features, out + first};
    if (i > 0) started[i] = pthread_create(&ids[i], NULL, run_job, &jobs[i]) == 0;
  }
  accumulate(&jobs[0]);
  for (int64_t i = 1; i < threads; ++i) {
    if (started[i]) {
      pthread_join(ids[i], NULL);
    } else {
      accumulate(&jobs[i]);
    }
  }
}

/* One ensemble member: its trees and its baseline. */
typedef struct {
  trees_t trees;
  double baseline;
} member_t;

/* The prediction of an average of n_members ensembles (one member: that ensemble) for every
 * row, in one call, so a caller that holds a lock while it is away from this code (Python's
 * GIL) takes it back once per prediction, not once per member. The arithmetic is the one
 * sklearn's VotingRegressor does: each member's sum from its baseline, tree by tree, into its
 * own array (scratch, n_rows values, for members after the first), the members added in order,
 * then divided by their count. */
void treeeval_predict(const member_t *members, int32_t n_members, const double *x, int64_t n_rows, int32_t n_features,
                      double *out, double *scratch, int32_t n_threads) {
  for (int32_t m = 0; m < n_members; ++m) {
    double *sums = m == 0 ? out : scratch;
    for (int64_t r = 0; r < n_rows; ++r) sums[r] = members[m].baseline;
    if (n_rows > 0) {
      const trees_t *trees = &members[m].trees;
      treeeval_accumulate(trees->nodes, trees->values, trees->roots, trees->depths, trees->n_trees, x, n_rows,
                          n_features, sums, n_threads);
    }
    if (m > 0) {
      for (int64_t r = 0; r < n_rows; ++r) out[r] += scratch[r];
    }
  }
  if (n_members > 1) {
    for (int64_t r = 0; r < n_rows; ++r) out[r] /= n_members;
  }
}
