use super::*;
use crate::frame::FRAME_BYTES_MAX_DEFAULT;
use proptest::prelude::*;

fn route_request(serialize_type: SerializeType) -> RemotingCommand {
    let mut command = RemotingCommand::request(105, 1, serialize_type);
    command.language = LanguageCode::JAVA;
    command.ext_mut().insert("topic", "T");
    command
}

#[test]
fn json_golden_bytes_match_the_reference() {
    let expected_header = br#"{"code":105,"extFields":{"topic":"T"},"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":479}"#;
    assert_eq!(expected_header.len(), 123);
    let mut out = BytesMut::new();
    let command = route_request(SerializeType::Json);
    command.encode(&mut out).unwrap();
    assert_eq!(&out[..8], &[0, 0, 0, 0x7f, 0, 0, 0, 0x7b]);
    assert_eq!(&out[8..], expected_header);
    assert_eq!(out.len(), command.encoded_size());
    let (decoded, consumed) = RemotingCommand::decode(&out, FRAME_BYTES_MAX_DEFAULT).unwrap();
    assert_eq!(consumed, out.len());
    assert_eq!(decoded, command);
}

#[test]
fn binary_golden_bytes_match_the_reference() {
    let expected: [u8; 41] = [
        0x00, 0x00, 0x00, 0x25, 0x01, 0x00, 0x00, 0x21, 0x00, 0x69, 0x00, 0x01, 0xdf, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00,
        0x05, 0x74, 0x6f, 0x70, 0x69, 0x63, 0x00, 0x00, 0x00, 0x01, 0x54,
    ];
    let mut out = BytesMut::new();
    let command = route_request(SerializeType::RocketMq);
    command.encode(&mut out).unwrap();
    assert_eq!(&out[..], &expected[..]);
    let (decoded, consumed) = RemotingCommand::decode(&expected, FRAME_BYTES_MAX_DEFAULT).unwrap();
    assert_eq!(consumed, expected.len());
    assert_eq!(decoded, command);
}

