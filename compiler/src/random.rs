//! The counter-based random number generator every backend shares (Philox-4x32-10).
//!
//! A number is a pure function of (key, stream, element index): the same seed gives the same
//! numbers on the interpreter, the JIT and OpenCL, in any evaluation order.

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// Philox-4x32 with 10 rounds (Salmon et al., SC'11).
pub fn philox4x32(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = counter;
    let mut k = key;
    for round in 0..10 {
        if round > 0 {
            k[0] = k[0].wrapping_add(W0);
            k[1] = k[1].wrapping_add(W1);
        }
        let p0 = u64::from(M0) * u64::from(c[0]);
        let p1 = u64::from(M1) * u64::from(c[2]);
        c = [
            ((p1 >> 32) as u32) ^ c[1] ^ k[0],
            p1 as u32,
            ((p0 >> 32) as u32) ^ c[3] ^ k[1],
            p0 as u32,
        ];
    }
    c
}

/// The Philox key for a random node: the call's key mixed with the node's stream number.
pub fn stream_key(key: [i32; 2], stream: u32) -> [u32; 2] {
    [key[0] as u32, (key[1] as u32) ^ stream.wrapping_mul(0x85EB_CA6B)]
}

/// The four raw 32-bit words for element `index`.
pub fn bits(key: [u32; 2], index: u64) -> [u32; 4] {
    philox4x32([index as u32, (index >> 32) as u32, 0, 0], key)
}

/// Uniform in `[0, 1)` with 24 random bits, exactly representable in f32.
pub fn uniform_from_bits(b: u32) -> f64 {
    f64::from(b >> 8) * (1.0 / 16_777_216.0)
}

/// Uniform in `(0, 1]` (safe to take the logarithm of).
pub fn uniform_open_from_bits(b: u32) -> f64 {
    f64::from((b >> 8) + 1) * (1.0 / 16_777_216.0)
}

/// Uniform sample for element `index`.
pub fn uniform(key: [u32; 2], index: u64) -> f64 {
    uniform_from_bits(bits(key, index)[0])
}

/// Standard normal sample for element `index` (Box-Muller on the first two words), in f64.
pub fn normal(key: [u32; 2], index: u64) -> f64 {
    let b = bits(key, index);
    let u1 = uniform_open_from_bits(b[0]);
    let u2 = uniform_from_bits(b[1]);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Standard normal sample computed in f32 arithmetic (what f32 backends produce).
pub fn normal_f32(key: [u32; 2], index: u64) -> f32 {
    let b = bits(key, index);
    let u1 = uniform_open_from_bits(b[0]) as f32;
    let u2 = uniform_from_bits(b[1]) as f32;
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// A slot drawn uniformly from `0..len` for item `item` of a replay batch: the first Philox
/// word scaled by multiply-shift (Lemire), so the bias is below `len / 2^32`. OpenCL computes
/// the same as `mul_hi(word, len)`.
pub fn uniform_slot(key: [u32; 2], item: u32, len: u32) -> u32 {
    ((u64::from(bits(key, u64::from(item))[0]) * u64::from(len)) >> 32) as u32
}

/// Splits a 64-bit seed into the `i32[2]` key entry points take.
pub fn key_from_seed(seed: u64) -> [i32; 2] {
    [seed as u32 as i32, (seed >> 32) as u32 as i32]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn philox_known_answers() {
        // Known-answer vectors from the Random123 distribution (kat_vectors, philox4x32_10).
        assert_eq!(
            philox4x32([0, 0, 0, 0], [0, 0]),
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
        );
        assert_eq!(
            philox4x32([0xffffffff; 4], [0xffffffff; 2]),
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
        );
        assert_eq!(
            philox4x32(
                [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
                [0xa4093822, 0x299f31d0]
            ),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn moments_are_right() {
        let key = stream_key([7, 0], 3);
        let n = 200_000u64;
        let (mut s, mut s2) = (0.0, 0.0);
        for i in 0..n {
            let z = normal(key, i);
            s += z;
            s2 += z * z;
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
        let u: f64 = (0..n).map(|i| uniform(key, i)).sum::<f64>() / n as f64;
        assert!((u - 0.5).abs() < 0.005);
    }

    #[test]
    fn replay_slots_are_in_range_and_uniform() {
        let key = [11, 22];
        assert!((0..100).all(|b| uniform_slot(key, b, 1) == 0));
        // Chi-square over 10 slots with 100k draws: 9 degrees of freedom, p < 1e-6 above 45.
        let mut counts = [0u32; 10];
        for b in 0..100_000 {
            counts[uniform_slot(key, b, 10) as usize] += 1;
        }
        let chi2: f64 = counts
            .iter()
            .map(|&c| (f64::from(c) - 10_000.0).powi(2) / 10_000.0)
            .sum();
        assert!(chi2 < 45.0, "{counts:?}");
        let big = 1_000_003;
        assert!((0..10_000).all(|b| uniform_slot(key, b, big) < big));
    }
}
