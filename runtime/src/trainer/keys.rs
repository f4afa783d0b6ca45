//! Random keys for entry-point calls, derived from the run's seed so that the same seed
//! gives the same run.

/// SplitMix64: a good 64-bit mixer for deriving independent seeds.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Which purpose a key or seed is for; each gets an independent stream.
#[derive(Clone, Copy, Debug)]
pub enum Purpose {
    /// Acting policy calls.
    Act = 1,
    /// Training calls.
    Train = 2,
    /// Evaluation policy calls.
    Eval = 3,
    /// Parameter initialisation.
    Init = 4,
    /// Sampling from replay, shuffling minibatches, random warm-up actions.
    Host = 5,
    /// Training environments.
    Env = 6,
    /// Evaluation environments.
    EvalEnv = 7,
    /// Sampling from replay kept on the backend's device.
    DeviceSample = 8,
    /// Exploration noise added to the acting policy's actions (`act ... noise ou(..)`).
    Noise = 9,
}

/// A 64-bit seed for `purpose`, derived from the run's seed.
pub fn derive(seed: u64, purpose: Purpose) -> u64 {
    mix(mix(seed) ^ (purpose as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// The `i32[2]` key of call number `counter` of an entry point used for `purpose`.
pub fn call_key(seed: u64, purpose: Purpose, counter: u64) -> [i32; 2] {
    let k = mix(derive(seed, purpose) ^ mix(counter));
    [k as u32 as i32, (k >> 32) as u32 as i32]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_purpose_and_counter() {
        assert_ne!(call_key(1, Purpose::Act, 0), call_key(1, Purpose::Train, 0));
        assert_ne!(call_key(1, Purpose::Act, 0), call_key(1, Purpose::Act, 1));
        assert_ne!(call_key(1, Purpose::Act, 0), call_key(2, Purpose::Act, 0));
        assert_eq!(call_key(1, Purpose::Act, 5), call_key(1, Purpose::Act, 5));
    }
}
