#ifndef CSHA256_INTERNAL_H
#define CSHA256_INTERNAL_H

#include <string.h>

#include "include/csha256.h"

extern const uint32_t csha256_k[64];

/* The last one or two blocks of challenge ++ nonce digits, padded. */
typedef struct csha256_tail {
    uint8_t bytes[128];
    uint32_t digits;  /* decimal digits of the nonce, at bytes[remainder_length...] */
    uint32_t blocks;  /* 1 or 2 */
} csha256_tail;

/* Places the padding and the length field after the digits. */
static inline void csha256_tail_finish(csha256_tail *t, const csha256_job *job) {
    uint32_t used = job->remainder_length + t->digits;
    memset(t->bytes + used, 0, sizeof(t->bytes) - used);
    t->bytes[used] = 0x80;
    t->blocks = used + 9 <= 64 ? 1 : 2;
    uint64_t bit_length = (job->challenge_length + t->digits) * 8;
    uint8_t *end = t->bytes + 64 * t->blocks;
    for (int i = 1; i <= 8; i++) {
        end[-i] = (uint8_t)(bit_length >> (8 * (i - 1)));
    }
}

static inline void csha256_tail_init(csha256_tail *t, const csha256_job *job, uint64_t nonce) {
    char scratch[20];
    uint32_t n = 0;
    do {
        scratch[n++] = (char)('0' + nonce % 10);
        nonce /= 10;
    } while (nonce != 0);
    memcpy(t->bytes, job->remainder, job->remainder_length);
    for (uint32_t i = 0; i < n; i++) {
        t->bytes[job->remainder_length + i] = (uint8_t)scratch[n - 1 - i];
    }
    t->digits = n;
    csha256_tail_finish(t, job);
}

/* nonce += 1 on the digits in place; a new digit (9 -> 10) re-lays the padding. */
static inline void csha256_tail_increment(csha256_tail *t, const csha256_job *job) {
    uint8_t *first = t->bytes + job->remainder_length;
    uint8_t *p = first + t->digits - 1;
    while (*p == '9') {
        *p = '0';
        if (p == first) {
            t->digits += 1;
            memset(first, '0', t->digits);
            *first = '1';
            csha256_tail_finish(t, job);
            return;
        }
        p--;
    }
    *p += 1;
}

static inline void csha256_store_be32(uint8_t *out, uint32_t v) {
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

void csha256_compress_portable(uint32_t state[8], const uint8_t *blocks, size_t count);
csha256_result csha256_search_portable(const csha256_job *job, uint64_t start, uint64_t count,
                                       uint32_t bits, const uint32_t *stop, uint8_t *digests);

#if defined(__x86_64__)
#define CSHA256_HAVE_X86 1
int csha256_cpu_has_shani(void);
void csha256_compress_shani(uint32_t state[8], const uint8_t *blocks, size_t count);
csha256_result csha256_search_shani(const csha256_job *job, uint64_t start, uint64_t count,
                                    uint32_t bits, const uint32_t *stop, uint8_t *digests);
#endif

#if defined(__aarch64__) && defined(__ARM_FEATURE_SHA2)
#define CSHA256_HAVE_ARMV8 1
void csha256_compress_armv8(uint32_t state[8], const uint8_t *blocks, size_t count);
csha256_result csha256_search_armv8(const csha256_job *job, uint64_t start, uint64_t count,
                                    uint32_t bits, const uint32_t *stop, uint8_t *digests);
#endif

#endif
