package interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.client.producer.selector.SelectMessageQueueByHash;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;

/**
 * Interop test programs on the unchanged Apache RocketMQ Java client.
 *
 * <pre>
 * java -cp 'target/interop-java.jar:target/lib/*' interop.Main TEST -n HOST:PORT [-t TOPIC] [-g GROUP] [-c COUNT] [-timeout SEC]
 * </pre>
 *
 * TEST is one of: send-sync, send-async, send-oneway, send-batch, push-concurrent, push-orderly,
 * lite-pull, tag-filter, group-restart, admin-seed, and (in {@link Reliability}) delay, retry-dlq,
 * transaction. Each test produces to its own topic (auto-created by the
 * broker from TBW102), consumes with its own group(s), exits 0 and prints "PASS ..." on success,
 * or prints "FAIL: reason" and exits 1. Every test is bounded by -timeout (default 60 s).
 */
public final class Main {
    static String ns;
    static String topic;
    static String group;
    static int count;
    static long deadlineMs;
    static String runId;
    static final AtomicInteger INSTANCE = new AtomicInteger();

    static final class Fail extends RuntimeException {
        Fail(String m) {
            super(m);
        }
    }

    static final boolean DEBUG = System.getenv("INTEROP_DEBUG") != null;
    static final long T0 = System.currentTimeMillis();

    static void dbg(String m) {
        if (DEBUG) {
            System.out.printf("[%6d ms] %s%n", System.currentTimeMillis() - T0, m);
        }
    }

    static void check(boolean cond, String msg) {
        if (!cond) {
            throw new Fail(msg);
        }
    }

