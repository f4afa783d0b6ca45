//! The learning curve across seeds as an SVG image: the mean evaluation return with its
//! bootstrapped 95% band, and each seed's evaluation curve as a thin line.

use crate::aggregate::Aggregate;
use crate::error::RunError;
use plotters::prelude::*;
use std::path::Path;

/// Draws `agg`'s evaluation curves to `path`.
pub fn write_svg(path: &Path, title: &str, agg: &Aggregate) -> Result<(), RunError> {
    let err = |e: String| RunError::Io(format!("cannot write `{}`: {e}", path.display()));
    let band: Vec<(f64, f64, f64, f64)> = agg
        .curve
        .iter()
        .filter_map(|(step, ev, _)| ev.map(|(e, _)| (*step as f64, e.value, e.lo, e.hi)))
        .collect();
    let seeds: Vec<Vec<(f64, f64)>> = agg
        .seeds
        .iter()
        .map(|s| {
            s.points
                .iter()
                .filter_map(|(step, ev, _)| ev.map(|v| (*step as f64, v)))
                .collect()
        })
        .collect();
    let values = band
        .iter()
        .flat_map(|b| [b.2, b.3])
        .chain(seeds.iter().flatten().map(|p| p.1));
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let (lo, hi) = if lo.is_finite() {
        let pad = 0.05 * (hi - lo) + 1.0;
        (lo - pad, hi + pad)
    } else {
        (0.0, 1.0)
    };
    let xmax = agg.curve.last().map_or(1.0, |c| c.0.max(1) as f64);
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..xmax, lo..hi)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("environment steps")
        .y_desc("greedy evaluation return")
        .x_label_formatter(&|x| format!("{}", x.round() as i64))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    // The band: the upper ends left to right, then the lower ends back.
    let outline: Vec<(f64, f64)> = band
        .iter()
        .map(|b| (b.0, b.3))
        .chain(band.iter().rev().map(|b| (b.0, b.2)))
        .collect();
    chart
        .draw_series(std::iter::once(Polygon::new(outline, RED.mix(0.2).filled())))
        .map_err(|e| err(e.to_string()))?
        .label("95% bootstrap interval of the mean")
        .legend(|(x, y)| Rectangle::new([(x, y - 4), (x + 16, y + 4)], RED.mix(0.2).filled()));
    for s in seeds {
        chart
            .draw_series(LineSeries::new(s, BLUE.mix(0.35).stroke_width(1)))
            .map_err(|e| err(e.to_string()))?;
    }
    chart
        .draw_series(LineSeries::new(
            band.iter().map(|b| (b.0, b.1)),
            RED.stroke_width(2),
        ))
        .map_err(|e| err(e.to_string()))?
        .label(format!("mean of {} seeds (thin: each seed)", agg.seeds.len()))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))
}
