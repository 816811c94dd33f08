//! Server processes of the bed: started with their output in a log file, in their own process
//! group, killed when the starting process dies, and stopped on drop.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A running server process of the bed.
#[derive(Debug)]
pub struct ServerProcess {
    name: String,
    child: Child,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `command` with stdout and stderr appended to `log`.
    ///
    /// The process gets its own process group, so a Ctrl-C in a terminal reaches only the
    /// process that started it (which then stops the bed in order), and (on Linux) it is sent
    /// SIGKILL if the starting process dies, so a killed test run leaves no API server behind.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> Result<ServerProcess> {
        let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        command.stdin(Stdio::null()).stdout(out).stderr(err);
        #[cfg(target_os = "linux")]
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: the hook only makes async-signal-safe system calls (setpgid, prctl, getppid,
        // _exit), as required between fork and exec.
        unsafe {
            command.pre_exec(move || {
                if libc::setpgid(0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                #[cfg(target_os = "linux")]
                {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    // The parent may have died before prctl took effect.
                    if libc::getppid() != parent {
                        libc::_exit(1);
                    }
                }
                Ok(())
            });
        }
        let child =
            spawn_from_keeper_thread(command).with_context(|| format!("starting {name}"))?;
        Ok(ServerProcess {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// `Some(status)` once the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last `lines` lines of the process's log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }

    /// Sends SIGTERM to the process and waits up to `grace` for it to exit; kills it after.
    /// Returns the exit status when it exited by itself.
    pub fn terminate(&mut self, grace: std::time::Duration) -> Option<ExitStatus> {
        if let Some(status) = self.exited() {
            return Some(status);
        }
        // SAFETY: plain system call on our own child.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            thread::sleep(std::time::Duration::from_millis(50));
        }
        self.stop();
        None
    }

    /// Kills the process group and reaps the process. The bed's state lives in a temporary
    /// directory that is removed afterwards, so there is nothing to shut down gracefully.
    pub fn stop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        let pgid = self.child.id() as libc::pid_t;
        // SAFETY: plain system call; the group id is the child's pid (setpgid(0, 0) above).
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns `command` from one thread that lives as long as the process.
///
/// PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not the process. Test
/// harnesses run each test on its own short-lived thread, so a bed started by one test would be
/// killed when that test returned; forking from a thread that never exits ties the children to
/// the process instead.
fn spawn_from_keeper_thread(command: Command) -> io::Result<Child> {
    static KEEPER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        thread::Builder::new()
            .name("cwo-bed-spawner".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(command.spawn());
                }
                // The sender lives in a static, so the loop never ends; park in case it does,
                // since this thread's exit would kill every child.
                loop {
                    thread::park();
                }
            })
            .expect("starting the bed's spawner thread");
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    keeper
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((command, reply_tx))
        .map_err(|_| io::Error::other("the bed's spawner thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("the bed's spawner thread is gone"))?
}

/// A loopback port that was free a moment ago. Another process can take it before the server
/// binds it: a server started on it is waited for with [`wait_for_port`], which only accepts the
/// server's own listener, and the control plane retries start-up when the port was lost.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// Waits until `process` itself listens on `addr`, failing early if it exits.
///
/// Something accepting connections on `addr` is not enough: when another process took the port
/// first, a connection reaches that one while `process` fails to bind and exits.
pub fn wait_for_port(
    process: &mut ServerProcess,
    addr: SocketAddr,
    timeout: Duration,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if listening_addresses(process.pid())?
            .iter()
            .any(|l| serves(*l, addr))
        {
            return Ok(());
        }
        if let Some(status) = process.exited() {
            bail!(
                "{} exited ({status}) before listening on {addr}",
                process.name()
            );
        }
        if Instant::now() > deadline {
            bail!(
                "{} did not listen on {addr} within {timeout:?}",
                process.name()
            );
        }
        thread::sleep(Duration::from_millis(25));
    }
}

/// Waits until `process`, told to listen on port 0, listens, and returns the address the kernel
/// gave it: no other process can hold that port, so there is no race to lose. The process must
/// have exactly one listening TCP socket.
pub fn wait_for_listener(process: &mut ServerProcess, timeout: Duration) -> Result<SocketAddr> {
    let deadline = Instant::now() + timeout;
    loop {
        match listening_addresses(process.pid())?.as_slice() {
            [] => {}
            [addr] => return Ok(*addr),
            many => bail!(
                "{} listens on {many:?}: cannot tell which one was asked for",
                process.name()
            ),
        }
        if let Some(status) = process.exited() {
            bail!("{} exited ({status}) before listening", process.name());
        }
        if Instant::now() > deadline {
            bail!("{} did not listen within {timeout:?}", process.name());
        }
        thread::sleep(Duration::from_millis(25));
    }
}

/// Whether a listener on `listening` takes connections to `addr`.
fn serves(listening: SocketAddr, addr: SocketAddr) -> bool {
    listening.port() == addr.port()
        && (listening.ip() == addr.ip() || listening.ip().is_unspecified())
}

/// The TCP addresses process `pid` listens on: the listening sockets of its network namespace
/// (`/proc/<pid>/net/tcp` and `tcp6`) whose inode is one of its open file descriptors.
fn listening_addresses(pid: u32) -> Result<Vec<SocketAddr>> {
    let fd_dir = format!("/proc/{pid}/fd");
    let mut inodes = Vec::new();
    // A process that has just exited has no descriptors left: it listens on nothing.
    let Ok(fds) = fs::read_dir(&fd_dir) else {
        return Ok(Vec::new());
    };
    for fd in fds.flatten() {
        if let Ok(target) = fs::read_link(fd.path())
            && let Some(inode) = target
                .to_str()
                .and_then(|t| t.strip_prefix("socket:["))
                .and_then(|t| t.strip_suffix(']'))
        {
            inodes.push(inode.to_string());
        }
    }
    let mut addresses = Vec::new();
    for table in ["tcp", "tcp6"] {
        let Ok(text) = fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(&state), Some(inode)) =
                (fields.get(1), fields.get(3), fields.get(9))
            else {
                continue;
            };
            if state == TCP_LISTEN && inodes.iter().any(|i| i == inode) {
                addresses
                    .push(parse_proc_net_address(local).with_context(|| {
                        format!("reading {local:?} in /proc/{pid}/net/{table}")
                    })?);
            }
        }
    }
    Ok(addresses)
}

/// The `st` column of a listening socket in `/proc/net/tcp`.
const TCP_LISTEN: &str = "0A";

/// `0100007F:1F90` (IPv4) or 32 hex digits and a port (IPv6): each 32-bit group of the address
/// is printed as a number in the host's byte order, the port as a plain number.
fn parse_proc_net_address(text: &str) -> Result<SocketAddr> {
    let (ip, port) = text.split_once(':').context("no ':'")?;
    let port = u16::from_str_radix(port, 16)?;
    let mut octets = Vec::with_capacity(16);
    for group in 0..ip.len() / 8 {
        let word = u32::from_str_radix(&ip[group * 8..group * 8 + 8], 16)?;
        octets.extend_from_slice(&word.to_ne_bytes());
    }
    let ip: IpAddr = match octets.len() {
        4 => <[u8; 4]>::try_from(octets.as_slice())?.into(),
        16 => <[u8; 16]>::try_from(octets.as_slice())?.into(),
        n => bail!("an address of {n} bytes"),
    };
    Ok(SocketAddr::new(ip, port))
}

/// The last `lines` lines of a file, reading at most its last 64 KiB.
pub fn tail(path: &Path, lines: usize) -> String {
    let read = || -> io::Result<String> {
        let mut f = File::open(path)?;
        let len = f.metadata()?.len();
        f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    };
    match read() {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// Whether a log says the process could not bind its port.
pub fn log_shows_port_conflict(path: &Path) -> bool {
    fs::read_to_string(path).is_ok_and(|s| s.contains("address already in use"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spawned_process_outlives_the_thread_that_started_it_and_stops_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("sleep.log");
        let mut proc = thread::scope(|s| {
            s.spawn(|| {
                let mut cmd = Command::new("sh");
                cmd.args(["-c", "echo started; exec sleep 30"]);
                ServerProcess::spawn("sleep", cmd, &log).unwrap()
            })
            .join()
            .unwrap()
        });
        thread::sleep(Duration::from_millis(200));
        assert!(
            proc.exited().is_none(),
            "the child died with the thread that spawned it"
        );
        assert_eq!(proc.log_tail(5), "started");
        let pid = proc.pid() as libc::pid_t;
        drop(proc);
        // SAFETY: signal 0 only checks whether the pid exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        assert!(!alive, "the child survived drop");
    }

    #[test]
    fn wait_for_port_ignores_a_port_another_process_listens_on() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let mut proc = ServerProcess::spawn("sleep", cmd, &dir.path().join("sleep.log")).unwrap();
        let err = wait_for_port(&mut proc, addr, Duration::from_millis(300)).unwrap_err();
        assert!(
            err.to_string().contains("did not listen"),
            "unexpected error: {err:#}"
        );
    }

    #[test]
    fn wait_for_listener_learns_the_port_a_process_bound() {
        let dir = tempfile::tempdir().unwrap();
        // python3 binds port 0 and waits: the port is known only to it and the kernel.
        let mut cmd = Command::new("python3");
        cmd.args([
            "-c",
            "import socket, time\n\
             s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
             print(s.getsockname()[1], flush=True); time.sleep(30)",
        ]);
        let log = dir.path().join("listener.log");
        let mut proc = ServerProcess::spawn("listener", cmd, &log).unwrap();
        let addr = wait_for_listener(&mut proc, Duration::from_secs(10)).unwrap();
        assert_eq!(addr.ip(), IpAddr::from([127, 0, 0, 1]));
        assert_eq!(proc.log_tail(1), addr.port().to_string());
        wait_for_port(&mut proc, addr, Duration::from_secs(1)).unwrap();
    }

    #[test]
    fn proc_net_addresses_parse_in_host_byte_order() {
        let v4 = format!("{:08X}:1F90", u32::from_ne_bytes([127, 0, 0, 1]));
        assert_eq!(
            parse_proc_net_address(&v4).unwrap(),
            "127.0.0.1:8080".parse::<SocketAddr>().unwrap()
        );
        let loopback6: String = [[0u8; 4], [0; 4], [0; 4], [0, 0, 0, 1]]
            .iter()
            .map(|g| format!("{:08X}", u32::from_ne_bytes(*g)))
            .collect();
        assert_eq!(
            parse_proc_net_address(&format!("{loopback6}:FFFF")).unwrap(),
            "[::1]:65535".parse::<SocketAddr>().unwrap()
        );
    }

    #[test]
    fn tail_returns_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        fs::write(&path, "a\nb\nc\n").unwrap();
        assert_eq!(tail(&path, 2), "b\nc");
        assert_eq!(tail(&path, 10), "a\nb\nc");
    }
}
