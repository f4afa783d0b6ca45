//! The hostile command-line table: command lines and REPL sessions with their expected exit
//! status, first error code and output (run by `command_lines_end_as_expected`).

/// A command line: arguments, environment, standard input, the expected exit status and
/// error code, and text stdout must contain.
pub(super) struct Cmd {
    pub(super) name: &'static str,
    pub(super) args: &'static [&'static str],
    pub(super) env: &'static [(&'static str, &'static str)],
    pub(super) stdin: &'static str,
    pub(super) exit: i32,
    pub(super) code: Option<&'static str>,
    pub(super) stdout_has: Option<&'static str>,
}

pub(super) const fn cmd(
    name: &'static str,
    args: &'static [&'static str],
    exit: i32,
    code: Option<&'static str>,
) -> Cmd {
    Cmd {
        name,
        args,
        env: &[],
        stdin: "",
        exit,
        code,
        stdout_has: None,
    }
}

pub(super) const fn repl(
    name: &'static str,
    stdin: &'static str,
    exit: i32,
    code: Option<&'static str>,
    out: Option<&'static str>,
) -> Cmd {
    Cmd {
        name,
        args: &["repl"],
        env: &[],
        stdin,
        exit,
        code,
        stdout_has: out,
    }
}

/// The command-line table. A bad `--set` value exits 2 (usage: the program compiles without
/// it), with its diagnostic and code.
pub(super) const COMMANDS: &[Cmd] = &[
    cmd(
        "set_expression",
        &["check", "stdlib/reinforce.rl", "--set", "gamma=0.0/0.0"],
        2,
        Some("E0015"),
    ),
    cmd(
        "set_inf_literal",
        &["check", "stdlib/reinforce.rl", "--set", "gamma=1e400"],
        2,
        Some("E0001"),
    ),
    cmd(
        "set_n_envs_huge",
        &["check", "stdlib/reinforce.rl", "--set", "n_envs=100000000000"],
        2,
        Some("E0028"),
    ),
    cmd(
        "set_hidden_huge",
        &[
            "check",
            "stdlib/reinforce.rl",
            "--set",
            "hidden=[100000000,100000000]",
        ],
        2,
        Some("E0028"),
    ),
    cmd(
        "set_capacity_huge",
        &["check", "stdlib/ddpg.rl", "--set", "buffer=1000000000000000000"],
        2,
        Some("E0028"),
    ),
    cmd(
        "graph_huge_hidden",
        &[
            "graph",
            "stdlib/reinforce.rl",
            "--set",
            "hidden=[4611686018427387904]",
        ],
        2,
        Some("E0028"),
    ),
    cmd(
        "stdlib_under_default_budget",
        &[
            "check",
            "stdlib/reinforce.rl",
            "stdlib/ppo.rl",
            "stdlib/dqn.rl",
            "stdlib/acer.rl",
            "stdlib/ddpg.rl",
            "stdlib/td3.rl",
            "stdlib/sac.rl",
            "stdlib/naf.rl",
            "stdlib/qtopt.rl",
            "stdlib/a2c.rl",
            "stdlib/traces.rl",
            "stdlib/distributional.rl",
        ],
        0,
        None,
    ),
    Cmd {
        env: &[("RLC_MEMORY_BUDGET", "1M")],
        ..cmd(
            "ddpg_replay_over_small_budget",
            &["check", "stdlib/ddpg.rl"],
            1,
            Some("E0028"),
        )
    },
    Cmd {
        env: &[("RLC_MEMORY_BUDGET", "abc")],
        ..cmd(
            "budget_env_unreadable",
            &["check", "stdlib/reinforce.rl"],
            2,
            None,
        )
    },
    Cmd {
        env: &[("RLC_MEMORY_BUDGET", "0")],
        ..cmd("budget_env_zero", &["check", "stdlib/reinforce.rl"], 2, None)
    },
    Cmd {
        env: &[("RLC_MEMORY_BUDGET", "99999999999T")],
        ..cmd("budget_env_overflows", &["check", "stdlib/reinforce.rl"], 2, None)
    },
    repl(
        "repl_doc",
        ":doc take_along\n",
        0,
        None,
        Some("take_along(x, idx, axis)"),
    ),
    repl(
        "repl_doc_unknown",
        ":doc std\n",
        1,
        None,
        Some("no builtin, update rule or standard-library function is called `std`"),
    ),
    // `:set` applies to later expressions too: nets are built with the new sizes (the
    // expression used to be traced with the file's `hidden = [256, 256]` against 8-wide
    // parameters, a shape error).
    repl(
        "repl_set_applies_to_expressions",
        ":load stdlib/ddpg.rl\n:set hidden=[8]\nactor(zeros([2, 3]))\nhidden\n",
        0,
        None,
        Some("f32[2,1]"),
    ),
    // `let` at the prompt (it was "expected a name, found ' '"), and an expression left
    // open at the end of input: a located parse error, not a hang waiting for more.
    repl(
        "repl_let_binds",
        "let x = 3\nx * 2\n",
        0,
        None,
        Some("x = 3\n6\n"),
    ),
    repl(
        "repl_unclosed_at_end",
        "let v = [1,\n(2\n",
        1,
        Some("E0001"),
        Some("expected"),
    ),
    repl(
        "repl_env_alone",
        ":env\n",
        0,
        None,
        Some("each program's declared default"),
    ),
    // An index computed from random numbers is checked when the expression runs.
    repl(
        "repl_index_from_data_out_of_range",
        ":eval [1.0, 2.0, 3.0][i32(rand([]) * 10.0 + 5.0)]\n",
        1,
        Some("E0017"),
        Some("axis 0 of size 3"),
    ),
    repl(
        "repl_index_from_data_clipped",
        ":eval [1.0, 2.0, 3.0][clip(i32(rand([]) * 10.0 + 5.0), 0, 2)]\n",
        0,
        None,
        Some("f32[] 3"),
    ),
    repl(
        "repl_i32_saturates",
        ":eval i32(1e30)\n",
        0,
        None,
        Some("2147483647"),
    ),
    repl(
        "repl_i32_saturates_low",
        ":eval i32(-1e30)\n",
        0,
        None,
        Some("-2147483648"),
    ),
    repl(
        "repl_i32_big_int",
        ":eval i32(3000000000)\n",
        0,
        None,
        Some("2147483647"),
    ),
    repl(
        "repl_i32_min_rem_minus_one",
        ":eval (argmax([1.0]) - 2147483647 - 1) % (argmax([1.0]) - 1)\n",
        0,
        None,
        Some("i32[] 0"),
    ),
    Cmd {
        args: &["repl", "--backend", "jit"],
        ..repl(
            "repl_jit_i32_min_rem_minus_one",
            ":eval (argmax([1.0]) - 2147483647 - 1) % (argmax([1.0]) - 1)\n",
            0,
            None,
            Some("i32[] 0"),
        )
    },
    repl(
        "repl_i64_min_rem",
        ":eval (-9223372036854775807 - 1) % (-1)\n",
        0,
        None,
        None,
    ),
    repl("repl_nan", ":eval 0.0/0.0\n", 1, Some("E0027"), None),
    repl(
        "repl_one_hot_huge",
        ":eval one_hot(1, 4611686018427387904)\n",
        1,
        Some("E0024"),
        None,
    ),
    repl(
        "repl_ones_max_square",
        ":eval ones([9223372036854775807, 9223372036854775807])[3]\n",
        1,
        Some("E0028"),
        None,
    ),
    repl(
        "repl_zeros_2_62",
        ":eval zeros([4611686018427387904])\n",
        1,
        Some("E0028"),
        None,
    ),
    repl(
        "repl_empty_dynamic_index",
        ":eval zeros([0])[argmax([1.0])]\n",
        1,
        Some("E0017"),
        None,
    ),
    repl(
        "repl_clip_reversed",
        ":eval clip(1.0, 2.0, 0.0)\n",
        1,
        Some("E0024"),
        None,
    ),
    repl("repl_u2028", ":eval 1 +\u{2028} nope\n", 1, Some("E0001"), None),
    repl("repl_escape", ":eval nope\u{1b}[2J\n", 1, Some("E0001"), None),
    // Run time: paths, flags and environment variables are usage errors (2); NaN is a fault (3).
    cmd("run_missing_file", &["run", "no/such/file.rl"], 2, Some("E0025")),
    cmd(
        "check_missing_file",
        &["check", "no/such/file.rl"],
        2,
        Some("E0025"),
    ),
    cmd(
        "graph_missing_file",
        &["graph", "no/such/file.rl"],
        2,
        Some("E0025"),
    ),
    cmd(
        "run_set_negative_lr",
        &[
            "run",
            "stdlib/reinforce.rl",
            "--set",
            "lr=-1",
            "--out",
            "/tmp/rlc-hostile-run",
        ],
        2,
        Some("E0024"),
    ),
    // An event directory that cannot be made (a file is in the way): refused before training.
    cmd(
        "run_tensorboard_under_a_file",
        &[
            "run",
            "stdlib/reinforce.rl",
            "--steps",
            "1000",
            "--tensorboard",
            "README.md/tb",
            "--out",
            "/tmp/rlc-hostile-run",
        ],
        2,
        None,
    ),
    cmd(
        "run_steps_not_a_multiple",
        &[
            "run",
            "stdlib/reinforce.rl",
            "--steps",
            "500",
            "--out",
            "/tmp/rlc-hostile-run",
        ],
        2,
        None,
    ),
    cmd(
        "run_eval_episodes_huge",
        &[
            "run",
            "stdlib/reinforce.rl",
            "--eval-episodes",
            "100000000",
            "--out",
            "/tmp/rlc-hostile-run",
        ],
        2,
        Some("E0028"),
    ),
    Cmd {
        name: "run_rlc_threads_abc",
        args: &[
            "run",
            "stdlib/reinforce.rl",
            "--steps",
            "16",
            "--out",
            "/tmp/rlc-hostile-run",
        ],
        env: &[("RLC_THREADS", "abc")],
        stdin: "",
        exit: 2,
        code: None,
        stdout_has: None,
    },
    Cmd {
        name: "run_rlc_threads_zero",
        args: &[
            "run",
            "stdlib/reinforce.rl",
            "--steps",
            "16",
            "--out",
            "/tmp/rlc-hostile-run",
        ],
        env: &[("RLC_THREADS", "0")],
        stdin: "",
        exit: 2,
        code: None,
        stdout_has: None,
    },
    cmd(
        "run_diverging_lr",
        &[
            "run",
            "stdlib/ddpg.rl",
            "--set",
            "lr_critic=1e6",
            "--set",
            "hidden=[16]",
            "--steps",
            "1500",
            "--quiet",
            "--out",
            "/tmp/rlc-hostile-run",
        ],
        3,
        None,
    ),
    cmd(
        "run_diverging_lr_debug_nans",
        &[
            "run",
            "stdlib/ddpg.rl",
            "--set",
            "lr_critic=1e6",
            "--set",
            "hidden=[16]",
            "--steps",
            "1500",
            "--quiet",
            "--debug-nans",
            "--out",
            "/tmp/rlc-hostile-run",
        ],
        3,
        Some("E0027"),
    ),
    cmd(
        "run_interp_diverging_lr",
        &[
            "run",
            "stdlib/ddpg.rl",
            "--backend",
            "interp",
            "--set",
            "lr_critic=1e30",
            "--set",
            "hidden=[8]",
            "--set",
            "batch=8",
            "--steps",
            "1100",
            "--eval-episodes",
            "1",
            "--quiet",
            "--out",
            "/tmp/rlc-hostile-run",
        ],
        3,
        None,
    ),
];
