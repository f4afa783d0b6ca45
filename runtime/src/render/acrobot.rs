//! Acrobot-v1 as Gymnasium draws it: two cyan links with yellow joints and the black line the
//! tip must rise above.

use super::{Canvas, Point, Rgb, Scene, corners, turn};
use crate::envs::acrobot::{LINK_LENGTH_1, LINK_LENGTH_2};
use std::f64::consts::FRAC_PI_2;

const SIZE: f64 = 500.0;
const BOUND: f64 = LINK_LENGTH_1 + LINK_LENGTH_2 + 0.2;
const SCALE: f64 = SIZE / (BOUND * 2.0);
const OFFSET: f64 = SIZE / 2.0;

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
const LINK: Rgb = [0, 204, 204];
const JOINT: Rgb = [204, 204, 0];

/// The Acrobot scene (500 × 500, 15 frames per second).
pub struct AcrobotScene;

/// The joints (pivot, elbow) and the tip, in pixels, for joint angles `theta1`, `theta2`
/// (0 = hanging straight down).
pub(crate) fn joints(theta1: f64, theta2: f64) -> [Point; 3] {
    let elbow = (LINK_LENGTH_1 * theta1.sin(), -LINK_LENGTH_1 * theta1.cos());
    let tip = (
        elbow.0 + LINK_LENGTH_2 * (theta1 + theta2).sin(),
        elbow.1 - LINK_LENGTH_2 * (theta1 + theta2).cos(),
    );
    [(0.0, 0.0), elbow, tip].map(|(x, y)| (x * SCALE + OFFSET, y * SCALE + OFFSET))
}

impl Scene for AcrobotScene {
    fn size(&self) -> (u32, u32) {
        (SIZE as u32, SIZE as u32)
    }

    fn fps(&self) -> u32 {
        15
    }

    fn palette(&self) -> &'static [Rgb] {
        &[WHITE, BLACK, LINK, JOINT]
    }

    /// The observation is `(cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2)`.
    fn draw(&self, obs: &[f32], canvas: &mut Canvas) {
        let angle = |c: f32, s: f32| f64::from(s).atan2(f64::from(c));
        let (t1, t2) = (angle(obs[0], obs[1]), angle(obs[2], obs[3]));
        let line_y = SCALE + OFFSET;
        canvas.polyline(
            &[(OFFSET - BOUND * SCALE, line_y), (OFFSET + BOUND * SCALE, line_y)],
            BLACK,
        );
        let [pivot, elbow, _] = joints(t1, t2);
        let links = [
            (pivot, t1 - FRAC_PI_2, LINK_LENGTH_1),
            (elbow, t1 + t2 - FRAC_PI_2, LINK_LENGTH_2),
        ];
        for (at, th, len) in links {
            let body = corners(0.0, len * SCALE, 0.1 * SCALE, -0.1 * SCALE).map(|p| turn(p, th, at));
            canvas.polygon(&body, LINK);
            canvas.disc(at, (0.1 * SCALE).floor(), JOINT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hanging_links_point_down_and_the_links_end_at_the_joints() {
        let [pivot, elbow, tip] = joints(0.0, 0.0);
        assert_eq!(pivot, (250.0, 250.0));
        assert!((elbow.0 - 250.0).abs() < 1e-9 && (elbow.1 - (250.0 - SCALE)).abs() < 1e-9);
        assert!((tip.1 - (250.0 - 2.0 * SCALE)).abs() < 1e-9);
        // The first link's far end (turned like the drawing) is the elbow, at any angle.
        let (t1, t2) = (0.7, -1.9);
        let [pivot, elbow, tip] = joints(t1, t2);
        let end = turn((LINK_LENGTH_1 * SCALE, 0.0), t1 - FRAC_PI_2, pivot);
        assert!((end.0 - elbow.0).abs() < 1e-9 && (end.1 - elbow.1).abs() < 1e-9);
        let end = turn((LINK_LENGTH_2 * SCALE, 0.0), t1 + t2 - FRAC_PI_2, elbow);
        assert!((end.0 - tip.0).abs() < 1e-9 && (end.1 - tip.1).abs() < 1e-9);
    }
}
