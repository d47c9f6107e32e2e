//! [`Exit`]: the exit-code contract every command keeps (README "Exit codes").

/// The exit codes (README "Exit codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Every declared verdict was reached as declared by a complete exploration.
    Ok = 0,
    /// A verdict differs from the declared one, a replay diverged, or the model panics.
    Verdict = 1,
    /// Bad input or an I/O error.
    Input = 2,
    /// A budget, cap or empty run left a declared verdict unestablished.
    Inconclusive = 3,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}
