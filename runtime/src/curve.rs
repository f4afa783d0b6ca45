//! The learning curve as an SVG image, one panel per group of series against environment
//! steps: returns (episode and greedy evaluation), losses, and the program's logged metrics
//! (the last two only when the program has any).

use crate::error::RunError;
use crate::metrics::Record;
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
        panel(area, title, xmax, series).map_err(err)?;
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

/// Environment steps as an axis label: `50k`, `1.5M`, never `50000.0`.
fn steps_label(x: &f64) -> String {
    let x = *x;
    if x.abs() >= 1e6 {
        format!("{}M", trim(x / 1e6))
    } else if x.abs() >= 1e3 {
        format!("{}k", trim(x / 1e3))
    } else {
        trim(x)
    }
}

/// A number with at most two decimals and no trailing zeros.
fn trim(x: f64) -> String {
    trim_to(x, 2)
}

fn trim_to(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// A value axis label: `250`, `0.125`, `-1.5`, or `2.5e-5` for tiny and huge values.
fn value_label(y: &f64) -> String {
    let y = *y;
    if y != 0.0 && !(1e-3..1e5).contains(&y.abs()) {
        format!("{y:.2e}")
    } else {
        trim_to(y, 3)
    }
}

/// One panel: every series of a group with its legend.
fn panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    y_desc: &str,
    xmax: f64,
    series: Vec<Series>,
) -> Result<(), String> {
    let all = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let (lo, hi) = if lo.is_finite() {
        let pad = 0.05 * (hi - lo).abs().max(1e-6 * hi.abs().max(1.0));
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
        .x_label_formatter(&steps_label)
        .y_label_formatter(&value_label)
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

    #[test]
    fn step_labels_are_short() {
        assert_eq!(steps_label(&50000.0), "50k");
        assert_eq!(steps_label(&1_500_000.0), "1.5M");
        assert_eq!(steps_label(&12_500.0), "12.5k");
        assert_eq!(steps_label(&0.0), "0");
        assert_eq!(steps_label(&250.0), "250");
        assert_eq!(value_label(&50.0), "50");
        assert_eq!(value_label(&-0.125), "-0.125");
        assert_eq!(value_label(&0.0), "0");
        assert_eq!(value_label(&2.5e-5), "2.50e-5");
    }
}
