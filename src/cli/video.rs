//! `rlc eval --video FILE.gif`: the first evaluation episodes as an animated GIF, drawn by the
//! runtime's scenes (`rlc_runtime::render`) from the observations of the very episodes whose
//! returns `eval` prints.

use rlc_runtime::render;
use std::path::{Path, PathBuf};

/// Frames kept when `--video-max-frames` is not given: two 500-step episodes.
const DEFAULT_MAX_FRAMES: usize = 1002;

/// The video options of `rlc eval`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct VideoArgs {
    /// Write the first evaluation episodes as an animated GIF (only .gif is supported).
    #[arg(long, value_name = "FILE.gif")]
    pub video: Option<PathBuf>,
    /// Episodes in the video: the first K of --episodes [default: 1].
    #[arg(long, value_name = "K")]
    pub video_episodes: Option<usize>,
    /// Frames per second, 1 to 50 [default: Gymnasium's render_fps: CartPole 50, Pendulum and
    /// the mountain cars 30, Acrobot 15].
    #[arg(long, value_name = "FPS")]
    pub video_fps: Option<u32>,
    /// At most this many frames; later ones are left out, with a note [default: 1002].
    #[arg(long, value_name = "N")]
    pub video_max_frames: Option<usize>,
}

/// A checked request for a video, collecting observations while the episodes run.
pub struct Video {
    path: PathBuf,
    fps: Option<u32>,
    max_frames: usize,
    /// The observations of each recorded episode (copy), flattened.
    episodes: Vec<Vec<f32>>,
}

impl VideoArgs {
    /// The request, checked against `--episodes` before anything runs; `None` without `--video`.
    ///
    /// # Errors
    /// A usage message: another format than GIF, a video option without `--video`, or a
    /// count or rate out of range.
    pub fn check(&self, episodes: usize) -> Result<Option<Video>, String> {
        let Some(path) = &self.video else {
            let given = [
                (self.video_episodes.is_some(), "--video-episodes"),
                (self.video_fps.is_some(), "--video-fps"),
                (self.video_max_frames.is_some(), "--video-max-frames"),
            ];
            return match given.iter().find(|g| g.0) {
                Some((_, flag)) => Err(format!("{flag} needs --video FILE.gif")),
                None => Ok(None),
            };
        };
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !ext.eq_ignore_ascii_case("gif") {
            return Err(format!(
                "--video `{}`: only .gif is supported (name the file FILE.gif)",
                path.display()
            ));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(format!(
                "--video `{}`: directory `{}` does not exist",
                path.display(),
                dir.display()
            ));
        }
        let k = self.video_episodes.unwrap_or(1);
        if k == 0 || k > episodes {
            return Err(format!(
                "--video-episodes {k}: the video shows 1 to --episodes ({episodes}) episodes"
            ));
        }
        if let Some(f) = self.video_fps.filter(|f| !(1..=50).contains(f)) {
            return Err(format!(
                "--video-fps {f}: a GIF plays 1 to 50 frames per second (its delays are hundredths of a second)"
            ));
        }
        let max_frames = self.video_max_frames.unwrap_or(DEFAULT_MAX_FRAMES);
        if max_frames == 0 {
            return Err("--video-max-frames must be at least 1".into());
        }
        Ok(Some(Video {
            path: path.clone(),
            fps: self.video_fps,
            max_frames,
            episodes: vec![Vec::new(); k],
        }))
    }
}

impl Video {
    /// Keeps observation `obs` of evaluation copy `copy` if that episode is in the video.
    pub fn watch(&mut self, copy: usize, obs: &[f32]) {
        if let Some(e) = self.episodes.get_mut(copy) {
            e.extend_from_slice(obs);
        }
    }

    /// Draws the recorded episodes of environment `env` (observations `obs_dim` long) and
    /// writes the GIF; returns the line to print.
    ///
    /// # Errors
    /// A message: no scene for the environment, an encoding failure, or an unwritable file.
    pub fn write(&self, env: &str, obs_dim: usize) -> Result<String, String> {
        let scene = render::scene(env).ok_or_else(|| no_scene(env))?;
        let fps = self.fps.unwrap_or(scene.fps());
        // GIF delays are whole hundredths of a second: 30 fps plays at 33.
        let delay = (100.0 / f64::from(fps)).round() as u16;
        let frames = self.episodes.iter().flat_map(|e| e.chunks_exact(obs_dim.max(1)));
        let total = frames.clone().count();
        let kept = total.min(self.max_frames);
        if kept < total {
            eprintln!(
                "note: the video holds the first {kept} of the episodes' {total} frames (--video-max-frames)"
            );
        }
        let bytes = render::gif(scene.as_ref(), frames.take(kept), delay)?;
        std::fs::write(&self.path, &bytes)
            .map_err(|e| format!("cannot write video `{}`: {e}", self.path.display()))?;
        let (w, h) = scene.size();
        let n = self.episodes.len();
        Ok(format!(
            "video: {n} episode{}, {kept} frames of {w}×{h}, {} ms each, in {} ({:.1} KB)",
            if n == 1 { "" } else { "s" },
            u32::from(delay) * 10,
            self.path.display(),
            bytes.len() as f64 / 1024.0
        ))
    }
}

/// The message for an environment without a scene.
pub fn no_scene(env: &str) -> String {
    format!(
        "--video: there is no picture of `{env}` (scenes exist for the built-in classic-control environments)"
    )
}
