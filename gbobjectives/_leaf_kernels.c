/*
 * Leaf refit kernels: the per-round work of gbobjectives/refit.py over every training row,
 * compiled into the same library as the loss kernels (_kernels.c) and loaded by
 * gbobjectives/_compiled_leaves.py. The numpy code they replace stays as the reference and the
 * fallback (gbobjectives/refit.py, gbobjectives/losses/_solvers.py); the algorithms are the same,
 * step by step, so the two paths agree up to the order of summation.
 *
 *   gbo_leaf_by_change   each row's leaf of the newest tree, read off the change of its score
 *                        (refit.leaf_from_score_change): one search among the sorted leaf values
 *   gbo_count_groups,    a stable counting sort of rows by group (leaf), with their weights
 *   gbo_scatter_groups
 *   gbo_huber_groups     per group, the weighted Huber M-estimate by safeguarded Newton on the
 *                        piecewise-linear G(c) = sum w clip(c - r, -delta, delta)
 *                        (_solvers._huber_m_estimates), or "open" for the sorting solver
 *   gbo_select_groups    per group, the tau-quantile of unit-weight residuals as the midpoint of
 *                        the two order statistics k and m (_solvers._unit_weight_quantile), by
 *                        selection (O(n)) instead of a sort
 *   gbo_add_gathered     offset[i] += delta[leaf[i]] (refit._add_leaf_deltas): the refit's new
 *                        leaf values into every row's score correction
 *
 * Sums over a group's rows are pairwise (tiles of 256 rows, then a binary counter of tile sums):
 * the rounding error grows as log(n), as with numpy's pairwise sums, not as n.
 * Every group is solved by one thread from its own rows in their row order (the sort is
 * stable), so a group's result does not depend on the other groups or on the thread count.
 * No fast-math: the same flags as _kernels.c (setup.py).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#define GBO_EXPORT __declspec(dllexport)
#else
#define GBO_EXPORT __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------ pairwise sums */

#define GBO_TILE 256

/* A binary counter of partial sums: level j holds the sum of 2^j tiles. */
typedef struct {
    double s[64];
    int64_t count;
} gbo_pairwise;

static void pw_init(gbo_pairwise *p) { p->count = 0; }

static void pw_push(gbo_pairwise *p, double x) {
    int64_t k = p->count++;
    int level = 0;
    while (k & 1) { /* carry: merge equal-sized partial sums */
        x = p->s[level] + x;
        k >>= 1;
        level++;
    }
    p->s[level] = x;
}

static double pw_total(const gbo_pairwise *p) {
    double total = 0.0;
    int first = 1;
    for (int level = 0; level < 64; level++) {
        if ((p->count >> level) & 1) {
            total = first ? p->s[level] : p->s[level] + total;
            first = 0;
        }
    }
    return total;
}

/* ------------------------------------------------------------------ leaf from score change */

/*
 * For rows [0, n): change = (engine_after + offset) - before (offset may be NULL: 0), the
 * position of the leaf value nearest to it among the nv sorted values sv (mids: the nv - 1
 * midpoints of neighbours; numpy's searchsorted(mids, change, side="left")), its leaf id
 * ids[pos] into leaf (int64), and counts[pos] += 1. stats[0] = max |change - sv[pos]| (NaN if
 * any is NaN), stats[1] = max(|engine_after|, |before|, |after|): the caller accepts the leaves
 * only if stats[0] is within the rounding bound that stats[1] gives. With y and resid (else
 * NULL), also the residuals resid = y - before of the same pass.
 */
/* The number of the m sorted midpoints below x (numpy's searchsorted(mids, x, "left")) */
static int64_t lower_bound(const double *mids, int64_t m, double x) {
    int64_t base = 0, len = m;
    while (len > 1) {
        const int64_t half = len >> 1;
        base += (int64_t)(mids[base + half - 1] < x) * half;
        len -= half;
    }
    return base + (len == 1 ? (int64_t)(mids[base] < x) : 0);
}

/* Buckets over the range of the midpoints: bucket(x) = floor((x - lo) * inv), clamped to
 * [0, nb) (NaN to 0). It is non-decreasing in x (a subtraction and a product by a positive
 * constant round monotonically), so a midpoint in a lower bucket than x is below x and one in a
 * higher bucket is above it: only the midpoints of x's own bucket need comparing. */
#define GBO_BUCKETS_PER_LEAF 16
#define GBO_MAX_BUCKETS 65536

static int64_t bucket_of(double x, double lo, double inv, int64_t nb) {
    const double t = (x - lo) * inv;
    if (!(t >= 0.0)) return 0; /* also NaN */
    if (!(t < (double)nb)) return nb - 1;
    return (int64_t)t;
}

