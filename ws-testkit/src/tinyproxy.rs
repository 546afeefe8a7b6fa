//! [`Tinyproxy`]: Debian's `tinyproxy`, a real HTTP `CONNECT` proxy, started on a free
//! loopback port with a configuration written to a temporary directory, and stopped on drop.
//!
//! `.ci/run` installs it. Elsewhere a missing `tinyproxy` makes [`Tinyproxy::start`] print why
//! and return `None` (the test returns early); with the `CI` environment variable set it
//! panics instead, so CI cannot pass without the real proxy.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long tinyproxy has to start listening.
const STARTUP: Duration = Duration::from_secs(5);

/// A running tinyproxy.
#[derive(Debug)]
pub struct Tinyproxy {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
    credentials: Option<(String, String)>,
}

impl Tinyproxy {
    /// Starts tinyproxy on `127.0.0.1`, allowing `CONNECT` to `connect_port` only and
    /// clients from `127.0.0.1` only, wanting `credentials` (Basic) if given.
    ///
    /// `None` when tinyproxy is not installed and `CI` is not set (after printing why).
    ///
    /// # Panics
    ///
    /// When tinyproxy is missing and `CI` is set, or when it does not start listening
    /// within 5 s.
    pub fn start(connect_port: u16, credentials: Option<(&str, &str)>) -> Option<Self> {
        let Some(binary) = find_binary() else {
            let why = "tinyproxy is not installed (apt-get install -y tinyproxy)";
            assert!(std::env::var_os("CI").is_none(), "{why}, and CI is set");
            println!("skipping: {why}");
            return None;
        };
        let dir = std::env::temp_dir().join(format!(
            "ws-testkit-tinyproxy-{}-{}",
            std::process::id(),
            connect_port
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory for tinyproxy");
        let port = free_port();
        let mut config = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nAllow 127.0.0.1\nConnectPort \
             {connect_port}\nMaxClients 32\nLogLevel Info\nLogFile \"{log}\"\nPidFile \
             \"{pid}\"\n",
            log = dir.join("tinyproxy.log").display(),
            pid = dir.join("tinyproxy.pid").display(),
        );
        if let Some((user, password)) = credentials {
            let _ = writeln!(config, "BasicAuth {user} {password}");
        }
        let config_path = dir.join("tinyproxy.conf");
        std::fs::File::create(&config_path)
            .and_then(|mut file| file.write_all(config.as_bytes()))
            .expect("write tinyproxy's configuration");
        let child = Command::new(binary)
            .arg("-d")
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tinyproxy");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let proxy = Tinyproxy {
            child,
            dir,
            addr,
            credentials: credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
        };
        let deadline = Instant::now() + STARTUP;
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tinyproxy did not listen on {addr} within {STARTUP:?}; log: {}",
                proxy.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(proxy)
    }

    /// `http://[user:password@]127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        let userinfo = self
            .credentials
            .as_ref()
            .map(|(u, p)| format!("{u}:{p}@"))
            .unwrap_or_default();
        format!("http://{userinfo}{}", self.addr)
    }

    /// tinyproxy's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("tinyproxy.log")).unwrap_or_default()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn find_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin".into(), "/usr/sbin".into()])
        .map(|dir| dir.join("tinyproxy"))
        .find(|candidate| candidate.is_file())
}

/// A loopback port free a moment ago (tinyproxy binds it itself).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}
