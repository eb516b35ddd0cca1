// Decode-step kernels of schemac's CUDA engine (package gpudecode).
// Compiled at run time by NVRTC; no CUDA headers are included, so bf16 and
// fp16 conversions are written out here.
//
// Shapes: M is the number of tokens fed in one step (1..MMAX, MMAX a
// template parameter: 1 for the per-token step, 16 for prompt and
// jump-forward chunks). Activations between kernels are float32 [M, n]
// row-major; the inputs of the matrix-vector products are fp16 [M, n].
// Every kernel reads the step's token count and position from the device
// Params, so one recorded CUDA graph serves every step.

typedef unsigned short bf16;
typedef unsigned short f16;
typedef unsigned char u8;
typedef unsigned int u32;

#define INFINITY __int_as_float(0x7f800000)

// Programmatic dependent launch (Hopper and later; engine.go's
// EarlyLaunch): the engine may start a kernel while the one before it is
// still running. Every kernel signals at once that its successor may start
// (DEPS_LAUNCH) and, in every block, waits for its predecessor to finish
// (DEPS_WAIT) before it reads or writes anything but weights, which are
// constant: the products load their first weights before waiting. Where
// the kernel was launched normally the wait returns at once.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define DEPS_LAUNCH() asm volatile("griddepcontrol.launch_dependents;" ::: "memory")
#define DEPS_WAIT() asm volatile("griddepcontrol.wait;" ::: "memory")
#else
#define DEPS_LAUNCH() ((void)0)
#define DEPS_WAIT() ((void)0)
#endif
#define DEPS_BEGIN() \
    do {             \
        DEPS_LAUNCH(); \
        DEPS_WAIT();   \
    } while (0)

struct Params {
    const u8* rows; // mask rows [R, ⌈V/8⌉] (token t at bit t%8 of byte t/8)
    int pos;      // cache position of the first token fed
    int n;        // tokens fed (1..MMAX)
    int row;      // mask row (-1: no constraint)
    int eos_ok;   // EOS may be sampled
    int eos;      // EOS token id (-1: none)
    int next;     // out: the next token (greedy, or sampled when temperature > 0)
    float temperature;  // 0: greedy (sample_masked does nothing)
    float top_p;        // nucleus mass (1: every token)
    int tokens[16];
    unsigned long long seed;  // sampling: the draw of a step depends on seed and pos+n
};

__device__ __forceinline__ float bf2f(bf16 v) { return __uint_as_float(((u32)v) << 16); }
__device__ __forceinline__ bf16 f2bf(float f) {
    u32 u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;
    u += 0x7fffu + ((u >> 16) & 1u);
    return (bf16)(u >> 16);
}
__device__ __forceinline__ f16 f2h(float f) {
    f16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}
__device__ __forceinline__ float h2f(f16 h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}
// NF4 absmax values as the kernels read them: float32, or fp16 copies
// (ABSMAX16, engine.go's Absmax16, written by absmax_half).
#ifndef ABSMAX16
#define ABSMAX16 0
#endif
#if ABSMAX16
typedef f16 absmax_t;
__device__ __forceinline__ float absmax_f(const absmax_t* p) { return h2f(__ldg(p)); }
__device__ __forceinline__ f16 absmax_h(const absmax_t* p) { return __ldg(p); }
#else
typedef float absmax_t;
__device__ __forceinline__ float absmax_f(const absmax_t* p) { return __ldg(p); }
__device__ __forceinline__ f16 absmax_h(const absmax_t* p) { return f2h(__ldg(p)); }
#endif

// absmax_half writes out[i] = fp16(absmax i), from float32 values a or,
// when q is not null, from double-quantized ones (q[i]·scale[i/256] +
// mean, as nf4.DequantizeAbsmax computes them).
extern "C" __global__ void absmax_half(const float* __restrict__ a, const signed char* __restrict__ q,
                                       const float* __restrict__ scale, const float* __restrict__ mean,
                                       f16* __restrict__ out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    out[i] = f2h(q != nullptr ? (float)q[i] * scale[i / 256] + mean[0] : a[i]);
}

// fma of two packed half pairs into a packed half accumulator.
__device__ __forceinline__ u32 hfma2(u32 a, u32 b, u32 c) {
    u32 d;
    asm("fma.rn.f16x2 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
}
__device__ __forceinline__ float h2sum(u32 v) {
    return h2f((f16)(v & 0xffff)) + h2f((f16)(v >> 16));
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// block_sum reduces over the block (blockDim.x a multiple of 32, ≤ 1024).
__device__ float block_sum(float v, float* red) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) red[w] = v;
    __syncthreads();
    float t = threadIdx.x < (blockDim.x >> 5) ? red[threadIdx.x] : 0.f;
    if (w == 0) t = warp_sum(t);
    if (threadIdx.x == 0) red[0] = t;
    __syncthreads();
    return red[0];
}
__device__ float block_max(float v, float* red) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) red[w] = v;
    __syncthreads();
    float t = threadIdx.x < (blockDim.x >> 5) ? red[threadIdx.x] : -INFINITY;
    if (w == 0) t = warp_max(t);
    if (threadIdx.x == 0) red[0] = t;
    __syncthreads();
    return red[0];
}

// embed: x[m] = float(emb[tokens[m]]) for m < n. Grid (MMAX), block 256.
extern "C" __global__ void embed(const Params* P, const bf16* __restrict__ emb, float* __restrict__ x, int D) {
    DEPS_BEGIN();
    int m = blockIdx.x;
    if (m >= P->n) return;
    const bf16* e = emb + (long)P->tokens[m] * D;
    float* xm = x + (long)m * D;
    if (D % 8 == 0) {  // 16 bytes a load
        for (int c = threadIdx.x; c < D / 8; c += blockDim.x) {
            uint4 v = ((const uint4*)e)[c];
            const u32* w = (const u32*)&v;
            float4 lo = {__uint_as_float(w[0] << 16), __uint_as_float(w[0] & 0xffff0000u),
                         __uint_as_float(w[1] << 16), __uint_as_float(w[1] & 0xffff0000u)};
            float4 hi = {__uint_as_float(w[2] << 16), __uint_as_float(w[2] & 0xffff0000u),
                         __uint_as_float(w[3] << 16), __uint_as_float(w[3] & 0xffff0000u)};
            ((float4*)xm)[2 * c] = lo;
            ((float4*)xm)[2 * c + 1] = hi;
        }
        return;
    }
    for (int i = threadIdx.x; i < D; i += blockDim.x) xm[i] = bf2f(e[i]);
}

