//! Broker-initiated requests to client connections: one-way pushes (NOTIFY_CONSUMER_IDS_CHANGED,
//! RESET_CONSUMER_CLIENT_OFFSET, CHECK_TRANSACTION_STATE) and calls whose response a handler
//! awaits (GET_CONSUMER_RUNNING_INFO, CONSUME_MESSAGE_DIRECTLY). A connection lives on one
//! shard; a request for it from another shard takes one hop through that shard's inbox.

use protocol::RemotingCommand;

use super::{Outbound, Shard, ShardMessage, CLIENT_CALLS_MAX, LOG};

impl Shard {
    /// Sends a broker-initiated request to a connection on any shard.
    pub fn push(&self, connection: crate::mesh::ConnectionRef, command: RemotingCommand) {
        if connection.shard == self.index {
            self.push_local(connection.id, command);
        } else if let Err(reason) = self.post(
            connection.shard,
            ShardMessage::Push {
                connection_id: connection.id,
                command,
            },
        ) {
            tracing::debug!(target: LOG, shard = self.index, %reason, "push dropped");
        }
    }

    pub(super) fn push_local(&self, connection_id: u64, command: RemotingCommand) {
        if let Some(sender) = self.connections.borrow().get(&connection_id) {
            let _ = sender.try_send(Outbound::Now(command));
        }
    }

    /// Sends a request to a client connection on any shard; the client's response arrives on
    /// the returned channel, which disconnects unanswered if the client goes away.
    ///
    /// # Errors
    /// The remark when the owning shard's inbox is full.
    pub fn call_client(
        &self,
        connection: crate::mesh::ConnectionRef,
        command: RemotingCommand,
    ) -> Result<flume::Receiver<RemotingCommand>, String> {
        let (reply, response) = flume::bounded(1);
        if connection.shard == self.index {
            self.call_local(connection.id, command, reply);
        } else {
            self.post(
                connection.shard,
                ShardMessage::Call {
                    connection_id: connection.id,
                    command,
                    reply,
                },
            )?;
        }
        Ok(response)
    }

    pub(super) fn call_local(
        &self,
        connection_id: u64,
        mut command: RemotingCommand,
        reply: flume::Sender<RemotingCommand>,
    ) {
        let Some(sender) = self.connections.borrow().get(&connection_id).cloned() else {
            return;
        };
        let mut calls = self.client_calls.borrow_mut();
        if calls.len() >= CLIENT_CALLS_MAX {
            // Callers that gave up (timed out) leave their entry; reclaim those first.
            calls.retain(|_, waiting| !waiting.is_disconnected());
            if calls.len() >= CLIENT_CALLS_MAX {
                tracing::warn!(target: LOG, shard = self.index, "client call refused: {CLIENT_CALLS_MAX} already waiting");
                return;
            }
        }
        let opaque = self.next_call_opaque.get();
        self.next_call_opaque.set(opaque.wrapping_add(1).max(1));
        command.opaque = opaque;
        if sender.try_send(Outbound::Now(command)).is_ok() {
            calls.insert((connection_id, opaque), reply);
        }
    }

    /// A response a client sent on one of this shard's connections: hands it to the caller
    /// waiting for it, if any (late or unsolicited responses are dropped).
    pub fn client_response(&self, connection_id: u64, command: RemotingCommand) {
        if let Some(reply) = self
            .client_calls
            .borrow_mut()
            .remove(&(connection_id, command.opaque))
        {
            let _ = reply.try_send(command);
        }
    }
}
