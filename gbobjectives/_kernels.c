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
 * NaN. No fast-math: -fno-math-errno only (so that exp/log1p/pow may be vectorised), no
 * reassociation and no FMA contraction (-ffp-contract=off), which would change the roundings
 * between CPUs.
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

/* q^g for the three gamma kinds: 1 = g is 2, 2 = g is 1, 0 = any other g */
#define GBO_QG(T, POW, q, g, GKIND) ((GKIND) == 1 ? (q) * (q) : (GKIND) == 2 ? (q) : POW((q), (g)))

/* Logloss of one row: reads zi, yi, si; writes gi, hi (compute type T). */
#define GBO_LOGLOSS(T, EXP, LOG1P, POW, GKIND)                       \
    T u = yi != 0 ? zi : -zi;                                        \
    T E = EXP(u);                                                    \
    T q = (T)1 / ((T)1 + E);                                         \
    T r = (T)1 / E;                                                  \
    T pq = q / ((T)1 + r);                                           \
    gi = (yi != 0 ? -si : si) * q;                                   \
    hi = si * GBO_ATLEAST(pq, floor_);

/* Focal loss of one row, training-safe Hessian with coefficients c0, c1, c2 (see the top). */
#define GBO_FOCAL(T, EXP, LOG1P, POW, GKIND)                         \
    T u = yi != 0 ? zi : -zi;                                        \
    T E = EXP(u);                                                    \
    T q = (T)1 / ((T)1 + E);                                         \
    T r = (T)1 / E;                                                  \
    T L = LOG1P(r);                                                  \
    T gp = g / ((T)1 + r);                                           \
    T gpL = gp * L;                                                  \
    gpL = GBO_ATLEAST(gpL, (T)0);                                    \
    T qg = GBO_QG(T, POW, q, g, GKIND);                              \
    T d1 = qg * (gpL + q);                                           \
    T d2 = qg * (c0 * q * q + c1 * gp * q + c2 * gp * gpL);          \
    gi = (yi != 0 ? -si : si) * d1;                                  \
    hi = si * GBO_ATLEAST(d2, floor_);

/* ----------------------------------------------------------------------------- loops */

/* One loop over rows; the row weight s = a_t (w_i when w is given). */
#define GBO_LOOP(BODY, T, TO, EXP, LOG1P, POW, GKIND, HAS_W)         \
    for (int64_t i = 0; i < n; i++) {                                \
        T zi = z[i];                                                 \
        bad |= GBO_NONFINITE(zi);                                    \
        T yi = y[i];                                                 \
        soft |= (yi != 0) & (yi != 1);                               \
        T si = yi != 0 ? a_pos : a_neg;                              \
        if (HAS_W) si *= w[i];                                       \
        T gi, hi;                                                    \
        BODY(T, EXP, LOG1P, POW, GKIND)                              \
        grad[i] = (TO)gi;                                            \
        hess[i] = (TO)hi;                                            \
    }

#define GBO_DEFINE(SFX, T, TO, EXP, LOG1P, POW)                                                  \
    GBO_EXPORT GBO_CLONES int gbo_logloss_##SFX(int64_t n, const T *z, const T *y, const T *w,   \
                                                double a_pos_, double a_neg_, double floor_d,    \
                                                TO *grad, TO *hess) {                            \
        const T a_pos = (T)a_pos_, a_neg = (T)a_neg_, floor_ = (T)floor_d;                       \
        int bad = 0, soft = 0;                                                                          \
        if (w) {                                                                                 \
            GBO_LOOP(GBO_LOGLOSS, T, TO, EXP, LOG1P, POW, 0, 1)                                  \
        } else {                                                                                 \
            GBO_LOOP(GBO_LOGLOSS, T, TO, EXP, LOG1P, POW, 0, 0)                                  \
        }                                                                                        \
        return (bad != 0) | ((soft != 0) << 1);                                                                   \
    }                                                                                            \
    GBO_EXPORT GBO_CLONES int gbo_focal_##SFX(int64_t n, const T *z, const T *y, const T *w,     \
                                              double a_pos_, double a_neg_, double floor_d,      \
                                              double g_, double c0_, double c1_, double c2_,     \
                                              TO *grad, TO *hess) {                              \
        const T a_pos = (T)a_pos_, a_neg = (T)a_neg_, floor_ = (T)floor_d;                       \
        const T g = (T)g_, c0 = (T)c0_, c1 = (T)c1_, c2 = (T)c2_;                                \
        int bad = 0, soft = 0;                                                                          \
        if (g_ == 2.0) {                                                                         \
            if (w) {                                                                             \
                GBO_LOOP(GBO_FOCAL, T, TO, EXP, LOG1P, POW, 1, 1)                                \
            } else {                                                                             \
                GBO_LOOP(GBO_FOCAL, T, TO, EXP, LOG1P, POW, 1, 0)                                \
            }                                                                                    \
        } else if (g_ == 1.0) {                                                                  \
            if (w) {                                                                             \
                GBO_LOOP(GBO_FOCAL, T, TO, EXP, LOG1P, POW, 2, 1)                                \
            } else {                                                                             \
                GBO_LOOP(GBO_FOCAL, T, TO, EXP, LOG1P, POW, 2, 0)                                \
            }                                                                                    \
        } else {                                                                                 \
            if (w) {                                                                             \
                GBO_LOOP(GBO_FOCAL, T, TO, EXP, LOG1P, POW, 0, 1)                                \
            } else {                                                                             \
                GBO_LOOP(GBO_FOCAL, T, TO, EXP, LOG1P, POW, 0, 0)                                \
            }                                                                                    \
        }                                                                                        \
        return (bad != 0) | ((soft != 0) << 1);                                                                   \
    }

GBO_DEFINE(f32, float, float, expf, log1pf, powf)
GBO_DEFINE(f64f32, double, float, exp, log1p, pow)
GBO_DEFINE(f64, double, double, exp, log1p, pow)

/* ----------------------------------------------------------------------------- module stub */
/* The library is built as a CPython extension module (so that pip builds and installs it like
 * any other) but used through ctypes; importing it as a module gives an empty module. */
static struct PyModuleDef gbo_module = {PyModuleDef_HEAD_INIT, "_kernels", NULL, -1, NULL};
PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&gbo_module); }