// inv_rms is 1/rms(x) of one row of D floats (D a multiple of 4), summed
// by the whole block; norm_row writes o = fp16(x·r·w).
__device__ __forceinline__ float inv_rms(const float4* xr, int D, float eps, float* red) {
    float s = 0.f;
    for (int i = threadIdx.x; i < D / 4; i += blockDim.x) {
        float4 v = xr[i];
        s += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
    }
    s = block_sum(s, red);
    return rsqrtf(s / D + eps);
}

__device__ __forceinline__ void norm_row(const float4* xr, const float4* w4, f16* o, int D, float r) {
    for (int i = threadIdx.x; i < D / 4; i += blockDim.x) {
        float4 v = xr[i], g = w4[i];
        o[4 * i] = f2h(v.x * r * g.x);
        o[4 * i + 1] = f2h(v.y * r * g.y);
        o[4 * i + 2] = f2h(v.z * r * g.z);
        o[4 * i + 3] = f2h(v.w * r * g.w);
    }
}

// rmsnorm: out[m] = fp16(x[m] / rms(x[m]) * w) for m < n; with last set,
// only row n-1, written to out[0]. Grid (MMAX), block 1024; D a multiple
// of 4.
extern "C" __global__ void rmsnorm(const Params* P, const float* __restrict__ x, const float* __restrict__ w,
                                   f16* __restrict__ out, int D, float eps, int last) {
    DEPS_BEGIN();
    __shared__ float red[32];
    int m = blockIdx.x;
    if (last) {
        if (m > 0) return;
        m = P->n - 1;
    } else if (m >= P->n) {
        return;
    }
    const float4* xr = (const float4*)(x + (long)m * D);
    norm_row(xr, (const float4*)w, out + (last ? 0 : (long)m * D), D, inv_rms(xr, D, eps, red));
}

// The matrix-vector products: for each job j of a launch (blockIdx.y),
// y[m, row] (=, or += with accumulate) = Σ_k W[row, k]·x[m, k] +
// scale·Σ_i B[row, i]·t[m, i] (the LoRA term, when B is not null) for
// W [rows, in] and x fp16 [M, in], the same x for every job. A block takes
// ROWS consecutive rows; its threads split the columns, 16 bytes of each
// row at a time, so each thread has ROWS loads in flight and a kernel's
// latency is a few memory round trips whatever the row length. Partial
// sums meet in shared memory; the block's warps add the LoRA term and
// store.
struct Job {
    const void* W;          // NF4 packed bytes or bf16 values
    const absmax_t* absmax; // NF4 only
    const bf16* B;          // LoRA B [rows, r] or null
    const float* t;         // LoRA t = x·Aᵀ [M, r]
    float* y;               // [M, rows]
    int rows, in, accumulate, pad;
};
struct Jobs {
    Job j[3];
};

// The LoRA term of the one-token products, loaded early (EARLY_LORA,
// engine.go's EarlyLoRA): warp w < ROWS will finish row row0+w, so before
// the products' wait its lanes load that row of B (weights) and, right
// after the wait, t, and the epilogue then needs no memory round trip.
// Lane l holds elements l, l+32, … (LORA_RK slices: ⌈r/32⌉, r from the
// engine's adapter).
#ifndef LORA_RK
#define LORA_RK 1
#endif
#ifndef EARLY_LORA
#define EARLY_LORA 0
#endif
struct LoraPre {
    float b[LORA_RK], t[LORA_RK];
};

template <int ROWS>
__device__ __forceinline__ void lora_pre_b(const Job& J, int row0, int r, LoraPre& L) {
    int lane = threadIdx.x & 31, row = row0 + (threadIdx.x >> 5);
    bool has = J.B != nullptr && (threadIdx.x >> 5) < ROWS && row < J.rows;
#pragma unroll
    for (int k = 0; k < LORA_RK; k++) {
        int i = lane + 32 * k;
        L.b[k] = has && i < r ? bf2f(J.B[(long)row * r + i]) : 0.f;
    }
}

__device__ __forceinline__ void lora_pre_t(const Job& J, int r, LoraPre& L) {
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int k = 0; k < LORA_RK; k++) {
        int i = lane + 32 * k;
        L.t[k] = J.B != nullptr && i < r ? J.t[i] : 0.f;
    }
}

// wait_with_lora is a product's DEPS_WAIT; a one-token product with
// EARLY_LORA loads its B row before the wait and t after it.
template <int MMAX, int ROWS>
__device__ __forceinline__ void wait_with_lora(const Job& J, int row0, int r, LoraPre& pre) {
    if (EARLY_LORA && MMAX == 1) lora_pre_b<ROWS>(J, row0, r, pre);
    DEPS_WAIT();
    if (EARLY_LORA && MMAX == 1) lora_pre_t(J, r, pre);
}

// finish reduces acc over the block and stores the rows (see above); pre,
// when not null, holds the LoRA term's operands (one token, and a warp
// per row: else it is ignored).
template <int MMAX, int ROWS>
__device__ __forceinline__ void finish(const Params* P, int row0, const Job& J, float (&acc)[ROWS][MMAX], int r,
                                       float scale, const LoraPre* pre = nullptr) {
    __shared__ float part[ROWS * MMAX][32];
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, warps = blockDim.x >> 5;
    int n = P->n;
#pragma unroll
    for (int q = 0; q < ROWS; q++)
#pragma unroll
        for (int m = 0; m < MMAX; m++) {
            float v = warp_sum(acc[q][m]);
            if (lane == 0) part[q * MMAX + m][w] = v;
        }
    __syncthreads();
    if (MMAX == 1 && pre != nullptr && warps >= ROWS) {
        int row = row0 + w;
        if (w >= ROWS || row >= J.rows) return;
        float v = lane < warps ? part[w][lane] : 0.f;
#pragma unroll
        for (int k = 0; k < LORA_RK; k++) v += scale * pre->b[k] * pre->t[k];
        v = warp_sum(v);
        if (lane == 0) J.y[row] = J.accumulate ? J.y[row] + v : v;
        return;
    }
    for (int pi = w; pi < ROWS * MMAX; pi += warps) {
        int q = pi / MMAX, m = pi % MMAX, row = row0 + q;
        if (m >= n || row >= J.rows) continue;
        float v = lane < warps ? part[pi][lane] : 0.f;
        if (J.B != nullptr)
            for (int i = lane; i < r; i += 32)
                v += scale * bf2f(J.B[(long)row * r + i]) * J.t[m * r + i];
        v = warp_sum(v);
        if (lane == 0) {
            float* py = J.y + (long)m * J.rows + row;
            *py = J.accumulate ? *py + v : v;
        }
    }
}

