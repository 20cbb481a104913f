//! Networking: pipelined connections ([`connection`]) and a per-address pool ([`Remoting`]).

pub mod connection;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use protocol::code::response;
use protocol::{RemotingCommand, SerializeType};

pub use connection::{Connection, InboundHandler, InboundRequest};

use crate::error::{ClientError, Result};

/// Connections by address, opened on first use and replaced when closed.
pub struct Remoting {
    connections: Mutex<HashMap<String, Connection>>,
    /// Per address: serializes connection setup so concurrent callers share one
    /// connection, without a slow address delaying the others.
    connecting: Mutex<HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
    inbound: Option<InboundHandler>,
    connect_timeout: Duration,
    serialize_type: SerializeType,
}

impl Remoting {
    #[must_use]
    pub fn new(
        connect_timeout: Duration,
        serialize_type: SerializeType,
        inbound: Option<InboundHandler>,
    ) -> Remoting {
        Remoting {
            connections: Mutex::new(HashMap::new()),
            connecting: Mutex::new(HashMap::new()),
            inbound,
            connect_timeout,
            serialize_type,
        }
    }

    /// The header encoding requests are built with.
    #[must_use]
    pub fn serialize_type(&self) -> SerializeType {
        self.serialize_type
    }

    /// A new request of this client's encoding.
    #[must_use]
    pub fn new_request(&self, code: i32) -> RemotingCommand {
        connection::new_request(code, self.serialize_type)
    }

    fn cached(&self, addr: &str) -> Option<Connection> {
        let connections = self.connections.lock().ok()?;
        connections.get(addr).filter(|c| !c.is_closed()).cloned()
    }

    /// The open connection to `addr`, connecting if needed.
    ///
    /// # Errors
    /// Connection failures.
    pub async fn connection(&self, addr: &str) -> Result<Connection> {
        if let Some(connection) = self.cached(addr) {
            return Ok(connection);
        }
        let gate = self
            .connecting
            .lock()
            .map(|mut gates| gates.entry(addr.to_owned()).or_default().clone())
            .unwrap_or_default();
        let _guard = gate.lock().await;
        if let Some(connection) = self.cached(addr) {
            return Ok(connection);
        }
        let connection =
            Connection::connect(addr, self.connect_timeout, self.inbound.clone()).await?;
        if let Ok(mut connections) = self.connections.lock() {
            connections.insert(addr.to_owned(), connection.clone());
        }
        Ok(connection)
    }

    /// Sends a request and waits for its response (any code).
    ///
    /// # Errors
    /// Transport failures.
    pub async fn invoke(
        &self,
        addr: &str,
        request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand> {
        let connection = self.connection(addr).await?;
        let result = connection.request(request, timeout).await;
        if let Err(error) = &result {
            if error.is_transport() && !matches!(error, ClientError::Timeout { .. }) {
                self.drop_connection(addr);
            }
        }
        result
    }

    /// Sends a request and returns the response if its code is SUCCESS.
    ///
    /// # Errors
    /// Transport failures or [`ClientError::Response`].
    pub async fn invoke_ok(
        &self,
        addr: &str,
        request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand> {
        let response = self.invoke(addr, request, timeout).await?;
        expect_code(addr, response, &[response::SUCCESS])
    }

    /// Sends a oneway request.
    ///
    /// # Errors
    /// Transport failures.
    pub async fn oneway(&self, addr: &str, request: RemotingCommand) -> Result<()> {
        let connection = self.connection(addr).await?;
        connection.oneway(request).await
    }

    /// Forgets (and closes) the connection to `addr`.
    pub fn drop_connection(&self, addr: &str) {
        let removed = self
            .connections
            .lock()
            .ok()
            .and_then(|mut connections| connections.remove(addr));
        if let Some(connection) = removed {
            connection.close();
        }
    }

    /// Closes every connection.
    pub fn close_all(&self) {
        let all: Vec<Connection> = self
            .connections
            .lock()
            .map(|mut connections| connections.drain().map(|(_, c)| c).collect())
            .unwrap_or_default();
        for connection in all {
            connection.close();
        }
    }
}

/// Returns `response` if its code is one of `accepted`, else [`ClientError::Response`].
///
/// # Errors
/// [`ClientError::Response`] carrying the code and remark.
pub fn expect_code(
    addr: &str,
    response: RemotingCommand,
    accepted: &[i32],
) -> Result<RemotingCommand> {
    if accepted.contains(&response.code) {
        Ok(response)
    } else {
        Err(ClientError::Response {
            addr: addr.to_owned(),
            code: response.code,
            remark: response.remark.unwrap_or_default(),
        })
    }
}
