//! `PULL_MESSAGE` (11) headers and the pull `sysFlag` bits (`PullSysFlag.java`).
//!
//! Clients send sysFlag 2 (suspend), 3 (commit offset + suspend) and 6 (suspend +
//! subscription, the Go pull consumer); the subscription bit says whether `subscription` /
//! `expressionType` in the header replace the heartbeat's subscription.

use super::schema::command_header;

command_header! {
    /// `PULL_MESSAGE` (11) request header (`PullMessageRequestHeader.java`).
    pub struct PullMessageRequestHeader {
        /// `consumerGroup`.
        required consumer_group: String = "consumerGroup",
        /// `topic`.
        required topic: String = "topic",
        /// `queueId`.
        required queue_id: i32 = "queueId",
        /// `queueOffset`: the first consume-queue offset wanted.
        required queue_offset: i64 = "queueOffset",
        /// `maxMsgNums` (client default 32).
        required max_message_count: i32 = "maxMsgNums",
        /// `sysFlag`: [`PullSysFlag`] bits.
        required sys_flag: i32 = "sysFlag",
        /// `commitOffset`: stored when [`PullSysFlag::COMMIT_OFFSET`] is set.
        required commit_offset: i64 = "commitOffset",
        /// `suspendTimeoutMillis`: how long the broker may hold the pull (client sends 15 000).
        required suspend_timeout_ms: i64 = "suspendTimeoutMillis",
        /// `subscription`: the tag or SQL expression.
        optional subscription: String = "subscription",
        /// `subVersion`.
        required subscription_version: i64 = "subVersion",
        /// `expressionType`: `TAG` or `SQL92`.
        optional expression_type: String = "expressionType",
        /// `maxMsgBytes` (5.x).
        optional max_message_bytes: i32 = "maxMsgBytes",
        /// `requestSource` (5.x proxy).
        optional request_source: i32 = "requestSource",
        /// `proxyFrowardClientId` (sic, 5.x proxy).
        optional proxy_forward_client_id: String = "proxyFrowardClientId",
    }
}

command_header! {
    /// `PULL_MESSAGE` response header (`PullMessageResponseHeader.java`).
    pub struct PullMessageResponseHeader {
        /// `suggestWhichBrokerId`: 0 = master.
        required suggest_which_broker_id: i64 = "suggestWhichBrokerId",
        /// `nextBeginOffset`.
        required next_begin_offset: i64 = "nextBeginOffset",
        /// `minOffset`.
        required min_offset: i64 = "minOffset",
        /// `maxOffset`.
        required max_offset: i64 = "maxOffset",
        /// `offsetDelta`.
        optional offset_delta: i64 = "offsetDelta",
        /// `topicSysFlag`.
        optional topic_sys_flag: i32 = "topicSysFlag",
        /// `groupSysFlag`.
        optional group_sys_flag: i32 = "groupSysFlag",
        /// `forbiddenType`.
        optional forbidden_type: i32 = "forbiddenType",
    }
}

/// The pull request's `sysFlag` (`PullSysFlag.java`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PullSysFlag(pub i32);

impl PullSysFlag {
    /// Also store the header's `commitOffset`.
    pub const COMMIT_OFFSET: i32 = 0x1;
    /// The broker may hold the pull (long polling).
    pub const SUSPEND: i32 = 0x2;
    /// The header carries `subscription` / `expressionType`.
    pub const SUBSCRIPTION: i32 = 0x4;
    /// Class filter mode (removed in 5.x, still a bit on the wire).
    pub const CLASS_FILTER: i32 = 0x8;
    /// A lite pull consumer.
    pub const LITE_PULL: i32 = 0x10;

    /// Builds the flag like `PullSysFlag.buildSysFlag`.
    #[must_use]
    pub fn build(
        commit_offset: bool,
        suspend: bool,
        subscription: bool,
        class_filter: bool,
    ) -> Self {
        let mut flag = 0;
        if commit_offset {
            flag |= Self::COMMIT_OFFSET;
        }
        if suspend {
            flag |= Self::SUSPEND;
        }
        if subscription {
            flag |= Self::SUBSCRIPTION;
        }
        if class_filter {
            flag |= Self::CLASS_FILTER;
        }
        PullSysFlag(flag)
    }

    #[must_use]
    pub fn has_commit_offset(self) -> bool {
        self.0 & Self::COMMIT_OFFSET != 0
    }

    #[must_use]
    pub fn has_suspend(self) -> bool {
        self.0 & Self::SUSPEND != 0
    }

    #[must_use]
    pub fn has_subscription(self) -> bool {
        self.0 & Self::SUBSCRIPTION != 0
    }

    #[must_use]
    pub fn has_class_filter(self) -> bool {
        self.0 & Self::CLASS_FILTER != 0
    }

    #[must_use]
    pub fn is_lite_pull(self) -> bool {
        self.0 & Self::LITE_PULL != 0
    }

    /// The flag without the commit-offset bit (`clearCommitOffsetFlag`).
    #[must_use]
    pub fn without_commit_offset(self) -> Self {
        PullSysFlag(self.0 & !Self::COMMIT_OFFSET)
    }

    /// The flag without the suspend bit (`clearSuspendFlag`).
    #[must_use]
    pub fn without_suspend(self) -> Self {
        PullSysFlag(self.0 & !Self::SUSPEND)
    }
}

impl PullMessageRequestHeader {
    /// The header's `sysFlag` as [`PullSysFlag`].
    #[must_use]
    pub fn pull_sys_flag(&self) -> PullSysFlag {
        PullSysFlag(self.sys_flag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_flags_seen_from_real_clients() {
        let push = PullSysFlag(3);
        assert!(push.has_commit_offset() && push.has_suspend() && !push.has_subscription());
        let go_pull = PullSysFlag(6);
        assert!(
            !go_pull.has_commit_offset() && go_pull.has_suspend() && go_pull.has_subscription()
        );
        assert_eq!(PullSysFlag::build(true, true, false, false), push);
        assert_eq!(push.without_commit_offset(), PullSysFlag(2));
        assert_eq!(PullSysFlag(0x1F).without_suspend().0, 0x1D);
        assert!(PullSysFlag(0x10).is_lite_pull());
        assert!(PullSysFlag(0x8).has_class_filter());
    }
}
