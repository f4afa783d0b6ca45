//! Axis tick labels people read at a glance: `50k`, `1.2M`, `-150`, `0.25` rather than
//! plotters' default `50000.0`.

/// `v` with a `k` (thousand), `M` (million) or `G` (billion) suffix from a thousand on, at most
/// four significant digits, and no trailing zeros or `.0`: `50000 → 50k`, `1200000 → 1.2M`,
/// `12500 → 12.5k`, `-1400 → -1.4k`, `500 → 500`, `0.25 → 0.25`. Non-finite values print as
/// `NaN`, `inf`, `-inf`.
pub fn tick_label(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let (scaled, suffix) = match v.abs() {
        a if a >= 1e9 => (v / 1e9, "G"),
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e3 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    format!("{}{suffix}", significant(scaled))
}

/// `x` to four significant digits, trailing zeros (and a bare point) removed, `-0` as `0`.
fn significant(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    // Digits after the point that leave four significant ones (none for 1000 and more).
    let decimals = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    if s == "-0" { "0".into() } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::tick_label;

    #[test]
    fn labels_are_short_and_have_no_trailing_zeros() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (500.0, "500"),
            (-150.0, "-150"),
            (999.0, "999"),
            (1000.0, "1k"),
            (50000.0, "50k"),
            (12500.0, "12.5k"),
            (-1400.0, "-1.4k"),
            (100_000.0, "100k"),
            (1_200_000.0, "1.2M"),
            (2_000_000.0, "2M"),
            (1.25e9, "1.25G"),
            (0.25, "0.25"),
            (0.1 + 0.2, "0.3"),
            (0.0001, "0.0001"),
            (-2.5, "-2.5"),
            (123.45, "123.5"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (v, label) in cases {
            assert_eq!(tick_label(v), label, "{v}");
        }
    }
}
