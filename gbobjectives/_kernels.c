/*
 * Fused element-wise kernels of gbobjectives' classification losses (one pass per call).
 *
 * The per-element mathematics of each loss is written ONCE below, as a macro body over a
 * compute type T, and instantiated for float32 scores with float32 outputs (XGBoost), float64
 * scores with float32 outputs (LightGBM, CatBoost) and float64 with float64 outputs (the public
 * methods). The formulas are the stable forms of docs/math.md, the same as the numpy reference
 * code in gbobjectives/losses/_focal_math.py:
 *
 *   hard labels y in {0, 1}, t = 2y - 1, u = t z, row weight s = a_t w
 *   E = exp(u), q = sigma(-u) = 1/(1 + E), r = exp(-u) = 1/E, p = 1/(1 + r)
 *   L = softplus(-u) = log1p(r), gp = gamma p, gpL = gamma p L (0 where p = 0, L = inf)
 *   logloss:  grad = -t s q,              hess = s max(p q, floor),  p q = q / (1 + r)
 *   focal:    grad = -t s q^g (gpL + q),  hess = s max(q^g (c0 q q + c1 gp q + c2 gp gpL), floor)
 *             upper: c0 = 0, c1 = (2g+1)/g, c2 = 1;  Gauss-Newton (g >= 1): c0 = 1, c1 = 2, c2 = (g-1)/g
 *
 * Every term is non-negative (no cancellation), so float32 arithmetic loses only a few
 * roundings; E = inf or 0 at the extremes gives the exact limits (q = 0 or 1, p q = 0), never
 * NaN. No fast-math: -fno-math-errno and -fno-trapping-math only (so that exp/log1p/pow and the
 * selects around them may be vectorised; no value changes), no reassociation and no FMA
 * contraction (-ffp-contract=off), which would change the roundings between CPUs.
 *
 * Vector math: on x86-64 Linux with glibc, the math functions are declared with GCC's `simd`
 * attribute (as glibc's own <bits/math-vector.h> does under -ffast-math), so the vectoriser calls
 * libmvec's SSE/AVX2/AVX-512 variants; each kernel is compiled for three instruction sets
 * (target_clones) and the loader picks the best one for the CPU at run time. Elsewhere the same
 * loops call the scalar libm functions.
 *
 * The functions take plain pointers (loaded by gbobjectives/_compiled.py through ctypes, which
 * releases the GIL during the call, so row ranges run on several threads). Each returns a status:
 * bit 0 when a raw score was NaN or infinite (the caller raises), bit 1 when a label was neither
 * 0 nor 1 (the caller uses its soft-label formulas instead; the outputs are then meaningless).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* first, as CPython asks; only for the module stub at the end */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__) && \
    defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
/* libmvec has expf/powf/exp/pow since glibc 2.22 and log1pf/log1p since 2.35 */
#define GBO_SIMD __attribute__((__simd__("notinbranch")))
GBO_SIMD extern float expf(float);
GBO_SIMD extern float log1pf(float);
GBO_SIMD extern float powf(float, float);
GBO_SIMD extern double exp(double);
GBO_SIMD extern double log1p(double);
GBO_SIMD extern double pow(double, double);
#define GBO_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#define GBO_VECTOR_MATH 1
#else
#define GBO_CLONES
#define GBO_VECTOR_MATH 0
#endif

#if defined(_WIN32)
#define GBO_EXPORT __declspec(dllexport)
#else
#define GBO_EXPORT __attribute__((visibility("default")))
#endif

/* which build this is: bit 0 = libmvec vector math with run-time instruction-set dispatch */
GBO_EXPORT int gbo_build_flags(void) { return GBO_VECTOR_MATH; }

/* ----------------------------------------------------------------------------- per element */

/* x if x > lo else lo; also lo for a NaN x (p L at p = 0, L = inf). Not fmax: GCC does not
 * vectorise fmax without -ffinite-math-only. */
#define GBO_ATLEAST(x, lo) ((x) > (lo) ? (x) : (lo))

/* x - x is 0 for a finite x and NaN for inf or NaN: a branch-free finiteness test */
#define GBO_NONFINITE(x) ((x) - (x) != 0)

