//! `rlc eval --video`: the GIF of a policy acting, decoded and checked against the episodes
//! eval reports; its options and their usage errors.

mod common;

use common::rlc;
use std::path::{Path, PathBuf};
use std::process::Output;

fn tmp(name: &str) -> PathBuf {
    common::fresh_dir("video", name)
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fresh checkpoint of `program` on `env` (a few steps: the policy barely trained).
fn checkpoint(name: &str, program: &str, env: &str, steps: &str) -> PathBuf {
    let out = tmp(name);
    let r = rlc(&[
        "run",
        program,
        "--env",
        env,
        "--steps",
        steps,
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--eval-episodes",
        "1",
    ]);
    assert!(r.status.success(), "{}", text(&r).1);
    out
}

/// The mean return eval printed (`return M ± S`).
fn mean_return(stdout: &str) -> f64 {
    let after = stdout.split(" return ").nth(1).expect("a return");
    after.split_whitespace().next().unwrap().parse().unwrap()
}

/// A decoded GIF: screen size, each frame's delay, and the composed pictures (palette indices).
struct Decoded {
    size: (usize, usize),
    delays: Vec<u16>,
    pictures: Vec<Vec<u8>>,
    palette: Vec<u8>,
}

fn decode(path: &Path) -> Decoded {
    let bytes = std::fs::read(path).expect("the GIF");
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    let mut d = options.read_info(bytes.as_slice()).expect("a GIF");
    let (w, h) = (usize::from(d.width()), usize::from(d.height()));
    let palette = d.global_palette().expect("a global palette").to_vec();
    let mut screen = vec![0u8; w * h];
    let (mut delays, mut pictures) = (Vec::new(), Vec::new());
    while let Some(f) = d.read_next_frame().expect("a frame") {
        let (l, t, fw) = (usize::from(f.left), usize::from(f.top), usize::from(f.width));
        for (i, v) in f.buffer.iter().enumerate() {
            screen[(t + i / fw) * w + l + i % fw] = *v;
        }
        delays.push(f.delay);
        pictures.push(screen.clone());
    }
    Decoded {
        size: (w, h),
        delays,
        pictures,
        palette,
    }
}

/// The frames are the evaluated episodes' states (the first and one per step), same seed same
/// bytes; the picture shows the pole over the cart.
#[test]
fn cartpole_video_has_a_frame_per_state_of_the_reported_episodes() {
    let run = checkpoint("cartpole", "stdlib/reinforce.rl", "CartPole-v1", "304");
    let dir = tmp("cartpole-out");
    std::fs::create_dir_all(&dir).unwrap();
    let gif = dir.join("two.gif");
    let eval = |gif: &Path, extra: &[&str]| {
        let mut a = vec![
            "eval",
            run.to_str().unwrap(),
            "--episodes",
            "2",
            "--video",
            gif.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        rlc(&a)
    };
    let r = eval(&gif, &["--video-episodes", "2"]);
    let (out, err) = text(&r);
    assert!(r.status.success(), "{err}");
    // CartPole pays 1 a step: two episodes of mean return m have 2m steps and 2m + 2 states.
    let frames = (2.0 * mean_return(&out)) as usize + 2;
    assert!(
        out.contains(&format!(
            "video: 2 episodes, {frames} frames of 600×400, 20 ms each"
        )),
        "{out}"
    );
    let v = decode(&gif);
    assert_eq!(v.size, (600, 400));
    assert_eq!(v.pictures.len(), frames);
    assert!(v.delays.iter().all(|d| *d == 2), "50 frames per second");
    // The first picture: white sky, the pole's colour (202, 152, 101) 50 pixels above the axle
    // near the middle, where the cart starts.
    let first = &v.pictures[0];
    let colour = |i: u8| &v.palette[3 * usize::from(i)..3 * usize::from(i) + 3];
    assert!((0..600).all(|x| colour(first[50 * 600 + x]) == [255, 255, 255]));
    let row = 400 - 158;
    assert!((280..320).any(|x| colour(first[row * 600 + x]) == [202, 152, 101]));
    // Same seed, same bytes; another seed, other episodes.
    let again = dir.join("again.gif");
    assert!(eval(&again, &["--video-episodes", "2"]).status.success());
    assert_eq!(std::fs::read(&gif).unwrap(), std::fs::read(&again).unwrap());
    let other = dir.join("other.gif");
    assert!(
        eval(&other, &["--video-episodes", "2", "--seed", "9"])
            .status
            .success()
    );
    assert_ne!(std::fs::read(&gif).unwrap(), std::fs::read(&other).unwrap());
    // The cap keeps the first frames and says so; the rate sets each frame's delay.
    let capped = dir.join("capped.gif");
    let r = eval(&capped, &["--video-max-frames", "5", "--video-fps", "10"]);
    let (out, err) = text(&r);
    assert!(r.status.success(), "{err}");
    assert!(err.contains("the video holds the first 5 of"), "{err}");
    assert!(out.contains("5 frames of 600×400, 100 ms each"), "{out}");
    let c = decode(&capped);
    assert_eq!(c.pictures.len(), 5);
    assert_eq!(c.delays, vec![10; 5]);
    assert_eq!(c.pictures, v.pictures[..5]);
}

/// Pendulum episodes last 200 steps: 201 pictures of 500 × 500 at Gymnasium's 30 fps.
#[test]
fn pendulum_video_has_its_time_limit_of_frames() {
    let run = checkpoint("pendulum", "stdlib/ddpg.rl", "Pendulum-v1", "10");
    let gif = tmp("pendulum.gif");
    let r = rlc(&[
        "eval",
        run.to_str().unwrap(),
        "--episodes",
        "1",
        "--video",
        gif.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", text(&r).1);
    let v = decode(&gif);
    assert_eq!((v.size, v.pictures.len()), ((500, 500), 201));
    assert!(v.delays.iter().all(|d| *d == 3));
    // Frames differ: the pendulum moves.
    assert_ne!(v.pictures[0], v.pictures[200]);
}

#[test]
fn video_usage_errors_exit_with_status_2() {
    let run = checkpoint("usage", "stdlib/reinforce.rl", "CartPole-v1", "304");
    let r_dir = tmp("usage-out");
    std::fs::create_dir_all(r_dir.join("taken.gif")).unwrap();
    let at = |name: &str| r_dir.join(name).to_str().unwrap().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--video".into(), at("x.mp4")], "only .gif is supported"),
        (vec!["--video".into(), at("x")], "only .gif is supported"),
        (vec!["--video".into(), at("missing/x.gif")], "does not exist"),
        (vec!["--video".into(), at("taken.gif")], "cannot write video"),
        (
            vec![
                "--video".into(),
                at("x.gif"),
                "--video-episodes".into(),
                "3".into(),
            ],
            "1 to --episodes (2)",
        ),
        (
            vec![
                "--video".into(),
                at("x.gif"),
                "--video-episodes".into(),
                "0".into(),
            ],
            "1 to --episodes (2)",
        ),
        (
            vec!["--video".into(), at("x.gif"), "--video-fps".into(), "0".into()],
            "1 to 50 frames",
        ),
        (
            vec!["--video".into(), at("x.gif"), "--video-fps".into(), "51".into()],
            "1 to 50 frames",
        ),
        (
            vec![
                "--video".into(),
                at("x.gif"),
                "--video-max-frames".into(),
                "0".into(),
            ],
            "at least 1",
        ),
        (
            vec!["--video-fps".into(), "10".into()],
            "--video-fps needs --video FILE.gif",
        ),
        (
            vec!["--video-episodes".into(), "1".into()],
            "--video-episodes needs --video",
        ),
    ];
    for (extra, message) in cases {
        let mut a = vec!["eval", run.to_str().unwrap(), "--episodes", "2"];
        a.extend(extra.iter().map(String::as_str));
        let r = rlc(&a);
        let (_, err) = text(&r);
        assert_eq!(r.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(message), "{extra:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!r_dir.join("x.gif").exists());
}
