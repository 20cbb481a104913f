//! [`Workload`]: every knob of a run, with documented defaults and limits, validated once.
//! It is embedded verbatim in the JSON report, so two reports say exactly what differed.

use serde::{Deserialize, Serialize};

/// Largest message body accepted (the Java broker's default `maxMessageSize` is 4 MiB).
pub const MESSAGE_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Largest batch (messages per SEND_BATCH_MESSAGE request).
pub const BATCH_MESSAGES_MAX: usize = 1024;
/// Producer connections.
pub const PRODUCERS_MAX: usize = 256;
/// Consumer connections.
pub const CONSUMERS_MAX: usize = 64;
/// Queues of the benchmark topic.
pub const QUEUES_MAX: usize = 1024;
/// Outstanding requests per producer connection.
pub const IN_FLIGHT_PER_CONNECTION_MAX: usize = 65_536;
/// Closed-loop concurrency (total outstanding requests).
pub const CONCURRENCY_MAX: usize = PRODUCERS_MAX * 1024;

const _: () = assert!(CONCURRENCY_MAX <= PRODUCERS_MAX * IN_FLIGHT_PER_CONNECTION_MAX);

/// How a send waits for the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SendMode {
    /// Like the Java tool's `-w N` threads: N senders, each waits for its response. On the
    /// wire the N outstanding requests are pipelined over the producer connections.
    #[default]
    Sync,
    /// Like `-y`: each connection keeps up to `in_flight_per_connection` requests outstanding.
    Async,
    /// No response at all (`flag` oneway); latency is the local write time.
    Oneway,
}

/// Which code path requests go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// Our `client` crate: producers with routing, retries and pipelining; lite pull
    /// consumers. What a Rust application sees.
    #[default]
    Client,
    /// loadgen's own codec on std TCP: the least client overhead; works with `--broker`
    /// (no name server).
    Raw,
}

/// What the load level means.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Load {
    /// Closed loop: keep this many requests outstanding in total.
    Concurrency { requests: usize },
    /// Open loop: start requests on a fixed schedule; latency counts from the scheduled time,
    /// so a stalled broker shows up as latency rather than as fewer requests (no coordinated
    /// omission).
    Rate { requests_per_s: f64 },
}

impl Load {
    /// A short label: `c=64` or `r=20000/s`.
    #[must_use]
    pub fn label(&self) -> String {
        match self {
            Load::Concurrency { requests } => format!("c={requests}"),
            Load::Rate { requests_per_s } => format!("r={requests_per_s:.0}/s"),
        }
    }

    /// The number the ramp changes (concurrency or rate).
    #[must_use]
    pub fn level(&self) -> f64 {
        match self {
            Load::Concurrency { requests } => *requests as f64,
            Load::Rate { requests_per_s } => *requests_per_s,
        }
    }
}

/// Every knob of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Workload {
    /// Name server list `host:port;host:port`. Default: `127.0.0.1:9876`.
    pub namesrv: String,
    /// Send straight to this broker (`host:port`), skipping the name server. Default: none.
    pub broker: Option<String>,
    /// Client crate or raw protocol. Default: client (raw when `broker` is set).
    pub via: Via,
    /// Topic. Default: `BenchmarkTest` (the Java tool's). Created if the route is missing.
    pub topic: String,
    /// Queues of the topic when loadgen creates it. Default: 8. Maximum: 1024.
    pub queues: usize,
    /// Body bytes per message. Default: 1024. Minimum: 8 (a send timestamp is embedded).
    /// Maximum: 4 MiB.
    pub message_bytes: usize,
    /// Messages per request; > 1 uses SEND_BATCH_MESSAGE. Default: 1. Maximum: 1024.
    pub batch_messages: usize,
    /// Producer connections. Default: 4. Maximum: 256.
    pub producers: usize,
    /// Consumer connections (one pull pipeline each; 0 = produce only). Default: 1.
    /// Maximum: 64.
    pub consumers: usize,
    /// Tags cycle over `tag0..tag{n-1}`; 0 = no tag. Default: 0.
    pub tag_count: usize,
    /// Set a `KEYS` property per message (indexed by the broker). Default: false.
    pub keys: bool,
    /// Default: sync.
    pub send_mode: SendMode,
    /// Default: closed loop, 64 outstanding (the Java tool's 64 threads).
    pub load: Load,
    /// Cap on outstanding requests per connection (bounds open-loop memory). Default: 1024.
    /// Maximum: 65536.
    pub in_flight_per_connection: usize,
    /// Seconds to run (per step in `tune`). Default: 20.
    pub duration_s: u64,
    /// Stop after this many messages; 0 = no limit. Default: 0.
    pub count: u64,
    /// A request outstanding this long counts as "Send Failed". Default: 3000.
    pub send_timeout_ms: u64,
    /// Default: `benchmark_producer`.
    pub producer_group: String,
    /// Default: `benchmark_consumer`.
    pub consumer_group: String,
    /// Progress line interval. Default: 1000 (the Java tool prints every 10 000 over the same
    /// 10-snapshot window).
    pub report_interval_ms: u64,
    /// Allow broker / name server addresses outside 127.0.0.0/8 and ::1. Default: false.
    pub allow_remote: bool,
}

