//! A white canvas in Gymnasium's drawing coordinates (pixels, y up), over a `tiny-skia` pixmap.

use tiny_skia::{FillRule, Paint, PathBuilder, Pixmap, Stroke, Transform};

/// An RGB colour.
pub type Rgb = [u8; 3];

/// A point in pixels, y up (Gymnasium's drawing coordinates).
pub type Point = (f64, f64);

/// A picture being drawn: shapes are filled without anti-aliasing, in the palette's colours.
pub struct Canvas {
    pixmap: Pixmap,
    palette: &'static [Rgb],
}

impl Canvas {
    /// A `width × height` canvas filled with the palette's first colour (the background).
    ///
    /// # Panics
    /// If a side is zero or the palette is empty: scenes have fixed, non-empty sizes and palettes.
    pub fn new(width: u32, height: u32, palette: &'static [Rgb]) -> Canvas {
        let mut pixmap = Pixmap::new(width, height).expect("a scene's canvas has a size");
        let [r, g, b] = palette[0];
        pixmap.fill(tiny_skia::Color::from_rgba8(r, g, b, 255));
        Canvas { pixmap, palette }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.pixmap.width()
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.pixmap.height()
    }

    /// Fills the polygon through `points` (y up).
    pub fn polygon(&mut self, points: &[Point], color: Rgb) {
        if let Some(path) = self.path(points, true) {
            let paint = paint(color);
            self.pixmap
                .fill_path(&path, &paint, FillRule::Winding, Transform::identity(), None);
        }
    }

    /// Draws a one-pixel line through `points` (y up).
    pub fn polyline(&mut self, points: &[Point], color: Rgb) {
        if let Some(path) = self.path(points, false) {
            let stroke = Stroke {
                width: 1.0,
                ..Stroke::default()
            };
            self.pixmap
                .stroke_path(&path, &paint(color), &stroke, Transform::identity(), None);
        }
    }

    /// Fills the disc of `radius` pixels around `center` (y up).
    pub fn disc(&mut self, center: Point, radius: f64, color: Rgb) {
        let (x, y) = self.flip(center);
        if let Some(path) = PathBuilder::from_circle(x, y, radius as f32) {
            self.pixmap.fill_path(
                &path,
                &paint(color),
                FillRule::Winding,
                Transform::identity(),
                None,
            );
        }
    }

    /// The colour of the pixel at column `x`, row `y` counted from the top.
    pub fn pixel(&self, x: u32, y: u32) -> Option<Rgb> {
        self.pixmap.pixel(x, y).map(|p| [p.red(), p.green(), p.blue()])
    }

    /// Every pixel, row by row from the top, as its index in the palette.
    ///
    /// # Errors
    /// A colour outside the palette (a scene drew with a colour it did not declare).
    pub fn indices(&self) -> Result<Vec<u8>, String> {
        let mut last = (self.palette[0], 0u8);
        self.pixmap
            .pixels()
            .iter()
            .map(|p| {
                let rgb = [p.red(), p.green(), p.blue()];
                if rgb != last.0 {
                    let i = self
                        .palette
                        .iter()
                        .position(|c| *c == rgb)
                        .ok_or_else(|| format!("colour {rgb:?} is not in the scene's palette"))?;
                    last = (rgb, i as u8);
                }
                Ok(last.1)
            })
            .collect()
    }

    /// Gymnasium's coordinates (y up) as the pixmap's (y down).
    fn flip(&self, (x, y): Point) -> (f32, f32) {
        (x as f32, (f64::from(self.height()) - y) as f32)
    }

    fn path(&self, points: &[Point], close: bool) -> Option<tiny_skia::Path> {
        let mut pb = PathBuilder::new();
        let (first, rest) = points.split_first()?;
        let (x, y) = self.flip(*first);
        pb.move_to(x, y);
        for p in rest {
            let (x, y) = self.flip(*p);
            pb.line_to(x, y);
        }
        if close {
            pb.close();
        }
        pb.finish()
    }
}

fn paint(color: Rgb) -> Paint<'static> {
    let mut paint = Paint {
        anti_alias: false,
        ..Paint::default()
    };
    paint.set_color_rgba8(color[0], color[1], color[2], 255);
    paint
}
