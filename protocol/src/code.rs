//! Request codes, response codes and language codes (`RequestCode.java`, `ResponseCode.java`,
//! `RemotingSysResponseCode.java`, `LanguageCode.java`). Codes are `i32` because that is their
//! wire type (JSON int; the binary header carries an `i16`).

/// Request codes (`RequestCode.java`).
pub mod request {
    pub const SEND_MESSAGE: i32 = 10;
    pub const PULL_MESSAGE: i32 = 11;
    pub const QUERY_MESSAGE: i32 = 12;
    pub const QUERY_CONSUMER_OFFSET: i32 = 14;
    pub const UPDATE_CONSUMER_OFFSET: i32 = 15;
    pub const UPDATE_AND_CREATE_TOPIC: i32 = 17;
    pub const GET_ALL_TOPIC_CONFIG: i32 = 21;
    pub const UPDATE_BROKER_CONFIG: i32 = 25;
    pub const GET_BROKER_CONFIG: i32 = 26;
    pub const GET_BROKER_RUNTIME_INFO: i32 = 28;
    pub const SEARCH_OFFSET_BY_TIMESTAMP: i32 = 29;
    pub const GET_MAX_OFFSET: i32 = 30;
    pub const GET_MIN_OFFSET: i32 = 31;
    pub const GET_EARLIEST_MSG_STORETIME: i32 = 32;
    pub const VIEW_MESSAGE_BY_ID: i32 = 33;
    pub const HEART_BEAT: i32 = 34;
    pub const UNREGISTER_CLIENT: i32 = 35;
    pub const CONSUMER_SEND_MSG_BACK: i32 = 36;
    pub const END_TRANSACTION: i32 = 37;
    pub const GET_CONSUMER_LIST_BY_GROUP: i32 = 38;
    pub const CHECK_TRANSACTION_STATE: i32 = 39;
    pub const NOTIFY_CONSUMER_IDS_CHANGED: i32 = 40;
    pub const LOCK_BATCH_MQ: i32 = 41;
    pub const UNLOCK_BATCH_MQ: i32 = 42;
    pub const GET_ALL_CONSUMER_OFFSET: i32 = 43;
    pub const GET_ALL_DELAY_OFFSET: i32 = 45;
    pub const PUT_KV_CONFIG: i32 = 100;
    pub const GET_KV_CONFIG: i32 = 101;
    pub const DELETE_KV_CONFIG: i32 = 102;
    pub const REGISTER_BROKER: i32 = 103;
    pub const UNREGISTER_BROKER: i32 = 104;
    pub const GET_ROUTEINFO_BY_TOPIC: i32 = 105;
    pub const GET_BROKER_CLUSTER_INFO: i32 = 106;
    pub const UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: i32 = 200;
    pub const GET_ALL_SUBSCRIPTIONGROUP_CONFIG: i32 = 201;
    pub const GET_TOPIC_STATS_INFO: i32 = 202;
    pub const GET_CONSUMER_CONNECTION_LIST: i32 = 203;
    pub const GET_PRODUCER_CONNECTION_LIST: i32 = 204;
    pub const WIPE_WRITE_PERM_OF_BROKER: i32 = 205;
    pub const GET_ALL_TOPIC_LIST_FROM_NAMESERVER: i32 = 206;
    pub const DELETE_SUBSCRIPTIONGROUP: i32 = 207;
    pub const GET_CONSUME_STATS: i32 = 208;
    pub const RESET_CONSUMER_OFFSET_IN_BROKER: i32 = 212;
    pub const DELETE_TOPIC_IN_BROKER: i32 = 215;
    pub const DELETE_TOPIC_IN_NAMESRV: i32 = 216;
    pub const REGISTER_TOPIC_IN_NAMESRV: i32 = 217;
    pub const GET_KVLIST_BY_NAMESPACE: i32 = 219;
    pub const INVOKE_BROKER_TO_RESET_OFFSET: i32 = 222;
    pub const GET_TOPICS_BY_CLUSTER: i32 = 224;
    pub const GET_SYSTEM_TOPIC_LIST_FROM_NS: i32 = 304;
    pub const QUERY_TOPIC_CONSUME_BY_WHO: i32 = 300;
    pub const GET_CONSUMER_RUNNING_INFO: i32 = 307;
    pub const CONSUME_MESSAGE_DIRECTLY: i32 = 309;
    pub const SEND_MESSAGE_V2: i32 = 310;
    pub const GET_UNIT_TOPIC_LIST: i32 = 311;
    pub const GET_HAS_UNIT_SUB_TOPIC_LIST: i32 = 312;
    pub const GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST: i32 = 313;
    pub const UPDATE_NAMESRV_CONFIG: i32 = 318;
    pub const GET_NAMESRV_CONFIG: i32 = 319;
    pub const SEND_BATCH_MESSAGE: i32 = 320;
    pub const QUERY_DATA_VERSION: i32 = 322;
    pub const ADD_WRITE_PERM_OF_BROKER: i32 = 327;
    /// `DefaultLitePullConsumer` pulls (client 5.x); same header and semantics as PULL_MESSAGE.
    pub const LITE_PULL_MESSAGE: i32 = 361;
    /// One topic's config (mqadmin `topicStatus` and `consumerProgress` ask it first).
    pub const GET_TOPIC_CONFIG: i32 = 351;
    /// Broker → consumer: continue these queues from these offsets (after an admin reset).
    pub const RESET_CONSUMER_CLIENT_OFFSET: i32 = 220;
    pub const QUERY_ASSIGNMENT: i32 = 400;
    pub const BROKER_HEARTBEAT: i32 = 904;
}

