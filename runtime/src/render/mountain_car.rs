//! MountainCar-v0 and MountainCarContinuous-v0 as Gymnasium draws them: the hill
//! `sin(3x)·0.45 + 0.55`, a black car with grey wheels tilted along the slope, a yellow flag.

use super::{Canvas, Point, Rgb, Scene, corners, turn};
use crate::envs::mountain_car::{GOAL_POSITION, MAX_POSITION, MIN_POSITION};

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 400.0;
const SCALE: f64 = WIDTH / (MAX_POSITION - MIN_POSITION);
const CAR_WIDTH: f64 = 40.0;
const CAR_HEIGHT: f64 = 20.0;
/// Gap between the hill and the car's underside.
const CLEARANCE: f64 = 10.0;

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
const WHEEL: Rgb = [128, 128, 128];
const FLAG: Rgb = [204, 204, 0];

/// A mountain-car scene (600 × 400, 30 frames per second); the two environments differ
/// only in where the flag stands.
pub struct MountainCarScene {
    goal: f64,
}

impl MountainCarScene {
    /// MountainCar-v0 (goal at 0.5).
    pub const DISCRETE: MountainCarScene = MountainCarScene { goal: GOAL_POSITION };
    /// MountainCarContinuous-v0 (goal at 0.45).
    pub const CONTINUOUS: MountainCarScene = MountainCarScene {
        goal: crate::envs::mountain_car_continuous::GOAL_POSITION,
    };
}

/// The hill's height at position `x`, in metres.
fn height(x: f64) -> f64 {
    (3.0 * x).sin() * 0.45 + 0.55
}

/// A position and height in metres as a point in pixels.
fn pixel(x: f64, y: f64) -> Point {
    ((x - MIN_POSITION) * SCALE, y * SCALE)
}

/// The car's corners and its wheels' centres at position `pos`.
pub(crate) fn car(pos: f64) -> ([Point; 4], [Point; 2]) {
    let tilt = (3.0 * pos).cos();
    let (x, y) = pixel(pos, height(pos));
    let at = (x, y + CLEARANCE);
    let body = corners(-CAR_WIDTH / 2.0, CAR_WIDTH / 2.0, CAR_HEIGHT, 0.0).map(|p| turn(p, tilt, at));
    let wheels = [(CAR_WIDTH / 4.0, 0.0), (-CAR_WIDTH / 4.0, 0.0)].map(|p| turn(p, tilt, at));
    (body, wheels)
}

impl Scene for MountainCarScene {
    fn size(&self) -> (u32, u32) {
        (WIDTH as u32, HEIGHT as u32)
    }

    fn fps(&self) -> u32 {
        30
    }

    fn palette(&self) -> &'static [Rgb] {
        &[WHITE, BLACK, WHEEL, FLAG]
    }

    /// The observation is `(position, velocity)`.
    fn draw(&self, obs: &[f32], canvas: &mut Canvas) {
        let hill: Vec<Point> = (0..100)
            .map(|i| {
                let x = MIN_POSITION + (MAX_POSITION - MIN_POSITION) * f64::from(i) / 99.0;
                pixel(x, height(x))
            })
            .collect();
        canvas.polyline(&hill, BLACK);
        let (body, wheels) = car(f64::from(obs[0]));
        canvas.polygon(&body, BLACK);
        for w in wheels {
            canvas.disc(w, (CAR_HEIGHT / 2.5).floor(), WHEEL);
        }
        let (fx, fy) = pixel(self.goal, height(self.goal));
        let top = fy + 50.0;
        canvas.polyline(&[(fx, fy), (fx, top)], BLACK);
        canvas.polygon(&[(fx, top), (fx, top - 10.0), (fx + 25.0, top - 5.0)], FLAG);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_car_sits_on_the_hill_and_tilts_with_it() {
        // At the valley's bottom (3x = -π/2) the car is level, just above the hill.
        let bottom = -std::f64::consts::FRAC_PI_6;
        let (body, _) = car(bottom);
        let (_, y) = pixel(bottom, height(bottom));
        assert!((body[0].1 - (y + CLEARANCE)).abs() < 1e-6 && (body[3].1 - body[0].1).abs() < 1e-6);
        // On the right slope the car's front (right) corner is higher than its back.
        let (body, _) = car(0.2);
        assert!(body[3].1 > body[0].1);
    }

    #[test]
    fn the_flags_stand_at_each_environments_goal() {
        let column = |scene: &MountainCarScene| {
            let mut canvas = Canvas::new(600, 400, scene.palette());
            scene.draw(&[-0.5, 0.0], &mut canvas);
            (0..600).find(|&x| (0..400).any(|y| canvas.pixel(x, y) == Some(FLAG)))
        };
        assert_eq!(column(&MountainCarScene::DISCRETE), Some(567));
        assert_eq!(column(&MountainCarScene::CONTINUOUS), Some(550));
    }
}
