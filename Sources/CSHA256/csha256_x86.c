/* x86-64 SHA-NI path. Compiled for every x86-64 target via function target attributes, so no
 * special build flags are needed; called only after cpuid reports SHA support. */
#include "csha256_internal.h"

#if defined(CSHA256_HAVE_X86)

#include <cpuid.h>
#include <immintrin.h>

#define SHANI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

int csha256_cpu_has_shani(void) {
    static int cached = -1;
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value >= 0) return value;
    unsigned int a = 0, b = 0, c = 0, d = 0;
    int ssse3_sse41 = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        ssse3_sse41 = (c & (1u << 9)) != 0 && (c & (1u << 19)) != 0;
    }
    int sha = 0;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        sha = (b & (1u << 29)) != 0;
    }
    value = ssse3_sse41 && sha;
    __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    return value;
}

/* One 64-byte block on a state held as ABEF / CDGH (the layout sha256rnds2 wants). */
static inline SHANI_TARGET void shani_block(__m128i *abef, __m128i *cdgh, const uint8_t *block) {
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    const __m128i *k = (const __m128i *)csha256_k;
    __m128i s0 = *abef, s1 = *cdgh;
    __m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 0)), swap);
    __m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 16)), swap);
    __m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 32)), swap);
    __m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 48)), swap);
    __m128i m;

/* Four rounds with message words W (already scheduled). */
#define QUAD(i, W)                                       \
    m = _mm_add_epi32((W), _mm_loadu_si128(k + (i)));    \
    s1 = _mm_sha256rnds2_epu32(s1, s0, m);               \
    m = _mm_shuffle_epi32(m, 0x0E);                      \
    s0 = _mm_sha256rnds2_epu32(s0, s1, m);
/* W(i) from W(i-4) (replaced in place), W(i-3), W(i-2), W(i-1). */
#define SCHEDULE(A, B, C, D) \
    A = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(A, B), _mm_alignr_epi8(D, C, 4)), D);

    QUAD(0, w0)
    QUAD(1, w1)
    QUAD(2, w2)
    QUAD(3, w3)
    SCHEDULE(w0, w1, w2, w3) QUAD(4, w0)
    SCHEDULE(w1, w2, w3, w0) QUAD(5, w1)
    SCHEDULE(w2, w3, w0, w1) QUAD(6, w2)
    SCHEDULE(w3, w0, w1, w2) QUAD(7, w3)
    SCHEDULE(w0, w1, w2, w3) QUAD(8, w0)
    SCHEDULE(w1, w2, w3, w0) QUAD(9, w1)
    SCHEDULE(w2, w3, w0, w1) QUAD(10, w2)
    SCHEDULE(w3, w0, w1, w2) QUAD(11, w3)
    SCHEDULE(w0, w1, w2, w3) QUAD(12, w0)
    SCHEDULE(w1, w2, w3, w0) QUAD(13, w1)
    SCHEDULE(w2, w3, w0, w1) QUAD(14, w2)
    SCHEDULE(w3, w0, w1, w2) QUAD(15, w3)
#undef QUAD
#undef SCHEDULE

    *abef = _mm_add_epi32(s0, *abef);
    *cdgh = _mm_add_epi32(s1, *cdgh);
}

/* Two independent blocks interleaved: sha256rnds2 has more throughput than one dependency chain
 * can use, so hashing two nonces side by side hides its latency. */
static inline SHANI_TARGET void shani_block_x2(__m128i *abef_a, __m128i *cdgh_a, const uint8_t *block_a,
                                               __m128i *abef_b, __m128i *cdgh_b, const uint8_t *block_b) {
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    const __m128i *k = (const __m128i *)csha256_k;
    __m128i s0a = *abef_a, s1a = *cdgh_a, s0b = *abef_b, s1b = *cdgh_b;
    __m128i a0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block_a + 0)), swap);
    __m128i a1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block_a + 16)), swap);
    __m128i a2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block_a + 32)), swap);
    __m128i a3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block_a + 48)), swap);
    __m128i b0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block_b + 0)), swap);
    __m128i b1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block_b + 16)), swap);
    __m128i b2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block_b + 32)), swap);
    __m128i b3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block_b + 48)), swap);
    __m128i ma, mb, kk;

#define QUAD2(i, WA, WB)                                 \
    kk = _mm_loadu_si128(k + (i));                       \
    ma = _mm_add_epi32((WA), kk);                        \
    mb = _mm_add_epi32((WB), kk);                        \
    s1a = _mm_sha256rnds2_epu32(s1a, s0a, ma);           \
    s1b = _mm_sha256rnds2_epu32(s1b, s0b, mb);           \
    ma = _mm_shuffle_epi32(ma, 0x0E);                    \
    mb = _mm_shuffle_epi32(mb, 0x0E);                    \
    s0a = _mm_sha256rnds2_epu32(s0a, s1a, ma);           \
    s0b = _mm_sha256rnds2_epu32(s0b, s1b, mb);
#define SCHEDULE(A, B, C, D) \
    A = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(A, B), _mm_alignr_epi8(D, C, 4)), D);
