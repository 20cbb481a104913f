package interop.benchmark;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.LinkedList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.MessageSelector;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragely;
import org.apache.rocketmq.common.UtilAll;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * Clone of Apache RocketMQ's benchmark Consumer: push consumer, AllocateMessageQueueAveragely,
 * group benchmark_consumer, binary ROCKETMQ headers, and the report line
 * <pre>
 * Current Time: %s | Consume TPS: %d | AVG(B2C) RT(ms): %7.3f | AVG(S2C) RT(ms): %7.3f | MAX(B2C) RT(ms): %d | MAX(S2C) RT(ms): %d | Consume Fail: %d
 * </pre>
 * (maxima reset every report). Additions: -x SECONDS bounds the run time, -cf sets
 * consumeFromWhere (default CONSUME_FROM_LAST_OFFSET as in Apache's tool), -qn N exits 0 as soon
 * as N messages were consumed (exit 4 if the run time ends first); on exit it prints
 * "[Complete] Consume Total: %d | Consume Fail: %d".
 */
public final class Consumer {
    private static final LongAdder received = new LongAdder();
    private static final LongAdder b2cTotal = new LongAdder();
    private static final LongAdder s2cTotal = new LongAdder();
    private static final AtomicLong b2cMax = new AtomicLong();
    private static final AtomicLong s2cMax = new AtomicLong();
    private static final LongAdder failCount = new LongAdder();

    static Options options() {
        Options o = new Options();
        o.addOption("h", "help", false, "Print help");
        o.addOption("n", "namesrvAddr", true, "Name server address list");
        o.addOption("t", "topic", true, "Topic name, Default: BenchmarkTest");
        o.addOption("w", "threadCount", true, "Thread count, Default: 20");
        o.addOption("g", "group", true, "Consumer group name, Default: benchmark_consumer");
        o.addOption("p", "group prefix enable", true, "Consumer group name suffix enable, Default: false");
        o.addOption("f", "filterType", true, "TAG, SQL92");
        o.addOption("e", "expression", true, "filter expression content file path. ie: ./test/expr");
        o.addOption("r", "fail rate", true, "consumer fail rate, default 0");
        o.addOption("m", "msgTraceEnable", true, "Message Trace Enable, Default: false");
        o.addOption("a", "aclEnable", true, "Acl Enable, Default: false (not supported by this clone)");
        o.addOption("ak", "accessKey", true, "Acl access key, Default: 12345678");
        o.addOption("sk", "secretKey", true, "Acl secret key, Default: rocketmq2");
        o.addOption("c", "clientRebalanceEnable", true, "enable client Rebalance, Default: true (accepted, always client side)");
        o.addOption("ri", "reportInterval", true, "The number of ms between reports, Default: 10000");
        o.addOption("x", "duration", true, "[clone only] stop after this many seconds, Default: 0 (run forever)");
        o.addOption("cf", "consumeFromWhere", true, "[clone only] CONSUME_FROM_LAST_OFFSET (default) | CONSUME_FROM_FIRST_OFFSET");
        o.addOption("qn", "quantity", true, "[clone only] exit 0 once this many messages were consumed");
        return o;
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("rocketmq.serialize.type", "ROCKETMQ");
        CommandLine cl;
        try {
            cl = new DefaultParser().parse(options(), args);
        } catch (ParseException e) {
            System.err.println(e.getMessage());
            new HelpFormatter().printHelp("benchmarkConsumer", options(), true);
            System.exit(-1);
            return;
        }
        if (cl.hasOption('h')) {
            new HelpFormatter().printHelp("benchmarkConsumer", options(), true);
            System.exit(0);
        }
        final String topic = cl.hasOption('t') ? cl.getOptionValue('t').trim() : "BenchmarkTest";
        final int threadCount = cl.hasOption('w') ? Integer.parseInt(cl.getOptionValue('w')) : 20;
        final String groupPrefix = cl.hasOption('g') ? cl.getOptionValue('g').trim() : "benchmark_consumer";
        final String isSuffixEnable = cl.hasOption('p') ? cl.getOptionValue('p').trim() : "false";
        final String filterType = cl.hasOption('f') ? cl.getOptionValue('f').trim() : null;
        final String expression = cl.hasOption('e') ? cl.getOptionValue('e').trim() : null;
        final double failRate = cl.hasOption('r') ? Double.parseDouble(cl.getOptionValue('r').trim()) : 0.0;
        final boolean msgTraceEnable = cl.hasOption('m') && Boolean.parseBoolean(cl.getOptionValue('m'));
        final boolean aclEnable = cl.hasOption('a') && Boolean.parseBoolean(cl.getOptionValue('a'));
        final long reportInterval = cl.hasOption("ri") ? Long.parseLong(cl.getOptionValue("ri")) : 10000;
        final long durationSec = cl.hasOption('x') ? Long.parseLong(cl.getOptionValue('x')) : 0;
        final long quantity = cl.hasOption("qn") ? Long.parseLong(cl.getOptionValue("qn")) : 0;
        final String cf = cl.hasOption("cf") ? cl.getOptionValue("cf") : "CONSUME_FROM_LAST_OFFSET";
        if (aclEnable) {
            System.err.println("ACL (-a true) is not supported by this clone");
            System.exit(2);
        }
        String group = groupPrefix;
        if (Boolean.parseBoolean(isSuffixEnable)) {
            group = groupPrefix + "_" + (System.currentTimeMillis() % 100);
        }
        System.out.printf("topic: %s, threadCount %d, group: %s, suffix: %s, filterType: %s, expression: %s, msgTraceEnable: %s, aclEnable: %s%n",
            topic, threadCount, group, isSuffixEnable, filterType, expression, msgTraceEnable, aclEnable);

        final LinkedList<Long[]> snapshots = new LinkedList<>();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "BenchmarkTimerThread");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(() -> {
            synchronized (snapshots) {
                snapshots.addLast(new Long[] {System.currentTimeMillis(), received.longValue(), b2cTotal.longValue(),
                    s2cTotal.longValue(), failCount.longValue()});
                if (snapshots.size() > 10) {
                    snapshots.removeFirst();
                }
            }
        }, 1000, 1000, TimeUnit.MILLISECONDS);
        timer.scheduleAtFixedRate(() -> {
            synchronized (snapshots) {
                if (snapshots.size() >= 10) {
                    Long[] begin = snapshots.getFirst();
                    Long[] end = snapshots.getLast();
                    final long tps = (long) (((end[1] - begin[1]) / (double) (end[0] - begin[0])) * 1000L);
                    final double avgB2c = (end[2] - begin[2]) / (double) (end[1] - begin[1]);
                    final double avgS2c = (end[3] - begin[3]) / (double) (end[1] - begin[1]);
                    final long fails = end[4] - begin[4];
                    final long maxB2c = b2cMax.getAndSet(0);
                    final long maxS2c = s2cMax.getAndSet(0);
                    System.out.printf("Current Time: %s | Consume TPS: %d | AVG(B2C) RT(ms): %7.3f | AVG(S2C) RT(ms): %7.3f | MAX(B2C) RT(ms): %d | MAX(S2C) RT(ms): %d | Consume Fail: %d%n",
                        UtilAll.timeMillisToHumanString2(System.currentTimeMillis()), tps, avgB2c, avgS2c, maxB2c, maxS2c, fails);
                }
            }
        }, reportInterval, reportInterval, TimeUnit.MILLISECONDS);

        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group, null, new AllocateMessageQueueAveragely(), msgTraceEnable, null);
        if (cl.hasOption('n')) {
            consumer.setNamesrvAddr(cl.getOptionValue('n'));
        }
        consumer.setConsumeThreadMin(threadCount);
        consumer.setConsumeThreadMax(threadCount);
        consumer.setInstanceName(Long.toString(System.currentTimeMillis()));
        consumer.setConsumeFromWhere(ConsumeFromWhere.valueOf(cf));
        if (filterType == null || expression == null) {
            consumer.subscribe(topic, "*");
        } else {
            String expr = new String(Files.readAllBytes(Paths.get(expression)), StandardCharsets.UTF_8);
            System.out.printf("Expression: %s%n", expr);
            if ("TAG".equals(filterType)) {
                consumer.subscribe(topic, MessageSelector.byTag(expr));
            } else if ("SQL92".equals(filterType)) {
                consumer.subscribe(topic, MessageSelector.bySql(expr));
            } else {
                throw new IllegalArgumentException("Not support filter type! " + filterType);
            }
        }
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, context) -> {
            MessageExt msg = msgs.get(0);
            long now = System.currentTimeMillis();
            received.increment();
            long b2c = now - msg.getBornTimestamp();
            b2cTotal.add(b2c);
            long s2c = now - msg.getStoreTimestamp();
            s2cTotal.add(s2c);
            max(b2cMax, b2c);
            max(s2cMax, s2c);
            if (ThreadLocalRandom.current().nextDouble() < failRate) {
                failCount.increment();
                return ConsumeConcurrentlyStatus.RECONSUME_LATER;
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        System.out.printf("Consumer Started.%n");

        if (durationSec <= 0 && quantity <= 0) {
            return; // like Apache's tool: run until killed
        }
        long end = durationSec > 0 ? System.currentTimeMillis() + durationSec * 1000 : Long.MAX_VALUE;
        boolean reached = false;
        while (System.currentTimeMillis() < end) {
            if (quantity > 0 && received.longValue() - failCount.longValue() >= quantity) {
                reached = true;
                break;
            }
            Thread.sleep(100);
        }
        consumer.shutdown();
        System.out.printf("[Complete] Consume Total: %d | Consume Fail: %d%n", received.longValue(), failCount.longValue());
        System.out.flush();
        System.exit(quantity > 0 && !reached ? 4 : 0);
    }

    static void max(AtomicLong target, long v) {
        long prev = target.get();
        while (v > prev && !target.compareAndSet(prev, v)) {
            prev = target.get();
        }
    }
}