__constant__ float NF4_CODE[16] = {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
                                   -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
                                   0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f,
                                   0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f,
                                   0.7229568362236328f, 1.0f};

// Decoding NF4 bytes without shared memory: the low and the high bytes of
// the 16 fp16 code values sit in eight registers (lb, hb: four values a
// register) and prmt (byte permute) looks four nibbles up at once. A
// selector nibble's bit 3 would ask prmt for sign replication, so
// lookups take the low three bits from one of two registers and a third
// prmt picks, by bit 3, the register each byte comes from.
struct NF4Regs {
    u32 lb[4], hb[4];
};

__device__ __forceinline__ u32 prmt(u32 a, u32 b, u32 s) {
    u32 d;
    asm("prmt.b32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(s));
    return d;
}

__device__ __forceinline__ NF4Regs nf4_regs() {
    NF4Regs t;
#pragma unroll
    for (int k = 0; k < 4; k++) {
        t.lb[k] = 0;
        t.hb[k] = 0;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            u32 h = f2h(NF4_CODE[4 * k + i]);
            t.lb[k] |= (h & 0xffu) << (8 * i);
            t.hb[k] |= (h >> 8) << (8 * i);
        }
    }
    return t;
}

// decode_prmt writes the fp16 pairs of the four bytes of w (pair k: the
// high nibble's value in the low half, as the shared-memory table has it).
__device__ __forceinline__ void decode_prmt(u32 w, const NF4Regs& t, u32* out) {
    u32 w7 = w & 0x77777777u, w8 = ((w >> 1) & 0x44444444u) | 0x32103210u;
#pragma unroll
    for (int half = 0; half < 2; half++) {
        u32 s7 = w7 >> (16 * half), s8 = w8 >> (16 * half);
        u32 L = prmt(prmt(t.lb[0], t.lb[1], s7), prmt(t.lb[2], t.lb[3], s7), s8);
        u32 H = prmt(prmt(t.hb[0], t.hb[1], s7), prmt(t.hb[2], t.hb[3], s7), s8);
        out[2 * half] = prmt(L, H, 0x4051);      // byte 0: nibbles 1 (high), 0 (low)
        out[2 * half + 1] = prmt(L, H, 0x6273);  // byte 1: nibbles 3, 2
    }
}

// decode_lutw is the shared-memory table lookup of four bytes at once: two
// shifts and masks turn the word into the byte offsets of its high
// nibbles' entries (4·nibble) and its low nibbles' (64 + 4·nibble), so
// each lookup costs a byte extract (prmt) instead of shifts, masks and an
// address computation per nibble.
__device__ __forceinline__ void decode_lutw(u32 w, const u32* lut, u32* out) {
    u32 hi = (w >> 2) & 0x3c3c3c3cu;
    u32 lo = ((w << 2) & 0x3c3c3c3cu) | 0x40404040u;
    const char* base = (const char*)lut;
#pragma unroll
    for (int k = 0; k < 4; k++) {
        u32 oh = prmt(hi, 0u, 0x4440u | k), ol = prmt(lo, 0u, 0x4440u | k);
        out[k] = *(const u32*)(base + oh) | *(const u32*)(base + ol);
    }
}

// nf4_load loads chunk c (16 bytes) of rows row0.. and their absmax.
template <int ROWS>
__device__ __forceinline__ void nf4_load(const u8* __restrict__ W, const absmax_t* __restrict__ absmax, int row0, int rows,
                                         int in, int c, uint4 (&wv)[ROWS], float (&a)[ROWS]) {
#pragma unroll
    for (int q = 0; q < ROWS; q++) {
        long row = min(row0 + q, rows - 1);
        wv[q] = __ldg((const uint4*)(W + (row * in) / 2 + (long)c * 16));
        a[q] = absmax_f(absmax + (row * in + (long)c * 32) / 64);
    }
}

