package interop;

import static interop.Main.body;
import static interop.Main.check;
import static interop.Main.dbg;
import static interop.Main.remainingMs;
import static interop.Main.str;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.client.producer.TransactionSendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * Delay levels, consumer retry + dead-letter queue and transactional messages on the unchanged
 * Java client (tests `delay`, `retry-dlq`, `transaction` of {@link Main}).
 *
 * <p>All three assume the broker's default `messageDelayLevel` (1s 5s 10s 30s 1m ...). The
 * transaction test needs the broker to check back within about 15 s of a send:
 * `interop/run.sh` sets `transactionCheckInterval=5000` on both targets (default 30 s).
 */
final class Reliability {
    private Reliability() {
    }

    static {
        // RebalanceService reads this once, when the first client instance (here the producer
        // each test starts first) loads the class. A retry topic with no route yet counts as
        // balanced, so a consumer that started before its group's %RETRY% topic was routable
        // would otherwise wait the default 20 s before it rebalances and pulls its retries.
        System.setProperty("rocketmq.client.rebalance.waitInterval", "1000");
    }

    /** Default messageDelayLevel 1..4 in milliseconds (1s 5s 10s 30s). */
    static final long[] LEVEL_MS = {0, 1000, 5000, 10000, 30000};
    /** How early a delayed delivery may be (clock granularity), and how late. */
    static final long EARLY_MS = 100;
    static final long LATE_MS = 3000;

    /** A push consumer that finds new topics quickly: the retry and DLQ topics of a fresh group
     * appear in the name server only after the group's first heartbeat / first send-back, and
     * the client would otherwise re-read routes every 30 s (rebalance: see the static block). */
    static DefaultMQPushConsumer quickConsumer(String grp, String tp) throws Exception {
        DefaultMQPushConsumer c = Main.pushConsumer(grp, tp, "*");
        c.setPollNameServerInterval(1000);
        return c;
    }

    static String props(MessageExt m) {
        return new TreeSet<>(m.getProperties().keySet()).toString();
    }

    /** One delivery as the listener saw it. */
    static final class Delivery {
        final long atMs = System.currentTimeMillis();
        final String topic;
        final int reconsumeTimes;

        Delivery(MessageExt m) {
            topic = m.getTopic();
            reconsumeTimes = m.getReconsumeTimes();
        }
    }

    // --------------------------------------------------------------------- delay

    /**
     * A warm-up message creates the topic and proves the consumer is subscribed; then `n`
     * messages with delay levels 1, 2, 3 (1 s, 5 s, 10 s) round robin. Each must arrive once,
     * not before send start + delay - 100 ms and not after send end + delay + 3 s, on the real
     * topic with tags, keys and user properties intact (Apache keeps DELAY on the delivered
     * message, ours drops it: not checked).
     */
    static String delay(int n) throws Exception {
        return scheduled(n, false);
    }

    /**
     * Timer messages (client 5.x): `n` messages round robin with setDelayTimeMs(1500),
     * setDelayTimeSec(3) and setDeliverTimeMs(now + 2500), checked like {@link #delay}, but
     * allowed up to 1 s early: the Apache broker's timer wheel has a 1 s precision
     * (timerPrecisionMs) and may deliver a message up to one slot before its time.
     */
    static String timer(int n) throws Exception {
        return scheduled(n, true);
    }

    /** Client 5.x's timer setters, called by name so this source still compiles against 4.9.8. */
    static void timerApi(Message m, String setter, long value) throws Exception {
        Message.class.getMethod(setter, long.class).invoke(m, value);
    }

    static final long[] TIMER_MS = {1500, 3000, 2500};
    static final long TIMER_EARLY_MS = 1000;