    static long remainingMs() {
        return deadlineMs - System.currentTimeMillis();
    }

    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: interop.Main TEST -n HOST:PORT [-t TOPIC] [-g GROUP] [-c COUNT] [-timeout SEC]");
            System.exit(2);
        }
        String test = args[0];
        int timeoutSec = 60;
        Integer c = null;
        for (int i = 1; i < args.length; i++) {
            String k = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (k) {
                case "-n": ns = v; i++; break;
                case "-t": topic = v; i++; break;
                case "-g": group = v; i++; break;
                case "-c": c = Integer.parseInt(v); i++; break;
                case "-timeout": timeoutSec = Integer.parseInt(v); i++; break;
                default:
                    System.err.println("unknown argument " + k);
                    System.exit(2);
            }
        }
        if (ns == null) {
            ns = System.getenv("NAMESRV_ADDR");
        }
        if (ns == null) {
            System.err.println("FAIL: -n HOST:PORT is required");
            System.exit(2);
        }
        timeoutSec = Math.min(timeoutSec, 60);
        final int tmo = timeoutSec;
        deadlineMs = System.currentTimeMillis() + timeoutSec * 1000L;
        runId = Long.toString(System.currentTimeMillis() % 100000000L, 36) + Integer.toString((int) (Math.random() * 1000), 36);
        String safe = test.replace('-', '_');
        if (topic == null) {
            topic = "it_" + safe + "_" + runId;
        }
        if (group == null) {
            group = "itg_" + safe + "_" + runId;
        }

        // Hard wall clock: never hang longer than the timeout plus shutdown slack.
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(tmo * 1000L + 15000L);
            } catch (InterruptedException e) {
                return;
            }
            System.out.println("FAIL: " + test + ": watchdog: test did not finish in " + (tmo + 15) + " s");
            System.out.flush();
            Runtime.getRuntime().halt(1);
        });
        watchdog.setDaemon(true);
        watchdog.start();

        long t0 = System.currentTimeMillis();
        try {
            String detail;
            switch (test) {
                case "send-sync": detail = sendSync(c == null ? 200 : c); break;
                case "send-async": detail = sendAsync(c == null ? 500 : c); break;
                case "send-oneway": detail = sendOneway(c == null ? 200 : c); break;
                case "send-batch": detail = sendBatch(c == null ? 1000 : c); break;
                case "push-concurrent": detail = pushConcurrent(c == null ? 1000 : c); break;
                case "push-orderly": detail = pushOrderly(c == null ? 400 : c); break;
                case "lite-pull": detail = litePull(c == null ? 500 : c); break;
                case "tag-filter": detail = tagFilter(c == null ? 200 : c); break;
                case "group-restart": detail = groupRestart(c == null ? 300 : c); break;
                case "admin-seed": detail = adminSeed(c == null ? 20 : c); break;
                case "consume-hold": detail = consumeHold(c == null ? 30 : c); break;
                case "trace": detail = trace(c == null ? 20 : c); break;
                case "delay": detail = Reliability.delay(c == null ? 21 : c); break;
                case "timer": detail = Reliability.timer(c == null ? 21 : c); break;
                case "retry-dlq": detail = Reliability.retryDlq(c == null ? 20 : c); break;
                case "transaction": detail = Reliability.transaction(c == null ? 30 : c); break;
                default:
                    System.out.println("FAIL: unknown test " + test);
                    System.exit(2);
                    return;
            }
            System.out.printf("PASS %s (%s; %d ms)%n", test, detail, System.currentTimeMillis() - t0);
            System.out.flush();
            Runtime.getRuntime().halt(0);
        } catch (Fail f) {
            System.out.println("FAIL: " + test + ": " + f.getMessage());
        } catch (Throwable e) {
            System.out.println("FAIL: " + test + ": " + e);
            e.printStackTrace(System.out);
        }
        System.out.flush();
        Runtime.getRuntime().halt(1);
    }

    // ---------------------------------------------------------------- clients

    static DefaultMQProducer producer() throws Exception {
        DefaultMQProducer p = new DefaultMQProducer("itp_" + group);
        p.setNamesrvAddr(ns);
        p.setInstanceName("it-p-" + runId + "-" + INSTANCE.incrementAndGet());
        p.setSendMsgTimeout(10000);
        p.start();
        return p;
    }

    static DefaultMQPushConsumer pushConsumer(String grp, String tp, String expr) throws Exception {
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(grp);
        c.setNamesrvAddr(ns);
        c.setInstanceName("it-c-" + runId + "-" + INSTANCE.incrementAndGet());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(tp, expr);
        return c;
    }

    static String body(int i) {
        return runId + "-" + i;
    }

    static Set<String> bodies(int n) {
        Set<String> s = new LinkedHashSet<>();
        for (int i = 0; i < n; i++) {
            s.add(body(i));
        }
        return s;
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Counts every delivered body; reports missing / unexpected / duplicated ones. */
    static final class Collector {
        final Set<String> expected;
        final Map<String, AtomicInteger> got = new ConcurrentHashMap<>();
        final AtomicLong total = new AtomicLong();
        final AtomicReference<String> error = new AtomicReference<>();
        volatile long lastArrival = System.currentTimeMillis();

        Collector(Set<String> expected) {
            this.expected = expected;
        }

        void add(String b) {
            got.computeIfAbsent(b, k -> new AtomicInteger()).incrementAndGet();
            total.incrementAndGet();
            lastArrival = System.currentTimeMillis();
        }

        void error(String e) {
            error.compareAndSet(null, e);
        }

        int distinctExpected() {
            int n = 0;
            for (String b : got.keySet()) {
                if (expected.contains(b)) {
                    n++;
                }
            }
            return n;
        }

        /** Wait until every expected body arrived (or deadline), then `quietMs` more for strays. */
        void await(long quietMs) throws InterruptedException {
            while (remainingMs() > 0 && distinctExpected() < expected.size() && error.get() == null) {
                Thread.sleep(50);
            }
            long end = Math.min(System.currentTimeMillis() + quietMs, deadlineMs);
            while (System.currentTimeMillis() < end && error.get() == null) {
                Thread.sleep(50);
            }
        }

        List<String> missing() {
            List<String> m = new ArrayList<>();
            for (String b : expected) {
                if (!got.containsKey(b)) {
                    m.add(b);
                }
            }
            return m;
        }

        List<String> unexpected() {
            List<String> u = new ArrayList<>();
            for (String b : got.keySet()) {
                if (!expected.contains(b)) {
                    u.add(b);
                }
            }
            Collections.sort(u);
            return u;
        }

        int duplicates() {
            int d = 0;
            for (AtomicInteger v : got.values()) {
                d += v.get() - 1;
            }
            return d;
        }

        /** exactly the expected bodies, each at least once; duplicates allowed up to maxDup. */
        void verify(String what, int maxDup) {
            check(error.get() == null, what + ": " + error.get());
            List<String> m = missing();
            check(m.isEmpty(), what + ": " + m.size() + " of " + expected.size() + " messages never delivered (e.g. "
                + m.subList(0, Math.min(5, m.size())) + "), got " + distinctExpected());
            List<String> u = unexpected();
            check(u.isEmpty(), what + ": " + u.size() + " unexpected bodies delivered (e.g. " + u.subList(0, Math.min(5, u.size())) + ")");
            check(duplicates() <= maxDup, what + ": " + duplicates() + " duplicate deliveries (allowed " + maxDup + ")");
        }
    }

    /** Consume `topic` from the first offset with a fresh group and verify exactly `expected` arrives. */
    static void consumeVerify(String tp, Set<String> expected, String what) throws Exception {
        Collector col = new Collector(expected);
        DefaultMQPushConsumer c = pushConsumer(group + "_verify", tp, "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                if (!tp.equals(m.getTopic())) {
                    col.error("message of topic " + m.getTopic() + " delivered to subscription of " + tp);
                }
                col.add(str(m.getBody()));
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        dbg("verify consumer starting");
        c.start();
        dbg("verify consumer started");
        try {
            col.await(1000);
            dbg("verify got " + col.distinctExpected());
        } finally {
            c.shutdown();
            dbg("verify consumer shut down");
        }
        col.verify(what, 0);
    }

    // ------------------------------------------------------------------ tests

    static String sendSync(int n) throws Exception {
        DefaultMQProducer p = producer();
        Map<Integer, Long> lastOffset = new HashMap<>();
        Set<String> ids = new HashSet<>();
        try {
            for (int i = 0; i < n; i++) {
                Message m = new Message(topic, "TagA", "key-" + i, body(i).getBytes(StandardCharsets.UTF_8));
                SendResult r = p.send(m);
                check(r.getSendStatus() == SendStatus.SEND_OK, "send " + i + ": status " + r.getSendStatus());
                check(r.getMsgId() != null && !r.getMsgId().isEmpty(), "send " + i + ": empty msgId");
                check(ids.add(r.getMsgId()), "send " + i + ": duplicate msgId " + r.getMsgId());
                check(r.getOffsetMsgId() != null && r.getOffsetMsgId().length() == 32,
                    "send " + i + ": offsetMsgId should be 32 hex chars, got " + r.getOffsetMsgId());
                MessageQueue q = r.getMessageQueue();
                check(q != null && topic.equals(q.getTopic()), "send " + i + ": wrong queue " + q);
                Long prev = lastOffset.put(q.getQueueId(), r.getQueueOffset());
                check(prev == null || r.getQueueOffset() == prev + 1,
                    "send " + i + ": queue " + q.getQueueId() + " offset " + r.getQueueOffset() + " after " + prev);
                check(remainingMs() > 0, "timed out after " + i + " sends");
            }
        } finally {
            dbg("sent");
            p.shutdown();
            dbg("producer shut down");
        }
        consumeVerify(topic, bodies(n), "consume after sync send");
        return n + " sync sends over " + lastOffset.size() + " queues, all consumed";
    }

    static String sendAsync(int n) throws Exception {
        DefaultMQProducer p = producer();
        CountDownLatch done = new CountDownLatch(n);
        AtomicInteger ok = new AtomicInteger();
        AtomicReference<String> err = new AtomicReference<>();
        // at most 64 sends in flight: this tests the async path, not the broker's flow control
        // (Apache answers SYSTEM_BUSY once a request waited 200 ms in its send queue)
        java.util.concurrent.Semaphore window = new java.util.concurrent.Semaphore(64);
        try {
            for (int i = 0; i < n; i++) {
                final int idx = i;
                check(window.tryAcquire(Math.max(1, remainingMs()), TimeUnit.MILLISECONDS), "timed out waiting for async callbacks");
                Message m = new Message(topic, "TagA", body(i).getBytes(StandardCharsets.UTF_8));
                p.send(m, new SendCallback() {
                    @Override
                    public void onSuccess(SendResult r) {
                        if (r.getSendStatus() == SendStatus.SEND_OK && r.getMsgId() != null) {
                            ok.incrementAndGet();
                        } else {
                            err.compareAndSet(null, "async send " + idx + ": " + r);
                        }
                        window.release();
                        done.countDown();
                    }

                    @Override
                    public void onException(Throwable e) {
                        err.compareAndSet(null, "async send " + idx + ": " + e);
                        window.release();
                        done.countDown();
                    }
                });
            }
            check(done.await(Math.max(1, remainingMs()), TimeUnit.MILLISECONDS),
                "only " + (n - done.getCount()) + " of " + n + " async callbacks arrived");
        } finally {
            p.shutdown();
        }
        check(err.get() == null, err.get());
        check(ok.get() == n, ok.get() + " of " + n + " async sends OK");
        consumeVerify(topic, bodies(n), "consume after async send");
        return n + " async sends, all consumed";
    }

    static String sendOneway(int n) throws Exception {
        DefaultMQProducer p = producer();
        try {
            // route + auto-create first (one-way sends to an unknown topic go through TBW102 too)
            for (int i = 0; i < n; i++) {
                p.sendOneway(new Message(topic, "TagA", body(i).getBytes(StandardCharsets.UTF_8)));
            }
            Thread.sleep(500);
        } finally {
            p.shutdown();
        }
        consumeVerify(topic, bodies(n), "consume after oneway send");
        return n + " oneway sends, all consumed";
    }

    static String sendBatch(int n) throws Exception {
        int batch = 50;
        DefaultMQProducer p = producer();
        int batches = 0;
        try {
            for (int i = 0; i < n; i += batch) {
                List<Message> list = new ArrayList<>();
                for (int j = i; j < Math.min(n, i + batch); j++) {
                    Message m = new Message(topic, "TagB", "bk-" + j, body(j).getBytes(StandardCharsets.UTF_8));
                    list.add(m);
                }
                SendResult r = p.send(list);
                check(r.getSendStatus() == SendStatus.SEND_OK, "batch at " + i + ": status " + r.getSendStatus());
                check(r.getMsgId() != null && r.getMsgId().split(",").length == list.size(),
                    "batch at " + i + ": msgId should list " + list.size() + " ids, got " + r.getMsgId());
                check(r.getOffsetMsgId() != null && r.getOffsetMsgId().split(",").length == list.size(),
                    "batch at " + i + ": offsetMsgId should list " + list.size() + " ids, got " + r.getOffsetMsgId());
                batches++;
            }
        } finally {
            p.shutdown();
        }
        consumeVerify(topic, bodies(n), "consume after batch send");
        return batches + " batches of " + batch + ", " + n + " messages consumed";
    }

    static String pushConcurrent(int n) throws Exception {
        DefaultMQProducer p = producer();
        try {
            for (int i = 0; i < n; i++) {
                Message m = new Message(topic, "TagP", "pk-" + i, body(i).getBytes(StandardCharsets.UTF_8));
                m.putUserProperty("idx", Integer.toString(i));
                SendResult r = p.send(m);
                check(r.getSendStatus() == SendStatus.SEND_OK, "send " + i + ": " + r.getSendStatus());
            }
        } finally {
            p.shutdown();
        }
        Collector col = new Collector(bodies(n));
        DefaultMQPushConsumer c = pushConsumer(group, topic, "*");
        c.setConsumeThreadMin(4);
        c.setConsumeThreadMax(4);
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                String b = str(m.getBody());
                String idx = m.getUserProperty("idx");
                if (idx == null || !b.equals(body(Integer.parseInt(idx)))) {
                    col.error("user property idx=" + idx + " does not match body " + b);
                }
                if (!"TagP".equals(m.getTags())) {
                    col.error("tag " + m.getTags() + " != TagP");
                }
                if (idx != null && !("pk-" + idx).equals(m.getKeys())) {
                    col.error("keys " + m.getKeys() + " != pk-" + idx);
                }
                if (m.getMsgId() == null || m.getMsgId().isEmpty()) {
                    col.error("delivered message without msgId");
                }
                if (m.getQueueOffset() < 0 || m.getStoreTimestamp() <= 0 || m.getBornTimestamp() <= 0) {
                    col.error("bad queueOffset/timestamps: " + m);
                }
                col.add(b);
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        try {
            col.await(1500);
        } finally {
            c.shutdown();
        }
        col.verify("push concurrently", 0);
        return n + " messages consumed exactly once with tags/keys/properties intact";
    }

    static String pushOrderly(int n) throws Exception {
        int keys = 8;
        int perKey = Math.max(1, n / keys);
        n = keys * perKey;
        DefaultMQProducer p = producer();
        Map<String, Integer> keyQueue = new HashMap<>();
        Set<String> expected = new LinkedHashSet<>();
        try {
            SelectMessageQueueByHash sel = new SelectMessageQueueByHash();
            for (int s = 0; s < perKey; s++) {
                for (int k = 0; k < keys; k++) {
                    String key = "order-" + k;
                    String b = runId + "|" + key + "|" + s;
                    expected.add(b);
                    Message m = new Message(topic, "TagO", key, b.getBytes(StandardCharsets.UTF_8));
                    SendResult r = p.send(m, sel, key);
                    check(r.getSendStatus() == SendStatus.SEND_OK, "send " + b + ": " + r.getSendStatus());
                    Integer prevQ = keyQueue.put(key, r.getMessageQueue().getQueueId());
                    check(prevQ == null || prevQ == r.getMessageQueue().getQueueId(),
                        "hash selector moved key " + key + " from queue " + prevQ + " to " + r.getMessageQueue().getQueueId());
                }
            }
        } finally {
            p.shutdown();
        }
        Collector col = new Collector(expected);
        Map<String, Integer> last = new ConcurrentHashMap<>();
        DefaultMQPushConsumer c = pushConsumer(group, topic, "*");
        c.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                String b = str(m.getBody());
                String[] parts = b.split("\\|");
                String key = parts[1];
                int seq = Integer.parseInt(parts[2]);
                int prev = last.getOrDefault(key, -1);
                if (seq != prev + 1) {
                    col.error("key " + key + ": got seq " + seq + " after " + prev + " (order broken)");
                }
                last.put(key, seq);
                Integer q = keyQueue.get(key);
                if (q != null && q != m.getQueueId()) {
                    col.error("key " + key + " delivered from queue " + m.getQueueId() + ", sent to " + q);
                }
                col.add(b);
            }
            return ConsumeOrderlyStatus.SUCCESS;
        });
        c.start();
        try {
            col.await(1000);
        } finally {
            c.shutdown();
        }
        col.verify("push orderly", 0);
        return keys + " keys x " + perKey + " messages in per-key order over " + new HashSet<>(keyQueue.values()).size() + " queues";
    }

    static String litePull(int n) throws Exception {
        DefaultMQProducer p = producer();
        try {
            for (int i = 0; i < n; i++) {
                SendResult r = p.send(new Message(topic, "TagL", body(i).getBytes(StandardCharsets.UTF_8)));
                check(r.getSendStatus() == SendStatus.SEND_OK, "send " + i + ": " + r.getSendStatus());
            }
        } finally {
            p.shutdown();
        }
        Collector col = new Collector(bodies(n));
        DefaultLitePullConsumer c = new DefaultLitePullConsumer(group);
        c.setNamesrvAddr(ns);
        c.setInstanceName("it-l-" + runId + "-" + INSTANCE.incrementAndGet());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.setAutoCommit(false);
        c.subscribe(topic, "*");
        c.start();
        try {
            while (remainingMs() > 0 && col.distinctExpected() < n) {
                for (MessageExt m : c.poll(1000)) {
                    col.add(str(m.getBody()));
                }
                c.commitSync();
            }
            // a little more polling: nothing else may show up
            long end = System.currentTimeMillis() + 1000;
            while (System.currentTimeMillis() < end) {
                for (MessageExt m : c.poll(200)) {
                    col.add(str(m.getBody()));
                }
            }
            c.commitSync();
        } finally {
            c.shutdown();
        }
        col.verify("lite pull", 0);

        // committed offsets must survive: a new lite pull consumer of the same group sees nothing old
        Collector again = new Collector(Collections.emptySet());
        DefaultLitePullConsumer c2 = new DefaultLitePullConsumer(group);
        c2.setNamesrvAddr(ns);
        c2.setInstanceName("it-l-" + runId + "-" + INSTANCE.incrementAndGet());
        c2.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c2.subscribe(topic, "*");
        c2.start();
        try {
            long end = Math.min(System.currentTimeMillis() + 4000, deadlineMs);
            while (System.currentTimeMillis() < end) {
                for (MessageExt m : c2.poll(500)) {
                    again.add(str(m.getBody()));
                }
            }
        } finally {
            c2.shutdown();
        }
        check(again.total.get() <= 32, "after commitSync + restart the lite pull group re-read " + again.total.get()
            + " already committed messages");
        return n + " messages pulled and committed; restart re-read " + again.total.get();
    }

    static String tagFilter(int n) throws Exception {
        String[] tags = {"TagA", "TagB", "TagC", "TagD"};
        DefaultMQProducer p = producer();
        Set<String> expected = new LinkedHashSet<>();
        try {
            for (int i = 0; i < n; i++) {
                String tag = tags[i % tags.length];
                String b = runId + "-" + tag + "-" + i;
                if (tag.equals("TagA") || tag.equals("TagC")) {
                    expected.add(b);
                }
                SendResult r = p.send(new Message(topic, tag, b.getBytes(StandardCharsets.UTF_8)));
                check(r.getSendStatus() == SendStatus.SEND_OK, "send " + i + ": " + r.getSendStatus());
            }
            // also a few untagged messages, which must not match either
            for (int i = 0; i < 10; i++) {
                p.send(new Message(topic, (runId + "-notag-" + i).getBytes(StandardCharsets.UTF_8)));
            }
        } finally {
            p.shutdown();
        }
        Collector col = new Collector(expected);
        DefaultMQPushConsumer c = pushConsumer(group, topic, "TagA || TagC");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                if (!"TagA".equals(m.getTags()) && !"TagC".equals(m.getTags())) {
                    col.error("subscription 'TagA || TagC' received tag " + m.getTags());
                }
                col.add(str(m.getBody()));
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        try {
            col.await(3000);
        } finally {
            c.shutdown();
        }
        col.verify("tag filter", 0);
        return expected.size() + " TagA/TagC of " + (n + 10) + " messages delivered, no others";
    }

    static String groupRestart(int n) throws Exception {
        int window = 32; // allowed at-least-once re-delivery after a clean restart
        DefaultMQProducer p = producer();
        try {
            Set<String> first = new LinkedHashSet<>();
            for (int i = 0; i < n; i++) {
                first.add(body(i));
                check(p.send(new Message(topic, "TagR", body(i).getBytes(StandardCharsets.UTF_8))).getSendStatus() == SendStatus.SEND_OK,
                    "send " + i);
            }
            // phase 1: consume everything, then shut down cleanly (commits offsets)
            Collector c1 = new Collector(first);
            DefaultMQPushConsumer a = pushConsumer(group, topic, "*");
            a.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    c1.add(str(m.getBody()));
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
            a.start();
            try {
                c1.await(500);
                // let the 5 s periodic offset persist run once as well
                Thread.sleep(Math.min(5500, Math.max(0, remainingMs() - 20000)));
            } finally {
                a.shutdown();
            }
            c1.verify("restart phase 1", 0);

            // phase 2: more messages while the group is down
            Set<String> second = new LinkedHashSet<>();
            for (int i = n; i < 2 * n; i++) {
                second.add(body(i));
                check(p.send(new Message(topic, "TagR", body(i).getBytes(StandardCharsets.UTF_8))).getSendStatus() == SendStatus.SEND_OK,
                    "send " + i);
            }
            // phase 3: same group restarts; CONSUME_FROM_FIRST_OFFSET would re-read all if offsets were lost
            Collector c2 = new Collector(second);
            DefaultMQPushConsumer b = pushConsumer(group, topic, "*");
            b.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    c2.add(str(m.getBody()));
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
            b.start();
            try {
                c2.await(2000);
            } finally {
                b.shutdown();
            }
            check(c2.error.get() == null, c2.error.get());
            List<String> missing = c2.missing();
            check(missing.isEmpty(), "after restart " + missing.size() + " of " + n + " new messages were never delivered (loss)");
            int redelivered = 0;
            for (String u : c2.unexpected()) {
                check(first.contains(u), "after restart an unknown body was delivered: " + u);
                redelivered += c2.got.get(u).get();
            }
            check(redelivered <= window, "after restart " + redelivered + " already committed messages were re-delivered (allowed "
                + window + "): committed offsets were not used");
            check(c2.duplicates() <= window, "after restart " + c2.duplicates() + " duplicate deliveries");
            return n + " consumed, group restarted, " + n + " new consumed, " + redelivered + " re-delivered";
        } finally {
            p.shutdown();
        }
    }

    static Map<String, Integer> sorted(Map<String, Integer> m) {
        return new TreeMap<>(m);
    }

    /**
     * Data for the mqadmin checks: sends `n` keyed messages to -t, consumes them all with group
     * -g (offsets committed on shutdown), then sends LAG more that nobody consumes. Prints one
     * `SEEDED key=K msgId=M offsetMsgId=O queue=Q offset=N` line per message.
     */
    static String adminSeed(int n) throws Exception {
        final int lag = 5;
        DefaultMQProducer p = producer();
        try {
            for (int i = 0; i < n + lag; i++) {
                String key = "ak_" + runId + "_" + i;
                Message m = new Message(topic, "TagA", key, body(i).getBytes(StandardCharsets.UTF_8));
                SendResult r = p.send(m);
                check(r.getSendStatus() == SendStatus.SEND_OK, "send " + i + ": status " + r.getSendStatus());
                System.out.printf("SEEDED key=%s msgId=%s offsetMsgId=%s queue=%d offset=%d%n", key, r.getMsgId(),
                    r.getOffsetMsgId(), r.getMessageQueue().getQueueId(), r.getQueueOffset());
                if (i == n - 1) {
                    Set<String> expected = bodies(n);
                    Collector col = new Collector(expected);
                    DefaultMQPushConsumer c = pushConsumer(group, topic, "*");
                    c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                        for (MessageExt mx : msgs) {
                            col.add(str(mx.getBody()));
                        }
                        return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
                    });
                    c.start();
                    try {
                        col.await(500);
                    } finally {
                        c.shutdown();
                    }
                    col.verify("seed consume", n);
                }
            }
        } finally {
            p.shutdown();
        }
        System.out.printf("SEED topic=%s group=%s consumed=%d lag=%d%n", topic, group, n, lag);
        return "seeded " + (n + lag) + " messages, " + n + " consumed";
    }

    /**
     * A live push consumer for mqadmin checks that ask the consumer itself (consumerStatus):
     * subscribes -t with group -g, prints `READY clientId=ID` once started, and stays up for
     * `seconds` (the caller kills it sooner).
     */
    static String consumeHold(int seconds) throws Exception {
        DefaultMQPushConsumer c = pushConsumer(group, topic, "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> ConsumeConcurrentlyStatus.CONSUME_SUCCESS);
        c.start();
        System.out.println("READY clientId=" + c.getDefaultMQPushConsumerImpl().getmQClientFactory().getClientId());
        System.out.flush();
        try {
            Thread.sleep(Math.min(seconds, 55) * 1000L);
        } finally {
            c.shutdown();
        }
        return "held " + seconds + " s";
    }

    /**
     * Message trace: a producer with enableMsgTrace sends `n` messages; its trace dispatcher
     * writes "Pub" records to RMQ_SYS_TRACE_TOPIC (the broker runs with traceTopicEnable=true);
     * every sent msgId must show up in a trace record.
     */
    static String trace(int n) throws Exception {
        DefaultMQProducer p = new DefaultMQProducer("itp_" + group, true, null);
        p.setNamesrvAddr(ns);
        p.setInstanceName("it-p-" + runId + "-" + INSTANCE.incrementAndGet());
        p.setSendMsgTimeout(10000);
        p.start();
        Set<String> ids = new LinkedHashSet<>();
        try {
            for (int i = 0; i < n; i++) {
                SendResult r = p.send(new Message(topic, "TagA", "trace-" + i, body(i).getBytes(StandardCharsets.UTF_8)));
                check(r.getSendStatus() == SendStatus.SEND_OK, "send " + i + ": status " + r.getSendStatus());
                ids.add(r.getMsgId());
            }
            Thread.sleep(1500); // the trace dispatcher flushes in batches
        } finally {
            p.shutdown();
        }
        Set<String> traced = ConcurrentHashMap.newKeySet();
        DefaultMQPushConsumer c = pushConsumer(group + "_trace", "RMQ_SYS_TRACE_TOPIC", "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                String text = str(m.getBody());
                for (String id : ids) {
                    if (text.contains(id)) {
                        traced.add(id);
                    }
                }
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        try {
            while (remainingMs() > 0 && traced.size() < ids.size()) {
                Thread.sleep(100);
            }
        } finally {
            c.shutdown();
        }
        check(traced.size() == ids.size(), (ids.size() - traced.size()) + " of " + ids.size() + " sent messages have no trace record");
        return n + " messages traced";
    }
}
