//! Pendulum-v1 as Gymnasium draws it: a red rod about a black pivot (without Gymnasium's
//! torque arrow, an image file).

use super::{Canvas, Point, Rgb, Scene, corners, turn};

const SIZE: f64 = 500.0;
/// Half the drawn width in metres.
const BOUND: f64 = 2.2;
const SCALE: f64 = SIZE / (BOUND * 2.0);
const ROD_LENGTH: f64 = SCALE;
const ROD_WIDTH: f64 = 0.2 * SCALE;

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
const ROD: Rgb = [204, 77, 77];

/// The Pendulum scene (500 × 500, 30 frames per second).
pub struct PendulumScene;

/// The rod's corners and its free end for angle `theta` (0 = upright, counter-clockwise).
pub(crate) fn rod(theta: f64) -> ([Point; 4], Point) {
    let c = (SIZE / 2.0, SIZE / 2.0);
    let angle = theta + std::f64::consts::FRAC_PI_2;
    let rod = corners(0.0, ROD_LENGTH, ROD_WIDTH / 2.0, -ROD_WIDTH / 2.0).map(|p| turn(p, angle, c));
    (rod, turn((ROD_LENGTH, 0.0), angle, c))
}

impl Scene for PendulumScene {
    fn size(&self) -> (u32, u32) {
        (SIZE as u32, SIZE as u32)
    }

    fn fps(&self) -> u32 {
        30
    }

    fn palette(&self) -> &'static [Rgb] {
        &[WHITE, BLACK, ROD]
    }

    /// The observation is `(cos θ, sin θ, θ̇)`.
    fn draw(&self, obs: &[f32], canvas: &mut Canvas) {
        let theta = f64::from(obs[1]).atan2(f64::from(obs[0]));
        let (body, end) = rod(theta);
        let c = (SIZE / 2.0, SIZE / 2.0);
        canvas.polygon(&body, ROD);
        canvas.disc(c, (ROD_WIDTH / 2.0).floor(), ROD);
        canvas.disc(end, (ROD_WIDTH / 2.0).floor(), ROD);
        canvas.disc(c, (0.05 * SCALE).floor(), BLACK);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn angle_zero_is_upright_and_angles_turn_counter_clockwise() {
        let (_, end) = rod(0.0);
        assert!((end.0 - 250.0).abs() < 1e-9 && (end.1 - (250.0 + ROD_LENGTH)).abs() < 1e-9);
        let (_, end) = rod(std::f64::consts::FRAC_PI_2);
        assert!((end.0 - (250.0 - ROD_LENGTH)).abs() < 1e-9 && (end.1 - 250.0).abs() < 1e-9);
    }

    #[test]
    fn the_picture_follows_the_observed_angle() {
        // Hanging down: (cos, sin) = (-1, 0); the rod is below the pivot, nothing above.
        let mut canvas = Canvas::new(500, 500, PendulumScene.palette());
        PendulumScene.draw(&[-1.0, 0.0, 0.0], &mut canvas);
        assert_eq!(canvas.pixel(250, 250 + 80), Some(ROD));
        assert_eq!(canvas.pixel(250, 250 - 80), Some(WHITE));
    }
}