/// Response codes (`ResponseCode.java` + `RemotingSysResponseCode.java`).
pub mod response {
    pub const SUCCESS: i32 = 0;
    pub const SYSTEM_ERROR: i32 = 1;
    pub const SYSTEM_BUSY: i32 = 2;
    pub const REQUEST_CODE_NOT_SUPPORTED: i32 = 3;
    pub const TRANSACTION_FAILED: i32 = 4;
    pub const FLUSH_DISK_TIMEOUT: i32 = 10;
    pub const SLAVE_NOT_AVAILABLE: i32 = 11;
    pub const FLUSH_SLAVE_TIMEOUT: i32 = 12;
    pub const MESSAGE_ILLEGAL: i32 = 13;
    pub const SERVICE_NOT_AVAILABLE: i32 = 14;
    pub const VERSION_NOT_SUPPORTED: i32 = 15;
    pub const NO_PERMISSION: i32 = 16;
    pub const TOPIC_NOT_EXIST: i32 = 17;
    pub const TOPIC_EXIST_ALREADY: i32 = 18;
    pub const PULL_NOT_FOUND: i32 = 19;
    pub const PULL_RETRY_IMMEDIATELY: i32 = 20;
    pub const PULL_OFFSET_MOVED: i32 = 21;
    pub const QUERY_NOT_FOUND: i32 = 22;
    pub const SUBSCRIPTION_PARSE_FAILED: i32 = 23;
    pub const SUBSCRIPTION_NOT_EXIST: i32 = 24;
    pub const SUBSCRIPTION_NOT_LATEST: i32 = 25;
    pub const SUBSCRIPTION_GROUP_NOT_EXIST: i32 = 26;
    pub const FILTER_DATA_NOT_EXIST: i32 = 27;
    pub const FILTER_DATA_NOT_LATEST: i32 = 28;
    pub const INVALID_PARAMETER: i32 = 29;
    pub const TRANSACTION_SHOULD_COMMIT: i32 = 200;
    pub const TRANSACTION_SHOULD_ROLLBACK: i32 = 201;
    pub const TRANSACTION_STATE_UNKNOW: i32 = 202;
    pub const TRANSACTION_STATE_GROUP_WRONG: i32 = 203;
    pub const NO_BUYER_ID: i32 = 204;
    pub const NOT_IN_CURRENT_UNIT: i32 = 205;
    pub const CONSUMER_NOT_ONLINE: i32 = 206;
    pub const CONSUME_MSG_TIMEOUT: i32 = 207;
    pub const NO_MESSAGE: i32 = 208;
    pub const POLLING_FULL: i32 = 209;
    pub const POLLING_TIMEOUT: i32 = 210;
    pub const BROKER_NOT_EXIST: i32 = 211;
    pub const BROKER_DISPATCH_NOT_COMPLETE: i32 = 212;
    pub const BROADCAST_CONSUMPTION: i32 = 213;
    pub const FLOW_CONTROL: i32 = 215;
    pub const NOT_LEADER_FOR_QUEUE: i32 = 501;
    pub const ILLEGAL_OPERATION: i32 = 604;
    pub const GO_AWAY: i32 = 1500;
    pub const USER_NOT_EXIST: i32 = 3001;
    pub const POLICY_NOT_EXIST: i32 = 3002;

