#ifndef CSHA256_H
#define CSHA256_H

/*
 * SHA-256 for Warren's proof of work: plain digests plus a batch nonce search that hashes the
 * challenge's full blocks once (the midstate) and keeps the nonce's decimal digits in the tail
 * block, incrementing them in place.
 *
 * Three compression paths: portable C, x86-64 SHA-NI (chosen at run time by cpuid) and ARMv8
 * SHA-2 (compiled only where the compiler targets it).
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Backend identifiers; values are stable and mirrored by the Swift `SHA256Backend` enum. */
#define CSHA256_BACKEND_PORTABLE 0
#define CSHA256_BACKEND_X86_SHANI 1
#define CSHA256_BACKEND_ARMV8 2

/* The part of a search that does not depend on the nonce. */
typedef struct csha256_job {
    /* State after compressing every full 64-byte block of the challenge. */
    uint32_t midstate[8];
    /* Length of the whole challenge in bytes (for the final length field). */
    uint64_t challenge_length;
    /* Challenge bytes after its last full block (0..63 of them). */
    uint32_t remainder_length;
    uint8_t remainder[64];
} csha256_job;

/* Outcome of one batch. */
typedef struct csha256_result {
    /* Nonces hashed in this call (the hit included). */
    uint64_t tried;
    /* 1 when `nonce` and `digest` hold a hit. */
    int found;
    uint64_t nonce;
    uint8_t digest[32];
} csha256_result;

/* 1 when the backend can run on this machine (SHA-NI: cpuid leaf 7 EBX bit 29). */
int csha256_backend_available(int backend);

/* SHA-256 of `length` bytes; an unavailable backend falls back to portable. */
void csha256_digest(int backend, const uint8_t *data, size_t length, uint8_t digest[32]);

/* Precomputes the midstate and tail of `challenge`. */
void csha256_job_init(csha256_job *job, int backend, const uint8_t *challenge, size_t length);

/*
 * Tries nonces start, start+1, ... (at most `count`, with start+count-1 <= UINT64_MAX) and stops
 * at the first digest whose leading `bits` (1...64) bits are zero. Polls `*stop` (may be NULL)
 * every 4096 nonces and returns early when it is non-zero.
 */
csha256_result csha256_search(int backend, const csha256_job *job, uint64_t start, uint64_t count,
                              uint32_t bits, const uint32_t *stop);

/* Test hook: writes the digests of nonces start..<start+count (32 bytes each) via the search loop. */
void csha256_search_digests(int backend, const csha256_job *job, uint64_t start, uint64_t count,
                            uint8_t *digests);

/* Small atomics for the Swift solver's shared state (sequentially consistent). */
uint32_t csha256_atomic_load32(const uint32_t *p);
void csha256_atomic_store32(uint32_t *p, uint32_t value);
uint64_t csha256_atomic_load64(const uint64_t *p);
uint64_t csha256_atomic_fetch_add64(uint64_t *p, uint64_t value);
int csha256_atomic_cas64(uint64_t *p, uint64_t expected, uint64_t desired);

/* Monotonic clock in nanoseconds. */
uint64_t csha256_monotonic_ns(void);

#ifdef __cplusplus
}
#endif

#endif