fn json_frame(header: &str, body: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    let length = 4 + header.len() + body.len();
    frame.extend_from_slice(&u32::try_from(length).unwrap().to_be_bytes());
    frame.extend_from_slice(&u32::try_from(header.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(header.as_bytes());
    frame.extend_from_slice(body);
    frame
}

#[test]
fn lenient_json_forms_are_accepted() {
    // Field order varies, serializeTypeCurrentRPC missing, numeric and boolean ext values,
    // null remark, unknown keys, language as an ordinal.
    let header = r#"{"version":474,"remark":null,"unknown":{"x":[1,2]},"opaque":"7","flag":2,"language":12,"code":15,"extFields":{"queueId":3,"commitOffset":12345678901234,"oneway":true,"gone":null,"f":1.5}}"#;
    let frame = json_frame(header, b"body");
    let (command, consumed) = RemotingCommand::decode(&frame, FRAME_BYTES_MAX_DEFAULT).unwrap();
    assert_eq!(consumed, frame.len());
    assert_eq!(command.code, 15);
    assert_eq!(command.opaque, 7);
    assert!(command.is_oneway());
    assert_eq!(command.language, LanguageCode::RUST);
    assert_eq!(command.remark, None);
    assert_eq!(command.ext("queueId"), Some("3"));
    assert_eq!(command.ext("commitOffset"), Some("12345678901234"));
    assert_eq!(command.ext("oneway"), Some("true"));
    assert_eq!(command.ext("gone"), None);
    assert_eq!(command.ext("f"), Some("1.5"));
    assert_eq!(&command.body[..], b"body");

    let go_header = r#"{"code":34,"language":"GO","version":317,"opaque":2,"flag":0,"remark":"","extFields":{}}"#;
    let (command, _) =
        RemotingCommand::decode(&json_frame(go_header, b""), FRAME_BYTES_MAX_DEFAULT).unwrap();
    assert_eq!(command.language, LanguageCode::GO);
    assert_eq!(command.remark.as_deref(), Some(""));
    assert_eq!(command.ext_fields, Some(ExtFields::new()));

    let null_ext = r#"{"code":34,"language":"SOMETHING_NEW","extFields":null}"#;
    let (command, _) =
        RemotingCommand::decode(&json_frame(null_ext, b""), FRAME_BYTES_MAX_DEFAULT).unwrap();
    assert_eq!(command.ext_fields, None);
    assert_eq!(command.language, LanguageCode::OTHER);
}

#[test]
fn response_answers_in_the_request_encoding() {
    for serialize_type in [SerializeType::Json, SerializeType::RocketMq] {
        let request = route_request(serialize_type);
        let response =
            RemotingCommand::response_to(&request, 17).with_remark("No topic route info");
        assert_eq!(response.serialize_type, serialize_type);
        assert_eq!(response.opaque, request.opaque);
        assert!(response.is_response());
        let mut out = BytesMut::new();
        response.encode(&mut out).unwrap();
        let (decoded, _) = RemotingCommand::decode(&out, FRAME_BYTES_MAX_DEFAULT).unwrap();
        assert_eq!(decoded.code, 17);
        assert_eq!(decoded.remark.as_deref(), Some("No topic route info"));
    }
}

#[test]
fn invalid_inputs_are_errors_not_panics() {
    let bad_json = json_frame("{\"code\":", b"");
    assert!(matches!(
        RemotingCommand::decode(&bad_json, FRAME_BYTES_MAX_DEFAULT),
        Err(WireError::InvalidJson { .. })
    ));
    let mut bad_type = json_frame("{}", b"");
    bad_type[4] = 7;
    assert_eq!(
        RemotingCommand::decode(&bad_type, FRAME_BYTES_MAX_DEFAULT),
        Err(WireError::UnknownSerializeType(7))
    );
    // Binary header with a remark length running past the header.
    let mut header = vec![0, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    header.extend_from_slice(&100i32.to_be_bytes());
    let mut frame = Vec::new();
    frame.extend_from_slice(&u32::try_from(4 + header.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(&(0x0100_0000u32 | u32::try_from(header.len()).unwrap()).to_be_bytes());
    frame.extend_from_slice(&header);
    assert_eq!(
        RemotingCommand::decode(&frame, FRAME_BYTES_MAX_DEFAULT),
        Err(WireError::Truncated { field: "remark" })
    );
    // Negative ext length.
    let mut header = vec![0, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    header.extend_from_slice(&(-1i32).to_be_bytes());
    let mut frame = Vec::new();
    frame.extend_from_slice(&u32::try_from(4 + header.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(&(0x0100_0000u32 | u32::try_from(header.len()).unwrap()).to_be_bytes());
    frame.extend_from_slice(&header);
    assert!(matches!(
        RemotingCommand::decode(&frame, FRAME_BYTES_MAX_DEFAULT),
        Err(WireError::InvalidField { .. })
    ));
    // Invalid UTF-8 in a binary ext key.
    let mut ext = vec![0, 2, 0xff, 0xfe, 0, 0, 0, 1, b'v'];
    let mut header = vec![0, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    header.extend_from_slice(&i32::try_from(ext.len()).unwrap().to_be_bytes());
    header.append(&mut ext);
    let mut frame = Vec::new();
    frame.extend_from_slice(&u32::try_from(4 + header.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(&(0x0100_0000u32 | u32::try_from(header.len()).unwrap()).to_be_bytes());
    frame.extend_from_slice(&header);
    assert_eq!(
        RemotingCommand::decode(&frame, FRAME_BYTES_MAX_DEFAULT),
        Err(WireError::InvalidUtf8 {
            field: "extFields key"
        })
    );
}

#[test]
fn binary_refuses_codes_past_i16() {
    let command = RemotingCommand::request(200_050, 1, SerializeType::RocketMq);
    assert!(command.encode(&mut BytesMut::new()).is_err());
    let command = RemotingCommand::request(200_050, 1, SerializeType::Json);
    assert!(command.encode(&mut BytesMut::new()).is_ok());
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_%|]{1,20}",
        any::<String>().prop_filter("non-empty", |text| !text.is_empty()),
    ]
}

prop_compose! {
    fn arb_command()(
        code in -32768i32..32767,
        language in 0u8..14,
        version in -32768i32..32767,
        opaque in any::<i32>(),
        flag in 0i32..4,
        remark in proptest::option::of(arb_text()),
        ext in proptest::option::of(proptest::collection::vec((arb_text(), arb_text()), 0..8)),
        json in any::<bool>(),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) -> RemotingCommand {
        RemotingCommand {
            code,
            language: LanguageCode(language),
            version,
            opaque,
            flag,
            remark,
            ext_fields: ext.map(|pairs| pairs.into_iter().collect()),
            serialize_type: if json { SerializeType::Json } else { SerializeType::RocketMq },
            body: Bytes::from(body),
        }
    }
}

proptest! {
    #[test]
    fn round_trip_both_encodings(command in arb_command()) {
        let mut out = BytesMut::new();
        command.encode(&mut out).unwrap();
        prop_assert_eq!(out.len(), command.encoded_size());
        let (decoded, consumed) = RemotingCommand::decode(&out, FRAME_BYTES_MAX_DEFAULT).unwrap();
        prop_assert_eq!(consumed, out.len());
        let mut expected = command.clone();
        if command.serialize_type == SerializeType::RocketMq {
            // The binary header cannot tell an empty map from null.
            if expected.ext_fields.as_ref().is_some_and(ExtFields::is_empty) {
                expected.ext_fields = None;
            }
        }
        prop_assert_eq!(decoded, expected);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = crate::frame::check(&bytes, 1024);
        let _ = RemotingCommand::decode(&bytes, 1024);
        let _ = RemotingCommand::decode_parts(SerializeType::Json, &bytes, Bytes::new());
        let _ = RemotingCommand::decode_parts(SerializeType::RocketMq, &bytes, Bytes::new());
    }
}
