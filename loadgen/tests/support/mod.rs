//! A tiny in-process RocketMQ-protocol broker + name server on one loopback port, enough
//! for loadgen's raw target: route lookup, topic creation, SEND_MESSAGE_V2 / batch (stored
//! as real records), GET_MAX_OFFSET and long-polling PULL_MESSAGE. Test code only; it
//! stands in until `broker::spawn` exists.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use protocol::code::{request, response};
use protocol::message::{BatchIter, RecordFields};
use protocol::RemotingCommand;

use loadgen::target::raw::wire::{FrameReader, Received};

#[derive(Default)]
struct Store {
    /// queue id → stored records.
    queues: HashMap<u32, Vec<Vec<u8>>>,
    physical_offset: i64,
}

pub struct MockBroker {
    pub address: SocketAddr,
    stop: Arc<AtomicBool>,
    store: Arc<Mutex<Store>>,
}

impl MockBroker {
    pub fn start() -> MockBroker {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let store = Arc::new(Mutex::new(Store::default()));
        {
            let (stop, store) = (Arc::clone(&stop), Arc::clone(&store));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (stop, store) = (Arc::clone(&stop), Arc::clone(&store));
                            std::thread::spawn(move || serve(stream, address, &store, &stop));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
        }
        MockBroker {
            address,
            stop,
            store,
        }
    }

    pub fn stored_messages(&self) -> usize {
        self.store
            .lock()
            .unwrap()
            .queues
            .values()
            .map(Vec::len)
            .sum()
    }
}

impl Drop for MockBroker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

fn route_json(address: SocketAddr, topic: &str) -> String {
    format!(
        r#"{{"brokerDatas":[{{"brokerAddrs":{{0:"{address}"}},"brokerName":"mock-a","cluster":"DefaultCluster"}}],"queueDatas":[{{"brokerName":"mock-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}}],"topic":"{topic}"}}"#
    )
}

fn serve(
    stream: TcpStream,
    address: SocketAddr,
    store: &Arc<Mutex<Store>>,
    stop: &Arc<AtomicBool>,
) {
    let writer = Arc::new(Mutex::new(stream.try_clone().expect("clone")));
    let mut reader_stream = stream;
    reader_stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let mut reader = FrameReader::default();
    while !stop.load(Ordering::Acquire) {
        let command = match reader.next(&mut reader_stream) {
            Ok(Received::Command(command)) => command,
            Ok(Received::Idle) => continue,
            _ => return,
        };
        if command.code == request::PULL_MESSAGE {
            let (writer, store, stop) = (Arc::clone(&writer), Arc::clone(store), Arc::clone(stop));
            std::thread::spawn(move || {
                let reply = pull(&command, &store, &stop);
                write(&writer, &reply);
            });
            continue;
        }
        let reply = handle(&command, address, store);
        if !command.is_oneway() {
            write(&writer, &reply);
        }
    }
}

fn write(writer: &Mutex<TcpStream>, reply: &RemotingCommand) {
    let mut buffer = BytesMut::new();
    reply.encode(&mut buffer).expect("encode");
    let _ = writer.lock().unwrap().write_all(&buffer);
}

fn handle(command: &RemotingCommand, address: SocketAddr, store: &Mutex<Store>) -> RemotingCommand {
    match command.code {
        request::GET_ROUTEINFO_BY_TOPIC => {
            let topic = command.ext("topic").unwrap_or_default();
            RemotingCommand::response_to(command, response::SUCCESS)
                .with_body(route_json(address, topic).into_bytes())
        }
        request::UPDATE_AND_CREATE_TOPIC => {
            RemotingCommand::response_to(command, response::SUCCESS)
        }
        request::GET_MAX_OFFSET => {
            let queue_id: u32 = command
                .ext("queueId")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let length = store
                .lock()
                .unwrap()
                .queues
                .get(&queue_id)
                .map_or(0, Vec::len);
            let mut reply = RemotingCommand::response_to(command, response::SUCCESS);
            reply.ext_mut().insert("offset", length.to_string());
            reply
        }
        request::SEND_MESSAGE_V2 | request::SEND_BATCH_MESSAGE => send(command, store),
        _ => RemotingCommand::response_to(command, response::REQUEST_CODE_NOT_SUPPORTED),
    }
}

fn send(command: &RemotingCommand, store: &Mutex<Store>) -> RemotingCommand {
    let queue_id: u32 = command.ext("e").and_then(|v| v.parse().ok()).unwrap_or(0);
    let topic = command.ext("b").unwrap_or_default().to_owned();
    let born: i64 = command.ext("g").and_then(|v| v.parse().ok()).unwrap_or(0);
    let bodies: Vec<(Vec<u8>, String)> = if command.code == request::SEND_BATCH_MESSAGE {
        BatchIter::new(&command.body)
            .map_while(Result::ok)
            .map(|entry| (entry.body.to_vec(), entry.properties.to_owned()))
            .collect()
    } else {
        vec![(
            command.body.to_vec(),
            command.ext("i").unwrap_or_default().to_owned(),
        )]
    };
    let mut store = store.lock().unwrap();
    let mut first_offset = None;
    for (body, properties) in bodies {
        let queue_offset = store.queues.get(&queue_id).map_or(0, Vec::len) as i64;
        first_offset.get_or_insert(queue_offset);
        let record = RecordFields {
            queue_id: queue_id as i32,
            flag: 0,
            queue_offset,
            physical_offset: store.physical_offset,
            sys_flag: 0,
            born_timestamp_ms: born,
            born_host: "127.0.0.1:1".parse().unwrap(),
            store_timestamp_ms: born,
            store_host: "127.0.0.1:2".parse().unwrap(),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: &body,
            topic: &topic,
            properties: &properties,
        };
        let mut bytes = BytesMut::new();
        record.encode(&mut bytes).expect("record");
        store.physical_offset += bytes.len() as i64;
        store
            .queues
            .entry(queue_id)
            .or_default()
            .push(bytes.to_vec());
    }
    let mut reply = RemotingCommand::response_to(command, response::SUCCESS);
    let fields = reply.ext_mut();
    fields.insert("msgId", "00000000000000000000000000000000");
    fields.insert("queueId", queue_id.to_string());
    fields.insert("queueOffset", first_offset.unwrap_or(0).to_string());
    reply
}

fn pull(command: &RemotingCommand, store: &Mutex<Store>, stop: &AtomicBool) -> RemotingCommand {
    let queue_id: u32 = command
        .ext("queueId")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let offset: usize = command
        .ext("queueOffset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let max: usize = command
        .ext("maxMsgNums")
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let deadline = Instant::now() + Duration::from_millis(200);
    loop {
        {
            let store = store.lock().unwrap();
            let records = store.queues.get(&queue_id).map_or(&[][..], Vec::as_slice);
            if offset < records.len() {
                let end = (offset + max).min(records.len());
                let body: Vec<u8> = records[offset..end].concat();
                let mut reply =
                    RemotingCommand::response_to(command, response::SUCCESS).with_body(body);
                reply.ext_mut().insert("nextBeginOffset", end.to_string());
                return reply;
            }
        }
        if Instant::now() >= deadline || stop.load(Ordering::Acquire) {
            let mut reply = RemotingCommand::response_to(command, response::PULL_NOT_FOUND);
            reply
                .ext_mut()
                .insert("nextBeginOffset", offset.to_string());
            return reply;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