/* The focal function's derivatives at u (t z for a binary row, the true-class margin a for a
 * softmax row): d1 = -phi'(u) >= 0 and the training-safe phi''(u) before the floor, d2 >= 0.
 * GKIND is fixed at compile time: 0 logloss (gamma = 0: d1 = q, d2 = p q), 1 gamma = 2
 * (q^g = q q), 2 gamma = 1, 3 any other gamma (pow). Reads g, c0, c1, c2. */
#define GBO_CORE(T, EXP, LOG1P, POW, GKIND, u, d1, d2)                                          \
    {                                                                                           \
        T E_ = EXP(u);                                                                          \
        T q_ = (T)1 / ((T)1 + E_);                                                              \
        T r_ = (T)1 / E_; /* exp(-u): inf where E underflowed to 0 */                           \
        if ((GKIND) == 0) {                                                                     \
            d1 = q_;                                                                            \
            d2 = q_ / ((T)1 + r_); /* p q without cancellation */                               \
        } else {                                                                                \
            T L_ = LOG1P(r_); /* softplus(-u) = -log p, accurate for tiny r */                  \
            T gp_ = g / ((T)1 + r_);                                                            \
            T gpL_ = gp_ * L_; /* -g p log p <= g/e; NaN (0 inf) where p = 0: the limit is 0 */ \
            gpL_ = GBO_ATLEAST(gpL_, (T)0);                                                     \
            T qg_ = (GKIND) == 1 ? q_ * q_ : (GKIND) == 2 ? q_ : POW(q_, g);                    \
            d1 = qg_ * (gpL_ + q_);                                                             \
            d2 = qg_ * (c0 * q_ * q_ + c1 * gp_ * q_ + c2 * gp_ * gpL_);                        \
        }                                                                                       \
    }

/* D1[r], D2[r] = d1 and the floored d2 at every u = SRC[r] of a whole (padded) tile: the loop
 * with the libm calls, over GBO_TILE rows exactly (see "tiles" below). */
#define GBO_CORE_TILE(T, EXP, LOG1P, POW, GKIND, SRC)          \
    for (int64_t r = 0; r < GBO_TILE; r++) {                   \
        T u_ = SRC[r], d1_, d2_;                               \
        GBO_CORE(T, EXP, LOG1P, POW, GKIND, u_, d1_, d2_)      \
        D1[r] = d1_;                                           \
        D2[r] = GBO_ATLEAST(d2_, floor_);                      \
    }

/* Dispatch on gamma to a loop instantiated for each GKIND (the loop macro takes GKIND last). */
#define GBO_BY_GAMMA(LOOP, ...)             \
    if (g_ == 0.0) {                        \
        LOOP(__VA_ARGS__, 0)                \
    } else if (g_ == 2.0) {                 \
        LOOP(__VA_ARGS__, 1)                \
    } else if (g_ == 1.0) {                 \
        LOOP(__VA_ARGS__, 2)                \
    } else {                                \
        LOOP(__VA_ARGS__, 3)                \
    }

/* ----------------------------------------------------------------------------- tiles */

/* Rows are processed in tiles of GBO_TILE. Every loop that calls exp/log1p/pow runs over a WHOLE
 * tile of local, aligned arrays (a short last tile is padded), so the vectoriser needs no scalar
 * remainder loop and no alignment peeling: scalar libm and vector libmvec results may differ in
 * the last bit, and this way each row's result is the same wherever its tile or thread range
 * starts (tests/test_compiled.py checks bit-identity across thread counts). Loads and stores,
 * plain arithmetic (identical in scalar and vector form), run over the tile's real rows. */
#define GBO_TILE 64
#if defined(_MSC_VER)
#define GBO_ALIGNED __declspec(align(64))
#else
#define GBO_ALIGNED __attribute__((aligned(64)))
#endif

/* ----------------------------------------------------------------------------- binary */

/* The tile of rows i0 .. i0 + B - 1 of a binary loss: u = t z (t = +-1 from the 0/1 label) in
 * U, zero padding after the last row; flags non-finite scores and labels other than 0/1. */
#define GBO_BINARY_TILE(T)                                                          \
    const int64_t B = n - i0 < GBO_TILE ? n - i0 : GBO_TILE;                        \
    GBO_ALIGNED T U[GBO_TILE];                                                      \
    for (int64_t r = 0; r < B; r++) {                                               \
        T zi = z[i0 + r], yi = y[i0 + r];                                           \
        bad |= GBO_NONFINITE(zi);                                                   \
        soft |= (yi != 0) & (yi != 1);                                              \
        U[r] = yi != 0 ? zi : -zi;                                                  \
    }                                                                               \
    for (int64_t r = B; r < GBO_TILE; r++) U[r] = 0;

