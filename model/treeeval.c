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

typedef struct {
  const node_t *nodes;
  const double *values;
  const int32_t *roots;
  const int32_t *depths;
  int32_t n_trees;
  const double *x;
  int64_t n_rows;
  int32_t n_features;
  double *out;
} job_t;

/* One row through trees [first, first + BLOCK) walked together (their walks are independent,
 * so the CPU overlaps them as it does a block of rows); returns the leaf values in tree order. */
static inline void walk_trees(const job_t *job, int32_t first, const double *row, double leaf[BLOCK]) {
  const node_t *nodes = job->nodes;
  int32_t n[BLOCK];
  int32_t depth = 0;
#pragma GCC unroll 8
  for (int j = 0; j < BLOCK; ++j) {
    n[j] = job->roots[first + j];
    if (job->depths[first + j] > depth) depth = job->depths[first + j];
  }
  for (int32_t d = 0; d < depth; ++d) {
    int moved = 0;
#pragma GCC unroll 8
    for (int j = 0; j < BLOCK; ++j) {
      const int32_t next = step(nodes, n[j], row);
      moved |= next != n[j];
      n[j] = next;
    }
    if (!moved) break;
  }
#pragma GCC unroll 8
  for (int j = 0; j < BLOCK; ++j) leaf[j] = job->values[n[j]];
}

/* Whole blocks of rows: trees are the outer loop, so one tree stays in cache for all of the
 * job's rows. A tree's depth is its deepest leaf, but most rows stop far earlier (measured:
 * depth 15 on average, paths of 4-8 steps), so a block stops as soon as a step moves none of its
 * rows. The last n_rows % BLOCK rows (all of a one-record request) go one row at a time through
 * blocks of trees instead. Either way each row's sum is taken tree by tree in order. */
static void accumulate(const job_t *job) {
  const node_t *nodes = job->nodes;
  const double *x = job->x;
  const int64_t n_features = job->n_features;
  const int64_t blocked = job->n_rows / BLOCK * BLOCK;
  double *out = job->out;
  for (int32_t t = 0; t < job->n_trees; ++t) {
    const int32_t root = job->roots[t];
    const int32_t depth = job->depths[t];
    for (int64_t r = 0; r < blocked; r += BLOCK) {
      int32_t n[BLOCK];
#pragma GCC unroll 8
      for (int j = 0; j < BLOCK; ++j) n[j] = root;
      for (int32_t d = 0; d < depth; ++d) {
        int moved = 0;
#pragma GCC unroll 8
        for (int j = 0; j < BLOCK; ++j) {
          const int32_t next = step(nodes, n[j], x + (r + j) * n_features);
          moved |= next != n[j];
          n[j] = next;
        }
        if (!moved) break;
      }
#pragma GCC unroll 8
      for (int j = 0; j < BLOCK; ++j) out[r + j] += job->values[n[j]];
    }
  }
  for (int64_t r = blocked; r < job->n_rows; ++r) {
    const double *row = x + r * n_features;
    double sum = out[r];
    int32_t t = 0;
    for (; t + BLOCK <= job->n_trees; t += BLOCK) {
      double leaf[BLOCK];
      walk_trees(job, t, row, leaf);
#pragma GCC unroll 8
      for (int j = 0; j < BLOCK; ++j) sum += leaf[j];
    }
    for (; t < job->n_trees; ++t) {
      int32_t n = job->roots[t];
      for (int32_t d = 0; d < job->depths[t]; ++d) {
        const int32_t next = step(nodes, n, row);
        if (next == n) break;
        n = next;
      }
      sum += job->values[n];
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
    jobs[i] = (job_t){nodes, values, roots, depths, n_trees, x + first * n_features, last - first > 0 ? last - first : 0,
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
