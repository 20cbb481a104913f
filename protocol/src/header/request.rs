//! [`RequestHeader`]: the typed header of a broker-side request code, chosen by code. The
//! broker decodes with it at the edge; tests and fuzzers use it to reach every decoder.
//! Name-server codes live in `header::namesrv`.

use crate::code::request;
use crate::command::ExtFields;
use crate::WireError;

use super::admin::{
    DeleteSubscriptionGroupRequestHeader, GetConsumeStatsRequestHeader,
    GetConsumerConnectionListRequestHeader, GetProducerConnectionListRequestHeader,
    GetTopicStatsInfoRequestHeader, QueryTopicConsumeByWhoRequestHeader, ResetOffsetRequestHeader,
};
use super::client::{
    ConsumeMessageDirectlyRequestHeader, ConsumerSendMsgBackRequestHeader,
    GetConsumerListByGroupRequestHeader, GetConsumerRunningInfoRequestHeader,
    NotifyConsumerIdsChangedRequestHeader, UnregisterClientRequestHeader,
};
use super::offset::{
    GetEarliestMsgStoretimeRequestHeader, GetMaxOffsetRequestHeader, GetMinOffsetRequestHeader,
    QueryConsumerOffsetRequestHeader, SearchOffsetRequestHeader, UpdateConsumerOffsetRequestHeader,
};
use super::pull::PullMessageRequestHeader;
use super::query::{QueryMessageRequestHeader, ViewMessageByIdRequestHeader};
use super::send::{SendMessageRequestHeader, SendMessageRequestHeaderV2};
use super::topic::{
    CreateTopicRequestHeader, DeleteTopicRequestHeader, GetTopicConfigRequestHeader,
};
use super::transaction::{CheckTransactionStateRequestHeader, EndTransactionRequestHeader};
use super::CommandHeader;

/// Request codes whose request carries no header (an empty ext map, or only a body).
pub const CODES_WITHOUT_HEADER: &[i32] = &[
    request::GET_ALL_TOPIC_CONFIG,
    request::UPDATE_BROKER_CONFIG,
    request::GET_BROKER_CONFIG,
    request::GET_BROKER_RUNTIME_INFO,
    request::HEART_BEAT,
    request::LOCK_BATCH_MQ,
    request::UNLOCK_BATCH_MQ,
    request::GET_ALL_CONSUMER_OFFSET,
    request::GET_ALL_DELAY_OFFSET,
    request::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
    request::GET_ALL_SUBSCRIPTIONGROUP_CONFIG,
    request::QUERY_ASSIGNMENT,
];

/// The typed header of one broker-side request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestHeader {
    /// 10.
    SendMessage(SendMessageRequestHeader),
    /// 310 and 320 (the batch flag `m` tells them apart too).
    SendMessageV2(SendMessageRequestHeaderV2),
    /// 11.
    PullMessage(PullMessageRequestHeader),
    /// 12.
    QueryMessage(QueryMessageRequestHeader),
    /// 14.
    QueryConsumerOffset(QueryConsumerOffsetRequestHeader),
    /// 15.
    UpdateConsumerOffset(UpdateConsumerOffsetRequestHeader),
    /// 17.
    CreateTopic(CreateTopicRequestHeader),
    /// 29.
    SearchOffset(SearchOffsetRequestHeader),
    /// 30.
    GetMaxOffset(GetMaxOffsetRequestHeader),
    /// 31.
    GetMinOffset(GetMinOffsetRequestHeader),
    /// 32.
    GetEarliestMsgStoretime(GetEarliestMsgStoretimeRequestHeader),
    /// 33.
    ViewMessageById(ViewMessageByIdRequestHeader),
    /// 35.
    UnregisterClient(UnregisterClientRequestHeader),
    /// 36.
    ConsumerSendMsgBack(ConsumerSendMsgBackRequestHeader),
    /// 37.
    EndTransaction(EndTransactionRequestHeader),
    /// 38.
    GetConsumerListByGroup(GetConsumerListByGroupRequestHeader),
    /// 39 (broker→client).
    CheckTransactionState(CheckTransactionStateRequestHeader),
    /// 40 (broker→client).
    NotifyConsumerIdsChanged(NotifyConsumerIdsChangedRequestHeader),
    /// 202.
    GetTopicStatsInfo(GetTopicStatsInfoRequestHeader),
    /// 203.
    GetConsumerConnectionList(GetConsumerConnectionListRequestHeader),
    /// 204.
    GetProducerConnectionList(GetProducerConnectionListRequestHeader),
    /// 207.
    DeleteSubscriptionGroup(DeleteSubscriptionGroupRequestHeader),
    /// 208.
    GetConsumeStats(GetConsumeStatsRequestHeader),
    /// 212, 220 (broker→client), 222.
    ResetOffset(ResetOffsetRequestHeader),
    /// 215.
    DeleteTopic(DeleteTopicRequestHeader),
    GetTopicConfig(GetTopicConfigRequestHeader),
    /// 300.
    QueryTopicConsumeByWho(QueryTopicConsumeByWhoRequestHeader),
    /// 307 (broker→client).
    GetConsumerRunningInfo(GetConsumerRunningInfoRequestHeader),
    /// 309 (broker→client).
    ConsumeMessageDirectly(ConsumeMessageDirectlyRequestHeader),
    /// A code in [`CODES_WITHOUT_HEADER`].
    Empty,
}

