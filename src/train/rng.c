/* rng.c — the two generators sklearn's trees draw from (TREES.md §1).
 *
 * numpy's legacy RandomState: MT19937 seeded by init_genrand, 32-bit draws
 * tempered as the reference, bounded integers by masked rejection (never
 * Lemire), doubles from 27 + 26 bits.  And the splitter's xorshift
 * (our_rand_r) with its biased modulo and left-to-right uniform. */
#include "train/train.h"

enum { MT_N = 624, MT_M = 397 };

void bt_mt_seed(bt_mt *mt, uint32_t seed) {
    mt->key[0] = seed;
    for (uint32_t i = 1; i < MT_N; i++) mt->key[i] = 1812433253u * (mt->key[i - 1] ^ (mt->key[i - 1] >> 30)) + i;
    mt->pos = MT_N;
}

static void mt_twist(bt_mt *mt) {
    uint32_t *k = mt->key;
    for (int i = 0; i < MT_N; i++) {
        uint32_t y = (k[i] & 0x80000000u) | (k[(i + 1) % MT_N] & 0x7fffffffu);
        k[i] = k[(i + MT_M) % MT_N] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    }
    mt->pos = 0;
}

uint32_t bt_mt_next32(bt_mt *mt) {
    if (mt->pos >= MT_N) mt_twist(mt);
    uint32_t y = mt->key[mt->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

static uint64_t mt_next64(bt_mt *mt) {
    uint64_t hi = bt_mt_next32(mt);
    return (hi << 32) | bt_mt_next32(mt);
}

int64_t bt_mt_randint(bt_mt *mt, int64_t low, int64_t high) {
    uint64_t rng = (uint64_t)(high - 1) - (uint64_t)low;
    if (rng == 0) return low;
    uint64_t mask = rng;
    for (int s = 1; s <= 32; s *= 2) mask |= mask >> s;
    uint64_t v;
    if (rng <= 0xFFFFFFFFu) {
        if (rng == 0xFFFFFFFFu) return low + (int64_t)bt_mt_next32(mt);
        do v = bt_mt_next32(mt) & mask;
        while (v > rng);
    } else {
        do v = mt_next64(mt) & mask;
        while (v > rng);
    }
    return (int64_t)((uint64_t)low + v);
}

double bt_mt_random_sample(bt_mt *mt) {
    uint32_t a = bt_mt_next32(mt) >> 5, b = bt_mt_next32(mt) >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
}

uint32_t bt_rand_r(uint32_t *state) {
    uint32_t s = *state ? *state : 1u;
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    *state = s;
    return s & (uint32_t)BT_RAND_R_MAX;
}

size_t bt_rand_int(size_t low, size_t high, uint32_t *state) { return low + bt_rand_r(state) % (high - low); }

double bt_rand_uniform(double low, double high, uint32_t *state) {
    return ((high - low) * (double)bt_rand_r(state)) / 2147483647.0 + low;
}