/* Rows of a binary loss with hard labels: u = t z, row weight s = a_t (times w_i when given);
 * grad = -t s d1, hess = s max(d2, floor). */
#define GBO_BINARY_LOOP(T, TO, EXP, LOG1P, POW, HAS_W, GKIND)                       \
    for (int64_t i0 = 0; i0 < n; i0 += GBO_TILE) {                                  \
        GBO_BINARY_TILE(T)                                                          \
        GBO_ALIGNED T D1[GBO_TILE], D2[GBO_TILE];                                   \
        GBO_CORE_TILE(T, EXP, LOG1P, POW, GKIND, U)                                 \
        for (int64_t r = 0; r < B; r++) {                                           \
            T yi = y[i0 + r];                                                       \
            T si = yi != 0 ? a_pos : a_neg;                                         \
            if (HAS_W) si *= w[i0 + r];                                             \
            grad[i0 + r] = (TO)((yi != 0 ? -si : si) * D1[r]);                      \
            hess[i0 + r] = (TO)(si * D2[r]);                                        \
        }                                                                           \
    }

/* The loss value phi(u) = q^g softplus(-u) (softplus(-u) alone at gamma = 0) from one exp,
 * em = exp(-|u|) (<= 1: no overflow, and subnormal, not 0, up to |u| ~ 745):
 * softplus(-u) = max(-u, 0) + log1p(em), q = sigma(-u) = em / (1 + em) for u >= 0, 1 / (1 + em)
 * for u < 0. */
#define GBO_VALUE(T, EXP, LOG1P, POW, GKIND, u, v)                                  \
    {                                                                               \
        T em_ = EXP((u) >= 0 ? -(u) : (u));                                         \
        T L_ = LOG1P(em_) + ((u) < 0 ? -(u) : (T)0);                                \
        T q_ = ((u) >= 0 ? em_ : (T)1) / ((T)1 + em_);                              \
        T qg_ = (GKIND) == 1 ? q_ * q_ : (GKIND) == 2 ? q_ : POW(q_, g);            \
        v = (GKIND) == 0 ? L_ : qg_ * L_;                                           \
    }

/* Binary loss values s phi(u) per row (into `values` when given) and their sums in double:
 * sums[0] += sum of s phi(u), sums[1] += sum of w (of 1 without weights), in float64 (four
 * running sums over the rows' positions mod 4, then added: the same order on every call). */
#define GBO_VALUE_LOOP(T, TO, EXP, LOG1P, POW, HAS_W, GKIND)                        \
    for (int64_t i0 = 0; i0 < n; i0 += GBO_TILE) {                                  \
        GBO_BINARY_TILE(T)                                                          \
        GBO_ALIGNED T V[GBO_TILE];                                                  \
        for (int64_t r = 0; r < GBO_TILE; r++) {                                    \
            T u = U[r], v;                                                          \
            GBO_VALUE(T, EXP, LOG1P, POW, GKIND, u, v)                              \
            V[r] = v;                                                               \
        }                                                                           \
        for (int64_t r = 0; r < B; r++) {                                           \
            T yi = y[i0 + r];                                                       \
            T si = yi != 0 ? a_pos : a_neg;                                         \
            if (HAS_W) si *= w[i0 + r];                                             \
            V[r] *= si;                                                             \
        }                                                                           \
        if (values)                                                                 \
            for (int64_t r = 0; r < B; r++) values[i0 + r] = (TO)V[r];              \
        /* four running sums in a fixed row pattern (r mod 4): deterministic */     \
        for (int64_t r = 0; r < B; r++) acc[r & 3] += (double)V[r];                 \
        if (HAS_W)                                                                  \
            for (int64_t r = 0; r < B; r++) wacc[r & 3] += (double)w[i0 + r];       \
        else                                                                        \
            wacc[0] += (double)B;                                                   \
    }

/* ----------------------------------------------------------------------------- softmax */

