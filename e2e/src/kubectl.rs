//! Running kubectl (and helm) against a bed, and what came back.

use std::ffi::OsStr;
use std::fmt;
use std::io::Write;
use std::process::{Command, ExitStatus, Stdio};

use anyhow::{Context, Result, bail};

/// The outcome of one kubectl run.
#[derive(Debug, Clone)]
pub struct KubectlOutput {
    /// The arguments, for messages.
    pub args: Vec<String>,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl KubectlOutput {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// stdout then stderr: kubectl prints errors on stderr, but some messages (and `--dry-run`
    /// results) on stdout.
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// `Ok(self)` if kubectl exited 0, else an error carrying its output.
    pub fn ok(self) -> Result<KubectlOutput> {
        if self.success() {
            Ok(self)
        } else {
            bail!("{self}")
        }
    }
}

impl fmt::Display for KubectlOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "kubectl {} ({})", self.args.join(" "), self.status)?;
        for (name, text) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            if !text.trim().is_empty() {
                write!(f, "\n{name}:\n{}", text.trim_end())?;
            }
        }
        Ok(())
    }
}

/// Runs `command` (a kubectl with its environment set) with `args`, feeding `stdin` if given.
pub(crate) fn run<I, S>(mut command: Command, args: I, stdin: Option<&str>) -> Result<KubectlOutput>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    command
        .args(&args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().context("starting kubectl")?;
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        // A large manifest could fill the pipe before kubectl reads it; write from a thread
        // while this one collects the output.
        let input = input.to_string();
        std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    let out = child.wait_with_output().context("waiting for kubectl")?;
    Ok(KubectlOutput {
        args,
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}
