//! Transactional sends (RocketMQ's `TransactionMQProducer`): a half message (sysFlag
//! PREPARED, `TRAN_MSG=true`, `PGROUP`), the local transaction, then `END_TRANSACTION`
//! (oneway) with commit / rollback / unknown. The broker later asks about unknown ones with
//! `CHECK_TRANSACTION_STATE`; [`TransactionListener::check_local_transaction`] answers.

use std::sync::Arc;

use protocol::code::request;
use protocol::message::properties::keys;
use protocol::message::OffsetMessageId;

use crate::error::{ClientError, Result};
use crate::instance::{ClientInstance, TransactionCheck};
use crate::message::{Message, MessageExt};
use crate::producer::{Producer, ProducerOptions, SendResult, SendStatus};
use crate::wire::{ext, some};

/// The outcome of a local transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTransactionState {
    CommitMessage,
    RollbackMessage,
    Unknown,
}

impl LocalTransactionState {
    /// `commitOrRollback` of END_TRANSACTION: 8 commit, 12 rollback, 0 unknown.
    #[must_use]
    pub fn wire_value(self) -> i32 {
        match self {
            LocalTransactionState::CommitMessage => protocol::message::sys_flag::TRANSACTION_COMMIT,
            LocalTransactionState::RollbackMessage => {
                protocol::message::sys_flag::TRANSACTION_ROLLBACK
            }
            LocalTransactionState::Unknown => protocol::message::sys_flag::TRANSACTION_NOT_TYPE,
        }
    }
}

/// The application's side of a transaction.
pub trait TransactionListener: Send + Sync + 'static {
    /// Runs the local transaction after the half message is stored.
    fn execute_local_transaction(
        &self,
        message: &Message,
        transaction_id: &str,
    ) -> LocalTransactionState;
    /// Answers the broker's check for a half message still undecided.
    fn check_local_transaction(&self, message: &MessageExt) -> LocalTransactionState;
}

/// What [`TransactionProducer::send_in_transaction`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionSendResult {
    pub send: SendResult,
    pub local_state: LocalTransactionState,
}

/// A producer whose sends are transactional.
#[derive(Clone)]
pub struct TransactionProducer {
    producer: Producer,
    listener: Arc<dyn TransactionListener>,
}

impl TransactionProducer {
    /// Starts the producer and registers the check handler for its group.
    ///
    /// # Errors
    /// As [`Producer::start`].
    pub async fn start(
        options: ProducerOptions,
        listener: Arc<dyn TransactionListener>,
    ) -> Result<TransactionProducer> {
        let producer = Producer::start(options).await?;
        let instance = producer.instance().clone();
        let weak = instance.downgrade();
        let group = producer.group().to_owned();
        let check_listener = listener.clone();
        let check_group = group.clone();
        instance.register_transaction_checker(
            &group,
            Arc::new(move |check: TransactionCheck| {
                let Some(instance) = ClientInstance::upgrade(&weak) else {
                    return;
                };
                let listener = check_listener.clone();
                let group = check_group.clone();
                tokio::spawn(async move {
                    let state = listener.check_local_transaction(&check.message);
                    if let Err(error) = end_transaction_after_check(&instance, &group, &check, state).await {
                        tracing::warn!(target: "client::producer", %error, "END_TRANSACTION after check failed");
                    }
                });
            }),
        );
        Ok(TransactionProducer { producer, listener })
    }

    #[must_use]
    pub fn producer(&self) -> &Producer {
        &self.producer
    }

    /// Sends `message` as a half message, runs the local transaction, then commits or
    /// rolls back (or leaves it to the broker's check when unknown).
    ///
    /// # Errors
    /// Send errors; a delay level is refused (transactions cannot be delayed).
    pub async fn send_in_transaction(&self, mut message: Message) -> Result<TransactionSendResult> {
        if message.delay_level() > 0 {
            return Err(ClientError::InvalidArgument(
                "transactional messages cannot have a delay level".into(),
            ));
        }
        message.properties.insert(keys::TRAN_MSG, "true");
        message
            .properties
            .insert(keys::PGROUP, self.producer.group());
        let sent = self.producer.send(message.clone()).await?;
        let local_state = if sent.status == SendStatus::SendOk {
            let transaction_id = sent
                .transaction_id
                .clone()
                .unwrap_or_else(|| sent.msg_id.clone());
            message
                .properties
                .insert(keys::TRANSACTION_ID, &transaction_id);
            self.listener
                .execute_local_transaction(&message, &transaction_id)
        } else {
            LocalTransactionState::RollbackMessage
        };
        self.end_transaction(&sent, local_state).await?;
        Ok(TransactionSendResult {
            send: sent,
            local_state,
        })
    }

    async fn end_transaction(&self, sent: &SendResult, state: LocalTransactionState) -> Result<()> {
        let commit_log_offset = OffsetMessageId::decode(&sent.offset_msg_id)
            .map(|id| id.commit_log_offset)
            .map_err(|error| ClientError::decode("offset message id", error))?;
        let instance = self.producer.instance();
        let mut request = instance.new_request(request::END_TRANSACTION);
        *request.ext_mut() = ext(&[
            ("topic", some(&sent.queue.topic)),
            ("producerGroup", some(self.producer.group())),
            ("tranStateTableOffset", some(sent.queue_offset)),
            ("commitLogOffset", some(commit_log_offset)),
            ("commitOrRollback", some(state.wire_value())),
            ("fromTransactionCheck", some(false)),
            ("msgId", some(&sent.msg_id)),
            ("transactionId", sent.transaction_id.clone()),
        ]);
        instance.remoting().oneway(&sent.broker_addr, request).await
    }

    /// Stops the producer.
    pub async fn shutdown(&self) {
        self.producer.shutdown().await;
    }
}

async fn end_transaction_after_check(
    instance: &ClientInstance,
    group: &str,
    check: &TransactionCheck,
    state: LocalTransactionState,
) -> Result<()> {
    let unique = check
        .message
        .property(keys::UNIQ_KEY)
        .map(str::to_owned)
        .or_else(|| check.msg_id.clone());
    let transaction_id = check
        .transaction_id
        .clone()
        .or_else(|| {
            check
                .message
                .property(keys::TRANSACTION_ID)
                .map(str::to_owned)
        })
        .or_else(|| unique.clone());
    let mut request = instance.new_request(request::END_TRANSACTION);
    *request.ext_mut() = ext(&[
        ("topic", some(&check.message.topic)),
        ("producerGroup", some(group)),
        (
            "tranStateTableOffset",
            some(check.transaction_state_table_offset),
        ),
        ("commitLogOffset", some(check.commit_log_offset)),
        ("commitOrRollback", some(state.wire_value())),
        ("fromTransactionCheck", some(true)),
        ("msgId", unique),
        ("transactionId", transaction_id),
    ]);
    instance
        .remoting()
        .oneway(&check.broker_addr, request)
        .await
}