/* Rows of a softmax (multiclass) focal loss, in tiles held class-major so that every inner loop
 * runs along rows and vectorises. Per row, with c the true class:
 *   m = max_{k != c} z_k, e_k = exp(z_k - m) (0 at c; the largest wrong class has e = 1),
 *   s1 = sum_{k != c} e_k - 1 without cancellation (the ones are counted apart), s = 1 + s1,
 *   a = z_c - m - log1p(s1) (p_c = sigmoid(a)), d1, d2 = GBO_CORE at a (d2 floored),
 *   rho_k = e_k / s, 1 - rho_k = (s1 + (1 - e_k)) / s (two non-negative terms),
 *   wrong class k: grad = d1 rho_k,  hess = rho_k (d2 rho_k + d1 (1 - rho_k))
 *   true class:    grad = -d1,       hess = d2
 * every Hessian floored, then times the row scale (class weight times sample weight). Padding
 * rows (beyond the last real one) hold zeros and class 0: finite, never stored. */
#define GBO_SOFTMAX_LOOP(T, TO, EXP, LOG1P, POW, HAS_SCALE, GKIND)                           \
    for (int64_t i0 = 0; i0 < n; i0 += GBO_TILE) {                                           \
        const int64_t B = n - i0 < GBO_TILE ? n - i0 : GBO_TILE;                             \
        GBO_ALIGNED T cls[GBO_TILE], zc[GBO_TILE], m[GBO_TILE], s1[GBO_TILE];                \
        GBO_ALIGNED T ones[GBO_TILE], a[GBO_TILE], D1[GBO_TILE], D2[GBO_TILE];               \
        GBO_ALIGNED T inv_s[GBO_TILE];                                                       \
        for (int64_t r = 0; r < GBO_TILE; r++) {                                             \
            int64_t c = r < B ? y[i0 + r] : 0;                                               \
            cls[r] = (T)c;                                                                   \
            zc[r] = r < B ? z[(i0 + r) * zrs + c * zcs] : 0;                                 \
            m[r] = r < B ? -(T)INFINITY : 0;                                                 \
            s1[r] = 0;                                                                       \
            ones[r] = 0;                                                                     \
        }                                                                                    \
        for (int64_t k = 0; k < K; k++) {                                                    \
            T *e = tile + k * GBO_TILE;                                                      \
            for (int64_t r = 0; r < B; r++) {                                                \
                T v = z[(i0 + r) * zrs + k * zcs];                                           \
                bad |= GBO_NONFINITE(v);                                                     \
                e[r] = v;                                                                    \
                m[r] = (cls[r] != (T)k && v > m[r]) ? v : m[r];                              \
            }                                                                                \
            for (int64_t r = B; r < GBO_TILE; r++) e[r] = 0;                                 \
        }                                                                                    \
        for (int64_t k = 0; k < K; k++) {                                                    \
            T *e = tile + k * GBO_TILE;                                                      \
            for (int64_t r = 0; r < GBO_TILE; r++) {                                         \
                T ek = EXP(e[r] - m[r]);                                                     \
                ek = cls[r] == (T)k ? (T)0 : ek;                                             \
                e[r] = ek;                                                                   \
                s1[r] += ek == (T)1 ? (T)0 : ek;                                             \
                ones[r] += ek == (T)1 ? (T)1 : (T)0;                                         \
            }                                                                                \
        }                                                                                    \
        for (int64_t r = 0; r < GBO_TILE; r++) {                                             \
            s1[r] += ones[r] - (T)1; /* exact: small integers */                             \
            a[r] = zc[r] - m[r] - LOG1P(s1[r]);                                              \
            inv_s[r] = (T)1 / ((T)1 + s1[r]);                                                \
        }                                                                                    \
        GBO_CORE_TILE(T, EXP, LOG1P, POW, GKIND, a)                                          \
        for (int64_t k = 0; k < K; k++) {                                                    \
            const T *e = tile + k * GBO_TILE;                                                \
            for (int64_t r = 0; r < B; r++) {                                                \
                T rho = e[r] * inv_s[r];                                                     \
                T omr = ((T)1 - e[r] + s1[r]) * inv_s[r];                                    \
                T gk = D1[r] * rho;                                                          \
                T hk = rho * (D2[r] * rho + D1[r] * omr);                                    \
                int is_c = cls[r] == (T)k;                                                   \
                gk = is_c ? -D1[r] : gk;                                                     \
                hk = is_c ? D2[r] : GBO_ATLEAST(hk, floor_);                                 \
                if (HAS_SCALE) {                                                             \
                    gk *= scale[i0 + r];                                                     \
                    hk *= scale[i0 + r];                                                     \
                }                                                                            \
                grad[(i0 + r) * ors + k * ocs] = (TO)gk;                                     \
                hess[(i0 + r) * ors + k * ocs] = (TO)hk;                                     \
            }                                                                                \
        }                                                                                    \
    }