// NF4: packed [rows·in/2] (element 2i in the high nibble of byte i),
// absmax [rows·in/64] float32. A byte becomes a pair of fp16 values by two
// lookups in 16-entry tables that sit in different shared-memory banks
// (lut[0..15]: the high nibble's value in the low half; lut[16..31]: the
// low nibble's in the high half), so a warp's lookups never conflict.
// Products are summed in fp16 pairs over 32 elements (half an absmax
// block), then scaled and accumulated in float32.
// DECODE chooses how bytes become fp16 pairs: 0 the shared-memory tables
// for all 16 bytes of a chunk, 1 prmt for all, 2 ("mix") decode_lutw for
// words 0 and 2 of a chunk and prmt for words 1 and 3 (the two use
// different units of the multiprocessor, which then share the work; in
// the multi-token kernels, the tables for the first 8 bytes and prmt for
// the last 8), 3 the tables with the offsets of a word's four bytes
// computed at once (decode_lutw). One token with DECODE 1–3 decodes each
// word straight into its products.
template <int MMAX, int ROWS, int DECODE = 0>
__device__ void gemv_nf4(const Params* P, const Jobs& jobs, const f16* __restrict__ x, int r, float scale) {
    DEPS_LAUNCH();
    const Job& J = jobs.j[blockIdx.y];
    int row0 = blockIdx.x * ROWS;
    if (row0 >= J.rows) {
        DEPS_WAIT();
        return;
    }
    const u8* W = (const u8*)J.W;
    int in = J.in, rows = J.rows;
    int chunks = in / 32;  // 16 bytes = 32 elements each
    int c = threadIdx.x;
    // the first chunk's loads are issued before the table is built
    uint4 wv[ROWS];
    float a[ROWS];
    auto load = [&](int cc) { nf4_load<ROWS>(W, J.absmax, row0, rows, in, cc, wv, a); };
    if (c < chunks) load(c);
    // one token with prmt needs no shared-memory table
    constexpr bool LUT = !(MMAX == 1 && DECODE == 1);
    __shared__ u32 lut[32];
    if (LUT && threadIdx.x < 32) {
        u32 h = f2h(NF4_CODE[threadIdx.x & 15]);
        lut[threadIdx.x] = threadIdx.x < 16 ? h : h << 16;
    }
    NF4Regs regs;
    if (DECODE == 1 || DECODE == 2) regs = nf4_regs();
    LoraPre pre;
    wait_with_lora<MMAX, ROWS>(J, row0, r, pre);
    if (LUT) __syncthreads();
    int n = P->n;
    float acc[ROWS][MMAX];
#pragma unroll
    for (int q = 0; q < ROWS; q++)
#pragma unroll
        for (int m = 0; m < MMAX; m++) acc[q][m] = 0.f;
    while (c < chunks) {
        if (MMAX == 1 && DECODE != 0) {
            // one token: each word's four pairs go straight into the
            // products, so no row's decoded weights are held
            const uint4* xp = (const uint4*)(x + (long)c * 32);
            uint4 xv[4] = {xp[0], xp[1], xp[2], xp[3]};
            const u32* xs = (const u32*)xv;
#pragma unroll
            for (int q = 0; q < ROWS; q++) {
                const u32* ww = (const u32*)&wv[q];
                u32 h = 0;
#pragma unroll
                for (int k = 0; k < 4; k++) {
                    u32 d[4];
                    if (DECODE == 3 || (DECODE == 2 && k % 2 == 0))
                        decode_lutw(ww[k], lut, d);
                    else
                        decode_prmt(ww[k], regs, d);
#pragma unroll
                    for (int i = 0; i < 4; i++) h = hfma2(d[i], xs[4 * k + i], h);
                }
                acc[q][0] += a[q] * h2sum(h);
            }
            c += blockDim.x;
            if (c < chunks) load(c);
            continue;
        }
        // the 32 weights of each row as 16 fp16 pairs, once for all tokens
        u32 wd[ROWS][16];
#pragma unroll
        for (int q = 0; q < ROWS; q++) {
            const u32* ww = (const u32*)&wv[q];
#pragma unroll
            for (int j = 0; j < 16; j++) {
                if (DECODE == 1 || (DECODE == 2 && j >= 8)) {
                    if ((j & 3) == 0) decode_prmt(ww[j >> 2], regs, &wd[q][j]);
                    continue;
                }
                if (DECODE == 3) {
                    if ((j & 3) == 0) decode_lutw(ww[j >> 2], lut, &wd[q][j]);
                    continue;
                }
                u32 b = (ww[j >> 2] >> (8 * (j & 3))) & 0xffu;
                wd[q][j] = lut[b >> 4] | lut[16 + (b & 15)];
            }
        }
#pragma unroll
        for (int m = 0; m < MMAX; m++) {
            if (m >= n) break;
            const uint4* xp = (const uint4*)(x + (long)m * in + (long)c * 32);
            uint4 xv[4] = {xp[0], xp[1], xp[2], xp[3]};
            const u32* xs = (const u32*)xv;  // 16 pairs
#pragma unroll
            for (int q = 0; q < ROWS; q++) {
                u32 h = 0;
#pragma unroll
                for (int j = 0; j < 16; j++) h = hfma2(wd[q][j], xs[j], h);
                acc[q][m] += a[q] * h2sum(h);
            }
        }
        c += blockDim.x;
        if (c < chunks) load(c);
    }
    finish<MMAX, ROWS>(P, row0, J, acc, r, scale, EARLY_LORA && MMAX == 1 ? &pre : nullptr);
}

// rmsnorm_lora is rmsnorm fused with the LoRA A products of the
// projections that read its output: block 0 of each token writes out[m]
// as rmsnorm does; block b ≥ 1 takes rows 4(b-1).. of the jobs' A factors
// (r rows each, r a multiple of 4, listed one after the other) and writes
// t = A·fp16(x[m]/rms·w) into each job's y [M, r], recomputing the norm
// itself. Grid (1 + njobs·r/4, MMAX), block 256; D a multiple of 8.
extern "C" __global__ void rmsnorm_lora(const Params* P, const float* __restrict__ x, const float* __restrict__ w,
                                        f16* __restrict__ out, int D, float eps, const Jobs jobs, int njobs, int r) {
    DEPS_BEGIN();
    __shared__ float red[32];
    __shared__ float part[4][32];
    int m = blockIdx.y;
    if (m >= P->n) return;
    const float4* xr = (const float4*)(x + (long)m * D);
    const float4* w4 = (const float4*)w;
    float rs = inv_rms(xr, D, eps, red);
    if (blockIdx.x == 0) {
        norm_row(xr, w4, out + (long)m * D, D, rs);
        return;
    }
    int row = (blockIdx.x - 1) * 4;
    int j = row / r;
    if (j >= njobs) return;
    row %= r;
    const Job& J = jobs.j[j];
    const bf16* A = (const bf16*)J.W;
    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    for (int c = threadIdx.x; c < D / 8; c += blockDim.x) {
        float4 xa = xr[2 * c], xb = xr[2 * c + 1], wa = w4[2 * c], wb = w4[2 * c + 1];
        float xv[8] = {h2f(f2h(xa.x * rs * wa.x)), h2f(f2h(xa.y * rs * wa.y)), h2f(f2h(xa.z * rs * wa.z)),
                       h2f(f2h(xa.w * rs * wa.w)), h2f(f2h(xb.x * rs * wb.x)), h2f(f2h(xb.y * rs * wb.y)),
                       h2f(f2h(xb.z * rs * wb.z)), h2f(f2h(xb.w * rs * wb.w))};
#pragma unroll
        for (int q = 0; q < 4; q++) {
            uint4 av = __ldg((const uint4*)(A + (long)(row + q) * D + (long)c * 8));
            const u32* as = (const u32*)&av;
#pragma unroll
            for (int i = 0; i < 4; i++) {
                acc[q] += __uint_as_float(as[i] << 16) * xv[2 * i];
                acc[q] += __uint_as_float(as[i] & 0xffff0000u) * xv[2 * i + 1];
            }
        }
    }
    int lane = threadIdx.x & 31, wp = threadIdx.x >> 5, warps = blockDim.x >> 5;
#pragma unroll
    for (int q = 0; q < 4; q++) {
        float v = warp_sum(acc[q]);
        if (lane == 0) part[q][wp] = v;
    }
    __syncthreads();
    if (threadIdx.x < 4) {
        float t = 0.f;
        for (int k = 0; k < warps; k++) t += part[threadIdx.x][k];
        J.y[(long)m * r + row + threadIdx.x] = t;
    }
}