GBO_EXPORT void gbo_leaf_by_change(int64_t n, const double *before, const double *engine_after, const double *offset,
                                   int64_t nv, const double *sv, const double *mids, const int64_t *ids, int64_t *leaf,
                                   int64_t *counts, double *stats, const double *y, double *resid) {
    double max_err = 0.0, scale = 0.0;
    int nan = 0;
    const int64_t m = nv - 1; /* midpoints */
    /* a search per row through six levels of dependent loads cost ~17 ns a row; a bucket
     * lookup with at most one comparison, usually none, ~3 ns */
    int64_t nb = m * GBO_BUCKETS_PER_LEAF;
    nb = nb < 1 ? 1 : (nb > GBO_MAX_BUCKETS ? GBO_MAX_BUCKETS : nb);
    int32_t *first = (int32_t *)calloc((size_t)(2 * nb), sizeof(int32_t));
    int32_t *inside = first ? first + nb : NULL;
    const double lo = m > 0 ? mids[0] : 0.0, span = m > 0 ? mids[m - 1] - mids[0] : 0.0;
    const double inv = span > 0 && isfinite(span) ? (double)nb / span : 0.0;
    if (first) {
        for (int64_t j = 0; j < m; j++) inside[bucket_of(mids[j], lo, inv, nb)]++;
        int32_t below = 0;
        for (int64_t b = 0; b < nb; b++) {
            first[b] = below;
            below += inside[b];
        }
    }
    for (int64_t i = 0; i < n; i++) {
        const double ea = engine_after[i];
        const double after = offset ? ea + offset[i] : ea;
        const double b = before[i];
        const double change = after - b;
        int64_t pos;
        if (!first) {
            pos = lower_bound(mids, m, change);
        } else {
            const int64_t k = bucket_of(change, lo, inv, nb);
            const int64_t f = first[k], c = inside[k];
            pos = c == 0 ? f : (c == 1 ? f + (int64_t)(mids[f] < change) : f + lower_bound(mids + f, c, change));
        }
        const double err = fabs(change - sv[pos]);
        nan |= (err != err);
        max_err = err > max_err ? err : max_err;
        const double a1 = fabs(ea), a2 = fabs(b), a3 = fabs(after);
        scale = a1 > scale ? a1 : scale;
        scale = a2 > scale ? a2 : scale;
        scale = a3 > scale ? a3 : scale;
        leaf[i] = ids[pos];
        counts[pos] += 1;
        if (resid) resid[i] = y[i] - b; /* the residual against the score before the tree */
    }
    free(first);
    stats[0] = nan ? NAN : max_err;
    stats[1] = scale;
}

/* ------------------------------------------------------------------ offsets by leaf delta */

/* offset[i] += delta[leaf[i]] for rows whose leaf id lies in [0, nd) (others unchanged: a leaf
 * outside the table keeps its value), one pass where numpy's take and add make two and a
 * temporary. */
GBO_EXPORT void gbo_add_gathered(int64_t n, double *offset, const int64_t *leaf, const double *delta, int64_t nd) {
    for (int64_t i = 0; i < n; i++) {
        const int64_t j = leaf[i];
        if (j >= 0 && j < nd) offset[i] += delta[j];
    }
}

/* ------------------------------------------------------------------------ grouping rows */

/*
 * Stable counting sort of rows by group, in two steps so that contiguous row ranges run on
 * several threads: gbo_count_groups adds each range's rows per group to its counts (returns -1,
 * for a group id outside [0, ng)); the caller turns the counts into each range's first slot per
 * group (the group's start plus the rows of the earlier ranges), and gbo_scatter_groups writes
 * the range's r (and w unless w or ws is NULL) there, in row order.
 */
GBO_EXPORT int gbo_count_groups(int64_t n, const int64_t *group, int64_t ng, int64_t *counts) {
    for (int64_t i = 0; i < n; i++) {
        const int64_t g = group[i];
        if (g < 0 || g >= ng) return -1;
        counts[g]++;
    }
    return 0;
}

GBO_EXPORT void gbo_scatter_groups(int64_t n, const int64_t *group, const double *r, const double *w, int64_t *next,
                                   double *rs, double *ws) {
    if (w && ws) {
        for (int64_t i = 0; i < n; i++) {
            const int64_t j = next[group[i]]++;
            rs[j] = r[i];
            ws[j] = w[i];
        }
    } else {
        for (int64_t i = 0; i < n; i++) rs[next[group[i]]++] = r[i];
    }
}

/* --------------------------------------------------------------------- Huber M-estimates */

typedef struct {
    double G, A;        /* sum w clip(c - r), weight of the rows inside (|c - r| < delta) */
    int64_t below, above; /* rows with c - r <= -delta, >= +delta */
} gbo_huber_eval;

/* One term of G at row i: the clipped c - r (times the weight W), whether it is clipped below /
 * above; counts as doubles (exact below 2^53) so that the lanes vectorise together. */