/* ----------------------------------------------------------------------------- entry points */

#define GBO_DEFINE(SFX, T, TO, EXP, LOG1P, POW)                                                    \
    /* binary: g_ = 0 is logloss (c0..c2 unused), else focal with Hessian coefficients c0..c2 */   \
    GBO_EXPORT GBO_CLONES int gbo_binary_##SFX(int64_t n, const T *z, const T *y, const T *w,      \
                                               double a_pos_, double a_neg_, double floor_d,       \
                                               double g_, double c0_, double c1_, double c2_,      \
                                               TO *grad, TO *hess) {                               \
        const T a_pos = (T)a_pos_, a_neg = (T)a_neg_, floor_ = (T)floor_d;                         \
        const T g = (T)g_, c0 = (T)c0_, c1 = (T)c1_, c2 = (T)c2_;                                  \
        int bad = 0, soft = 0;                                                                     \
        if (w) {                                                                                   \
            GBO_BY_GAMMA(GBO_BINARY_LOOP, T, TO, EXP, LOG1P, POW, 1)                               \
        } else {                                                                                   \
            GBO_BY_GAMMA(GBO_BINARY_LOOP, T, TO, EXP, LOG1P, POW, 0)                               \
        }                                                                                          \
        return (bad != 0) | ((soft != 0) << 1);                                                    \
    }                                                                                              \
    /* binary values: per-row s phi(u) into values (or NULL) and sums[0..1] += (sum, weight) */  \
    GBO_EXPORT GBO_CLONES int gbo_binary_value_##SFX(int64_t n, const T *z, const T *y,            \
                                                     const T *w, double a_pos_, double a_neg_,     \
                                                     double g_, TO *values, double *sums) {        \
        const T a_pos = (T)a_pos_, a_neg = (T)a_neg_, g = (T)g_;                                   \
        int bad = 0, soft = 0;                                                                     \
        double acc[4] = {0, 0, 0, 0}, wacc[4] = {0, 0, 0, 0};                                      \
        if (w) {                                                                                   \
            GBO_BY_GAMMA(GBO_VALUE_LOOP, T, TO, EXP, LOG1P, POW, 1)                                \
        } else {                                                                                   \
            GBO_BY_GAMMA(GBO_VALUE_LOOP, T, TO, EXP, LOG1P, POW, 0)                                \
        }                                                                                          \
        sums[0] += (acc[0] + acc[1]) + (acc[2] + acc[3]);                                          \
        sums[1] += (wacc[0] + wacc[1]) + (wacc[2] + wacc[3]);                                      \
        return (bad != 0) | ((soft != 0) << 1);                                                    \
    }                                                                                              \
    /* softmax: z and the outputs (n, K) with element strides (row, class); y class indices,   */  \
    /* scale per-row weights or NULL. Returns -1 when the scratch tile cannot be allocated.    */  \
    GBO_EXPORT GBO_CLONES int gbo_softmax_##SFX(int64_t n, int64_t K, const T *z, int64_t zrs,     \
                                                int64_t zcs, const int64_t *y, const T *scale,     \
                                                double floor_d, double g_, double c0_,             \
                                                double c1_, double c2_, TO *grad, TO *hess,        \
                                                int64_t ors, int64_t ocs) {                        \
        const T floor_ = (T)floor_d, g = (T)g_, c0 = (T)c0_, c1 = (T)c1_, c2 = (T)c2_;             \
        T *tile = (T *)malloc((size_t)K * GBO_TILE * sizeof(T)); /* (64-row tiles: 256/512 B) */                                   \
        if (!tile) return -1;                                                                      \
        int bad = 0;                                                                               \
        if (scale) {                                                                               \
            GBO_BY_GAMMA(GBO_SOFTMAX_LOOP, T, TO, EXP, LOG1P, POW, 1)                              \
        } else {                                                                                   \
            GBO_BY_GAMMA(GBO_SOFTMAX_LOOP, T, TO, EXP, LOG1P, POW, 0)                              \
        }                                                                                          \
        free(tile);                                                                                \
        return bad != 0;                                                                           \
    }