impl RequestHeader {
    /// Decodes the header of request `code`; `Ok(None)` for a code this module does not know
    /// (name-server codes, unsupported codes). An absent ext map reads as an empty one.
    ///
    /// # Errors
    /// The header's decoding error (a missing required field names the key).
    pub fn decode(
        code: i32,
        fields: Option<&ExtFields>,
    ) -> Result<Option<RequestHeader>, WireError> {
        static EMPTY: ExtFields = ExtFields::empty();
        let fields = fields.unwrap_or(&EMPTY);
        let header = match code {
            request::SEND_MESSAGE => Self::SendMessage(CommandHeader::decode(fields)?),
            request::SEND_MESSAGE_V2 | request::SEND_BATCH_MESSAGE => {
                Self::SendMessageV2(CommandHeader::decode(fields)?)
            }
            request::PULL_MESSAGE => Self::PullMessage(CommandHeader::decode(fields)?),
            request::QUERY_MESSAGE => Self::QueryMessage(CommandHeader::decode(fields)?),
            request::QUERY_CONSUMER_OFFSET => {
                Self::QueryConsumerOffset(CommandHeader::decode(fields)?)
            }
            request::UPDATE_CONSUMER_OFFSET => {
                Self::UpdateConsumerOffset(CommandHeader::decode(fields)?)
            }
            request::UPDATE_AND_CREATE_TOPIC => Self::CreateTopic(CommandHeader::decode(fields)?),
            request::SEARCH_OFFSET_BY_TIMESTAMP => {
                Self::SearchOffset(CommandHeader::decode(fields)?)
            }
            request::GET_MAX_OFFSET => Self::GetMaxOffset(CommandHeader::decode(fields)?),
            request::GET_MIN_OFFSET => Self::GetMinOffset(CommandHeader::decode(fields)?),
            request::GET_EARLIEST_MSG_STORETIME => {
                Self::GetEarliestMsgStoretime(CommandHeader::decode(fields)?)
            }
            request::VIEW_MESSAGE_BY_ID => Self::ViewMessageById(CommandHeader::decode(fields)?),
            request::UNREGISTER_CLIENT => Self::UnregisterClient(CommandHeader::decode(fields)?),
            request::CONSUMER_SEND_MSG_BACK => {
                Self::ConsumerSendMsgBack(CommandHeader::decode(fields)?)
            }
            request::END_TRANSACTION => Self::EndTransaction(CommandHeader::decode(fields)?),
            request::GET_CONSUMER_LIST_BY_GROUP => {
                Self::GetConsumerListByGroup(CommandHeader::decode(fields)?)
            }
            request::CHECK_TRANSACTION_STATE => {
                Self::CheckTransactionState(CommandHeader::decode(fields)?)
            }
            request::NOTIFY_CONSUMER_IDS_CHANGED => {
                Self::NotifyConsumerIdsChanged(CommandHeader::decode(fields)?)
            }
            request::GET_TOPIC_STATS_INFO => {
                Self::GetTopicStatsInfo(CommandHeader::decode(fields)?)
            }
            request::GET_CONSUMER_CONNECTION_LIST => {
                Self::GetConsumerConnectionList(CommandHeader::decode(fields)?)
            }
            request::GET_PRODUCER_CONNECTION_LIST => {
                Self::GetProducerConnectionList(CommandHeader::decode(fields)?)
            }
            request::DELETE_SUBSCRIPTIONGROUP => {
                Self::DeleteSubscriptionGroup(CommandHeader::decode(fields)?)
            }
            request::GET_CONSUME_STATS => Self::GetConsumeStats(CommandHeader::decode(fields)?),
            request::RESET_CONSUMER_OFFSET_IN_BROKER
            | request::RESET_CONSUMER_CLIENT_OFFSET
            | request::INVOKE_BROKER_TO_RESET_OFFSET => {
                Self::ResetOffset(CommandHeader::decode(fields)?)
            }
            request::DELETE_TOPIC_IN_BROKER => Self::DeleteTopic(CommandHeader::decode(fields)?),
            request::GET_TOPIC_CONFIG => Self::GetTopicConfig(CommandHeader::decode(fields)?),
            request::QUERY_TOPIC_CONSUME_BY_WHO => {
                Self::QueryTopicConsumeByWho(CommandHeader::decode(fields)?)
            }
            request::GET_CONSUMER_RUNNING_INFO => {
                Self::GetConsumerRunningInfo(CommandHeader::decode(fields)?)
            }
            request::CONSUME_MESSAGE_DIRECTLY => {
                Self::ConsumeMessageDirectly(CommandHeader::decode(fields)?)
            }
            code if CODES_WITHOUT_HEADER.contains(&code) => Self::Empty,
            _ => return Ok(None),
        };
        Ok(Some(header))
    }

