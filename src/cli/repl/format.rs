//! Printing values: numbers with up to 7 significant digits, tensors as nested lists; like
//! NumPy, tensors of more than 1000 elements show only the edges of each axis.

use rlc_compiler::ir::TensorType;

/// Tensors with more elements than this are summarised.
const SUMMARY_OVER: usize = 1000;
/// A summarised axis shows its first and last `EDGE` items.
const EDGE: usize = 3;

/// A number: integers without a fraction, others with 7 significant digits, trailing
/// zeros trimmed.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let a = v.abs();
    if !(1e-4..1e7).contains(&a) {
        let s = format!("{v:.6e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        return format!("{}e{e}", trim(m));
    }
    let digits = (6 - a.log10().floor() as i32).max(0) as usize;
    trim(&format!("{v:.digits$}")).to_string()
}

fn trim(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// A tensor's values as nested lists.
pub fn tensor(ty: &TensorType, values: &[f64]) -> String {
    let bool_like = ty.dtype == rlc_compiler::ir::DType::Bool;
    let item = |v: f64| {
        if bool_like {
            (if v != 0.0 { "true" } else { "false" }).to_string()
        } else {
            num(v)
        }
    };
    if ty.shape.is_empty() {
        return values.first().map_or_else(String::new, |v| item(*v));
    }
    let mut out = String::new();
    let summarise = values.len() > SUMMARY_OVER;
    nested(&ty.shape, values, summarise, &item, &mut out);
    out
}

fn nested(shape: &[usize], values: &[f64], summarise: bool, item: &dyn Fn(f64) -> String, out: &mut String) {
    let n = shape[0];
    let inner: usize = shape[1..].iter().product();
    let shown: Vec<Option<usize>> = if summarise && n > 2 * EDGE {
        (0..EDGE)
            .map(Some)
            .chain([None])
            .chain((n - EDGE..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    };
    out.push('[');
    for (k, i) in shown.iter().enumerate() {
        if k > 0 {
            out.push_str(", ");
        }
        match i {
            None => out.push_str("..."),
            Some(i) if shape.len() == 1 => out.push_str(&item(values[*i])),
            Some(i) => nested(
                &shape[1..],
                &values[i * inner..(i + 1) * inner],
                summarise,
                item,
                out,
            ),
        }
    }
    out.push(']');
}

/// A number with thousands separators (`134,402`).
pub fn count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rlc_compiler::ir::DType;

    #[test]
    fn numbers_are_short_and_exact_enough() {
        assert_eq!(num(3.0), "3");
        assert_eq!(num(-0.5), "-0.5");
        assert_eq!(num(2.5555), "2.5555");
        assert_eq!(num(1.0 / 3.0), "0.3333333");
        assert_eq!(num(123.456789), "123.4568");
        assert_eq!(num(1.5e-7), "1.5e-7");
        assert_eq!(num(f64::NAN), "nan");
    }

    #[test]
    fn long_axes_are_elided() {
        let ty = TensorType::new(DType::F32, vec![12]);
        let v: Vec<f64> = (0..12).map(f64::from).collect();
        assert_eq!(tensor(&ty, &v), "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]");
        let ty = TensorType::new(DType::F32, vec![1200]);
        let v: Vec<f64> = (0..1200).map(f64::from).collect();
        assert_eq!(tensor(&ty, &v), "[0, 1, 2, ..., 1197, 1198, 1199]");
        let ty = TensorType::new(DType::F32, vec![2, 2]);
        assert_eq!(tensor(&ty, &[1.0, 2.0, 3.0, 4.0]), "[[1, 2], [3, 4]]");
    }

    #[test]
    fn thousands() {
        assert_eq!(count(134402), "134,402");
        assert_eq!(count(12), "12");
    }
}