#define GBO_HUBER_TERM(i, W, G, A, LO, HI)                           \
    {                                                               \
        const double d = c - r[i];                                  \
        const double lo_ = d <= -delta ? 1.0 : 0.0;                 \
        const double hi_ = d >= delta ? 1.0 : 0.0;                  \
        const double clipped = d <= -delta ? -delta : (d >= delta ? delta : d); \
        G += clipped * (W);                                         \
        A += (1.0 - lo_ - hi_) * (W);                               \
        LO += lo_;                                                  \
        HI += hi_;                                                  \
    }

/* G, A and the clipped counts at c over one group's rows (w NULL: unit weights, where the
 * products by 1.0 are exact): each tile of 256 rows is summed in four interleaved lanes (row i
 * into lane i mod 4, a fixed order the compiler may vectorise), the tiles pairwise. */
static gbo_huber_eval huber_eval(const double *r, const double *w, int64_t n, double c, double delta) {
    gbo_pairwise pg, pa;
    pw_init(&pg);
    pw_init(&pa);
    double below = 0, above = 0;
    for (int64_t t = 0; t < n; t += GBO_TILE) {
        const int64_t e = t + GBO_TILE < n ? t + GBO_TILE : n;
        double g[4] = {0.0, 0.0, 0.0, 0.0}, a[4] = {0.0, 0.0, 0.0, 0.0};
        double lo[4] = {0.0, 0.0, 0.0, 0.0}, hi[4] = {0.0, 0.0, 0.0, 0.0};
        int64_t i = t;
        if (w) {
            for (; i + 4 <= e; i += 4)
                for (int j = 0; j < 4; j++) GBO_HUBER_TERM(i + j, w[i + j], g[j], a[j], lo[j], hi[j]);
            for (; i < e; i++) GBO_HUBER_TERM(i, w[i], g[0], a[0], lo[0], hi[0]);
        } else {
            for (; i + 4 <= e; i += 4)
                for (int j = 0; j < 4; j++) GBO_HUBER_TERM(i + j, 1.0, g[j], a[j], lo[j], hi[j]);
            for (; i < e; i++) GBO_HUBER_TERM(i, 1.0, g[0], a[0], lo[0], hi[0]);
        }
        pw_push(&pg, (g[0] + g[1]) + (g[2] + g[3]));
        pw_push(&pa, (a[0] + a[1]) + (a[2] + a[3]));
        below += (lo[0] + lo[1]) + (lo[2] + lo[3]);
        above += (hi[0] + hi[1]) + (hi[2] + hi[3]);
    }
    gbo_huber_eval out = {pw_total(&pg), pw_total(&pa), (int64_t)below, (int64_t)above};
    return out;
}

/*
 * Groups [g0, g1) of rows grouped by gbo_scatter_groups (rs, ws or NULL for unit weights, start).
 * For each: out[g] = the root of G_g and state[g] = 0 (solved), or state[g] = 1 (open: the
 * caller's sorting solver finishes it; out[g] unset) for a group whose weights or residuals are
 * extreme (max(w) delta beyond 2^+-256, |r| >= 2^51 delta: see _solvers._huber_m_estimates) or
 * that is still open after max_steps Newton steps, or state[g] = 2 (no rows or zero total
 * weight: out[g] = NaN).
 *
 * Method, as _solvers._huber_m_estimates: start at the weighted mean clipped to
 * [min r - delta, max r + delta]; a Newton step c - G/A on the piece of G containing c; a step
 * that stays on its piece (the same rows below and above) is the root; steps leaving the bracket
 * [lo, hi] (G(lo) <= 0 < G(hi)) and flat pieces bisect; a flat piece with G = 0 is a root.
 */