    /// Writes the header's fields into `fields` (nothing for [`RequestHeader::Empty`]).
    pub fn encode(&self, fields: &mut ExtFields) {
        match self {
            Self::SendMessage(header) => header.encode(fields),
            Self::SendMessageV2(header) => header.encode(fields),
            Self::PullMessage(header) => header.encode(fields),
            Self::QueryMessage(header) => header.encode(fields),
            Self::QueryConsumerOffset(header) => header.encode(fields),
            Self::UpdateConsumerOffset(header) => header.encode(fields),
            Self::CreateTopic(header) => header.encode(fields),
            Self::SearchOffset(header) => header.encode(fields),
            Self::GetMaxOffset(header) => header.encode(fields),
            Self::GetMinOffset(header) => header.encode(fields),
            Self::GetEarliestMsgStoretime(header) => header.encode(fields),
            Self::ViewMessageById(header) => header.encode(fields),
            Self::UnregisterClient(header) => header.encode(fields),
            Self::ConsumerSendMsgBack(header) => header.encode(fields),
            Self::EndTransaction(header) => header.encode(fields),
            Self::GetConsumerListByGroup(header) => header.encode(fields),
            Self::CheckTransactionState(header) => header.encode(fields),
            Self::NotifyConsumerIdsChanged(header) => header.encode(fields),
            Self::GetTopicStatsInfo(header) => header.encode(fields),
            Self::GetConsumerConnectionList(header) => header.encode(fields),
            Self::GetProducerConnectionList(header) => header.encode(fields),
            Self::DeleteSubscriptionGroup(header) => header.encode(fields),
            Self::GetConsumeStats(header) => header.encode(fields),
            Self::ResetOffset(header) => header.encode(fields),
            Self::DeleteTopic(header) => header.encode(fields),
            Self::GetTopicConfig(header) => header.encode(fields),
            Self::QueryTopicConsumeByWho(header) => header.encode(fields),
            Self::GetConsumerRunningInfo(header) => header.encode(fields),
            Self::ConsumeMessageDirectly(header) => header.encode(fields),
            Self::Empty => {}
        }
    }
}
