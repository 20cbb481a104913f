//! `--launch broker.conf`: start a broker process with a config, wait until it listens, and
//! stop it when the run ends. The command is a template (`--broker-cmd`), so the same run can
//! start our broker, the Apache broker or rocketmq-rust with the same `broker.conf`.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Our broker next to the loadgen binary, with the RocketMQ `-c` flag.
pub const DEFAULT_BROKER_COMMAND: &str = "{bin_dir}/broker -c {conf}";

/// The `broker.conf` keys loadgen needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BrokerConf {
    /// `listenPort` (RocketMQ default 10911).
    pub listen_port: u16,
    pub namesrv_address: Option<String>,
    pub flush_disk_type: Option<String>,
    pub broker_role: Option<String>,
}

/// Parses Java-properties style `key=value` (or `key: value`) lines; `#`/`!` comments.
#[must_use]
pub fn parse_broker_conf(text: &str) -> BrokerConf {
    let properties: BTreeMap<&str, &str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with('!'))
        .filter_map(|line| {
            let split = line.find(['=', ':'])?;
            Some((line[..split].trim(), line[split + 1..].trim()))
        })
        .collect();
    BrokerConf {
        listen_port: properties
            .get("listenPort")
            .and_then(|v| v.parse().ok())
            .unwrap_or(10911),
        namesrv_address: properties.get("namesrvAddr").map(|v| (*v).to_owned()),
        flush_disk_type: properties.get("flushDiskType").map(|v| (*v).to_owned()),
        broker_role: properties.get("brokerRole").map(|v| (*v).to_owned()),
    }
}

/// The argv of a command template with `{conf}` and `{bin_dir}` substituted.
#[must_use]
pub fn expand_command(template: &str, conf: &Path, bin_dir: &Path) -> Vec<String> {
    template
        .split_whitespace()
        .map(|word| {
            word.replace("{conf}", &conf.to_string_lossy())
                .replace("{bin_dir}", &bin_dir.to_string_lossy())
        })
        .collect()
}

/// A broker process started by loadgen; killed when dropped.
#[derive(Debug)]
pub struct LaunchedBroker {
    child: Child,
    pub conf: BrokerConf,
    pub log: PathBuf,
}

impl LaunchedBroker {
    /// Starts the command with output to `log`.
    ///
    /// # Errors
    /// Unreadable config or a command that cannot start.
    pub fn start(template: &str, conf_path: &Path, log: &Path) -> Result<LaunchedBroker, String> {
        let text = std::fs::read_to_string(conf_path)
            .map_err(|e| format!("{}: {e}", conf_path.display()))?;
        let conf = parse_broker_conf(&text);
        let bin_dir = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        let argv = expand_command(template, conf_path, &bin_dir);
        let (program, args) = argv.split_first().ok_or("empty --broker-cmd")?;
        let log_file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let log_err = log_file.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("starting {program}: {e}"))?;
        Ok(LaunchedBroker {
            child,
            conf,
            log: log.to_path_buf(),
        })
    }

    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the broker's listen port accepts connections.
    ///
    /// # Errors
    /// The process exited, or the port did not open in time.
    pub fn wait_listening(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let address = format!("127.0.0.1:{}", self.conf.listen_port);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "broker exited with {status}; see {}",
                    self.log.display()
                ));
            }
            if TcpStream::connect(&address).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "broker did not listen on {address} within {timeout:?}; see {}",
            self.log.display()
        ))
    }
}

/// How long a launched broker gets to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

impl Drop for LaunchedBroker {
    /// SIGTERM (via `kill`, as std has no signal API), then SIGKILL after [`STOP_GRACE`].
    fn drop(&mut self) {
        let terminated = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        let deadline = Instant::now()
            + if terminated {
                STOP_GRACE
            } else {
                Duration::ZERO
            };
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_conf_keys() {
        let conf = parse_broker_conf(
            "# comment\nbrokerName=broker-a\nlistenPort = 10921\nnamesrvAddr=127.0.0.1:9876\n\
             ! other comment\nflushDiskType: SYNC_FLUSH\nbrokerRole=ASYNC_MASTER\n",
        );
        assert_eq!(conf.listen_port, 10921);
        assert_eq!(conf.namesrv_address.as_deref(), Some("127.0.0.1:9876"));
        assert_eq!(conf.flush_disk_type.as_deref(), Some("SYNC_FLUSH"));
        assert_eq!(conf.broker_role.as_deref(), Some("ASYNC_MASTER"));
        assert_eq!(parse_broker_conf("").listen_port, 10911);
    }

    #[test]
    fn command_template() {
        let argv = expand_command(
            DEFAULT_BROKER_COMMAND,
            Path::new("/x/b.conf"),
            Path::new("/bin"),
        );
        assert_eq!(argv, ["/bin/broker", "-c", "/x/b.conf"]);
    }
}
