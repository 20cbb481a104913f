//! Where the end-to-end tests find a broker: our broker in-process (`broker::spawn` with an
//! embedded name server, ports 0, store in a temporary directory). To run the same tests
//! against another RocketMQ-compatible broker (the Apache one from bench/apache-broker.sh,
//! or later the rocketmq-rust one), set `CLIENT_E2E_NAMESRV=host:port`; with it,
//! `--ignored` also runs the tests that need features our broker lacks.

use std::sync::atomic::{AtomicU32, Ordering};

pub struct Cluster {
    pub namesrv: String,
    _broker: Option<broker::BrokerHandle>,
    _store: Option<tempfile::TempDir>,
}

pub async fn start() -> Cluster {
    init_logging();
    if let Ok(namesrv) = std::env::var("CLIENT_E2E_NAMESRV") {
        return Cluster {
            namesrv,
            _broker: None,
            _store: None,
        };
    }
    // In the target directory: the store uses O_DIRECT, which tmpfs/overlay /tmp refuses.
    let store =
        tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temporary store directory");
    let mut config = broker::BrokerConfig::for_tests(store.path());
    // SQL92 subscriptions need it, as on the Java broker.
    config.enable_property_filter = true;
    let handle = broker::spawn(config).expect("in-process broker starts");
    let namesrv = handle.namesrv_addrs()[0].to_string();
    wait_for_registration(&namesrv).await;
    Cluster {
        namesrv,
        _broker: Some(handle),
        _store: Some(store),
    }
}

/// The broker registers with the name server shortly after start; wait until
/// GET_BROKER_CLUSTER_INFO lists a broker (at most 10 s).
async fn wait_for_registration(namesrv: &str) {
    {
        let admin =
            client::admin::AdminClient::start(client::ClientConfig::with_namesrv(namesrv)).unwrap();
        for _ in 0..100 {
            if admin
                .master_addrs(None)
                .await
                .is_ok_and(|addrs| !addrs.is_empty())
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        admin.shutdown().await;
    }
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