    /// Every server-side response code above, for exhaustive tests.
    pub const ALL: &[i32] = &[
        SUCCESS,
        SYSTEM_ERROR,
        SYSTEM_BUSY,
        REQUEST_CODE_NOT_SUPPORTED,
        TRANSACTION_FAILED,
        FLUSH_DISK_TIMEOUT,
        SLAVE_NOT_AVAILABLE,
        FLUSH_SLAVE_TIMEOUT,
        MESSAGE_ILLEGAL,
        SERVICE_NOT_AVAILABLE,
        VERSION_NOT_SUPPORTED,
        NO_PERMISSION,
        TOPIC_NOT_EXIST,
        TOPIC_EXIST_ALREADY,
        PULL_NOT_FOUND,
        PULL_RETRY_IMMEDIATELY,
        PULL_OFFSET_MOVED,
        QUERY_NOT_FOUND,
        SUBSCRIPTION_PARSE_FAILED,
        SUBSCRIPTION_NOT_EXIST,
        SUBSCRIPTION_NOT_LATEST,
        SUBSCRIPTION_GROUP_NOT_EXIST,
        FILTER_DATA_NOT_EXIST,
        FILTER_DATA_NOT_LATEST,
        INVALID_PARAMETER,
        TRANSACTION_SHOULD_COMMIT,
        TRANSACTION_SHOULD_ROLLBACK,
        TRANSACTION_STATE_UNKNOW,
        TRANSACTION_STATE_GROUP_WRONG,
        NO_BUYER_ID,
        NOT_IN_CURRENT_UNIT,
        CONSUMER_NOT_ONLINE,
        CONSUME_MSG_TIMEOUT,
        NO_MESSAGE,
        POLLING_FULL,
        POLLING_TIMEOUT,
        BROKER_NOT_EXIST,
        BROKER_DISPATCH_NOT_COMPLETE,
        BROADCAST_CONSUMPTION,
        FLOW_CONTROL,
        NOT_LEADER_FOR_QUEUE,
        ILLEGAL_OPERATION,
        GO_AWAY,
        USER_NOT_EXIST,
        POLICY_NOT_EXIST,
    ];
}

/// The client language carried in every header: a name in JSON headers, a byte in binary ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LanguageCode(pub u8);

impl LanguageCode {
    pub const JAVA: LanguageCode = LanguageCode(0);
    pub const CPP: LanguageCode = LanguageCode(1);
    pub const GO: LanguageCode = LanguageCode(9);
    pub const OTHER: LanguageCode = LanguageCode(7);
    pub const RUST: LanguageCode = LanguageCode(12);

    const NAMES: [&'static str; 14] = [
        "JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY", "OTHER", "HTTP", "GO",
        "PHP", "OMS", "RUST", "NODE_JS",
    ];

    /// The Java enum name; codes past the known table are reported as `OTHER`.
    #[must_use]
    pub fn name(self) -> &'static str {
        Self::NAMES
            .get(usize::from(self.0))
            .copied()
            .unwrap_or("OTHER")
    }

    /// Parses a Java enum name; an unknown name is `OTHER` (lenient: new client languages).
    #[must_use]
    pub fn from_name(name: &str) -> LanguageCode {
        Self::NAMES
            .iter()
            .position(|known| *known == name)
            .and_then(|index| u8::try_from(index).ok())
            .map_or(Self::OTHER, LanguageCode)
    }
}
