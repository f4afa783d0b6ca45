//! The learning curve as an SVG image, one panel per group of series against environment
//! steps: returns (episode and greedy evaluation), losses, and the program's logged metrics
//! (the last two only when the program has any).

use crate::error::RunError;
use crate::metrics::Record;
use crate::tick_label::tick_label;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// A record's losses or metrics.
type Named = [(String, Option<f64>)];

/// One line of a panel: its label, colour and points.
struct Series {
    label: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

/// The height of the losses' and the metrics' panels, in pixels.
const PANEL: u32 = 280;

/// Colours for losses and metrics, cycled.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Draws the curve of `history` to `path`.
pub fn write_svg(path: &Path, algorithm: &str, env: &str, history: &[Record]) -> Result<(), RunError> {
    let err = |e: String| RunError::Io(format!("cannot write learning curve `{}`: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    }
    let returns = vec![
        Series {
            label: "episode return".into(),
            color: BLUE,
            points: points(history, |r| r.episode_return),
        },
        Series {
            label: "greedy evaluation".into(),
            color: RED,
            points: points(history, |r| r.eval_return),
        },
    ];
    let named = |pick: fn(&Record) -> &Named| -> Vec<Series> {
        let names = history.first().map_or(&[][..], pick);
        names
            .iter()
            .enumerate()
            .map(|(k, (name, _))| Series {
                label: name.clone(),
                color: PALETTE[k % PALETTE.len()],
                points: points(history, |r| pick(r).get(k).and_then(|(_, v)| *v)),
            })
            .collect()
    };
    let mut panels = vec![("return", returns)];
    for (title, series) in [("loss", named(|r| &r.losses)), ("metric", named(|r| &r.metrics))] {
        if !series.is_empty() {
            panels.push((title, series));
        }
    }
    let xmax = history.last().map_or(1.0, |r| r.step.max(1) as f64);
    let height = 480 + PANEL * (panels.len() as u32 - 1);
    let root = SVGBackend::new(path, (800, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let root = root
        .titled(&format!("{algorithm} on {env}"), ("sans-serif", 20))
        .map_err(|e| err(e.to_string()))?;
    // The returns panel takes what the other panels (PANEL pixels each) leave.
    let others = PANEL * (panels.len() as u32 - 1);
    let first = root.dim_in_pixel().1.saturating_sub(others);
    let breaks: Vec<u32> = (1..panels.len() as u32)
        .map(|k| first + PANEL * (k - 1))
        .collect();
    let areas = root.split_by_breakpoints(Vec::<u32>::new(), breaks);
    for (area, (title, series)) in areas.iter().zip(panels) {
        // Returns get a unit of margin as well (a flat 500 stays inside the frame).
        let margin = if title == "return" { 1.0 } else { 0.0 };
        panel(area, title, xmax, series, margin).map_err(err)?;
    }
    root.present().map_err(|e| err(e.to_string()))
}

/// The (step, value) points of one series, skipping intervals without a value.
fn points(history: &[Record], value: impl Fn(&Record) -> Option<f64>) -> Vec<(f64, f64)> {
    history
        .iter()
        .filter_map(|r| value(r).map(|v| (r.step as f64, v)))
        .collect()
}

/// One panel: every series of a group with its legend; the value axis spans the series with
/// 5% and `margin` to spare on each side.
fn panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    y_desc: &str,
    xmax: f64,
    series: Vec<Series>,
    margin: f64,
) -> Result<(), String> {
    let all = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let (lo, hi) = if lo.is_finite() {
        let pad = 0.05 * (hi - lo).abs().max(1e-6 * hi.abs().max(1.0)) + margin;
        (lo - pad, hi + pad)
    } else {
        (0.0, 1.0)
    };
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..xmax, lo..hi)
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_desc("environment steps")
        .y_desc(y_desc)
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&|v| tick_label(*v))
        .draw()
        .map_err(|x| e(&x))?;
    for s in series {
        let color = s.color;
        chart
            .draw_series(LineSeries::new(s.points, color.stroke_width(2)))
            .map_err(|x| e(&x))?
            .label(s.label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(|x| e(&x))
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
                metrics: Vec::new(),
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