#define STEP(i, A, B, C, D, E, F, G, H) SCHEDULE(A, B, C, D) SCHEDULE(E, F, G, H) QUAD2(i, A, E)

    QUAD2(0, a0, b0)
    QUAD2(1, a1, b1)
    QUAD2(2, a2, b2)
    QUAD2(3, a3, b3)
    STEP(4, a0, a1, a2, a3, b0, b1, b2, b3)
    STEP(5, a1, a2, a3, a0, b1, b2, b3, b0)
    STEP(6, a2, a3, a0, a1, b2, b3, b0, b1)
    STEP(7, a3, a0, a1, a2, b3, b0, b1, b2)
    STEP(8, a0, a1, a2, a3, b0, b1, b2, b3)
    STEP(9, a1, a2, a3, a0, b1, b2, b3, b0)
    STEP(10, a2, a3, a0, a1, b2, b3, b0, b1)
    STEP(11, a3, a0, a1, a2, b3, b0, b1, b2)
    STEP(12, a0, a1, a2, a3, b0, b1, b2, b3)
    STEP(13, a1, a2, a3, a0, b1, b2, b3, b0)
    STEP(14, a2, a3, a0, a1, b2, b3, b0, b1)
    STEP(15, a3, a0, a1, a2, b3, b0, b1, b2)
#undef QUAD2
#undef SCHEDULE
#undef STEP

    *abef_a = _mm_add_epi32(s0a, *abef_a);
    *cdgh_a = _mm_add_epi32(s1a, *cdgh_a);
    *abef_b = _mm_add_epi32(s0b, *abef_b);
    *cdgh_b = _mm_add_epi32(s1b, *cdgh_b);
}

static inline SHANI_TARGET void shani_load(const uint32_t state[8], __m128i *abef, __m128i *cdgh) {
    __m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    *abef = _mm_alignr_epi8(cdab, efgh, 8);
    *cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
}

static inline SHANI_TARGET void shani_store(__m128i abef, __m128i cdgh, uint32_t state[8]) {
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}

static inline SHANI_TARGET void shani_digest(__m128i abef, __m128i cdgh, uint8_t *out) {
    uint32_t s[8];
    shani_store(abef, cdgh, s);
    for (int j = 0; j < 8; j++) csha256_store_be32(out + 4 * j, s[j]);
}

SHANI_TARGET void csha256_compress_shani(uint32_t state[8], const uint8_t *blocks, size_t count) {
    __m128i abef, cdgh;
    shani_load(state, &abef, &cdgh);
    for (size_t b = 0; b < count; b++) shani_block(&abef, &cdgh, blocks + 64 * b);
    shani_store(abef, cdgh, state);
}

SHANI_TARGET csha256_result csha256_search_shani(const csha256_job *job, uint64_t start, uint64_t count,
                                                 uint32_t bits, const uint32_t *stop, uint8_t *digests) {
    csha256_result result = {0};
    __m128i mid_abef, mid_cdgh;
    shani_load(job->midstate, &mid_abef, &mid_cdgh);
    csha256_tail tail;
    csha256_tail_init(&tail, job, start);
    unsigned shift = 64 - bits;
    uint64_t i = 0;
    /* Pairs while both tails are one block: tail holds nonce start+i, next holds start+i+1. */
    if (tail.blocks == 1 && count >= 2) {
        csha256_tail next = tail;
        csha256_tail_increment(&next, job);
        while (i + 1 < count && next.blocks == 1) {
            if ((i & 4094) == 4094 && stop != NULL && __atomic_load_n(stop, __ATOMIC_RELAXED) != 0) {
                result.tried = i;
                return result;
            }
            __m128i abef_a = mid_abef, cdgh_a = mid_cdgh, abef_b = mid_abef, cdgh_b = mid_cdgh;
            shani_block_x2(&abef_a, &cdgh_a, tail.bytes, &abef_b, &cdgh_b, next.bytes);
            if (digests != NULL) {
                shani_digest(abef_a, cdgh_a, digests + 32 * i);
                shani_digest(abef_b, cdgh_b, digests + 32 * (i + 1));
            } else {
                uint64_t top_a = (uint64_t)_mm_extract_epi64(abef_a, 1);
                uint64_t top_b = (uint64_t)_mm_extract_epi64(abef_b, 1);
                if (((top_a >> shift) == 0) | ((top_b >> shift) == 0)) {
                    int first = (top_a >> shift) == 0;
                    result.tried = i + (first ? 1 : 2);
                    result.found = 1;
                    result.nonce = start + i + (first ? 0 : 1);
                    if (first) {
                        shani_digest(abef_a, cdgh_a, result.digest);
                    } else {
                        shani_digest(abef_b, cdgh_b, result.digest);
                    }
                    return result;
                }
            }
            i += 2;
            csha256_tail_increment(&tail, job);
            csha256_tail_increment(&tail, job);
            csha256_tail_increment(&next, job);
            csha256_tail_increment(&next, job);
        }
    }
    /* One at a time for two-block tails and the odd nonce left over. */
    for (; i < count; i++) {
        if ((i & 4095) == 4095 && stop != NULL && __atomic_load_n(stop, __ATOMIC_RELAXED) != 0) {
            result.tried = i;
            return result;
        }
        __m128i abef = mid_abef, cdgh = mid_cdgh;
        shani_block(&abef, &cdgh, tail.bytes);
        if (tail.blocks == 2) shani_block(&abef, &cdgh, tail.bytes + 64);
        /* The high 64 bits of ABEF are A:B, the digest's first 8 bytes. */
        uint64_t top = (uint64_t)_mm_extract_epi64(abef, 1);
        if (digests != NULL) {
            shani_digest(abef, cdgh, digests + 32 * i);
        } else if ((top >> shift) == 0) {
            result.tried = i + 1;
            result.found = 1;
            result.nonce = start + i;
            shani_digest(abef, cdgh, result.digest);
            return result;
        }
        csha256_tail_increment(&tail, job);
    }
    result.tried = count;
    return result;
}

#endif
