//! The learning curve as an SVG image: episode return and evaluation return against steps.

use crate::error::RunError;
use crate::metrics::Record;
use crate::tick_label::tick_label;
use plotters::prelude::*;
use std::path::Path;

/// Draws the curve of `history` to `path`.
pub fn write_svg(path: &Path, algorithm: &str, env: &str, history: &[Record]) -> Result<(), RunError> {
    let err = |e: String| RunError::Io(format!("cannot write learning curve `{}`: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    }
    let train: Vec<(f64, f64)> = history
        .iter()
        .filter_map(|r| r.episode_return.map(|v| (r.step as f64, v)))
        .collect();
    let eval: Vec<(f64, f64)> = history
        .iter()
        .filter_map(|r| r.eval_return.map(|v| (r.step as f64, v)))
        .collect();
    let all: Vec<f64> = train.iter().chain(&eval).map(|p| p.1).collect();
    let (lo, hi) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(*v), b.max(*v))
    });
    let (lo, hi) = if lo.is_finite() {
        (
            lo - 0.05 * (hi - lo).abs() - 1.0,
            hi + 0.05 * (hi - lo).abs() + 1.0,
        )
    } else {
        (0.0, 1.0)
    };
    let xmax = history.last().map_or(1.0, |r| r.step.max(1) as f64);
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{algorithm} on {env}"), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..xmax, lo..hi)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("environment steps")
        .y_desc("return")
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&|v| tick_label(*v))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    chart
        .draw_series(LineSeries::new(train, &BLUE.mix(0.6)))
        .map_err(|e| err(e.to_string()))?
        .label("episode return")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
    chart
        .draw_series(LineSeries::new(eval, RED.stroke_width(2)))
        .map_err(|e| err(e.to_string()))?
        .label("greedy evaluation")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SVG's tick labels read `50k`, `100k`, not `50000.0`.
    #[test]
    fn tick_labels_are_readable_in_the_svg() {
        let history: Vec<Record> = (1..=4u32)
            .map(|i| Record {
                step: u64::from(i) * 50_000,
                episodes: u64::from(i),
                episode_return: Some(f64::from(i) * 100.0),
                eval_return: Some(f64::from(i) * 120.0),
                steps_per_s: 1.0,
                wall_s: 1.0,
                updates: 1,
                losses: Vec::new(),
                final_record: false,
            })
            .collect();
        let path = std::env::temp_dir().join(format!("rlc-curve-{}.svg", std::process::id()));
        write_svg(&path, "ppo", "CartPole-v1", &history).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        // plotters writes each text on a line of its own.
        let texts: Vec<&str> = svg
            .split("<text")
            .skip(1)
            .filter_map(|t| t.split_once('>')?.1.split('<').next())
            .map(str::trim)
            .collect();
        for label in ["0", "20k", "100k", "200k", "100", "500"] {
            assert!(texts.contains(&label), "no tick `{label}` in {texts:?}");
        }
        assert!(
            !texts.iter().any(|t| t.ends_with(".0") || t.ends_with("000")),
            "{texts:?}"
        );
    }
}