// The multi-token products on tensor cores (ChunkMMA in engine.go): a
// warp computes 8 rows for all 16 token slots with mma.m16n8k16 (fp16
// inputs, float32 sums); the block's warps split the columns, 128 at a
// time, and meet in shared memory. In each 16-column step a lane (group
// g = lane/4, t = lane%4) holds the weights of row g at 4 consecutive
// columns of its own 32-column stretch, and the same 4 columns of tokens g
// and g+8: the mma's column order is a permutation of the true one, the
// same for both operands, so the sums are unchanged. Token slots ≥ n read
// zeros. in must be a multiple of 128.
__device__ __forceinline__ void mma16816(float (&d)[4], const u32 (&a)[4], const u32 (&b)[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ u32 hmul2(u32 a, u32 b) {
    u32 d;
    asm("mul.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
    return d;
}

// a fp16 pair from two bf16 values
__device__ __forceinline__ u32 bf2h2(u32 v) {
    return (u32)f2h(__uint_as_float(v << 16)) | ((u32)f2h(__uint_as_float(v & 0xffff0000u)) << 16);
}

// mma_finish sums the warps' 16×8 tiles (T per warp, rows row0+8t..) and
// stores token slots < n and rows < rows, with the LoRA term (see finish).
template <int T>
__device__ __forceinline__ void mma_finish(const Params* P, int row0, const Job& J, const float (&d)[T][4], int r,
                                           float scale) {
    __shared__ float part[8][T][16][8];
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int tt = 0; tt < T; tt++) {
        part[w][tt][g][2 * t] = d[tt][0];
        part[w][tt][g][2 * t + 1] = d[tt][1];
        part[w][tt][g + 8][2 * t] = d[tt][2];
        part[w][tt][g + 8][2 * t + 1] = d[tt][3];
    }
    __syncthreads();
    int n = P->n, warps = blockDim.x >> 5;
    for (int i = threadIdx.x; i < T * 16 * 8; i += blockDim.x) {
        int tt = i / 128, m = (i % 128) / 8, row = row0 + 8 * tt + i % 8;
        if (m >= n || row >= J.rows) continue;
        float v = 0.f;
        for (int k = 0; k < warps; k++) v += part[k][tt][m][i % 8];
        if (J.B != nullptr)
            for (int j = 0; j < r; j++) v += scale * bf2f(J.B[(long)row * r + j]) * J.t[m * r + j];
        float* py = J.y + (long)m * J.rows + row;
        *py = J.accumulate ? *py + v : v;
    }
}

// gemv_mma: NF4 (kind 0) or bf16 (kind 1) weights. A warp takes T tiles
// of 8 rows, so each token fragment it loads feeds T products. Grid
// (⌈rows/(8·T)⌉, jobs), block 32·warps (at most 8 warps).
#ifndef MMA_TILES
#define MMA_TILES 1
#endif
// NF4_MULTI_DECODE is the DECODE of the multi-token NF4 products (0: lut,
// 3: lutw; engine.go sets 3 when NF4Decode is "lutw").
#ifndef NF4_MULTI_DECODE
#define NF4_MULTI_DECODE 0
#endif
template <int KIND, int T>
__device__ void gemv_mma(const Params* P, const Jobs& jobs, const f16* __restrict__ x, int r, float scale) {
    DEPS_BEGIN();
    const Job& J = jobs.j[blockIdx.y];
    int row0 = blockIdx.x * 8 * T;
    if (row0 >= J.rows) return;
    __shared__ u32 lut[32];
    if (KIND == 0 && threadIdx.x < 32) {
        u32 h = f2h(NF4_CODE[threadIdx.x & 15]);
        lut[threadIdx.x] = threadIdx.x < 16 ? h : h << 16;
    }
    __syncthreads();
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, warps = blockDim.x >> 5, g = lane >> 2, t = lane & 3;
    int n = P->n, in = J.in;
    long row[T];
#pragma unroll
    for (int tt = 0; tt < T; tt++) row[tt] = min(row0 + 8 * tt + g, J.rows - 1);
    const f16* x0 = x + (long)g * in;
    const f16* x1 = x + (long)(g + 8) * in;
    bool has0 = g < n, has1 = g + 8 < n;
    float d[T][4];
#pragma unroll
    for (int tt = 0; tt < T; tt++) d[tt][0] = d[tt][1] = d[tt][2] = d[tt][3] = 0.f;
    for (int c = w; c < in / 128; c += warps) {
        int base = c * 128 + t * 32;  // this lane's 32 columns
        uint4 wv[T];
        u32 ah[T];
        if (KIND == 0)
#pragma unroll
            for (int tt = 0; tt < T; tt++) {
                wv[tt] = __ldg((const uint4*)((const u8*)J.W + row[tt] * (in / 2) + base / 2));
                ah[tt] = (u32)absmax_h(J.absmax + (row[tt] * in + base) / 64) * 0x10001u;
            }
#pragma unroll
        for (int s = 0; s < 8; s++) {
            int k = base + 4 * s;
            uint2 v0 = has0 ? *(const uint2*)(x0 + k) : make_uint2(0u, 0u);
            uint2 v1 = has1 ? *(const uint2*)(x1 + k) : make_uint2(0u, 0u);
            u32 a[4] = {v0.x, v1.x, v0.y, v1.y};
#pragma unroll
            for (int tt = 0; tt < T; tt++) {
                u32 b[2];
                if (KIND == 0 && NF4_MULTI_DECODE == 3) {
                    u32 pairs[4];
                    decode_lutw(((const u32*)&wv[tt])[s >> 1], lut, pairs);
                    b[0] = hmul2(pairs[2 * (s & 1)], ah[tt]);
                    b[1] = hmul2(pairs[2 * (s & 1) + 1], ah[tt]);
                } else if (KIND == 0) {
                    u32 word = ((const u32*)&wv[tt])[s >> 1];
                    u32 b0 = (word >> (16 * (s & 1))) & 0xffu, b1 = (word >> (16 * (s & 1) + 8)) & 0xffu;
                    b[0] = hmul2(lut[b0 >> 4] | lut[16 + (b0 & 15)], ah[tt]);
                    b[1] = hmul2(lut[b1 >> 4] | lut[16 + (b1 & 15)], ah[tt]);
                } else {
                    uint2 v = __ldg((const uint2*)((const bf16*)J.W + row[tt] * in + k));
                    b[0] = bf2h2(v.x);
                    b[1] = bf2h2(v.y);
                }
                mma16816(d[tt], a, b);
            }
        }
    }
    mma_finish<T>(P, row0, J, d, r, scale);
}

extern "C" __global__ void gemv_nf4_mma(const Params* P, const Jobs jobs, const f16* x, int r, float scale) {
    gemv_mma<0, MMA_TILES>(P, jobs, x, r, scale);
}
extern "C" __global__ void gemv_bf16_mma(const Params* P, const Jobs jobs, const f16* x, int r, float scale) {
    gemv_mma<1, MMA_TILES>(P, jobs, x, r, scale);
}

// bf16_load loads chunk c (16 bytes) of rows row0.. of bf16 weights.
template <int ROWS>
__device__ __forceinline__ void bf16_load(const bf16* __restrict__ W, int row0, int rows, int in, int c,
                                          uint4 (&wv)[ROWS]) {
#pragma unroll
    for (int q = 0; q < ROWS; q++) wv[q] = __ldg((const uint4*)(W + (long)min(row0 + q, rows - 1) * in + (long)c * 8));
}

// bf16 weights [rows, in]: 8 elements per 16 bytes, float32 products.
template <int MMAX, int ROWS>
__device__ void gemv_bf16(const Params* P, const Jobs& jobs, const f16* __restrict__ x, int r, float scale) {
    DEPS_LAUNCH();
    const Job& J = jobs.j[blockIdx.y];
    int row0 = blockIdx.x * ROWS;
    if (row0 >= J.rows) {
        DEPS_WAIT();
        return;
    }
    const bf16* W = (const bf16*)J.W;
    int in = J.in, rows = J.rows;
    int chunks = in / 8;
    int c = threadIdx.x;
    uint4 wv[ROWS];  // the first chunk's loads are issued before the wait
    if (c < chunks) bf16_load<ROWS>(W, row0, rows, in, c, wv);
    LoraPre pre;
    wait_with_lora<MMAX, ROWS>(J, row0, r, pre);
    int n = P->n;
    float acc[ROWS][MMAX];
#pragma unroll
    for (int q = 0; q < ROWS; q++)
#pragma unroll
        for (int m = 0; m < MMAX; m++) acc[q][m] = 0.f;
    for (; c < chunks; c += blockDim.x) {
        if (c != threadIdx.x) bf16_load<ROWS>(W, row0, rows, in, c, wv);
#pragma unroll
        for (int m = 0; m < MMAX; m++) {
            if (m >= n) break;
            uint4 xv = *(const uint4*)(x + (long)m * in + (long)c * 8);
            const u32* xs = (const u32*)&xv;
            float xf[8];
#pragma unroll
            for (int j = 0; j < 4; j++) {
                xf[2 * j] = h2f((f16)(xs[j] & 0xffff));
                xf[2 * j + 1] = h2f((f16)(xs[j] >> 16));
            }
#pragma unroll
            for (int q = 0; q < ROWS; q++) {
                const u32* ws = (const u32*)&wv[q];
                float s = 0.f;
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    s += __uint_as_float(ws[j] << 16) * xf[2 * j];
                    s += __uint_as_float(ws[j] & 0xffff0000u) * xf[2 * j + 1];
                }
                acc[q][m] += s;
            }
        }
    }
    finish<MMAX, ROWS>(P, row0, J, acc, r, scale, EARLY_LORA && MMAX == 1 ? &pre : nullptr);
}

#define GEMV(KIND, NAME, MMAX, ROWS, ...)                                                                   \
    extern "C" __global__ void NAME(const Params* P, const Jobs jobs, const f16* x, int r, float scale) { \
        gemv_##KIND<MMAX, ROWS, ##__VA_ARGS__>(P, jobs, x, r, scale);                                       \
    }
GEMV(nf4, gemv_nf4_m1, 1, NF4_ROWS)
// The one-token lutw, prmt and mix products are compiled for NF4_MINB blocks
// of NF4_THREADS threads per multiprocessor (engine.go's NF4MinBlocks and
// NF4Threads): left alone the compiler gives lutw 127 registers, so that
// only 3 blocks of 128 threads fit, to hoist its table lookups.
#ifndef NF4_MINB
#define NF4_MINB 1
#endif
#ifndef NF4_THREADS
#define NF4_THREADS 256
#endif
#define GEMV_BOUNDED(NAME, DECODE)                                                             \
    extern "C" __global__ void __launch_bounds__(NF4_THREADS, NF4_MINB)                        \
        NAME(const Params* P, const Jobs jobs, const f16* x, int r, float scale) {             \
        gemv_nf4<1, NF4_ROWS, DECODE>(P, jobs, x, r, scale);                                   \
    }
GEMV_BOUNDED(gemv_nf4_m1_prmt, 1)
GEMV_BOUNDED(gemv_nf4_m1_mix, 2)
GEMV_BOUNDED(gemv_nf4_m1_lutw, 3)
GEMV(nf4, gemv_nf4_m4, 4, 4, NF4_MULTI_DECODE)
GEMV(nf4, gemv_nf4_m16, 16, 2, NF4_MULTI_DECODE)
GEMV(bf16, gemv_bf16_m1, 1, BF16_ROWS)
GEMV(bf16, gemv_bf16_small, 1, 1)
GEMV(bf16, gemv_bf16_m4, 4, 2)
GEMV(bf16, gemv_bf16_m16, 16, 2)

// rope_kv rotates q [M, H·hd] in place and k [M, KV·hd] (rotate_half
// convention, angle pos·theta^(-2i/hd)), then writes k and v [M, KV·hd] as
// bf16 into the layer's cache [2, KV, S, hd] at positions pos+m. Grid
// (MMAX, H+KV), block hd/2.
extern "C" __global__ void rope_kv(const Params* P, float* __restrict__ q, const float* __restrict__ k,
                                   const float* __restrict__ v, bf16* __restrict__ cache, int S, int hd, int H,
                                   int KV, float theta) {
    DEPS_BEGIN();
    int m = blockIdx.x, h = blockIdx.y, i = threadIdx.x, half = hd / 2;
    if (m >= P->n || i >= half) return;
    int pos = P->pos + m;
    float inv = 1.0f / powf(theta, (float)(2 * i) / (float)hd);
    float ang = (float)pos * inv;
    float c = cosf(ang), s = sinf(ang);
    if (h < H) {
        float* p = q + (long)m * H * hd + (long)h * hd;
        float x1 = p[i], x2 = p[i + half];
        p[i] = x1 * c - x2 * s;
        p[i + half] = x2 * c + x1 * s;
        return;
    }
    h -= H;
    const float* pk = k + (long)m * KV * hd + (long)h * hd;
    const float* pv = v + (long)m * KV * hd + (long)h * hd;
    float x1 = pk[i], x2 = pk[i + half];
    bf16* kc = cache + ((long)h * S + pos) * hd;
    bf16* vc = cache + ((long)(KV + h) * S + pos) * hd;
    kc[i] = f2bf(x1 * c - x2 * s);
    kc[i + half] = f2bf(x2 * c + x1 * s);
    vc[i] = f2bf(pv[i]);
    vc[i + half] = f2bf(pv[i + half]);
}

// Attention, split over the keys (flash-decoding): attn_part takes
// query m (at pos+m) of head h against one span of KSPAN cached keys
// (within lo..pos+m, lo from the sliding window, 0 when none; GQA: KV
// head h/(H/KV)) and writes the span's max score, exp-sum and weighted
// value sum [hd]; attn_join merges the spans into out fp16 [M, H·hd].
// attn_part: grid (H, MMAX, spans), block 128 (hd a multiple of 8, at
// most 256); attn_join: grid (H, MMAX), block max(32, hd).
#define KSPAN 64

extern "C" __global__ void attn_part(const Params* P, const float* __restrict__ q, const bf16* __restrict__ cache,
                                     float* __restrict__ pm, float* __restrict__ pl, float* __restrict__ po, int S,
                                     int hd, int H, int KV, int window, float scale) {
    DEPS_BEGIN();
    __shared__ float qs[256];
    __shared__ float sc[KSPAN];
    __shared__ float red[32];
    __shared__ float part[128 * 8];
    int h = blockIdx.x, m = blockIdx.y, sp = blockIdx.z, spans = gridDim.z;
    if (m >= P->n) return;
    int hi = P->pos + m;
    int lo = window > 0 ? max(0, hi - window + 1) : 0;
    int j0 = lo + sp * KSPAN, j1 = min(hi, j0 + KSPAN - 1);
    long pidx = ((long)h * gridDim.y + m) * spans + sp;
    if (j0 > hi) {  // an empty span
        if (threadIdx.x == 0) {
            pm[pidx] = -INFINITY;
            pl[pidx] = 0.f;
        }
        return;
    }
    int cnt = j1 - j0 + 1;
    int kvh = h / (H / KV);
    const bf16* K = cache + (long)kvh * S * hd;
    const bf16* V = cache + (long)(KV + kvh) * S * hd;
    // values: thread t takes 8 dimensions (t % (hd/8)) of every G-th key;
    // its first VPRE keys' are loaded now, to arrive during the scores
    constexpr int VPRE = 8;
    int dg = hd / 8, G = blockDim.x / dg;
    int d0 = (threadIdx.x % dg) * 8, g = threadIdx.x / dg;
    uint4 vpre[VPRE];
#pragma unroll
    for (int u = 0; u < VPRE; u++) {
        int j = g + u * G;
        if (g < G && j < cnt) vpre[u] = *(const uint4*)(V + (long)(j0 + j) * hd + d0);
    }
    for (int d = threadIdx.x; d < hd; d += blockDim.x) qs[d] = q[(long)m * H * hd + (long)h * hd + d] * scale;
    __syncthreads();
    // scores: thread t < cnt takes key j0+t whole, 16 bytes at a time
    float s = -INFINITY;
    if (threadIdx.x < cnt) {
        const uint4* kr = (const uint4*)(K + (long)(j0 + threadIdx.x) * hd);
        s = 0.f;
#pragma unroll 8
        for (int d8 = 0; d8 < hd / 8; d8++) {  // unrolled: 8 loads in flight
            uint4 kv = kr[d8];
            const u32* ks = (const u32*)&kv;
#pragma unroll
            for (int i = 0; i < 4; i++) {
                s += qs[d8 * 8 + 2 * i] * __uint_as_float(ks[i] << 16);
                s += qs[d8 * 8 + 2 * i + 1] * __uint_as_float(ks[i] & 0xffff0000u);
            }
        }
        sc[threadIdx.x] = s;
    }
    float mx = block_max(s, red);
    float e = 0.f;
    if (threadIdx.x < cnt) {
        e = __expf(s - mx);
        sc[threadIdx.x] = e;
    }
    float sum = block_sum(e, red);  // synchronizes: sc holds the weights
    float o[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    auto add_value = [&](const uint4& vv, float p) {
        const u32* vs = (const u32*)&vv;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            o[2 * i] += p * __uint_as_float(vs[i] << 16);
            o[2 * i + 1] += p * __uint_as_float(vs[i] & 0xffff0000u);
        }
    };
    if (g < G) {
#pragma unroll
        for (int u = 0; u < VPRE; u++)
            if (g + u * G < cnt) add_value(vpre[u], sc[g + u * G]);
        for (int j = g + VPRE * G; j < cnt; j += G) add_value(*(const uint4*)(V + (long)(j0 + j) * hd + d0), sc[j]);
    }
    if (g < G)
#pragma unroll
        for (int i = 0; i < 8; i++) part[g * hd + d0 + i] = o[i];
    __syncthreads();
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float t = 0.f;
        for (int gg = 0; gg < G; gg++) t += part[gg * hd + d];
        po[pidx * hd + d] = t;
    }
    if (threadIdx.x == 0) {
        pm[pidx] = mx;
        pl[pidx] = sum;
    }
}