    static String scheduled(int n, boolean timers) throws Exception {
        DefaultMQProducer p = Main.producer();
        String topic = Main.topic;
        Map<String, List<Delivery>> got = new ConcurrentHashMap<>();
        AtomicReference<String> error = new AtomicReference<>();
        AtomicReference<String> sample = new AtomicReference<>();
        DefaultMQPushConsumer c = Main.pushConsumer(Main.group, topic, "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                String b = str(m.getBody());
                got.computeIfAbsent(b, k -> new CopyOnWriteArrayList<>()).add(new Delivery(m));
                if (b.startsWith("warmup")) {
                    continue;
                }
                String idx = m.getUserProperty("idx");
                String why = null;
                if (!topic.equals(m.getTopic())) {
                    why = "delivered on topic " + m.getTopic();
                } else if (idx == null || !b.equals(body(Integer.parseInt(idx)))) {
                    why = "user property idx=" + idx + " does not match body " + b;
                } else if (!"TagD".equals(m.getTags()) || !("dk-" + idx).equals(m.getKeys())) {
                    why = "tags/keys " + m.getTags() + "/" + m.getKeys() + " for " + b;
                } else if (m.getReconsumeTimes() != 0) {
                    why = "reconsumeTimes " + m.getReconsumeTimes() + " on " + b;
                }
                if (why != null) {
                    error.compareAndSet(null, why);
                }
                sample.compareAndSet(null, props(m));
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        long[][] window = new long[n][];
        try {
            String warmup = "warmup-" + Main.runId;
            check(p.send(new Message(topic, "TagW", warmup.getBytes(StandardCharsets.UTF_8))).getSendStatus() == SendStatus.SEND_OK,
                "warm-up send");
            c.start();
            while (!got.containsKey(warmup) && remainingMs() > 0) {
                Thread.sleep(20);
            }
            check(got.containsKey(warmup), "the warm-up message was never consumed");
            dbg("warm-up consumed");
            for (int i = 0; i < n; i++) {
                int level = 1 + i % 3;
                Message m = new Message(topic, "TagD", "dk-" + i, body(i).getBytes(StandardCharsets.UTF_8));
                m.putUserProperty("idx", Integer.toString(i));
                long before = System.currentTimeMillis();
                long waitMs = timers ? TIMER_MS[level - 1] : LEVEL_MS[level];
                if (!timers) {
                    m.setDelayTimeLevel(level);
                } else if (level == 1) {
                    timerApi(m, "setDelayTimeMs", waitMs);
                } else if (level == 2) {
                    timerApi(m, "setDelayTimeSec", waitMs / 1000);
                } else {
                    timerApi(m, "setDeliverTimeMs", before + waitMs);
                }
                SendResult r = p.send(m);
                long after = System.currentTimeMillis();
                check(r.getSendStatus() == SendStatus.SEND_OK, "send " + i + ": status " + r.getSendStatus());
                check(topic.equals(r.getMessageQueue().getTopic()), "send " + i + ": queue " + r.getMessageQueue());
                long early = timers ? TIMER_EARLY_MS : EARLY_MS;
                window[i] = new long[] {before + waitMs - early, after + waitMs + LATE_MS, level, early};
            }
            dbg("sent " + n);
            while (remainingMs() > 0 && error.get() == null) {
                int arrived = 0;
                for (int i = 0; i < n; i++) {
                    arrived += got.containsKey(body(i)) ? 1 : 0;
                }
                if (arrived == n) {
                    break;
                }
                Thread.sleep(50);
            }
            Thread.sleep(Math.min(1000, Math.max(0, remainingMs())));
        } finally {
            p.shutdown();
            c.shutdown();
        }
        check(error.get() == null, error.get());
        String what = timers ? "timer kind" : "delay level";
        long worstLateMs = Long.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            List<Delivery> d = got.get(body(i));
            long level = window[i][2];
            check(d != null, what + " " + level + " message " + i + " never delivered");
            check(d.size() == 1, what + " " + level + " message " + i + " delivered " + d.size() + " times");
            long at = d.get(0).atMs;
            check(at >= window[i][0], what + " " + level + " message " + i + " delivered "
                + (window[i][0] + window[i][3] - at) + " ms before it was due");
            check(at <= window[i][1], what + " " + level + " message " + i + " delivered "
                + (at - window[i][1] + LATE_MS) + " ms after it was due (allowed " + LATE_MS + ")");
            worstLateMs = Math.max(worstLateMs, at - (window[i][1] - LATE_MS));
        }
        return n + " messages (" + what + " 1/2/3) each delivered once on time (latest " + worstLateMs
            + " ms after due); properties " + sample.get();
    }

    // ----------------------------------------------------------------- retry/DLQ

