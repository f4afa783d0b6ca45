//! Arguments shared by every subcommand that compiles a program.

/// Options that fix what a program is compiled for.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CompileArgs {
    /// Environment id (defaults to the algorithm's declared default).
    #[arg(long, value_name = "ENV_ID")]
    pub env: Option<String>,
    /// Override a hyperparameter: `--set gamma=0.98` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
}
