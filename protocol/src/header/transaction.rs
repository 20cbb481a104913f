//! Transaction headers: `END_TRANSACTION` (37, producer→broker, oneway) and
//! `CHECK_TRANSACTION_STATE` (39, broker→producer, oneway; body = the half message as a
//! stored record).

use super::schema::command_header;
use crate::message::sys_flag;

command_header! {
    /// `END_TRANSACTION` (37) request header. Go derives `commitLogOffset` from the hex of the
    /// send response's offset `msgId`.
    pub struct EndTransactionRequestHeader {
        /// `topic`.
        optional topic: String = "topic",
        /// `producerGroup`.
        required producer_group: String = "producerGroup",
        /// `tranStateTableOffset`: the half message's queue offset.
        required transaction_state_table_offset: i64 = "tranStateTableOffset",
        /// `commitLogOffset`: the half message's commit-log offset.
        required commit_log_offset: i64 = "commitLogOffset",
        /// `commitOrRollback`: 8 commit, 12 rollback, 0 unknown (see [`TransactionResolution`]).
        required commit_or_rollback: i32 = "commitOrRollback",
        /// `fromTransactionCheck`: the answer to a `CHECK_TRANSACTION_STATE`.
        defaulted(false) from_transaction_check: bool = "fromTransactionCheck",
        /// `msgId`.
        required msg_id: String = "msgId",
        /// `transactionId`.
        optional transaction_id: String = "transactionId",
    }
}

/// What `commitOrRollback` asks for; the values are the sysFlag transaction types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionResolution {
    /// 0: the producer does not know yet; the broker will check back.
    Unknown,
    /// 8: make the half message visible.
    Commit,
    /// 12: drop the half message.
    Rollback,
}

impl TransactionResolution {
    /// Parses `commitOrRollback`; other values are not a resolution.
    #[must_use]
    pub fn from_wire(value: i32) -> Option<TransactionResolution> {
        match value {
            sys_flag::TRANSACTION_NOT_TYPE => Some(TransactionResolution::Unknown),
            sys_flag::TRANSACTION_COMMIT => Some(TransactionResolution::Commit),
            sys_flag::TRANSACTION_ROLLBACK => Some(TransactionResolution::Rollback),
            _ => None,
        }
    }

    /// The `commitOrRollback` value.
    #[must_use]
    pub fn to_wire(self) -> i32 {
        match self {
            TransactionResolution::Unknown => sys_flag::TRANSACTION_NOT_TYPE,
            TransactionResolution::Commit => sys_flag::TRANSACTION_COMMIT,
            TransactionResolution::Rollback => sys_flag::TRANSACTION_ROLLBACK,
        }
    }
}

impl EndTransactionRequestHeader {
    /// `commitOrRollback` as a [`TransactionResolution`]; `None` for an unknown value.
    #[must_use]
    pub fn resolution(&self) -> Option<TransactionResolution> {
        TransactionResolution::from_wire(self.commit_or_rollback)
    }
}

command_header! {
    /// `CHECK_TRANSACTION_STATE` (39) request header, broker→producer.
    pub struct CheckTransactionStateRequestHeader {
        /// `topic`.
        optional topic: String = "topic",
        /// `tranStateTableOffset`.
        required transaction_state_table_offset: i64 = "tranStateTableOffset",
        /// `commitLogOffset`.
        required commit_log_offset: i64 = "commitLogOffset",
        /// `msgId`.
        optional msg_id: String = "msgId",
        /// `transactionId`.
        optional transaction_id: String = "transactionId",
        /// `offsetMsgId`.
        optional offset_msg_id: String = "offsetMsgId",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_are_the_sys_flag_transaction_types() {
        for resolution in [
            TransactionResolution::Unknown,
            TransactionResolution::Commit,
            TransactionResolution::Rollback,
        ] {
            assert_eq!(
                TransactionResolution::from_wire(resolution.to_wire()),
                Some(resolution)
            );
        }
        assert_eq!(TransactionResolution::Commit.to_wire(), 8);
        assert_eq!(TransactionResolution::Rollback.to_wire(), 12);
        assert_eq!(TransactionResolution::from_wire(4), None);
    }
}
