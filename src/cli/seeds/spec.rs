//! What a multi-seed run trains: the seed list (`--seeds 1..8`, `--seeds 1,2,5`) and the
//! settings a sweep goes through (`--set lr=1e-4,3e-4,1e-3`: a comma list outside brackets and
//! quotes; `--set hidden=[64, 64]` stays one value).

/// Parses `--seeds`: comma-separated seeds and inclusive ranges (`1..8` is 1 to 8, as the
/// shell's `{1..8}`), e.g. `1..4,9`. Empty ranges, repeated seeds and non-numbers are errors.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>, String> {
    let bad = |part: &str, why: &str| format!("--seeds `{text}`: `{part}` {why}");
    let num = |part: &str, s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| bad(part, "is not a seed (a whole number ≥ 0) or a range `A..B`"))
    };
    let mut seeds = Vec::new();
    for part in text.split(',') {
        match part.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (num(part, a)?, num(part, b)?);
                if a > b {
                    return Err(bad(
                        part,
                        "is an empty range (ranges count up and include both ends)",
                    ));
                }
                if b - a >= 100_000 {
                    return Err(bad(part, "has more than 100,000 seeds"));
                }
                seeds.extend(a..=b);
            }
            None => seeds.push(num(part, part)?),
        }
    }
    let mut sorted = seeds.clone();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("--seeds `{text}` names seed {} twice", w[0]));
    }
    Ok(seeds)
}

/// One point of a sweep: the `--set` arguments its runs get, and (for a sweep) the directory
/// name made of the swept settings (`lr=1e-4`, `lr=1e-4,batch=64`).
#[derive(Clone, Debug, PartialEq)]
pub struct Combination {
    /// `name=value` for every `--set`, one value each.
    pub sets: Vec<String>,
    /// The swept settings, `None` when nothing is swept.
    pub label: Option<String>,
}

/// Splits `value` at the commas outside brackets, parentheses and quotes.
fn split_top_level(value: &str) -> Vec<&str> {
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    let mut parts = Vec::new();
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '[' | '(' if !quoted => depth += 1,
            ']' | ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// Every combination of the `--set` values, the first swept setting varying slowest.
pub fn combinations(sets: &[String]) -> Result<Vec<Combination>, String> {
    // Per --set: its name and the values it takes (one unless swept).
    let mut axes: Vec<(&str, Vec<&str>)> = Vec::new();
    for s in sets {
        let Some((name, value)) = s.split_once('=') else {
            // Not of the form name=value: the compiler reports it with its usual diagnostic.
            axes.push((s, vec![]));
            continue;
        };
        let values = split_top_level(value);
        if values.len() > 1 {
            if let Some(v) = values.iter().find(|v| v.trim().is_empty()) {
                return Err(format!("--set `{s}`: the sweep has an empty value `{v}`"));
            }
            let mut seen: Vec<&str> = Vec::new();
            for v in &values {
                if seen.contains(&v.trim()) {
                    return Err(format!("--set `{s}`: the sweep lists `{}` twice", v.trim()));
                }
                seen.push(v.trim());
            }
        }
        axes.push((name.trim(), values.iter().map(|v| v.trim()).collect()));
    }
    let mut combos = vec![(Vec::new(), Vec::new())];
    for (i, (name, values)) in axes.iter().enumerate() {
        if values.is_empty() {
            combos.iter_mut().for_each(|c| c.0.push(sets[i].clone()));
            continue;
        }
        let mut next = Vec::with_capacity(combos.len() * values.len());
        for (sets, label) in &combos {
            for v in values {
                let mut sets: Vec<String> = sets.clone();
                sets.push(format!("{name}={v}"));
                let mut label: Vec<String> = label.clone();
                if values.len() > 1 {
                    label.push(format!("{name}={v}"));
                }
                next.push((sets, label));
            }
        }
        combos = next;
    }
    Ok(combos
        .into_iter()
        .map(|(sets, label)| Combination {
            sets,
            label: (!label.is_empty()).then(|| dir_name(&label.join(","))),
        })
        .collect())
}

/// A directory name for a label: path separators, control characters and spaces become `_`.
fn dir_name(label: &str) -> String {
    let s: String = label
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() || c.is_whitespace() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if s.starts_with('.') { format!("_{s}") } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_lists_and_inclusive_ranges() {
        assert_eq!(parse_seeds("1..8").unwrap(), (1..=8).collect::<Vec<_>>());
        assert_eq!(parse_seeds("1,2,5").unwrap(), vec![1, 2, 5]);
        assert_eq!(parse_seeds("3").unwrap(), vec![3]);
        assert_eq!(parse_seeds("0..2,9").unwrap(), vec![0, 1, 2, 9]);
        for bad in ["", "1,,2", "8..1", "a..3", "-1", "1..3,2", "1.5"] {
            assert!(parse_seeds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_comma_list_sweeps_and_arrays_stay_whole() {
        let sets: Vec<String> = ["lr=1e-4,3e-4", "hidden=[64, 64]", "batch=32,64"]
            .map(String::from)
            .to_vec();
        let c = combinations(&sets).unwrap();
        assert_eq!(c.len(), 4);
        assert_eq!(c[0].sets, vec!["lr=1e-4", "hidden=[64, 64]", "batch=32"]);
        assert_eq!(c[0].label.as_deref(), Some("lr=1e-4,batch=32"));
        assert_eq!(c[3].label.as_deref(), Some("lr=3e-4,batch=64"));
        let one = combinations(&["hidden=[64,64]".to_string(), "name=\"a,b\"".to_string()]).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].label, None);
        let arrays = combinations(&["hidden=[64,64],[256,256]".to_string()]).unwrap();
        assert_eq!(arrays[1].sets, vec!["hidden=[256,256]"]);
        assert!(combinations(&["lr=1e-4,".to_string()]).is_err());
        assert!(combinations(&["lr=1,1".to_string()]).is_err());
        assert_eq!(dir_name("path=a/b"), "path=a_b");
    }
}
