//! Typed headers of the name-server requests (`remoting/protocol/header/namesrv/*.java` and
//! `GetTopicsByClusterRequestHeader.java`). The ext-map keys are the Java field names;
//! "required" fields are Java's `@CFNotNull` ones (absent → [`WireError::MissingField`]).
//!
//! | Code | Request | Request header | Response header |
//! | --- | --- | --- | --- |
//! | 100 | PUT_KV_CONFIG | [`PutKvConfigRequestHeader`] | — |
//! | 101 | GET_KV_CONFIG | [`GetKvConfigRequestHeader`] | [`GetKvConfigResponseHeader`] |
//! | 102 | DELETE_KV_CONFIG | [`DeleteKvConfigRequestHeader`] | — |
//! | 103 | REGISTER_BROKER | [`RegisterBrokerRequestHeader`] | [`RegisterBrokerResponseHeader`] |
//! | 104 | UNREGISTER_BROKER | [`UnregisterBrokerRequestHeader`] | — |
//! | 105 | GET_ROUTEINFO_BY_TOPIC | [`GetRouteInfoRequestHeader`] | — |
//! | 205 | WIPE_WRITE_PERM_OF_BROKER | [`WipeWritePermOfBrokerRequestHeader`] | [`WipeWritePermOfBrokerResponseHeader`] |
//! | 216 | DELETE_TOPIC_IN_NAMESRV | [`DeleteTopicFromNamesrvRequestHeader`] | — |
//! | 217 | REGISTER_TOPIC_IN_NAMESRV | [`RegisterTopicRequestHeader`] | — |
//! | 219 | GET_KVLIST_BY_NAMESPACE | [`GetKvListByNamespaceRequestHeader`] | — |
//! | 224 | GET_TOPICS_BY_CLUSTER | [`GetTopicsByClusterRequestHeader`] | — |
//! | 322 | QUERY_DATA_VERSION | [`QueryDataVersionRequestHeader`] | [`QueryDataVersionResponseHeader`] |
//! | 327 | ADD_WRITE_PERM_OF_BROKER | [`AddWritePermOfBrokerRequestHeader`] | [`AddWritePermOfBrokerResponseHeader`] |
//! | 904 | BROKER_HEARTBEAT | [`BrokerHeartbeatRequestHeader`] | — |
//!
//! Types follow the Java declarations (`Long` → `i64`, `Integer` → `i32`): these are wire
//! types, converted at the name server's edge.

use crate::command::ExtFields;
use crate::header::fields::{parse_bool, parse_number, required_str};
use crate::header::CommandHeader;
use crate::WireError;

/// The ext key under which a broker announces its zone (`MixAll.ZONE_NAME`).
pub const ZONE_NAME_KEY: &str = "__ZONE_NAME";

