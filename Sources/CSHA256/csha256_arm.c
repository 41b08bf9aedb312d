/* ARMv8 SHA-2 path, compiled only when the compiler targets the SHA-2 extension (e.g. Apple
 * silicon); elsewhere the portable path is used. */
#include "csha256_internal.h"

#if defined(CSHA256_HAVE_ARMV8)

#include <arm_neon.h>

static inline void armv8_block(uint32x4_t *abcd, uint32x4_t *efgh, const uint8_t *block) {
    uint32x4_t w[4];
    for (int j = 0; j < 4; j++) w[j] = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(block + 16 * j)));
    uint32x4_t a = *abcd, e = *efgh;
    for (int i = 0; i < 16; i++) {
        uint32x4_t wk = vaddq_u32(w[i & 3], vld1q_u32(csha256_k + 4 * i));
        if (i < 12) {
            w[i & 3] = vsha256su1q_u32(vsha256su0q_u32(w[i & 3], w[(i + 1) & 3]), w[(i + 2) & 3],
                                       w[(i + 3) & 3]);
        }
        uint32x4_t a_before = a;
        a = vsha256hq_u32(a, e, wk);
        e = vsha256h2q_u32(e, a_before, wk);
    }
    *abcd = vaddq_u32(a, *abcd);
    *efgh = vaddq_u32(e, *efgh);
}

static inline void armv8_digest(uint32x4_t abcd, uint32x4_t efgh, uint8_t *out) {
    uint32_t s[8];
    vst1q_u32(s, abcd);
    vst1q_u32(s + 4, efgh);
    for (int j = 0; j < 8; j++) csha256_store_be32(out + 4 * j, s[j]);
}

void csha256_compress_armv8(uint32_t state[8], const uint8_t *blocks, size_t count) {
    uint32x4_t abcd = vld1q_u32(state), efgh = vld1q_u32(state + 4);
    for (size_t b = 0; b < count; b++) armv8_block(&abcd, &efgh, blocks + 64 * b);
    vst1q_u32(state, abcd);
    vst1q_u32(state + 4, efgh);
}

csha256_result csha256_search_armv8(const csha256_job *job, uint64_t start, uint64_t count,
                                    uint32_t bits, const uint32_t *stop, uint8_t *digests) {
    csha256_result result = {0};
    uint32x4_t mid_abcd = vld1q_u32(job->midstate), mid_efgh = vld1q_u32(job->midstate + 4);
    csha256_tail tail;
    csha256_tail_init(&tail, job, start);
    unsigned shift = 64 - bits;
    for (uint64_t i = 0; i < count; i++) {
        if ((i & 4095) == 4095 && stop != NULL && __atomic_load_n(stop, __ATOMIC_RELAXED) != 0) {
            result.tried = i;
            return result;
        }
        uint32x4_t abcd = mid_abcd, efgh = mid_efgh;
        armv8_block(&abcd, &efgh, tail.bytes);
        if (tail.blocks == 2) armv8_block(&abcd, &efgh, tail.bytes + 64);
        uint64_t top = ((uint64_t)vgetq_lane_u32(abcd, 0) << 32) | vgetq_lane_u32(abcd, 1);
        if (digests != NULL) {
            armv8_digest(abcd, efgh, digests + 32 * i);
        } else if ((top >> shift) == 0) {
            result.tried = i + 1;
            result.found = 1;
            result.nonce = start + i;
            armv8_digest(abcd, efgh, result.digest);
            return result;
        }
        csha256_tail_increment(&tail, job);
    }
    result.tried = count;
    return result;
}

#endif