extern "C" __global__ void attn_join(const Params* P, const float* __restrict__ pm, const float* __restrict__ pl,
                                     const float* __restrict__ po, f16* __restrict__ out, int hd, int H, int spans) {
    DEPS_BEGIN();
    int h = blockIdx.x, m = blockIdx.y, d = threadIdx.x;
    if (m >= P->n || d >= hd) return;
    long base = ((long)h * gridDim.y + m) * spans;
    float mx = -INFINITY;
    for (int s = 0; s < spans; s++) mx = fmaxf(mx, pm[base + s]);
    float l = 0.f, o = 0.f;
    for (int s = 0; s < spans; s++) {
        float sm = pm[base + s];
        if (sm == -INFINITY) continue;
        float f = __expf(sm - mx);
        l += f * pl[base + s];
        o += f * po[(base + s) * hd + d];
    }
    out[(long)m * H * hd + (long)h * hd + d] = f2h(o / l);
}

// silu_mul: h[m, i] = fp16(silu(g[m, i])·u[m, i]) for m < n. Grid
// (⌈I/256⌉, MMAX), block 256.
extern "C" __global__ void silu_mul(const Params* P, const float* __restrict__ g, const float* __restrict__ u,
                                    f16* __restrict__ h, int I) {
    DEPS_BEGIN();
    int m = blockIdx.y, i = blockIdx.x * blockDim.x + threadIdx.x;
    if (m >= P->n || i >= I) return;
    float a = g[(long)m * I + i];
    h[(long)m * I + i] = f2h(a / (1.f + __expf(-a)) * u[(long)m * I + i]);
}

