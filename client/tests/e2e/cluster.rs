//! Where the end-to-end tests find a broker: our broker in-process (`broker::spawn` with an
//! embedded name server, ports 0, store in a temporary directory). To run the same tests
//! against another RocketMQ-compatible broker (the Apache one from bench/apache-broker.sh,
//! or later the rocketmq-rust one), set `CLIENT_E2E_NAMESRV=host:port`; with it,
//! `--ignored` also runs the tests that need features our broker lacks. Tests that need
//! in-process brokers ([`start_two`], or a broker setting through [`start_with`] that the
//! test depends on) return early then ([`external`]).

use std::sync::atomic::{AtomicU32, Ordering};

pub struct Cluster {
    pub namesrv: String,
    _broker: Option<broker::BrokerHandle>,
    _store: Option<tempfile::TempDir>,
}

pub async fn start() -> Cluster {
    start_with(|_| {}).await
}

/// As [`start`], with `configure` applied to the in-process broker's config (shorter delay
/// levels, a shorter lock lease, ...). An external broker keeps its own settings.
pub async fn start_with(configure: impl FnOnce(&mut broker::BrokerConfig)) -> Cluster {
    init_logging();
    if let Ok(namesrv) = std::env::var("CLIENT_E2E_NAMESRV") {
        return Cluster {
            namesrv,
            _broker: None,
            _store: None,
        };
    }
    let store = store_dir();
    let mut config = test_config(store.path());
    configure(&mut config);
    let handle = broker::spawn(config).expect("in-process broker starts");
    let namesrv = handle.namesrv_addrs()[0].to_string();
    wait_for_registration(&namesrv, 1).await;
    Cluster {
        namesrv,
        _broker: Some(handle),
        _store: Some(store),
    }
}

/// True when the tests run against an external broker (`CLIENT_E2E_NAMESRV`). Tests that
/// need in-process brokers (two brokers, a short lock lease) return early then.
pub fn external() -> bool {
    std::env::var("CLIENT_E2E_NAMESRV").is_ok()
}

/// In the target directory: the store uses O_DIRECT, which tmpfs/overlay /tmp refuses.
fn store_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temporary store directory")
}

fn test_config(store: &std::path::Path) -> broker::BrokerConfig {
    let mut config = broker::BrokerConfig::for_tests(store);
    // SQL92 subscriptions need it, as on the Java broker.
    config.enable_property_filter = true;
    config
}

/// Two masters of one cluster with different broker names, both registered with the first
/// one's embedded name server. In-process only.
pub struct TwoBrokers {
    pub namesrv: String,
    /// Broker names, first then second.
    pub names: [String; 2],
    // Field order is drop order: the second broker unregisters while the name server (in
    // the first) still runs.
    second: Option<broker::BrokerHandle>,
    _first: broker::BrokerHandle,
    _stores: [tempfile::TempDir; 2],
}

impl TwoBrokers {
    /// Stops the second broker (it unregisters from the name server; its port closes).
    pub async fn stop_second(&mut self) {
        if let Some(second) = self.second.take() {
            tokio::task::spawn_blocking(move || second.shutdown())
                .await
                .unwrap()
                .expect("second broker stops");
        }
    }
}

/// Starts brokers named `names` (e.g. `room@name` for the machine-room strategy).
pub async fn start_two(names: [&str; 2]) -> TwoBrokers {
    init_logging();
    assert!(!external(), "two brokers need the in-process broker");
    let stores = [store_dir(), store_dir()];
    let mut config = test_config(stores[0].path());
    config.broker_name = names[0].to_owned();
    let first = broker::spawn(config).expect("first broker starts");
    let namesrv_addr = first.namesrv_addrs()[0];
    let mut config = test_config(stores[1].path());
    config.broker_name = names[1].to_owned();
    config.namesrv_addrs = vec![namesrv_addr];
    let second = broker::spawn(config).expect("second broker starts");
    let namesrv = namesrv_addr.to_string();
    wait_for_registration(&namesrv, 2).await;
    TwoBrokers {
        namesrv,
        names: names.map(str::to_owned),
        second: Some(second),
        _first: first,
        _stores: stores,
    }
}

/// Brokers register with the name server shortly after start; wait until
/// GET_BROKER_CLUSTER_INFO lists `count` masters (at most 10 s).
async fn wait_for_registration(namesrv: &str, count: usize) {
    let admin =
        client::admin::AdminClient::start(client::ClientConfig::with_namesrv(namesrv)).unwrap();
    for _ in 0..100 {
        if admin
            .master_addrs(None)
            .await
            .is_ok_and(|addrs| addrs.len() >= count)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    admin.shutdown().await;
}

/// A name unique to this run (topics and groups must not collide between runs).
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        % 1_000_000_000;
    format!(
        "{prefix}_{millis}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Installs a log subscriber when `RUST_LOG` is set (for debugging a failing test).
pub fn init_logging() {
    if std::env::var("RUST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}