/* Regression rows, r = z - y (weights w or NULL, multiplied into both results):
 *   kind 0, Huber with threshold p: grad clip(r, -p, p); Hessian by mode: 0 the MM curvature
 *     p / max(|r|, p), 1 unit, 2 exact (1 for |r| <= p, else 0);
 *   kind 1, quantile: grad g_ge where z >= y, else g_lt (1 - tau and -tau, rounded once from
 *     float64 by the caller's cast); Hessian by mode: 1 unit, 2 exact (0).
 * One pass, the same formulas as HuberLoss / QuantileLoss._gradient_hessian; returns 1 when a
 * score is NaN or infinite. */
#define GBO_REGRESSION_LOOP(T, TO, HAS_W)                                                 \
    for (int64_t i = 0; i < n; i++) {                                                     \
        const T zi = z[i], yi = y[i];                                                     \
        bad |= GBO_NONFINITE(zi);                                                         \
        T g, h;                                                                           \
        if (kind == 0) {                                                                  \
            const T r = zi - yi, a = r < 0 ? -r : r;                                      \
            g = r < -p ? -p : (r > p ? p : r);                                            \
            h = mode == 0 ? p / (a > p ? a : p) : (mode == 1 ? (T)1 : (T)(a <= p));       \
        } else {                                                                          \
            g = zi >= yi ? g_ge : g_lt;                                                   \
            h = mode == 1 ? (T)1 : (T)0;                                                  \
        }                                                                                 \
        if (HAS_W) {                                                                      \
            g *= w[i];                                                                    \
            h *= w[i];                                                                    \
        }                                                                                 \
        grad[i] = (TO)g;                                                                  \
        hess[i] = (TO)h;                                                                  \
    }

#define GBO_DEFINE_REGRESSION(SFX, T, TO)                                                         \
    GBO_EXPORT GBO_CLONES int gbo_regression_##SFX(int64_t n, const T *z, const T *y, const T *w, \
                                                   double p_, double g_ge_, double g_lt_,         \
                                                   int64_t kind, int64_t mode, TO *grad,          \
                                                   TO *hess) {                                    \
        const T p = (T)p_, g_ge = (T)g_ge_, g_lt = (T)g_lt_;                                      \
        int bad = 0;                                                                              \
        if (w) {                                                                                  \
            GBO_REGRESSION_LOOP(T, TO, 1)                                                         \
        } else {                                                                                  \
            GBO_REGRESSION_LOOP(T, TO, 0)                                                         \
        }                                                                                         \
        return bad != 0;                                                                          \
    }

GBO_DEFINE_REGRESSION(f32, float, float)
GBO_DEFINE_REGRESSION(f64f32, double, float)
GBO_DEFINE_REGRESSION(f64, double, double)

GBO_DEFINE(f32, float, float, expf, log1pf, powf)
GBO_DEFINE(f64f32, double, float, exp, log1p, pow)
GBO_DEFINE(f64, double, double, exp, log1p, pow)

/* ----------------------------------------------------------------------------- the module */
/* The library is built as a CPython extension module (so that pip builds and installs it like
 * any other); the kernels are called through ctypes. The module itself has one function,
 * address(array): the data pointer of any buffer (numpy array) as an int, through the buffer
 * protocol in ~0.2 us, where ndarray.__array_interface__ builds a dict (~1.6 us): a kernel call
 * passes 5-6 pointers, and CatBoost makes ~36,000 calls per 100 iterations. */
static PyObject *gbo_address(PyObject *self, PyObject *obj) {
    Py_buffer view;
    (void)self;
    if (PyObject_GetBuffer(obj, &view, PyBUF_STRIDED_RO) < 0) return NULL;
    void *p = view.buf;
    PyBuffer_Release(&view);
    return PyLong_FromVoidPtr(p);
}

static PyMethodDef gbo_methods[] = {
    {"address", gbo_address, METH_O, "address(array) -> int: the data pointer of a buffer"},
    {NULL, NULL, 0, NULL},
};
static struct PyModuleDef gbo_module = {PyModuleDef_HEAD_INIT, "_kernels", NULL, -1, gbo_methods};
PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&gbo_module); }