__device__ void sample_masked(Params* P, const float* __restrict__ logits, int V);

// argmax_masked: masks logits [V] in place (tokens the mask row does not
// allow, and EOS unless eos_ok, get -inf) and writes the largest one's
// index (the lowest on ties) to P->next; with a temperature, then draws
// the token instead (sample_masked). One block of 1024 threads.
extern "C" __global__ void __launch_bounds__(1024) argmax_masked(Params* P, float* __restrict__ logits, int V) {
    DEPS_BEGIN();
    __shared__ float bv[32];
    __shared__ int bi[32];
    const u8* rows = P->rows;
    int row = rows ? P->row : -1, eos = P->eos, eos_ok = P->eos_ok;
    int V8 = (V + 7) / 8;
    float best = -INFINITY;
    int besti = 0x7fffffff;
    // AU logits (and mask bytes) of a thread are loaded before any is
    // compared, so their loads overlap
    constexpr int AU = 8;
    for (int i0 = threadIdx.x; i0 < V; i0 += AU * blockDim.x) {
        float lv[AU];
        u8 mb[AU];
#pragma unroll
        for (int u = 0; u < AU; u++) {
            int i = i0 + u * blockDim.x;
            lv[u] = i < V ? logits[i] : -INFINITY;
            mb[u] = i < V && row >= 0 ? rows[(long)row * V8 + i / 8] : 0xff;
        }
#pragma unroll
        for (int u = 0; u < AU; u++) {
            int i = i0 + u * blockDim.x;
            if (i >= V) break;
            float l = lv[u];
            bool ok = (mb[u] >> (i % 8)) & 1;
            if (i == eos) ok = eos_ok != 0;
            if (!ok) {
                l = -INFINITY;
                logits[i] = l;
            }
            if (l > best || (l == best && i < besti)) {
                best = l;
                besti = i;
            }
        }
    }
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, best, o);
        int oi = __shfl_xor_sync(0xffffffffu, besti, o);
        if (ov > best || (ov == best && oi < besti)) {
            best = ov;
            besti = oi;
        }
    }
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    if (lane == 0) {
        bv[w] = best;
        bi[w] = besti;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int k = 1; k < (int)(blockDim.x >> 5); k++)
            if (bv[k] > best || (bv[k] == best && bi[k] < besti)) {
                best = bv[k];
                besti = bi[k];
            }
        if (besti == 0x7fffffff) besti = 0;
        P->next = besti;
    }
    __syncthreads();  // the masked logits are written
    sample_masked(P, logits, V);
}

