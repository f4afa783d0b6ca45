//! Pictures of the classic-control environments for `rlc eval --video`, drawn like
//! Gymnasium's `render_mode="rgb_array"`: the same canvas sizes, colours and geometry, with
//! the y axis pointing up as Gymnasium draws before flipping its surface.
//!
//! A scene draws from an observation, not from the environment's state: every built-in
//! environment's observation determines the state Gymnasium draws (CartPole and the mountain
//! cars observe their state; Pendulum and Acrobot the cosine and sine of their angles), and an
//! evaluation already holds every observation, the terminal one included (`final_obs`), while
//! an environment's own state has been reset by the time the step that ended its episode
//! returns. Edges are drawn without anti-aliasing so every pixel is one of the scene's palette
//! colours, which a GIF stores exactly.

mod acrobot;
mod animation;
mod canvas;
mod cartpole;
mod mountain_car;
mod pendulum;

pub use animation::Animation;
pub use canvas::{Canvas, Point, Rgb};

/// One environment's picture.
pub trait Scene {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Gymnasium's `metadata["render_fps"]`: the playback rate of a real-time video.
    fn fps(&self) -> u32;
    /// Every colour the scene draws with, background (white) first.
    fn palette(&self) -> &'static [Rgb];
    /// Draws the state that `obs` (one observation of the environment) shows onto a white canvas.
    fn draw(&self, obs: &[f32], canvas: &mut Canvas);
}

/// The scene of environment `id`, or `None` for an environment without one.
pub fn scene(id: &str) -> Option<Box<dyn Scene>> {
    Some(match id {
        "CartPole-v1" => Box::new(cartpole::CartPoleScene),
        "Pendulum-v1" => Box::new(pendulum::PendulumScene),
        "MountainCar-v0" => Box::new(mountain_car::MountainCarScene::DISCRETE),
        "MountainCarContinuous-v0" => Box::new(mountain_car::MountainCarScene::CONTINUOUS),
        "Acrobot-v1" => Box::new(acrobot::AcrobotScene),
        _ => return None,
    })
}

/// Draws `obs` with `scene` on a fresh canvas and returns it.
pub fn frame(scene: &dyn Scene, obs: &[f32]) -> Canvas {
    let (w, h) = scene.size();
    let mut canvas = Canvas::new(w, h, scene.palette());
    scene.draw(obs, &mut canvas);
    canvas
}

/// An animated GIF of `scene` showing `observations` in order, each frame shown `delay`
/// hundredths of a second.
///
/// # Errors
/// An encoding failure (a message).
pub fn gif<'a>(
    scene: &dyn Scene,
    observations: impl IntoIterator<Item = &'a [f32]>,
    delay: u16,
) -> Result<Vec<u8>, String> {
    let (w, h) = scene.size();
    let mut animation = Animation::new(w, h, scene.palette(), delay)?;
    for obs in observations {
        animation.push(&frame(scene, obs))?;
    }
    animation.finish()
}

/// A point turned by `angle` radians counter-clockwise about the origin, then moved by
/// `offset` (pygame's `Vector2.rotate_rad` followed by a translation, as Gymnasium writes it).
pub(crate) fn turn(p: Point, angle: f64, offset: Point) -> Point {
    let (s, c) = angle.sin_cos();
    (p.0 * c - p.1 * s + offset.0, p.0 * s + p.1 * c + offset.1)
}

/// The corners `(l, b), (l, t), (r, t), (r, b)` of a box, Gymnasium's order.
pub(crate) fn corners(l: f64, r: f64, t: f64, b: f64) -> [Point; 4] {
    [(l, b), (l, t), (r, t), (r, b)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::{EnvRng, known_ids, make};
    use rand::SeedableRng;

    /// Every registered environment has a scene, and a frame of its reset state uses only the
    /// scene's palette colours and more than the background.
    #[test]
    fn every_environment_draws_in_its_palette() {
        for id in known_ids() {
            let scene = scene(id).unwrap_or_else(|| panic!("{id} has no scene"));
            let mut env = make(id).unwrap();
            let mut obs = vec![0.0; env.spec().obs_dim];
            env.reset(&mut EnvRng::seed_from_u64(3), &mut obs).unwrap();
            let canvas = frame(scene.as_ref(), &obs);
            let (w, h) = scene.size();
            let pixels = canvas.indices().unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(pixels.len(), (w * h) as usize);
            let drawn = pixels.iter().filter(|&&p| p != 0).count();
            assert!(drawn > 1000, "{id}: only {drawn} pixels drawn");
        }
        assert!(scene("Nope-v0").is_none());
    }

    #[test]
    fn turning_is_counter_clockwise() {
        let (x, y) = turn((1.0, 0.0), std::f64::consts::FRAC_PI_2, (10.0, 20.0));
        assert!((x - 10.0).abs() < 1e-12 && (y - 21.0).abs() < 1e-12);
    }
}
