/* Evaluates flattened regression tree ensembles (model.trees, written by model/compiled.py) over float64 rows.
 *
 * Built into libtreeeval.so by //model:treeeval and called through ctypes. The arithmetic is
 * the one scikit-learn's HistGradientBoosting predictor does: start from the baseline, go left
 * when the value is <= the threshold (NaN goes the way the node's missing flag says), and add
 * the leaf values tree by tree in order, so the sums are the same doubles sklearn computes.
 */
#include <stdint.h>

/* One node, 16 bytes. feature: bits 0-15 the column, bit 16 set when NaN goes right. The left
 * child is at child, the right one at child + 1. A leaf has threshold NaN, NaN going right and
 * child = its own index - 1: every step from a leaf lands on the leaf itself, so a walk can take
 * a fixed number of steps (the tree's depth) without testing for leaves. */
typedef struct {
  double threshold;
  int32_t feature;
  int32_t child;
} node_t;

/* Rows walked through a tree together: independent walks let the CPU overlap their loads. */
#define BLOCK 8

static inline int32_t step(const node_t *nodes, int32_t n, const double *row) {
  const node_t *node = &nodes[n];
  const double value = row[node->feature & 0xFFFF];
  /* Branch-free choice of the child; the NaN test almost never fires. */
  const int32_t right = (value != value) ? ((node->feature >> 16) & 1) : !(value <= node->threshold);
  return node->child + right;
}

/* Adds each tree's leaf value to out[row] for every row.
 *
 * nodes, values: every tree's nodes and node values, concatenated; roots[t], depths[t]: tree
 * t's root index and depth. x: n_rows x n_features, row-major. out: n_rows values, already
 * holding the baseline. Trees are the outer loop, so one tree stays in cache for all rows. */
void treeeval_accumulate(const node_t *nodes, const double *values, const int32_t *roots, const int32_t *depths,
                         int32_t n_trees, const double *x, int64_t n_rows, int32_t n_features, double *out) {
  for (int32_t t = 0; t < n_trees; ++t) {
    const int32_t root = roots[t];
    const int32_t depth = depths[t];
    int64_t r = 0;
    for (; r + BLOCK <= n_rows; r += BLOCK) {
      int32_t n[BLOCK];
      for (int j = 0; j < BLOCK; ++j) n[j] = root;
      for (int32_t d = 0; d < depth; ++d) {
        for (int j = 0; j < BLOCK; ++j) n[j] = step(nodes, n[j], x + (r + j) * (int64_t)n_features);
      }
      for (int j = 0; j < BLOCK; ++j) out[r + j] += values[n[j]];
    }
    for (; r < n_rows; ++r) {
      int32_t n = root;
      for (int32_t d = 0; d < depth; ++d) n = step(nodes, n, x + r * (int64_t)n_features);
      out[r] += values[n];
    }
  }
}