impl Default for Workload {
    fn default() -> Workload {
        Workload {
            namesrv: "127.0.0.1:9876".to_owned(),
            broker: None,
            via: Via::Client,
            topic: "BenchmarkTest".to_owned(),
            queues: 8,
            message_bytes: 1024,
            batch_messages: 1,
            producers: 4,
            consumers: 1,
            tag_count: 0,
            keys: false,
            send_mode: SendMode::Sync,
            load: Load::Concurrency { requests: 64 },
            in_flight_per_connection: 1024,
            duration_s: 20,
            count: 0,
            send_timeout_ms: 3000,
            producer_group: "benchmark_producer".to_owned(),
            consumer_group: "benchmark_consumer".to_owned(),
            report_interval_ms: 1000,
            allow_remote: false,
        }
    }
}

impl Workload {
    /// Checks every limit once, at startup.
    ///
    /// # Errors
    /// A message naming the field, its value and its limit.
    pub fn validate(&self) -> Result<(), String> {
        let check = |ok: bool, what: String| if ok { Ok(()) } else { Err(what) };
        check(
            (8..=MESSAGE_BYTES_MAX).contains(&self.message_bytes),
            format!(
                "message_bytes {} outside 8..={MESSAGE_BYTES_MAX}",
                self.message_bytes
            ),
        )?;
        check(
            (1..=BATCH_MESSAGES_MAX).contains(&self.batch_messages),
            format!(
                "batch_messages {} outside 1..={BATCH_MESSAGES_MAX}",
                self.batch_messages
            ),
        )?;
        check(
            (1..=PRODUCERS_MAX).contains(&self.producers),
            format!("producers {} outside 1..={PRODUCERS_MAX}", self.producers),
        )?;
        check(
            self.consumers <= CONSUMERS_MAX,
            format!("consumers {} > {CONSUMERS_MAX}", self.consumers),
        )?;
        check(
            (1..=QUEUES_MAX).contains(&self.queues),
            format!("queues {} outside 1..={QUEUES_MAX}", self.queues),
        )?;
        check(
            (1..=IN_FLIGHT_PER_CONNECTION_MAX).contains(&self.in_flight_per_connection),
            format!(
                "in_flight_per_connection {} outside 1..={IN_FLIGHT_PER_CONNECTION_MAX}",
                self.in_flight_per_connection
            ),
        )?;
        check(
            self.duration_s > 0 || self.count > 0,
            "duration_s and count are both 0".to_owned(),
        )?;
        check(
            self.via == Via::Raw || self.broker.is_none(),
            "the client path routes through the name server: use via raw with a broker address"
                .to_owned(),
        )?;
        check(
            !(self.via == Via::Client
                && self.send_mode == SendMode::Oneway
                && self.batch_messages > 1),
            "the client has no oneway batch send: use via raw, or batch 1".to_owned(),
        )?;
        check(self.send_timeout_ms > 0, "send_timeout_ms is 0".to_owned())?;
        check(
            !self.topic.is_empty() && self.topic.len() <= 127,
            format!("topic {:?} must be 1..=127 bytes", self.topic),
        )?;
        match self.load {
            Load::Concurrency { requests } => check(
                (1..=CONCURRENCY_MAX).contains(&requests),
                format!("concurrency {requests} outside 1..={CONCURRENCY_MAX}"),
            ),
            Load::Rate { requests_per_s } => check(
                requests_per_s.is_finite() && requests_per_s > 0.0,
                format!("rate {requests_per_s} must be > 0"),
            ),
        }
    }

    /// Bytes one request carries in bodies (for MB/s).
    #[must_use]
    pub fn request_body_bytes(&self) -> usize {
        self.message_bytes * self.batch_messages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_limits_are_enforced() {
        assert_eq!(Workload::default().validate(), Ok(()));
        let too_small = Workload {
            message_bytes: 4,
            ..Workload::default()
        };
        assert!(too_small.validate().is_err());
        let no_end = Workload {
            duration_s: 0,
            count: 0,
            ..Workload::default()
        };
        assert!(no_end.validate().is_err());
        let bad_rate = Workload {
            load: Load::Rate {
                requests_per_s: 0.0,
            },
            ..Workload::default()
        };
        assert!(bad_rate.validate().is_err());
        let oneway_batch = Workload {
            send_mode: SendMode::Oneway,
            batch_messages: 10,
            ..Workload::default()
        };
        assert!(
            oneway_batch.validate().is_err(),
            "no oneway batch in the client"
        );
        let raw_oneway_batch = Workload {
            via: Via::Raw,
            ..oneway_batch
        };
        assert_eq!(raw_oneway_batch.validate(), Ok(()));
    }

    #[test]
    fn workload_json_round_trips_and_rejects_unknown_fields() {
        let workload = Workload {
            load: Load::Rate {
                requests_per_s: 5000.0,
            },
            ..Workload::default()
        };
        let json = serde_json::to_string(&workload).expect("serialize");
        let back: Workload = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, workload);
        assert!(serde_json::from_str::<Workload>(r#"{"topic":"t","bogus":1}"#).is_err());
        let partial: Workload = serde_json::from_str(r#"{"topic":"t"}"#).expect("defaults fill in");
        assert_eq!(partial.message_bytes, 1024);
        assert_eq!(Load::Concurrency { requests: 8 }.label(), "c=8");
    }
}