/// A header field value: parsed from and written as an ext-map string.
trait FieldValue: Sized {
    fn parse(name: &'static str, text: &str) -> Result<Self, WireError>;
    fn to_text(&self) -> String;
}

impl FieldValue for String {
    fn parse(_name: &'static str, text: &str) -> Result<Self, WireError> {
        Ok(text.to_owned())
    }
    fn to_text(&self) -> String {
        self.clone()
    }
}

impl FieldValue for bool {
    fn parse(name: &'static str, text: &str) -> Result<Self, WireError> {
        parse_bool(name, text)
    }
    fn to_text(&self) -> String {
        self.to_string()
    }
}

macro_rules! number_field_value {
    ($($number:ty),*) => {$(
        impl FieldValue for $number {
            fn parse(name: &'static str, text: &str) -> Result<Self, WireError> {
                parse_number(name, text)
            }
            fn to_text(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

number_field_value!(i32, i64);

fn decode_required<T: FieldValue>(fields: &ExtFields, name: &'static str) -> Result<T, WireError> {
    T::parse(name, required_str(fields, name)?)
}

fn decode_optional<T: FieldValue>(
    fields: &ExtFields,
    name: &'static str,
) -> Result<Option<T>, WireError> {
    fields
        .get(name)
        .map(|text| T::parse(name, text))
        .transpose()
}

/// Declares a header struct and its [`CommandHeader`] impl. Field kinds:
/// `required` (`@CFNotNull`), `optional` (`Option<T>`, written only when `Some`) and
/// `default(expr)` (a Java field with an initial value: absent → `expr`, always written).
macro_rules! command_header {
    (
        $(#[$struct_meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                $field:ident : $type:ty = $kind:ident $(($default:expr))? $key:literal
            ),* $(,)?
        }
    ) => {
        $(#[$struct_meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name {
            $($(#[$field_meta])* #[doc = concat!("Ext key `", $key, "`.")] pub $field: $type,)*
        }

        impl CommandHeader for $name {
            fn decode(fields: &ExtFields) -> Result<Self, WireError> {
                Ok($name {
                    $($field: command_header!(@decode fields, $kind $(($default))?, $key),)*
                })
            }

            fn encode(&self, fields: &mut ExtFields) {
                $(command_header!(@encode self, fields, $field, $kind, $key);)*
            }
        }
    };
    (@decode $fields:ident, required, $key:literal) => {
        decode_required($fields, $key)?
    };
    (@decode $fields:ident, optional, $key:literal) => {
        decode_optional($fields, $key)?
    };
    (@decode $fields:ident, default($default:expr), $key:literal) => {
        decode_optional($fields, $key)?.unwrap_or($default)
    };
    (@encode $self:ident, $fields:ident, $field:ident, optional, $key:literal) => {
        if let Some(value) = &$self.$field {
            $fields.insert($key, FieldValue::to_text(value));
        }
    };
    (@encode $self:ident, $fields:ident, $field:ident, $kind:ident, $key:literal) => {
        $fields.insert($key, FieldValue::to_text(&$self.$field));
    };
}

command_header! {
    /// REGISTER_BROKER (103) request, broker → name server.
    pub struct RegisterBrokerRequestHeader {
        broker_name: String = required "brokerName",
        broker_addr: String = required "brokerAddr",
        cluster_name: String = required "clusterName",
        ha_server_addr: String = required "haServerAddr",
        /// 0 = master, ≥ 1 = slave.
        broker_id: i64 = required "brokerId",
        /// Expiry of this registration; absent = the name server's default (120 s).
        heartbeat_timeout_millis: Option<i64> = optional "heartbeatTimeoutMillis",
        /// Absent = a pre-5.0 broker (slave-acting-master off).
        enable_acting_master: Option<bool> = optional "enableActingMaster",
        /// The body is the zlib-compressed binary form.
        compressed: bool = default(false) "compressed",
        /// `UtilAll.crc32(body)` (CRC32 masked to 31 bits); 0 = not checked.
        body_crc32: i32 = default(0) "bodyCrc32",
        /// Zone of the broker (`__ZONE_NAME`), if it announces one.
        zone_name: Option<String> = optional "__ZONE_NAME",
    }
}

command_header! {
    /// REGISTER_BROKER (103) response: the master's HA address and address for a slave.
    pub struct RegisterBrokerResponseHeader {
        ha_server_addr: Option<String> = optional "haServerAddr",
        master_addr: Option<String> = optional "masterAddr",
    }
}

command_header! {
    /// UNREGISTER_BROKER (104) request.
    pub struct UnregisterBrokerRequestHeader {
        broker_name: String = required "brokerName",
        broker_addr: String = required "brokerAddr",
        cluster_name: String = required "clusterName",
        broker_id: i64 = required "brokerId",
    }
}

command_header! {
    /// BROKER_HEARTBEAT (904) request (oneway, slave-acting-master mode). Note Java's
    /// spelling `heartbeatTimeoutMills` here, unlike REGISTER_BROKER's `…Millis`.
    pub struct BrokerHeartbeatRequestHeader {
        cluster_name: String = required "clusterName",
        broker_addr: String = required "brokerAddr",
        broker_name: String = required "brokerName",
        broker_id: Option<i64> = optional "brokerId",
        epoch: Option<i32> = optional "epoch",
        max_offset: Option<i64> = optional "maxOffset",
        confirm_offset: Option<i64> = optional "confirmOffset",
        heartbeat_timeout_mills: Option<i64> = optional "heartbeatTimeoutMills",
        election_priority: Option<i32> = optional "electionPriority",
    }
}

command_header! {
    /// QUERY_DATA_VERSION (322) request; the body is the broker's `DataVersion` JSON.
    pub struct QueryDataVersionRequestHeader {
        broker_name: String = required "brokerName",
        broker_addr: String = required "brokerAddr",
        cluster_name: String = required "clusterName",
        broker_id: i64 = required "brokerId",
    }
}

command_header! {
    /// QUERY_DATA_VERSION (322) response: whether the name server's copy differs.
    pub struct QueryDataVersionResponseHeader {
        changed: bool = required "changed",
    }
}

command_header! {
    /// GET_ROUTEINFO_BY_TOPIC (105) request.
    pub struct GetRouteInfoRequestHeader {
        topic: String = required "topic",
        accept_standard_json_only: Option<bool> = optional "acceptStandardJsonOnly",
    }
}

command_header! {
    /// DELETE_TOPIC_IN_NAMESRV (216) request; with `clusterName` only that cluster's
    /// brokers drop the topic.
    pub struct DeleteTopicFromNamesrvRequestHeader {
        topic: String = required "topic",
        cluster_name: Option<String> = optional "clusterName",
    }
}

command_header! {
    /// REGISTER_TOPIC_IN_NAMESRV (217) request; the body is a `TopicRouteData`.
    pub struct RegisterTopicRequestHeader {
        topic: String = required "topic",
    }
}

command_header! {
    /// PUT_KV_CONFIG (100) request.
    pub struct PutKvConfigRequestHeader {
        namespace: String = required "namespace",
        key: String = required "key",
        value: String = required "value",
    }
}

command_header! {
    /// GET_KV_CONFIG (101) request.
    pub struct GetKvConfigRequestHeader {
        namespace: String = required "namespace",
        key: String = required "key",
    }
}

command_header! {
    /// GET_KV_CONFIG (101) response.
    pub struct GetKvConfigResponseHeader {
        value: Option<String> = optional "value",
    }
}

command_header! {
    /// DELETE_KV_CONFIG (102) request.
    pub struct DeleteKvConfigRequestHeader {
        namespace: String = required "namespace",
        key: String = required "key",
    }
}

command_header! {
    /// GET_KVLIST_BY_NAMESPACE (219) request.
    pub struct GetKvListByNamespaceRequestHeader {
        namespace: String = required "namespace",
    }
}

command_header! {
    /// WIPE_WRITE_PERM_OF_BROKER (205) request.
    pub struct WipeWritePermOfBrokerRequestHeader {
        broker_name: String = required "brokerName",
    }
}

command_header! {
    /// WIPE_WRITE_PERM_OF_BROKER (205) response: how many topics lost write permission.
    pub struct WipeWritePermOfBrokerResponseHeader {
        wipe_topic_count: i32 = required "wipeTopicCount",
    }
}

command_header! {
    /// ADD_WRITE_PERM_OF_BROKER (327) request.
    pub struct AddWritePermOfBrokerRequestHeader {
        broker_name: String = required "brokerName",
    }
}

command_header! {
    /// ADD_WRITE_PERM_OF_BROKER (327) response: how many topics regained read+write.
    pub struct AddWritePermOfBrokerResponseHeader {
        add_topic_count: i32 = required "addTopicCount",
    }
}

command_header! {
    /// GET_TOPICS_BY_CLUSTER (224) request.
    pub struct GetTopicsByClusterRequestHeader {
        cluster: String = required "cluster",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(pairs: &[(&str, &str)]) -> ExtFields {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn register_broker_round_trip_and_defaults() {
        let fields = ext(&[
            ("brokerName", "broker-a"),
            ("brokerAddr", "10.0.0.5:10911"),
            ("clusterName", "DefaultCluster"),
            ("haServerAddr", "10.0.0.5:10912"),
            ("brokerId", "0"),
        ]);
        let header = RegisterBrokerRequestHeader::decode(&fields).unwrap();
        assert_eq!(header.broker_id, 0);
        assert!(!header.compressed);
        assert_eq!(header.body_crc32, 0);
        assert_eq!(header.heartbeat_timeout_millis, None);
        assert_eq!(header.enable_acting_master, None);

        let full = RegisterBrokerRequestHeader {
            heartbeat_timeout_millis: Some(30_000),
            enable_acting_master: Some(false),
            compressed: true,
            body_crc32: 12345,
            zone_name: Some("z1".to_owned()),
            ..header
        };
        let mut out = ExtFields::new();
        full.encode(&mut out);
        assert_eq!(out.get("compressed"), Some("true"));
        assert_eq!(out.get("bodyCrc32"), Some("12345"));
        assert_eq!(out.get("__ZONE_NAME"), Some("z1"));
        assert_eq!(RegisterBrokerRequestHeader::decode(&out).unwrap(), full);
    }

    #[test]
    fn missing_required_field_is_named() {
        let fields = ext(&[
            ("brokerName", "b"),
            ("brokerAddr", "a"),
            ("clusterName", "c"),
        ]);
        assert_eq!(
            UnregisterBrokerRequestHeader::decode(&fields),
            Err(WireError::MissingField("brokerId"))
        );
        assert_eq!(
            GetRouteInfoRequestHeader::decode_optional(None),
            Err(WireError::MissingField("topic"))
        );
    }

    #[test]
    fn lenient_values_and_bad_values() {
        let fields = ext(&[("topic", "T"), ("acceptStandardJsonOnly", "1")]);
        let header = GetRouteInfoRequestHeader::decode(&fields).unwrap();
        assert_eq!(header.accept_standard_json_only, Some(true));
        let fields = ext(&[
            ("clusterName", "c"),
            ("brokerAddr", "a"),
            ("brokerName", "b"),
            ("brokerId", " 1 "),
            ("heartbeatTimeoutMills", "x"),
        ]);
        assert!(matches!(
            BrokerHeartbeatRequestHeader::decode(&fields),
            Err(WireError::InvalidField {
                field: "heartbeatTimeoutMills",
                ..
            })
        ));
    }

    #[test]
    fn response_headers_write_strings() {
        let mut out = ExtFields::new();
        QueryDataVersionResponseHeader { changed: true }.encode(&mut out);
        WipeWritePermOfBrokerResponseHeader {
            wipe_topic_count: 3,
        }
        .encode(&mut out);
        AddWritePermOfBrokerResponseHeader { add_topic_count: 4 }.encode(&mut out);
        RegisterBrokerResponseHeader {
            ha_server_addr: None,
            master_addr: Some("m:1".to_owned()),
        }
        .encode(&mut out);
        assert_eq!(out.get("changed"), Some("true"));
        assert_eq!(out.get("wipeTopicCount"), Some("3"));
        assert_eq!(out.get("addTopicCount"), Some("4"));
        assert_eq!(out.get("masterAddr"), Some("m:1"));
        assert_eq!(out.get("haServerAddr"), None);
    }

    #[test]
    fn every_header_decodes_its_own_encoding() {
        fn round_trip<H: CommandHeader + PartialEq + std::fmt::Debug>(header: &H) {
            let mut out = ExtFields::new();
            header.encode(&mut out);
            assert_eq!(&H::decode(&out).unwrap(), header);
        }
        round_trip(&PutKvConfigRequestHeader {
            namespace: "ORDER_TOPIC_CONFIG".into(),
            key: "T".into(),
            value: "broker-a:4".into(),
        });
        round_trip(&GetKvConfigRequestHeader::default());
        round_trip(&GetKvConfigResponseHeader {
            value: Some("v".into()),
        });
        round_trip(&DeleteKvConfigRequestHeader::default());
        round_trip(&GetKvListByNamespaceRequestHeader::default());
        round_trip(&DeleteTopicFromNamesrvRequestHeader {
            topic: "T".into(),
            cluster_name: Some("c".into()),
        });
        round_trip(&RegisterTopicRequestHeader::default());
        round_trip(&QueryDataVersionRequestHeader::default());
        round_trip(&WipeWritePermOfBrokerRequestHeader::default());
        round_trip(&AddWritePermOfBrokerRequestHeader::default());
        round_trip(&GetTopicsByClusterRequestHeader::default());
        round_trip(&BrokerHeartbeatRequestHeader {
            broker_id: Some(1),
            epoch: Some(2),
            max_offset: Some(3),
            confirm_offset: Some(4),
            heartbeat_timeout_mills: Some(5),
            election_priority: Some(6),
            ..BrokerHeartbeatRequestHeader::default()
        });
    }
}
