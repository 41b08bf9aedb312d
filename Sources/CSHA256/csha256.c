#include "csha256_internal.h"

#include <time.h>

const uint32_t csha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t initial_state[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* ---- portable compression ---- */

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define BSIG0(x) (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x) (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x) (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))
#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))

void csha256_compress_portable(uint32_t state[8], const uint8_t *blocks, size_t count) {
    for (size_t b = 0; b < count; b++, blocks += 64) {
        uint32_t w[64];
        for (int t = 0; t < 16; t++) {
            const uint8_t *p = blocks + 4 * t;
            w[t] = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
        }
        for (int t = 16; t < 64; t++) {
            w[t] = SSIG1(w[t - 2]) + w[t - 7] + SSIG0(w[t - 15]) + w[t - 16];
        }
        uint32_t a = state[0], bb = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int t = 0; t < 64; t++) {
            uint32_t t1 = h + BSIG1(e) + CH(e, f, g) + csha256_k[t] + w[t];
            uint32_t t2 = BSIG0(a) + MAJ(a, bb, c);
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = bb;
            bb = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += bb;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}

csha256_result csha256_search_portable(const csha256_job *job, uint64_t start, uint64_t count,
                                       uint32_t bits, const uint32_t *stop, uint8_t *digests) {
    csha256_result result = {0};
    csha256_tail tail;
    csha256_tail_init(&tail, job, start);
    unsigned shift = 64 - bits;
    for (uint64_t i = 0; i < count; i++) {
        if ((i & 4095) == 4095 && stop != NULL && __atomic_load_n(stop, __ATOMIC_RELAXED) != 0) {
            result.tried = i;
            return result;
        }
        uint32_t s[8];
        memcpy(s, job->midstate, sizeof(s));
        csha256_compress_portable(s, tail.bytes, tail.blocks);
        uint64_t top = ((uint64_t)s[0] << 32) | s[1];
        if (digests != NULL) {
            for (int j = 0; j < 8; j++) csha256_store_be32(digests + 32 * i + 4 * j, s[j]);
        } else if ((top >> shift) == 0) {
            result.tried = i + 1;
            result.found = 1;
            result.nonce = start + i;
            for (int j = 0; j < 8; j++) csha256_store_be32(result.digest + 4 * j, s[j]);
            return result;
        }
        csha256_tail_increment(&tail, job);
    }
    result.tried = count;
    return result;
}

/* ---- dispatch ---- */

int csha256_backend_available(int backend) {
    switch (backend) {
    case CSHA256_BACKEND_PORTABLE:
        return 1;
    case CSHA256_BACKEND_X86_SHANI:
#if defined(CSHA256_HAVE_X86)
        return csha256_cpu_has_shani();
#else
        return 0;
#endif
    case CSHA256_BACKEND_ARMV8:
#if defined(CSHA256_HAVE_ARMV8)
        return 1;
#else
        return 0;
#endif
    default:
        return 0;
    }
}

static void compress(int backend, uint32_t state[8], const uint8_t *blocks, size_t count) {
    if (count == 0) return;
#if defined(CSHA256_HAVE_X86)
    if (backend == CSHA256_BACKEND_X86_SHANI && csha256_cpu_has_shani()) {
        csha256_compress_shani(state, blocks, count);
        return;
    }
#endif
#if defined(CSHA256_HAVE_ARMV8)
    if (backend == CSHA256_BACKEND_ARMV8) {
        csha256_compress_armv8(state, blocks, count);
        return;
    }
#endif
    (void)backend;
    csha256_compress_portable(state, blocks, count);
}

void csha256_digest(int backend, const uint8_t *data, size_t length, uint8_t digest[32]) {
    uint32_t state[8];
    memcpy(state, initial_state, sizeof(state));
    size_t full = length / 64;
    compress(backend, state, data, full);
    uint8_t tail[128] = {0};
    size_t rest = length - full * 64;
    if (rest > 0) memcpy(tail, data + full * 64, rest);
    tail[rest] = 0x80;
    size_t blocks = rest + 9 <= 64 ? 1 : 2;
    uint64_t bit_length = (uint64_t)length * 8;
    for (int i = 1; i <= 8; i++) tail[64 * blocks - i] = (uint8_t)(bit_length >> (8 * (i - 1)));
    compress(backend, state, tail, blocks);
    for (int j = 0; j < 8; j++) csha256_store_be32(digest + 4 * j, state[j]);
}

void csha256_job_init(csha256_job *job, int backend, const uint8_t *challenge, size_t length) {
    memcpy(job->midstate, initial_state, sizeof(job->midstate));
    size_t full = length / 64;
    compress(backend, job->midstate, challenge, full);
    job->challenge_length = length;
    job->remainder_length = (uint32_t)(length - full * 64);
    memset(job->remainder, 0, sizeof(job->remainder));
    if (job->remainder_length > 0) memcpy(job->remainder, challenge + full * 64, job->remainder_length);
}

static csha256_result search(int backend, const csha256_job *job, uint64_t start, uint64_t count,
                             uint32_t bits, const uint32_t *stop, uint8_t *digests) {
#if defined(CSHA256_HAVE_X86)
    if (backend == CSHA256_BACKEND_X86_SHANI && csha256_cpu_has_shani()) {
        return csha256_search_shani(job, start, count, bits, stop, digests);
    }
#endif
#if defined(CSHA256_HAVE_ARMV8)
    if (backend == CSHA256_BACKEND_ARMV8) {
        return csha256_search_armv8(job, start, count, bits, stop, digests);
    }
#endif
    (void)backend;
    return csha256_search_portable(job, start, count, bits, stop, digests);
}

csha256_result csha256_search(int backend, const csha256_job *job, uint64_t start, uint64_t count,
                              uint32_t bits, const uint32_t *stop) {
    if (bits < 1) bits = 1;
    if (bits > 64) bits = 64;
    return search(backend, job, start, count, bits, stop, NULL);
}

void csha256_search_digests(int backend, const csha256_job *job, uint64_t start, uint64_t count,
                            uint8_t *digests) {
    (void)search(backend, job, start, count, 64, NULL, digests);
}

/* ---- atomics and clock ---- */

uint32_t csha256_atomic_load32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

void csha256_atomic_store32(uint32_t *p, uint32_t value) { __atomic_store_n(p, value, __ATOMIC_SEQ_CST); }

uint64_t csha256_atomic_load64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

uint64_t csha256_atomic_fetch_add64(uint64_t *p, uint64_t value) {
    return __atomic_fetch_add(p, value, __ATOMIC_SEQ_CST);
}

int csha256_atomic_cas64(uint64_t *p, uint64_t expected, uint64_t desired) {
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

uint64_t csha256_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