// sample_masked (called by argmax_masked) replaces P->next by a draw from softmax(logits/T) over
// the (already masked: -inf) logits [V], limited to the tokens whose
// weight reaches the largest threshold that keeps a mass of top_p (found
// by bisection: ties at the threshold are all kept). The uniform number
// comes from splitmix64 of seed and pos+n, so a seeded run repeats. It
// does nothing when temperature is 0 or every token is masked. One block
// of 1024 threads, each over a contiguous range of tokens.
__device__ __forceinline__ unsigned long long splitmix64(unsigned long long x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

__device__ void sample_masked(Params* P, const float* __restrict__ logits, int V) {
    __shared__ float red[32];
    __shared__ float wsum[32];
    float T = P->temperature;
    if (!(T > 0.f)) return;
    int per = (V + blockDim.x - 1) / blockDim.x;
    int lo = min(V, threadIdx.x * per), hi = min(V, lo + per);
    float mx = -INFINITY;
    for (int i = lo; i < hi; i++) mx = fmaxf(mx, logits[i]);
    mx = block_max(mx, red);
    if (mx == -INFINITY) return;
    float invT = 1.f / T;
    float total = 0.f;
    for (int i = lo; i < hi; i++) total += __expf((logits[i] - mx) * invT);
    total = block_sum(total, red);
    float thr = 0.f, topP = P->top_p;
    if (topP < 1.f) {
        float need = topP * total, a = 0.f, b = 1.f;  // mass(a) ≥ need > mass(b) unless b = 1 itself qualifies
        for (int it = 0; it < 30; it++) {
            float mid = 0.5f * (a + b), m = 0.f;
            for (int i = lo; i < hi; i++) {
                float w = __expf((logits[i] - mx) * invT);
                if (w >= mid) m += w;
            }
            m = block_sum(m, red);
            if (m >= need) a = mid;
            else b = mid;
        }
        thr = a;
    }
    float mine = 0.f;
    for (int i = lo; i < hi; i++) {
        float w = __expf((logits[i] - mx) * invT);
        if (w > 0.f && w >= thr) mine += w;
    }
    // exclusive prefix of mine over the threads, in thread order
    int lane = threadIdx.x & 31, wp = threadIdx.x >> 5;
    float incl = mine;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        float v = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += v;
    }
    if (lane == 31) wsum[wp] = incl;
    __syncthreads();
    float before = 0.f, kept = 0.f;
    for (int k = 0; k < (int)(blockDim.x >> 5); k++) {
        if (k < wp) before += wsum[k];
        kept += wsum[k];
    }
    before += incl - mine;
    unsigned long long r = splitmix64(P->seed ^ (0x632be59bd9b4e019ull * (unsigned long long)(P->pos + P->n)));
    float u = (float)(r >> 40) * (1.f / 16777216.f) * kept;
    if (u >= before && u < before + mine) {
        int last = -1;
        for (int i = lo; i < hi; i++) {
            float w = __expf((logits[i] - mx) * invT);
            if (!(w > 0.f && w >= thr)) continue;
            last = i;
            if ((u -= w) < before) break;  // u walks down from before+mine
        }
        P->next = last;
    }
}
