//! Randomness: seeded ChaCha8 streams and integer-only draws from them.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The ChaCha8 key for a seed. Expanded with SplitMix64 rather than `SeedableRng::seed_from_u64`
/// so the mapping is written down here and cannot change with a dependency.
pub(super) fn derive_key(seed: u64) -> [u8; 32] {
    let mut state = seed;
    let mut key = [0u8; 32];
    for chunk in key.chunks_exact_mut(8) {
        chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    key
}

pub(super) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Integer-only draws from one ChaCha8 stream. The ChaCha8 output is fixed by its
/// specification; every mapping to values is below, so the tree for a seed never changes
/// unless this file does.
pub(super) struct Rng(ChaCha8Rng);

/// Probabilities are in parts per million.
const PPM: u64 = 1_000_000;

impl Rng {
    pub(super) fn new(key: &[u8; 32], stream: u64) -> Self {
        let mut inner = ChaCha8Rng::from_seed(*key);
        inner.set_stream(stream);
        Self(inner)
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (0 when `n` is 0), by Lemire's multiply-high; the bias is at most
    /// `n / 2^64`, far below anything a benchmark can see.
    pub(super) fn below_u64(&mut self, n: u64) -> u64 {
        let wide = u128::from(self.next()) * u128::from(n);
        u64::try_from(wide >> 64).unwrap_or(0)
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        usize::try_from(self.below_u64(n)).unwrap_or(0)
    }

    pub(super) fn chance(&mut self, ppm: u64) -> bool {
        self.below_u64(PPM) < ppm
    }

    pub(super) fn pick<'t, T>(&mut self, items: &'t [T]) -> Option<&'t T> {
        items.get(self.below(items.len()))
    }

    /// An index into `weights`, each chosen with probability weight / sum.
    pub(super) fn weighted(&mut self, weights: &[u64]) -> usize {
        let total = weights.iter().fold(0u64, |sum, w| sum.saturating_add(*w));
        let mut roll = self.below_u64(total);
        for (i, weight) in weights.iter().enumerate() {
            if roll < *weight {
                return i;
            }
            roll -= weight;
        }
        weights.len().saturating_sub(1)
    }

    /// Failures before the first success of trials with probability `1 / (mean + 1)`: a
    /// geometric law with the given mean, cut at `cap`.
    pub(super) fn geometric(&mut self, mean: u64, cap: u64) -> u64 {
        let mut failures = 0;
        while failures < cap && self.below_u64(mean.saturating_add(1)) != 0 {
            failures += 1;
        }
        failures
    }

    /// A rank in `0..n` with a heavy head: `n * x^5` for uniform `x`, so about 14% of draws
    /// land in the top 10 of 200,000 and 35% in the top 1,000, like dependencies on crates.io
    /// where a few crates (serde, syn, libc, ...) are used by most.
    pub(super) fn power_rank(&mut self, n: usize) -> usize {
        let x = self.next() >> 32;
        let mut p = x;
        for _ in 0..4 {
            // Both factors are below 2^32, so the product fits in 64 bits.
            p = (p * x) >> 32;
        }
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        let rank = (u128::from(p) * u128::from(n)) >> 32;
        usize::try_from(rank).unwrap_or(0)
    }
}

pub(super) fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i.saturating_add(1));
        // INVARIANT: j <= i < len.
        items.swap(i, j);
    }
}