GBO_EXPORT void gbo_huber_groups(int64_t g0, int64_t g1, const int64_t *start, const double *rs, const double *ws,
                                 double delta, int64_t max_steps, double *out, int8_t *state) {
    int delta_exp;
    frexp(delta, &delta_exp);
    for (int64_t g = g0; g < g1; g++) {
        const int64_t s = start[g], n = start[g + 1] - s;
        const double *r = rs + s;
        const double *w = ws ? ws + s : NULL;
        out[g] = NAN;
        state[g] = 2;
        if (n == 0) continue;
        gbo_pairwise pw, pwr;
        pw_init(&pw);
        pw_init(&pwr);
        double rmin = r[0], rmax = r[0], wmax = 0.0;
        for (int64_t t = 0; t < n; t += GBO_TILE) {
            const int64_t e = t + GBO_TILE < n ? t + GBO_TILE : n;
            double sw = 0.0, swr = 0.0;
            for (int64_t i = t; i < e; i++) {
                const double wi = w ? w[i] : 1.0;
                sw += wi;
                swr += w ? wi * r[i] : r[i];
                rmin = r[i] < rmin ? r[i] : rmin;
                rmax = r[i] > rmax ? r[i] : rmax;
                wmax = wi > wmax ? wi : wmax;
            }
            pw_push(&pw, sw);
            pw_push(&pwr, swr);
        }
        const double W = pw_total(&pw);
        if (!(W > 0)) continue;
        state[g] = 1;
        const double amax = fabs(rmin) > fabs(rmax) ? fabs(rmin) : fabs(rmax);
        int wexp;
        frexp(wmax, &wexp);
        if (abs(wexp + delta_exp) > 256 || amax * 0x1p-51 >= delta) continue; /* extreme: sorting solver */
        double lo = rmin - delta, hi = rmax + delta;
        double c = pw_total(&pwr) / W;
        c = c < lo ? lo : (c > hi ? hi : c);
        if (!isfinite(c)) c = 0.5 * lo + 0.5 * hi;
        gbo_huber_eval e = huber_eval(r, w, n, c, delta);
        for (int64_t step = 0; step < max_steps; step++) {
            if (e.G <= 0)
                lo = c > lo ? c : lo;
            else
                hi = c < hi ? c : hi;
            if (e.A == 0 && e.G == 0) { /* a flat stretch of roots */
                state[g] = 0;
                break;
            }
            const double newton_step = c - e.G / e.A;
            const int newton = e.A > 0 && newton_step > lo && newton_step < hi;
            const double c_new = newton ? newton_step : 0.5 * lo + 0.5 * hi;
            const gbo_huber_eval e2 = huber_eval(r, w, n, c_new, delta);
            c = c_new;
            const int landed = newton && e2.below == e.below && e2.above == e.above;
            e = e2;
            if (landed) { /* the step stayed on its linear piece: the root */
                state[g] = 0;
                break;
            }
        }
        if (state[g] == 0) out[g] = c;
    }
}

/* ---------------------------------------------------------------- quantiles by selection */

static void swap_d(double *a, double *b) {
    const double t = *a;
    *a = *b;
    *b = t;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Rearranges a[0, n) so that a[k] is the k-th smallest, smaller ones before it, larger after
 * (C++'s nth_element): Hoare partitions around a median of three, which split runs of equal
 * values evenly; after 64 rounds without reaching k the rest is sorted (no quadratic case). */
static void select_kth(double *a, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1;
    for (int round = 0; hi > lo; round++) {
        if (round == 64 || hi - lo < 16) {
            qsort(a + lo, (size_t)(hi - lo + 1), sizeof(double), cmp_double);
            return;
        }
        const int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) swap_d(a + mid, a + lo);
        if (a[hi] < a[lo]) swap_d(a + hi, a + lo);
        if (a[hi] < a[mid]) swap_d(a + hi, a + mid);
        const double pivot = a[mid];
        int64_t i = lo - 1, j = hi + 1;
        for (;;) {
            do i++;
            while (a[i] < pivot);
            do j--;
            while (a[j] > pivot);
            if (i >= j) break;
            swap_d(a + i, a + j);
        }
        /* a[lo..j] <= pivot <= a[j+1..hi] */
        if (k <= j)
            hi = j;
        else
            lo = j + 1;
    }
}

/*
 * Groups [g0, g1) of unit-weight residuals grouped by gbo_scatter_groups (rs is reordered within
 * each group): out[g] = (x_(k) + x_(m)) / 2 taken as 0.5 x_(k) + 0.5 x_(m), with the 0-based
 * order statistics k = ceil(tau n) - 1 and m = floor(tau n), both clipped to [0, n - 1]: the
 * midpoint of the minimisers of the pinball loss (_solvers.weighted_quantile with
 * tie_break="midpoint"); NaN for an empty group.
 */
GBO_EXPORT void gbo_select_groups(int64_t g0, int64_t g1, const int64_t *start, double *rs, double tau, double *out) {
    for (int64_t g = g0; g < g1; g++) {
        const int64_t s = start[g], n = start[g + 1] - s;
        if (n == 0) {
            out[g] = NAN;
            continue;
        }
        double *a = rs + s;
        const double target = tau * (double)n;
        int64_t k = (int64_t)ceil(target) - 1, m = (int64_t)floor(target);
        k = k < 0 ? 0 : (k > n - 1 ? n - 1 : k);
        m = m < 0 ? 0 : (m > n - 1 ? n - 1 : m);
        select_kth(a, n, k);
        double xm = a[k];
        if (m > k) { /* m = k + 1: the smallest of the rest */
            xm = a[k + 1];
            for (int64_t i = k + 2; i < n; i++) xm = a[i] < xm ? a[i] : xm;
        }
        out[g] = 0.5 * a[k] + 0.5 * xm;
    }
}
