//! [`ClientError`]: what a client call can fail with. Operating errors only; programmer
//! errors are assertions.

use protocol::WireError;
use thiserror::Error;

/// An error from a client call.
#[derive(Debug, Error)]
pub enum ClientError {
    /// A socket could not be opened, read or written.
    #[error("I/O error talking to {addr}: {source}")]
    Io {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    /// Connecting did not finish in time.
    #[error("connecting to {addr} timed out after {timeout_ms} ms")]
    ConnectTimeout { addr: String, timeout_ms: u64 },
    /// No response arrived within the request timeout.
    #[error("request code {code} to {addr} timed out after {timeout_ms} ms")]
    Timeout {
        addr: String,
        code: i32,
        timeout_ms: u64,
    },
    /// The connection closed while the request was in flight.
    #[error("connection to {addr} closed")]
    ConnectionClosed { addr: String },
    /// The peer sent bytes that do not decode.
    #[error("malformed data from {addr}: {source}")]
    Wire {
        addr: String,
        #[source]
        source: WireError,
    },
    /// A body or header of a response could not be decoded.
    #[error("cannot decode {what}: {reason}")]
    Decode { what: &'static str, reason: String },
    /// The server answered with a non-success response code.
    #[error("{addr} answered code {code}: {remark}")]
    Response {
        addr: String,
        code: i32,
        remark: String,
    },
    /// None of the configured name servers could be reached.
    #[error("no name server reachable (tried {tried}); last error: {last_error}")]
    NameServerUnreachable { tried: String, last_error: String },
    /// No name server address is configured (option, `rocketmq.namesrv.addr`, `NAMESRV_ADDR`).
    #[error("no name server address: set it in the options, the rocketmq.namesrv.addr property or NAMESRV_ADDR")]
    NoNameServer,
    /// The topic has no route (the name server answered TOPIC_NOT_EXIST).
    #[error("topic {topic} does not exist")]
    TopicNotExist { topic: String },
    /// The route names no address for the broker.
    #[error("no address for broker {broker_name}")]
    BrokerNotFound { broker_name: String },
    /// The topic route has no queue usable for this operation.
    #[error("no {what} queue for topic {topic}")]
    NoQueue { topic: String, what: &'static str },
    /// A caller-supplied value is invalid.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The client was shut down or not started.
    #[error("client is {0}")]
    State(&'static str),
    /// Every send attempt failed; holds the last attempt's error.
    #[error("send failed after {attempts} attempts: {last}")]
    SendFailed {
        attempts: u32,
        #[source]
        last: Box<ClientError>,
    },
}

impl ClientError {
    /// The response code when the server answered with an error.
    #[must_use]
    pub fn response_code(&self) -> Option<i32> {
        match self {
            ClientError::Response { code, .. } => Some(*code),
            ClientError::SendFailed { last, .. } => last.response_code(),
            _ => None,
        }
    }

    /// True for transport failures (the peer may be down or slow), as opposed to answers.
    #[must_use]
    pub fn is_transport(&self) -> bool {
        matches!(
            self,
            ClientError::Io { .. }
                | ClientError::ConnectTimeout { .. }
                | ClientError::Timeout { .. }
                | ClientError::ConnectionClosed { .. }
        )
    }

    pub(crate) fn decode(what: &'static str, reason: impl ToString) -> ClientError {
        ClientError::Decode {
            what,
            reason: reason.to_string(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