    static final int MAX_RECONSUME = 2;

    /**
     * `n` messages; the listener accepts even ones and answers RECONSUME_LATER for every
     * delivery of odd ones, with maxReconsumeTimes 2. Odd messages must be delivered exactly
     * three times, reconsumeTimes 0, 1, 2, then sit once in %DLQ%group. The retry delay is
     * level 1 (1 s, set in the context), except for the first retry of messages 1, 5, 9, ...
     * where the context keeps 0 so the broker picks level 3 + reconsumeTimes (10 s).
     */
    static String retryDlq(int n) throws Exception {
        String topic = Main.topic;
        String group = Main.group;
        DefaultMQProducer p = Main.producer();
        try {
            for (int i = 0; i < n; i++) {
                Message m = new Message(topic, "TagF", "fk-" + i, body(i).getBytes(StandardCharsets.UTF_8));
                m.putUserProperty("idx", Integer.toString(i));
                check(p.send(m).getSendStatus() == SendStatus.SEND_OK, "send " + i);
            }
        } finally {
            p.shutdown();
        }
        Map<String, List<Delivery>> got = new ConcurrentHashMap<>();
        AtomicReference<String> error = new AtomicReference<>();
        DefaultMQPushConsumer c = quickConsumer(group, topic);
        c.setMaxReconsumeTimes(MAX_RECONSUME);
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            if (msgs.size() != 1) {
                error.compareAndSet(null, "consumeMessageBatchMaxSize is 1 but got " + msgs.size());
            }
            MessageExt m = msgs.get(0);
            String b = str(m.getBody());
            got.computeIfAbsent(b, k -> new CopyOnWriteArrayList<>()).add(new Delivery(m));
            dbg("delivery " + b + " reconsumeTimes " + m.getReconsumeTimes() + " queue " + m.getQueueId() + "@" + m.getQueueOffset());
            String idx = m.getUserProperty("idx");
            if (idx == null || !b.equals(body(Integer.parseInt(idx))) || !("fk-" + idx).equals(m.getKeys())
                || !"TagF".equals(m.getTags())) {
                error.compareAndSet(null, "properties lost on delivery " + m.getReconsumeTimes() + " of " + b + ": " + m);
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            }
            int i = Integer.parseInt(idx);
            if (i % 2 == 0) {
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            }
            ctx.setDelayLevelWhenNextConsume(i % 4 == 1 && m.getReconsumeTimes() == 0 ? 0 : 1);
            return ConsumeConcurrentlyStatus.RECONSUME_LATER;
        });
        c.start();
        int failing = n / 2;
        try {
            while (remainingMs() > 0 && error.get() == null) {
                int done = 0;
                for (int i = 0; i < n; i++) {
                    List<Delivery> d = got.get(body(i));
                    done += d != null && d.size() >= (i % 2 == 0 ? 1 : MAX_RECONSUME + 1) ? 1 : 0;
                }
                if (done == n) {
                    break;
                }
                Thread.sleep(50);
            }
            dbg("all deliveries seen");
            // the DLQ copy of the last failure is written after the listener returned; give a
            // wrong 4th delivery time to show up too
            Thread.sleep(Math.min(2500, Math.max(0, remainingMs() - 20000)));
        } finally {
            c.shutdown();
        }
        check(error.get() == null, error.get());
        long slowestRetryMs = 0;
        for (int i = 0; i < n; i++) {
            List<Delivery> d = got.get(body(i));
            check(d != null, "message " + i + " never delivered");
            int want = i % 2 == 0 ? 1 : MAX_RECONSUME + 1;
            check(d.size() == want, "message " + i + " delivered " + d.size() + " times, expected " + want
                + " (reconsumeTimes " + times(d) + ")");
            for (int k = 0; k < d.size(); k++) {
                Delivery x = d.get(k);
                check(x.reconsumeTimes == k, "message " + i + " delivery " + k + " has reconsumeTimes " + x.reconsumeTimes
                    + " (all: " + times(d) + ")");
                check(topic.equals(x.topic), "message " + i + " delivery " + k + " on topic " + x.topic);
                if (k > 0) {
                    long level = i % 4 == 1 && k == 1 ? 3 : 1;
                    long gap = x.atMs - d.get(k - 1).atMs;
                    check(gap >= LEVEL_MS[(int) level] - EARLY_MS && gap <= LEVEL_MS[(int) level] + LATE_MS,
                        "message " + i + " retry " + k + " (delay level " + level + ") came " + gap + " ms after the failure");
                    slowestRetryMs = Math.max(slowestRetryMs, gap - LEVEL_MS[(int) level]);
                }
            }
        }
        String dlq = dlqConsume(group, n, failing);
        return failing + " of " + n + " messages failed: redelivered with reconsumeTimes 1, 2 (broker-chosen level 3"
            + " and level 1, at most " + slowestRetryMs + " ms late), then " + dlq;
    }

    static String times(List<Delivery> d) {
        List<Integer> t = new ArrayList<>();
        for (Delivery x : d) {
            t.add(x.reconsumeTimes);
        }
        return t.toString();
    }

    /** Consumes %DLQ%group with another group: exactly the odd bodies, once each. */
    static String dlqConsume(String group, int n, int failing) throws Exception {
        String dlqTopic = "%DLQ%" + group;
        Set<String> expected = new TreeSet<>();
        for (int i = 1; i < n; i += 2) {
            expected.add(body(i));
        }
        Main.Collector col = new Main.Collector(expected);
        AtomicReference<String> sample = new AtomicReference<>();
        DefaultMQPushConsumer c = quickConsumer(group + "_dlq", dlqTopic);
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                String b = str(m.getBody());
                String idx = m.getUserProperty("idx");
                if (!dlqTopic.equals(m.getTopic())) {
                    col.error("DLQ message on topic " + m.getTopic());
                } else if (idx == null || !b.equals(body(Integer.parseInt(idx))) || !"TagF".equals(m.getTags())) {
                    col.error("DLQ message lost its properties: " + m);
                } else if (m.getReconsumeTimes() != MAX_RECONSUME + 1) {
                    col.error("DLQ message " + b + " has reconsumeTimes " + m.getReconsumeTimes() + ", expected " + (MAX_RECONSUME + 1));
                } else if (!Main.topic.equals(m.getProperty("RETRY_TOPIC"))) {
                    col.error("DLQ message " + b + " has RETRY_TOPIC " + m.getProperty("RETRY_TOPIC"));
                }
                sample.compareAndSet(null, props(m));
                col.add(b);
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        try {
            col.await(1000);
        } finally {
            c.shutdown();
        }
        col.verify("consume " + dlqTopic, 0);
        return failing + " in " + dlqTopic + " exactly once with reconsumeTimes " + (MAX_RECONSUME + 1)
            + ", properties " + sample.get();
    }

    // --------------------------------------------------------------- transaction

    /**
     * `n` transactional sends: executeLocalTransaction answers COMMIT for i % 3 == 0, ROLLBACK
     * for 1, UNKNOW for 2; checkLocalTransaction commits the UNKNOW ones. A consumer must get
     * exactly the i % 3 != 1 messages once, each UNKNOW one only after a check-back.
     */
    static String transaction(int n) throws Exception {
        String topic = Main.topic;
        Map<Integer, AtomicInteger> checks = new ConcurrentHashMap<>();
        Map<Integer, Long> firstCheckMs = new ConcurrentHashMap<>();
        Map<Integer, Long> sentMs = new ConcurrentHashMap<>();
        AtomicReference<String> error = new AtomicReference<>();
        TransactionMQProducer p = new TransactionMQProducer("itp_" + Main.group);
        p.setNamesrvAddr(Main.ns);
        p.setInstanceName("it-t-" + Main.runId);
        p.setSendMsgTimeout(10000);
        p.setTransactionListener(new TransactionListener() {
            @Override
            public LocalTransactionState executeLocalTransaction(Message m, Object arg) {
                switch (Integer.parseInt(m.getUserProperty("idx")) % 3) {
                    case 0: return LocalTransactionState.COMMIT_MESSAGE;
                    case 1: return LocalTransactionState.ROLLBACK_MESSAGE;
                    default: return LocalTransactionState.UNKNOW;
                }
            }

            @Override
            public LocalTransactionState checkLocalTransaction(MessageExt m) {
                int i = Integer.parseInt(m.getUserProperty("idx"));
                checks.computeIfAbsent(i, k -> new AtomicInteger()).incrementAndGet();
                dbg("check-back " + i + " queue offset " + m.getQueueOffset() + " msgId " + m.getMsgId());
                firstCheckMs.putIfAbsent(i, System.currentTimeMillis());
                if (!topic.equals(m.getTopic()) || !str(m.getBody()).equals(body(i))) {
                    error.compareAndSet(null, "check-back for " + i + " carries topic " + m.getTopic() + " body " + str(m.getBody()));
                }
                return i % 3 == 2 ? LocalTransactionState.COMMIT_MESSAGE : LocalTransactionState.ROLLBACK_MESSAGE;
            }
        });
        p.start();
        Set<String> expected = new TreeSet<>();
        Map<String, Long> arrivedMs = new ConcurrentHashMap<>();
        AtomicReference<String> sample = new AtomicReference<>();
        Main.Collector col = new Main.Collector(Collections.emptySet());
        DefaultMQPushConsumer c = null;
        try {
            for (int i = 0; i < n; i++) {
                Message m = new Message(topic, "TagT", "tk-" + i, body(i).getBytes(StandardCharsets.UTF_8));
                m.putUserProperty("idx", Integer.toString(i));
                sentMs.put(i, System.currentTimeMillis());
                TransactionSendResult r = p.sendMessageInTransaction(m, null);
                check(r.getSendStatus() == SendStatus.SEND_OK, "transactional send " + i + ": " + r.getSendStatus());
                LocalTransactionState want = i % 3 == 0 ? LocalTransactionState.COMMIT_MESSAGE
                    : i % 3 == 1 ? LocalTransactionState.ROLLBACK_MESSAGE : LocalTransactionState.UNKNOW;
                check(r.getLocalTransactionState() == want, "send " + i + ": local state " + r.getLocalTransactionState());
                if (i % 3 != 1) {
                    expected.add(body(i));
                }
            }
            dbg("sent " + n);
            col = new Main.Collector(expected);
            final Main.Collector fcol = col;
            c = Main.pushConsumer(Main.group, topic, "*");
            c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    String b = str(m.getBody());
                    String idx = m.getUserProperty("idx");
                    if (!topic.equals(m.getTopic())) {
                        fcol.error("committed message on topic " + m.getTopic());
                    } else if (idx == null || !b.equals(body(Integer.parseInt(idx))) || !"TagT".equals(m.getTags())
                        || !("tk-" + idx).equals(m.getKeys())) {
                        fcol.error("committed message lost its properties: " + m);
                    } else {
                        arrivedMs.putIfAbsent(b, System.currentTimeMillis());
                    }
                    sample.compareAndSet(null, props(m));
                    dbg("delivery " + b + " queue " + m.getQueueId() + "@" + m.getQueueOffset());
                    fcol.add(b);
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
            c.start();
            // after the last UNKNOW commit: one more check round (transactionCheckInterval 5 s
            // in interop/run.sh), so a second commit or a late rollback would show up
            col.await(5500);
        } finally {
            if (c != null) {
                c.shutdown();
            }
            p.shutdown();
        }
        check(error.get() == null, error.get());
        col.verify("consume committed transactional messages", 0);
        long slowestCheckMs = 0;
        for (int i = 2; i < n; i += 3) {
            check(checks.containsKey(i), "UNKNOW message " + i + " was never checked back");
            Long arrived = arrivedMs.get(body(i));
            check(arrived != null && arrived >= firstCheckMs.get(i),
                "UNKNOW message " + i + " was delivered before its check-back committed it");
            slowestCheckMs = Math.max(slowestCheckMs, firstCheckMs.get(i) - sentMs.get(i));
        }
        int extraChecks = 0;
        for (Map.Entry<Integer, AtomicInteger> e : checks.entrySet()) {
            extraChecks += e.getKey() % 3 == 2 ? e.getValue().get() - 1 : e.getValue().get();
        }
        return expected.size() + " of " + n + " delivered once (COMMIT + UNKNOW checked back within " + slowestCheckMs
            + " ms), no ROLLBACK; " + extraChecks + " extra check-backs; properties " + sample.get();
    }
}
