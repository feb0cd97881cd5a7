//! Making a SUT act first. When the SUT is the initiator (an Imaging Document Source submitting a
//! manifest, a consumer querying or retrieving, a storage SCU sending images), the harness asks it
//! to act through the SUT profile's `[triggers]` entry for that action: a command line with
//! placeholders (`{study_uid}`, `{patient_id}`, `{endpoint}`, ...) run with `sh -c` and bounded by
//! the trigger timeout, a prompt to the operator, or, against the embedded reference, the name of
//! a built-in stand-in the caller plays itself. The steps then wait for the simulator to record
//! the SUT's call ([`crate::evidence::inbox`]).

use std::process::ExitStatus;
use std::time::Duration;

use crate::config::Trigger;

/// Why a trigger did not make the SUT act: always the harness's or the configuration's failure
/// (an Error), never a verdict on the SUT.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    /// The command did not end within the trigger timeout.
    #[error("`{line}` did not end within {} ms", .timeout.as_millis())]
    TimedOut {
        /// The command line, placeholders filled in.
        line: String,
        /// The trigger timeout.
        timeout: Duration,
    },
    /// The command could not be run.
    #[error("`{line}`: {source}")]
    NotRun {
        /// The command line, placeholders filled in.
        line: String,
        /// Why it could not be run.
        source: std::io::Error,
    },
    /// The command ended with a failure status.
    #[error("`{line}` exited with {status}: {stderr}")]
    Exited {
        /// The command line, placeholders filled in.
        line: String,
        /// Its exit status.
        status: ExitStatus,
        /// What it wrote to its standard error, trimmed.
        stderr: String,
    },
}

impl TriggerError {
    /// The title of the harness error a step reports.
    pub fn title(&self) -> &'static str {
        match self {
            TriggerError::TimedOut { .. } => "trigger timed out",
            TriggerError::NotRun { .. } | TriggerError::Exited { .. } => "trigger failed",
        }
    }
}

/// What running a trigger left to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Triggered {
    /// The SUT was asked to act (the command ended well, or the operator was prompted).
    Asked,
    /// A built-in stand-in plays the SUT's part: the caller runs the one of this name.
    Builtin(String),
}

/// Fill a trigger's placeholders: every `{name}` of `vars` is replaced by its value.
pub fn fill(template: &str, vars: &[(&str, String)]) -> String {
    let mut s = template.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// Run a trigger: a command line (placeholders filled in, bounded by `timeout`) or a prompt to the
/// operator (on standard error, saying how long the harness waits). A built-in trigger is returned
/// by name for the caller to play.
pub async fn run(
    trigger: &Trigger,
    vars: &[(&str, String)],
    timeout: Duration,
) -> Result<Triggered, TriggerError> {
    match trigger {
        Trigger::Command(cmd) => {
            let line = fill(cmd, vars);
            let run = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(&line)
                .kill_on_drop(true)
                .output();
            match tokio::time::timeout(timeout, run).await {
                Err(_) => Err(TriggerError::TimedOut { line, timeout }),
                Ok(Err(source)) => Err(TriggerError::NotRun { line, source }),
                Ok(Ok(out)) if !out.status.success() => Err(TriggerError::Exited {
                    line,
                    status: out.status,
                    stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
                }),
                Ok(Ok(_)) => Ok(Triggered::Asked),
            }
        }
        Trigger::Prompt(text) => {
            eprintln!(
                "ihe-harness: ACTION NEEDED ({} s): {}",
                timeout.as_secs(),
                fill(text, vars)
            );
            Ok(Triggered::Asked)
        }
        Trigger::Builtin(name) => Ok(Triggered::Builtin(name.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_placeholder_it_knows() {
        let vars = [
            ("study_uid", "1.2".to_string()),
            ("endpoint", "http://x".into()),
        ];
        assert_eq!(
            fill("send {study_uid} to {endpoint} {other}", &vars),
            "send 1.2 to http://x {other}"
        );
    }

    #[tokio::test]
    async fn a_command_that_ends_well_asked_the_sut() {
        let t = Trigger::Command("test {x} = 1".into());
        let r = run(&t, &[("x", "1".into())], Duration::from_secs(10)).await;
        assert_eq!(r.ok(), Some(Triggered::Asked));
    }

    #[tokio::test]
    async fn a_failing_command_says_how_it_ended() {
        let t = Trigger::Command("echo no >&2; exit 3".into());
        let e = run(&t, &[], Duration::from_secs(10)).await.unwrap_err();
        assert_eq!(e.title(), "trigger failed");
        assert_eq!(
            e.to_string(),
            "`echo no >&2; exit 3` exited with exit status: 3: no"
        );
    }

    #[tokio::test]
    async fn a_command_past_the_timeout_is_stopped() {
        let t = Trigger::Command("sleep 5".into());
        let e = run(&t, &[], Duration::from_millis(100)).await.unwrap_err();
        assert_eq!(e.title(), "trigger timed out");
        assert_eq!(e.to_string(), "`sleep 5` did not end within 100 ms");
    }

    #[tokio::test]
    async fn a_builtin_is_left_to_the_caller() {
        let t = Trigger::Builtin("consumer_queries".into());
        let r = run(&t, &[], Duration::from_secs(1)).await;
        assert_eq!(r.ok(), Some(Triggered::Builtin("consumer_queries".into())));
    }
}
