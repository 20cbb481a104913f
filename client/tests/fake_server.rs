//! Client behaviour against scripted in-process servers speaking the remoting protocol:
//! pipelining, timeouts, connection loss, name server failover, route parsing, send retries,
//! the TBW102 fallback and compression. These need no broker and pin down behaviour a real
//! broker cannot easily be made to show (out-of-order answers, SYSTEM_BUSY on demand).

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use client::remoting::Connection;
use client::{ClientConfig, ClientError, ClientInstance, Message, Producer, ProducerOptions};
use protocol::code::{request, response};
use protocol::frame::{self, FrameCheck};
use protocol::{RemotingCommand, SerializeType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

type Handler = Arc<dyn Fn(&RemotingCommand) -> Option<(Duration, RemotingCommand)> + Send + Sync>;

/// A server that answers each request with what `handler` returns (after the delay); `None`
/// closes the connection.
async fn fake_server(handler: Handler) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let _ = socket.set_nodelay(true);
            tokio::spawn(async move {
                let (mut reader, writer) = socket.into_split();
                let writer = Arc::new(tokio::sync::Mutex::new(writer));
                let mut buffer = BytesMut::new();
                loop {
                    while let Ok(FrameCheck::Complete { frame_bytes }) =
                        frame::check(&buffer, 1 << 24)
                    {
                        let frame = buffer.split_to(frame_bytes).freeze();
                        let (request, _) = RemotingCommand::decode_bytes(&frame, 1 << 24).unwrap();
                        let Some((delay, response)) = handler(&request) else {
                            return;
                        };
                        if request.is_oneway() {
                            continue;
                        }
                        let writer = writer.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(delay).await;
                            let mut out = BytesMut::new();
                            response.encode(&mut out).unwrap();
                            let _ = writer.lock().await.write_all(&out).await;
                        });
                    }
                    if reader.read_buf(&mut buffer).await.unwrap_or(0) == 0 {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn reply(request: &RemotingCommand, code: i32) -> RemotingCommand {
    let mut response = RemotingCommand::response_to(request, code);
    response.ext_mut();
    response
}

fn request_with(code: i32, key: &str, value: &str) -> RemotingCommand {
    let mut request = RemotingCommand::request(code, 0, SerializeType::Json);
    request.ext_mut().insert(key, value);
    request
}

#[tokio::test]
async fn pipelined_requests_complete_out_of_order() {
    let addr = fake_server(Arc::new(|request| {
        let index: u64 = request.ext("i").unwrap().parse().unwrap();
        let response = reply(request, 0).with_remark(format!("answer {index}"));
        Some((Duration::from_millis(100 - index * 2), response))
    }))
    .await;
    let connection = Connection::connect(&addr, Duration::from_secs(1), None)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let calls: Vec<_> = (0..50u64)
        .map(|i| {
            let connection = connection.clone();
            tokio::spawn(async move {
                let response = connection
                    .request(
                        request_with(999, "i", &i.to_string()),
                        Duration::from_secs(5),
                    )
                    .await
                    .unwrap();
                assert_eq!(
                    response.remark.as_deref(),
                    Some(format!("answer {i}").as_str())
                );
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap();
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(2),
        "requests were pipelined, not serialized: {elapsed:?}"
    );
}

#[tokio::test]
async fn frames_beyond_the_outbound_bound_wait_and_all_complete() {
    let addr = fake_server(Arc::new(|request| {
        let response = reply(request, 0).with_body(request.body.clone());
        Some((Duration::ZERO, response))
    }))
    .await;
    let connection = Connection::connect(&addr, Duration::from_secs(1), None)
        .await
        .unwrap();
    let body_bytes = 1024 * 1024;
    let calls = 3 * client::remoting::connection::OUTBOUND_BYTES_MAX / body_bytes;
    let calls: Vec<_> = (0..calls)
        .map(|i| {
            let connection = connection.clone();
            tokio::spawn(async move {
                let body = vec![u8::try_from(i % 251).unwrap(); body_bytes];
                let request = request_with(999, "i", &i.to_string()).with_body(body.clone());
                let response = connection
                    .request(request, Duration::from_secs(10))
                    .await
                    .unwrap();
                assert_eq!(response.body, body);
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap();
    }
    assert!(!connection.is_closed());
}

#[tokio::test]
async fn requests_after_close_fail_as_closed() {
    let addr = fake_server(Arc::new(|request| {
        Some((Duration::ZERO, reply(request, 0)))
    }))
    .await;
    let connection = Connection::connect(&addr, Duration::from_secs(1), None)
        .await
        .unwrap();
    connection.close();
    let error = connection
        .request(request_with(1, "a", "b"), Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ClientError::ConnectionClosed { .. }),
        "{error}"
    );
    let error = connection
        .oneway(request_with(1, "a", "b"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ClientError::ConnectionClosed { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn timeout_then_the_connection_still_works() {
    let addr = fake_server(Arc::new(|request| {
        let delay = if request.ext("slow").is_some() {
            500
        } else {
            0
        };
        Some((Duration::from_millis(delay), reply(request, 0)))
    }))
    .await;
    let connection = Connection::connect(&addr, Duration::from_secs(1), None)
        .await
        .unwrap();
    let error = connection
        .request(request_with(1, "slow", "1"), Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ClientError::Timeout { code: 1, .. }),
        "{error}"
    );
    let fast = connection
        .request(request_with(2, "x", "1"), Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(fast.code, 0);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        !connection.is_closed(),
        "a late answer is dropped, not fatal"
    );
}

#[tokio::test]
async fn lost_connection_fails_pending_requests() {
    let addr = fake_server(Arc::new(|_| None)).await;
    let connection = Connection::connect(&addr, Duration::from_secs(1), None)
        .await
        .unwrap();
    let error = connection
        .request(request_with(1, "a", "b"), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ClientError::ConnectionClosed { .. }),
        "{error}"
    );
    assert!(connection.is_closed());
}

#[tokio::test]
async fn oneway_requests_carry_the_oneway_flag() {
    let flags = Arc::new(Mutex::new(Vec::new()));
    let seen = flags.clone();
    let addr = fake_server(Arc::new(move |request| {
        seen.lock().unwrap().push(request.flag);
        Some((Duration::ZERO, reply(request, 0)))
    }))
    .await;
    let connection = Connection::connect(&addr, Duration::from_secs(1), None)
        .await
        .unwrap();
    connection.oneway(request_with(15, "a", "b")).await.unwrap();
    connection
        .request(request_with(16, "a", "b"), Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(*flags.lock().unwrap(), [2, 0]);
}

fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    addr
}

/// fastjson's unquoted broker-id keys, as older name servers send.
fn route_body(brokers: &[(&str, &str)]) -> String {
    let broker_datas: Vec<String> = brokers
        .iter()
        .map(|(name, addr)| {
            format!(r#"{{"brokerAddrs":{{0:"{addr}"}},"brokerName":"{name}","cluster":"c"}}"#)
        })
        .collect();
    let queue_datas: Vec<String> = brokers
        .iter()
        .map(|(name, _)| format!(r#"{{"brokerName":"{name}","perm":6,"readQueueNums":2,"topicSysFlag":0,"writeQueueNums":2}}"#))
        .collect();
    format!(
        r#"{{"brokerDatas":[{}],"filterServerTable":{{}},"queueDatas":[{}]}}"#,
        broker_datas.join(","),
        queue_datas.join(",")
    )
}

async fn fake_namesrv(routes: Vec<(String, String)>) -> String {
    fake_server(Arc::new(move |request| {
        let response = match request.code {
            request::GET_ROUTEINFO_BY_TOPIC => {
                let topic = request.ext("topic").unwrap_or_default();
                match routes.iter().find(|(name, _)| name == topic) {
                    Some((_, body)) => reply(request, 0).with_body(body.clone().into_bytes()),
                    None => reply(request, response::TOPIC_NOT_EXIST),
                }
            }
            _ => reply(request, 0),
        };
        Some((Duration::ZERO, response))
    }))
    .await
}

#[tokio::test]
async fn name_server_failover_and_unquoted_route_keys() {
    let namesrv = fake_namesrv(vec![(
        "T".into(),
        route_body(&[("broker-a", "127.0.0.1:10911")]),
    )])
    .await;
    let config = ClientConfig::with_namesrv(format!("{};{namesrv}", closed_port()));
    let instance = ClientInstance::start(config).unwrap();
    // Whichever name server is tried first, the live one answers.
    for _ in 0..2 {
        let route = instance.fetch_route("T").await.unwrap();
        assert_eq!(
            route.broker_datas[0]
                .broker_addrs
                .get(&0)
                .map(String::as_str),
            Some("127.0.0.1:10911")
        );
    }
    let missing = instance.fetch_route("Nope").await.unwrap_err();
    assert!(
        matches!(missing, ClientError::TopicNotExist { .. }),
        "{missing}"
    );
    instance.shutdown().await;

    let dead = ClientInstance::start(ClientConfig::with_namesrv(closed_port())).unwrap();
    let error = dead.fetch_route("T").await.unwrap_err();
    assert!(
        matches!(error, ClientError::NameServerUnreachable { .. }),
        "{error}"
    );
}

#[derive(Default)]
struct Seen {
    sends: Vec<(String, RemotingCommand)>,
}

/// A broker that answers sends with `code` (and success fields when 0).
async fn fake_broker(name: &'static str, code: i32, seen: Arc<Mutex<Seen>>) -> String {
    fake_server(Arc::new(move |request| {
        let mut response = reply(request, 0);
        if matches!(
            request.code,
            request::SEND_MESSAGE_V2 | request::SEND_BATCH_MESSAGE
        ) {
            seen.lock()
                .unwrap()
                .sends
                .push((name.to_owned(), request.clone()));
            response = reply(request, code);
            if code == 0 {
                let ext = response.ext_mut();
                ext.insert("msgId", "7F00000100002A9F0000000000000000");
                ext.insert("queueId", request.ext("e").unwrap_or("0"));
                ext.insert("queueOffset", "0");
            }
        }
        Some((Duration::ZERO, response))
    }))
    .await
}

async fn producer_for(namesrv: &str) -> Producer {
    let mut options = ProducerOptions::new("pg", Some(namesrv));
    options.send_latency_fault_enable = true;
    Producer::start(options).await.unwrap()
}

#[tokio::test]
async fn retryable_codes_retry_on_another_broker() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let busy = fake_broker("a", response::SYSTEM_BUSY, seen.clone()).await;
    let good = fake_broker("b", 0, seen.clone()).await;
    let namesrv = fake_namesrv(vec![(
        "T".into(),
        route_body(&[("a", &busy), ("b", &good)]),
    )])
    .await;
    let producer = producer_for(&namesrv).await;
    for _ in 0..4 {
        let sent = producer.send(Message::new("T", "x")).await.unwrap();
        assert_eq!(sent.queue.broker_name, "b");
    }
    let sends = seen.lock().unwrap().sends.clone();
    let tries_on_a = sends.iter().filter(|(broker, _)| broker == "a").count();
    assert!(
        tries_on_a <= 1,
        "broker a is avoided after it failed (tried {tries_on_a} times)"
    );
    let unique_key = |request: &RemotingCommand| {
        protocol::message::Properties::parse(request.ext("i").unwrap())
            .get("UNIQ_KEY")
            .map(str::to_owned)
    };
    for window in sends.windows(2) {
        if window[0].0 == "a" {
            assert_eq!(
                window[1].0, "b",
                "the retry avoids the broker that just failed"
            );
            assert_eq!(
                unique_key(&window[0].1),
                unique_key(&window[1].1),
                "a retry keeps the message id (as Java does), so consumers can de-duplicate"
            );
        }
    }
    assert!(tries_on_a >= 1, "the first send tried broker a");
    producer.shutdown().await;
}

#[tokio::test]
async fn non_retryable_codes_fail_at_once_and_retryable_ones_exhaust_attempts() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let illegal = fake_broker("a", response::MESSAGE_ILLEGAL, seen.clone()).await;
    let namesrv = fake_namesrv(vec![("T".into(), route_body(&[("a", &illegal)]))]).await;
    let producer = producer_for(&namesrv).await;
    let error = producer.send(Message::new("T", "x")).await.unwrap_err();
    assert!(
        matches!(error, ClientError::SendFailed { attempts: 1, .. }),
        "{error}"
    );
    assert_eq!(error.response_code(), Some(response::MESSAGE_ILLEGAL));
    producer.shutdown().await;

    let busy = fake_broker("a", response::SYSTEM_BUSY, seen.clone()).await;
    let namesrv = fake_namesrv(vec![("T".into(), route_body(&[("a", &busy)]))]).await;
    let producer = producer_for(&namesrv).await;
    let error = producer.send(Message::new("T", "x")).await.unwrap_err();
    assert!(
        matches!(error, ClientError::SendFailed { attempts: 3, .. }),
        "{error}"
    );
    producer.shutdown().await;
}

#[tokio::test]
async fn unknown_topic_uses_tbw102_and_large_bodies_are_compressed() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let broker = fake_broker("a", 0, seen.clone()).await;
    let namesrv = fake_namesrv(vec![("TBW102".into(), route_body(&[("a", &broker)]))]).await;
    let producer = producer_for(&namesrv).await;
    let body = "z".repeat(10_000);
    let sent = producer
        .send(Message::new("NewTopic", body.clone()).with_tags("t"))
        .await
        .unwrap();
    assert_eq!(sent.msg_id.len(), 32);
    let (_, request) = seen.lock().unwrap().sends.pop().unwrap();
    assert_eq!(request.code, request::SEND_MESSAGE_V2);
    assert_eq!(request.ext("b"), Some("NewTopic"));
    assert_eq!(request.ext("c"), Some("TBW102"));
    assert_eq!(request.ext("d"), Some("4"));
    let sys_flag: i32 = request.ext("f").unwrap().parse().unwrap();
    assert_ne!(sys_flag & protocol::message::sys_flag::COMPRESSED, 0);
    assert!(
        request.body.len() < 1000,
        "compressed: {} bytes",
        request.body.len()
    );
    let mut inflated = String::new();
    flate2::read::ZlibDecoder::new(&request.body[..])
        .read_to_string(&mut inflated)
        .unwrap();
    assert_eq!(inflated, body);
    let properties = protocol::message::Properties::parse(request.ext("i").unwrap());
    assert_eq!(properties.get("UNIQ_KEY"), Some(sent.msg_id.as_str()));
    assert_eq!(properties.get("TAGS"), Some("t"));
    producer.shutdown().await;
}

#[tokio::test]
async fn batch_send_uses_send_batch_message() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let broker = fake_broker("a", 0, seen.clone()).await;
    let namesrv = fake_namesrv(vec![("T".into(), route_body(&[("a", &broker)]))]).await;
    let producer = producer_for(&namesrv).await;
    let sent = producer
        .send_batch(vec![Message::new("T", "one"), Message::new("T", "two")])
        .await
        .unwrap();
    assert_eq!(sent.msg_id.split(',').count(), 2);
    let (_, request) = seen.lock().unwrap().sends.pop().unwrap();
    assert_eq!(request.code, request::SEND_BATCH_MESSAGE);
    assert_eq!(request.ext("m"), Some("true"));
    let properties = protocol::message::Properties::parse(request.ext("i").unwrap());
    assert!(
        properties.iter().all(|(name, _)| !name.starts_with('\0')),
        "the batch markers stay on the client: {properties:?}"
    );
    assert_eq!(properties.get("UNIQ_KEY"), None);
    let entries = protocol::message::batch::decode_batch(&request.body).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].body, b"two");
    let mixed = producer
        .send_batch(vec![Message::new("T", "one"), Message::new("U", "two")])
        .await
        .unwrap_err();
    assert!(matches!(mixed, ClientError::InvalidArgument(_)));
    producer.shutdown().await;
}
