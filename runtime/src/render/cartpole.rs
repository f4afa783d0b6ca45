//! CartPole-v1 as Gymnasium draws it: a black cart on a track, a brown pole on a blue axle.

use super::{Canvas, Point, Rgb, Scene, corners, turn};
use crate::envs::cartpole::{LENGTH, X_THRESHOLD};

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 400.0;
/// Pixels per metre: the track from `-x_threshold` to `x_threshold` spans the width.
const SCALE: f64 = WIDTH / (2.0 * X_THRESHOLD);
const POLE_WIDTH: f64 = 10.0;
const CART_WIDTH: f64 = 50.0;
const CART_HEIGHT: f64 = 30.0;
/// Height of the track and of the cart's top edge.
const CART_Y: f64 = 100.0;
const AXLE_OFFSET: f64 = CART_HEIGHT / 4.0;

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
const POLE: Rgb = [202, 152, 101];
const AXLE: Rgb = [129, 132, 203];

/// The CartPole scene (600 × 400, 50 frames per second).
pub struct CartPoleScene;

/// Where the parts of one state are, in pixels (y up).
#[derive(Debug)]
pub(crate) struct Geometry {
    pub cart: [Point; 4],
    pub pole: [Point; 4],
    pub axle: Point,
}

/// The parts' positions for cart position `x` (metres) and pole angle `theta` (radians,
/// positive leaning right).
pub(crate) fn geometry(x: f64, theta: f64) -> Geometry {
    let cart_x = x * SCALE + WIDTH / 2.0;
    let (l, r) = (-CART_WIDTH / 2.0, CART_WIDTH / 2.0);
    let cart =
        corners(l, r, CART_HEIGHT / 2.0, -CART_HEIGHT / 2.0).map(|(px, py)| (px + cart_x, py + CART_Y));
    let pole_len = SCALE * (2.0 * LENGTH);
    let (l, r) = (-POLE_WIDTH / 2.0, POLE_WIDTH / 2.0);
    let axle = (cart_x, CART_Y + AXLE_OFFSET);
    let pole = corners(l, r, pole_len - POLE_WIDTH / 2.0, -POLE_WIDTH / 2.0).map(|p| turn(p, -theta, axle));
    Geometry { cart, pole, axle }
}

impl Scene for CartPoleScene {
    fn size(&self) -> (u32, u32) {
        (WIDTH as u32, HEIGHT as u32)
    }

    fn fps(&self) -> u32 {
        50
    }

    fn palette(&self) -> &'static [Rgb] {
        &[WHITE, BLACK, POLE, AXLE]
    }

    fn draw(&self, obs: &[f32], canvas: &mut Canvas) {
        let g = geometry(f64::from(obs[0]), f64::from(obs[2]));
        canvas.polygon(&g.cart, BLACK);
        canvas.polygon(&g.pole, POLE);
        canvas.disc(g.axle, POLE_WIDTH / 2.0, AXLE);
        canvas.polyline(&[(0.0, CART_Y), (WIDTH, CART_Y)], BLACK);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centre(p: &[Point; 4]) -> Point {
        let n = p.len() as f64;
        (
            p.iter().map(|q| q.0).sum::<f64>() / n,
            p.iter().map(|q| q.1).sum::<f64>() / n,
        )
    }

    #[test]
    fn an_upright_pole_stands_on_the_cart_centre() {
        let g = geometry(0.0, 0.0);
        assert_eq!(centre(&g.cart).0, 300.0);
        let pole = centre(&g.pole);
        assert!((pole.0 - 300.0).abs() < 1e-9 && pole.1 > g.axle.1);
        // The cart moves with x: 1 m is 125 pixels; the pole moves with it.
        let g = geometry(1.0, 0.0);
        assert!((centre(&g.cart).0 - 425.0).abs() < 1e-9);
        assert!((centre(&g.pole).0 - 425.0).abs() < 1e-9);
    }

    #[test]
    fn a_positive_angle_leans_the_pole_right() {
        let g = geometry(0.0, 0.2);
        let tip = (g.pole[1].0 + g.pole[2].0) / 2.0;
        let expected = 300.0 + (SCALE * 2.0 * LENGTH - POLE_WIDTH / 2.0) * 0.2f64.sin();
        assert!((tip - expected).abs() < 1e-9, "{tip} vs {expected}");
    }

    /// The drawn picture: the pole's colour straight above the cart at angle 0, not beside it.
    #[test]
    fn the_picture_shows_the_pole_above_the_cart() {
        let mut canvas = Canvas::new(600, 400, CartPoleScene.palette());
        CartPoleScene.draw(&[0.0, 0.0, 0.0, 0.0], &mut canvas);
        // 50 pixels above the axle (row counted from the top), at the cart's column.
        let row = 400 - (CART_Y + AXLE_OFFSET + 50.0) as u32;
        assert_eq!(canvas.pixel(300, row), Some(POLE));
        assert_eq!(canvas.pixel(330, row), Some(WHITE));
        // The cart is black below its top edge; the track runs across the width.
        assert_eq!(canvas.pixel(300, 400 - 95), Some(BLACK));
        assert_eq!(canvas.pixel(10, 400 - 100), Some(BLACK));
    }
}
