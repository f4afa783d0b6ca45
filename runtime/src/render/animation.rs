//! An animated GIF built frame by frame with the `gif` crate. Each frame after the first is
//! stored as the rectangle that changed since the previous one, drawn over it (GIF's "keep"
//! disposal): a cart moving on a still background costs a few hundred bytes a frame, not a
//! whole picture.

use super::{Canvas, Rgb};
use gif::{DisposalMethod, Encoder, Frame, Repeat};

/// A GIF being written to memory.
pub struct Animation {
    encoder: Encoder<Vec<u8>>,
    width: u16,
    height: u16,
    /// Display time of each frame, in hundredths of a second (GIF's unit).
    delay: u16,
    /// The previous frame's palette indices.
    last: Option<Vec<u8>>,
    frames: usize,
}

impl Animation {
    /// Starts a looping GIF of `width × height` frames in `palette`, each shown `delay`
    /// hundredths of a second.
    ///
    /// # Errors
    /// A side over 65535 pixels, or a palette of more than 256 colours.
    pub fn new(width: u32, height: u32, palette: &[Rgb], delay: u16) -> Result<Animation, String> {
        let side =
            |v: u32| u16::try_from(v).map_err(|_| format!("a GIF side is at most 65535 pixels, not {v}"));
        let (w, h) = (side(width)?, side(height)?);
        if palette.is_empty() || palette.len() > 256 {
            return Err(format!(
                "a GIF palette has 1 to 256 colours, not {}",
                palette.len()
            ));
        }
        let flat: Vec<u8> = palette.iter().flatten().copied().collect();
        let mut encoder = Encoder::new(Vec::new(), w, h, &flat).map_err(|e| e.to_string())?;
        encoder.set_repeat(Repeat::Infinite).map_err(|e| e.to_string())?;
        Ok(Animation {
            encoder,
            width: w,
            height: h,
            delay,
            last: None,
            frames: 0,
        })
    }

    /// Appends a frame.
    ///
    /// # Errors
    /// A canvas of another size, a colour outside the palette, or an encoding failure.
    pub fn push(&mut self, canvas: &Canvas) -> Result<(), String> {
        if (canvas.width(), canvas.height()) != (u32::from(self.width), u32::from(self.height)) {
            return Err(format!(
                "a {}×{} frame in a {}×{} animation",
                canvas.width(),
                canvas.height(),
                self.width,
                self.height
            ));
        }
        let pixels = canvas.indices()?;
        let w = usize::from(self.width);
        // The changed rectangle, or one unchanged pixel (a frame still takes its time).
        let (x0, y0, x1, y1) = match &self.last {
            None => (0, 0, w, usize::from(self.height)),
            Some(last) => changed(last, &pixels, w).unwrap_or((0, 0, 1, 1)),
        };
        let buffer: Vec<u8> = (y0..y1)
            .flat_map(|y| pixels[y * w + x0..y * w + x1].iter().copied())
            .collect();
        let frame = Frame {
            delay: self.delay,
            dispose: DisposalMethod::Keep,
            left: x0 as u16,
            top: y0 as u16,
            width: (x1 - x0) as u16,
            height: (y1 - y0) as u16,
            buffer: buffer.into(),
            ..Frame::default()
        };
        self.encoder.write_frame(&frame).map_err(|e| e.to_string())?;
        self.last = Some(pixels);
        self.frames += 1;
        Ok(())
    }

    /// The number of frames pushed so far.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// The finished GIF file's bytes.
    ///
    /// # Errors
    /// An encoding failure.
    pub fn finish(self) -> Result<Vec<u8>, String> {
        self.encoder.into_inner().map_err(|e| e.to_string())
    }
}

/// The smallest rectangle `(x0, y0, x1, y1)` (exclusive ends) holding every pixel that differs
/// between two frames `w` wide, or `None` if none does.
fn changed(a: &[u8], b: &[u8], w: usize) -> Option<(usize, usize, usize, usize)> {
    let rows: Vec<usize> = (0..a.len() / w)
        .filter(|&y| a[y * w..(y + 1) * w] != b[y * w..(y + 1) * w])
        .collect();
    let (&y0, &y1) = (rows.first()?, rows.last()?);
    let differs = |x: usize| (y0..=y1).any(|y| a[y * w + x] != b[y * w + x]);
    let x0 = (0..w).find(|&x| differs(x))?;
    let x1 = (0..w).rev().find(|&x| differs(x))?;
    Some((x0, y0, x1 + 1, y1 + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PALETTE: &[Rgb] = &[[255, 255, 255], [0, 0, 0]];

    #[test]
    fn the_changed_rectangle_is_tight() {
        let a = vec![0u8; 12];
        let mut b = a.clone();
        b[5] = 1; // (1, 1) in a 4-wide frame
        b[10] = 1; // (2, 2)
        assert_eq!(changed(&a, &b, 4), Some((1, 1, 3, 3)));
        assert_eq!(changed(&a, &a, 4), None);
    }

    /// Frames written as changed rectangles decode, composed, to the frames drawn.
    #[test]
    fn decoded_frames_are_the_frames_drawn() {
        let mut anim = Animation::new(40, 30, PALETTE, 4).unwrap();
        let pictures: Vec<Canvas> = [(5.0, 5.0), (20.0, 10.0), (20.0, 10.0)]
            .iter()
            .map(|&c| {
                let mut canvas = Canvas::new(40, 30, PALETTE);
                canvas.disc(c, 4.0, [0, 0, 0]);
                canvas
            })
            .collect();
        for p in &pictures {
            anim.push(p).unwrap();
        }
        assert_eq!(anim.frames(), 3);
        let bytes = anim.finish().unwrap();
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::Indexed);
        let mut decoder = options.read_info(bytes.as_slice()).unwrap();
        let mut screen = vec![0u8; 40 * 30];
        for p in &pictures {
            let f = decoder.read_next_frame().unwrap().expect("a frame");
            assert_eq!(f.delay, 4);
            let (l, t, w) = (usize::from(f.left), usize::from(f.top), usize::from(f.width));
            for (i, v) in f.buffer.iter().enumerate() {
                screen[(t + i / w) * 40 + l + i % w] = *v;
            }
            assert_eq!(screen, p.indices().unwrap());
        }
        assert!(decoder.read_next_frame().unwrap().is_none());
        assert!(Animation::new(70_000, 10, PALETTE, 2).is_err());
        let mut anim = Animation::new(10, 10, PALETTE, 2).unwrap();
        assert!(anim.push(&Canvas::new(11, 10, PALETTE)).is_err());
    }
}
