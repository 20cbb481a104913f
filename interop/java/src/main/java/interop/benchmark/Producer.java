package interop.benchmark;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedList;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.UtilAll;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.remoting.exception.RemotingException;

/**
 * Clone of Apache RocketMQ's benchmark Producer (rocketmq-example is not published to Maven
 * Central): same flags, same defaults, same mechanics (binary ROCKETMQ headers, SEND_MESSAGE_V2 via
 * sendSmartMsg, group benchmark_producer, 1 s snapshots in a ring of 10, a report every -ri ms)
 * and the same output lines:
 * <pre>
 * Current Time: %s | Send TPS: %d | Max RT(ms): %d | Average RT(ms): %7.3f | Send Failed: %d | Response Failed: %d
 * [Complete] Send Total: %d | Send TPS: %d | Max RT(ms): %d | Average RT(ms): %7.3f | Send Failed: %d | Response Failed: %d
 * </pre>
 * Additions (not in Apache's tool): -x SECONDS bounds the run time (0 = unbounded, Apache's
 * behaviour), and the exit status is 0 only if no send failed (3 otherwise).
 */
public final class Producer {
    private static final int MAX_LENGTH_ASYNC_QUEUE = 10000;
    private static final int SLEEP_FOR_A_WHILE = 100;

    private static final LongAdder sendRequestSuccess = new LongAdder();
    private static final LongAdder sendRequestFailed = new LongAdder();
    private static final LongAdder receiveResponseSuccess = new LongAdder();
    private static final LongAdder receiveResponseFailed = new LongAdder();
    private static final LongAdder sendSuccessRtTotal = new LongAdder();
    private static final AtomicLong sendMaxRt = new AtomicLong();

    private static volatile boolean stop;
    private static final java.util.concurrent.atomic.AtomicInteger ASYNC_ERRORS_SHOWN = new java.util.concurrent.atomic.AtomicInteger();

    static Long[] snapshot() {
        return new Long[] {System.currentTimeMillis(), sendRequestSuccess.longValue(), sendRequestFailed.longValue(),
            receiveResponseSuccess.longValue(), receiveResponseFailed.longValue(), sendSuccessRtTotal.longValue()};
    }

    static Options options() {
        Options o = new Options();
        o.addOption("h", "help", false, "Print help");
        o.addOption("n", "namesrvAddr", true, "Name server address list, eg: '192.168.0.1:9876;192.168.0.2:9876'");
        o.addOption("w", "threadCount", true, "Thread count, Default: 64");
        o.addOption("s", "messageSize", true, "Message Size, Default: 128");
        o.addOption("k", "keyEnable", true, "Message Key Enable, Default: false");
        o.addOption("t", "topic", true, "Topic name, Default: BenchmarkTest");
        o.addOption("l", "tagCount", true, "Tag count, Default: 0");
        o.addOption("m", "msgTraceEnable", true, "Message Trace Enable, Default: false");
        o.addOption("a", "aclEnable", true, "Acl Enable, Default: false (not supported by this clone)");
        o.addOption("ak", "accessKey", true, "Acl access key, Default: 12345678");
        o.addOption("sk", "secretKey", true, "Acl secret key, Default: rocketmq2");
        o.addOption("q", "messageQuantity", true, "Send message quantity, Default: 0, running forever");
        o.addOption("d", "delayEnable", true, "Delay message Enable, Default: false");
        o.addOption("e", "delayLevel", true, "Delay message level, Default: 1");
        o.addOption("y", "asyncEnable", true, "Enable async produce, Default: false");
        o.addOption("c", "compressEnable", true, "Enable compress msg over 4K, Default: false");
        o.addOption("ct", "compressType", true, "Message compressed type, Default: ZLIB (only ZLIB here)");
        o.addOption("cl", "compressLevel", true, "Message compressed level, Default: 5");
        o.addOption("ch", "compressOverHowMuch", true, "Compress message when body over how much(unit Byte), Default: 4096");
        o.addOption("p", "propertySize", true, "Property Size, Default: 0");
        o.addOption("ri", "reportInterval", true, "The number of ms between reports, Default: 10000");
        o.addOption("x", "duration", true, "[clone only] stop after this many seconds, Default: 0 (run forever)");
        return o;
    }

    public static void main(String[] args) throws Exception {
        // Apache's tool forces binary (ROCKETMQ) headers; producer.sh also sets sendSmartMsg=true.
        System.setProperty("rocketmq.serialize.type", "ROCKETMQ");
        System.setProperty("org.apache.rocketmq.client.sendSmartMsg", "true");

        CommandLine cl;
        try {
            cl = new DefaultParser().parse(options(), args);
        } catch (ParseException e) {
            System.err.println(e.getMessage());
            new HelpFormatter().printHelp("benchmarkProducer", options(), true);
            System.exit(-1);
            return;
        }
        if (cl.hasOption('h')) {
            new HelpFormatter().printHelp("benchmarkProducer", options(), true);
            System.exit(0);
        }

        final String topic = cl.hasOption('t') ? cl.getOptionValue('t').trim() : "BenchmarkTest";
        final int messageSize = cl.hasOption('s') ? Integer.parseInt(cl.getOptionValue('s')) : 128;
        final boolean keyEnable = cl.hasOption('k') && Boolean.parseBoolean(cl.getOptionValue('k'));
        final int propertySize = cl.hasOption('p') ? Integer.parseInt(cl.getOptionValue('p')) : 0;
        final int tagCount = cl.hasOption('l') ? Integer.parseInt(cl.getOptionValue('l')) : 0;
        final boolean msgTraceEnable = cl.hasOption('m') && Boolean.parseBoolean(cl.getOptionValue('m'));
        final boolean aclEnable = cl.hasOption('a') && Boolean.parseBoolean(cl.getOptionValue('a'));
        final long messageNum = cl.hasOption('q') ? Long.parseLong(cl.getOptionValue('q')) : 0;
        final boolean delayEnable = cl.hasOption('d') && Boolean.parseBoolean(cl.getOptionValue('d'));
        final int delayLevel = cl.hasOption('e') ? Integer.parseInt(cl.getOptionValue('e')) : 1;
        final boolean asyncEnable = cl.hasOption('y') && Boolean.parseBoolean(cl.getOptionValue('y'));
        final int threadCount = asyncEnable ? 1 : cl.hasOption('w') ? Integer.parseInt(cl.getOptionValue('w')) : 64;
        final boolean compressEnable = cl.hasOption('c') && Boolean.parseBoolean(cl.getOptionValue('c'));
        final int compressLevel = cl.hasOption("cl") ? Integer.parseInt(cl.getOptionValue("cl")) : 5;
        final int compressOverHowMuch = cl.hasOption("ch") ? Integer.parseInt(cl.getOptionValue("ch")) : 4096;
        final long reportInterval = cl.hasOption("ri") ? Long.parseLong(cl.getOptionValue("ri")) : 10000;
        final long durationSec = cl.hasOption('x') ? Long.parseLong(cl.getOptionValue('x')) : 0;
        if (aclEnable) {
            System.err.println("ACL (-a true) is not supported by this clone");
            System.exit(2);
        }

        System.out.printf("topic: %s, threadCount: %d, messageSize: %d, keyEnable: %s, propertySize: %d, tagCount: %d, "
                + "traceEnable: %s, aclEnable: %s, messageQuantity: %d, delayEnable: %s, delayLevel: %s, "
                + "asyncEnable: %s%n",
            topic, threadCount, messageSize, keyEnable, propertySize, tagCount, msgTraceEnable, aclEnable, messageNum,
            delayEnable, delayLevel, asyncEnable);

        final byte[] msgBody = randomAlphanumeric(messageSize).getBytes(StandardCharsets.UTF_8);

        final ExecutorService sendThreadPool = Executors.newFixedThreadPool(threadCount);
        final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "BenchmarkTimerThread");
            t.setDaemon(true);
            return t;
        });
        final LinkedList<Long[]> snapshots = new LinkedList<>();
        final long[] msgNums = new long[threadCount];
        if (messageNum > 0) {
            Arrays.fill(msgNums, messageNum / threadCount);
            long mod = messageNum % threadCount;
            if (mod > 0) {
                msgNums[0] += mod;
            }
        }

        timer.scheduleAtFixedRate(() -> {
            synchronized (snapshots) {
                snapshots.addLast(snapshot());
                if (snapshots.size() > 10) {
                    snapshots.removeFirst();
                }
            }
        }, 1000, 1000, TimeUnit.MILLISECONDS);
        timer.scheduleAtFixedRate(() -> {
            try {
                synchronized (snapshots) {
                    if (snapshots.size() >= 10) {
                        printStats(snapshots, false);
                    }
                }
            } catch (Exception e) {
                e.printStackTrace();
            }
        }, reportInterval, reportInterval, TimeUnit.MILLISECONDS);

        final DefaultMQProducer producer = new DefaultMQProducer("benchmark_producer", null, msgTraceEnable, null);
        producer.setInstanceName(Long.toString(System.currentTimeMillis()));
        if (cl.hasOption('n')) {
            producer.setNamesrvAddr(cl.getOptionValue('n'));
        }
        if (compressEnable) {
            producer.setCompressMsgBodyOverHowmuch(compressOverHowMuch);
            System.setProperty("rocketmq.message.compressLevel", Integer.toString(compressLevel));
            System.out.printf("compressType: ZLIB compressLevel: %s%n", compressLevel);
        } else {
            producer.setCompressMsgBodyOverHowmuch(Integer.MAX_VALUE);
        }
        producer.start();

        if (durationSec > 0) {
            timer.schedule(() -> {
                stop = true;
            }, durationSec, TimeUnit.SECONDS);
        }

        for (int i = 0; i < threadCount; i++) {
            final long limit = msgNums[i];
            if (messageNum > 0 && limit == 0) {
                break;
            }
            sendThreadPool.execute(() -> {
                long num = 0;
                while (!stop) {
                    try {
                        final Message msg = new Message(topic, msgBody);
                        final long begin = System.currentTimeMillis();
                        if (keyEnable) {
                            msg.setKeys(String.valueOf(begin / 1000));
                        }
                        if (delayEnable) {
                            msg.setDelayTimeLevel(delayLevel);
                        }
                        if (tagCount > 0) {
                            msg.setTags(String.format("tag%d", System.currentTimeMillis() % tagCount));
                        }
                        if (propertySize > 0) {
                            addProperties(msg, propertySize);
                        }
                        if (asyncEnable) {
                            ThreadPoolExecutor e = (ThreadPoolExecutor) producer.getDefaultMQProducerImpl().getAsyncSenderExecutor();
                            while (e.getQueue().size() > MAX_LENGTH_ASYNC_QUEUE) {
                                Thread.sleep(SLEEP_FOR_A_WHILE);
                            }
                            producer.send(msg, new SendCallback() {
                                @Override
                                public void onSuccess(SendResult sendResult) {
                                    success(begin);
                                }

                                @Override
                                public void onException(Throwable e) {
                                    sendRequestFailed.increment();
                                    if (ASYNC_ERRORS_SHOWN.getAndIncrement() < 3) {
                                        System.err.println("[BENCHMARK_PRODUCER] Async Send Exception " + e);
                                    }
                                }
                            });
                        } else {
                            producer.send(msg);
                            success(begin);
                        }
                    } catch (RemotingException e) {
                        sendRequestFailed.increment();
                        System.err.println("[BENCHMARK_PRODUCER] Send Exception " + e);
                        sleep(3000);
                    } catch (InterruptedException e) {
                        sendRequestFailed.increment();
                        sleep(3000);
                    } catch (MQClientException e) {
                        sendRequestFailed.increment();
                        System.err.println("[BENCHMARK_PRODUCER] Send Exception " + e);
                    } catch (MQBrokerException e) {
                        receiveResponseFailed.increment();
                        System.err.println("[BENCHMARK_PRODUCER] Send Exception " + e);
                        sleep(3000);
                    }
                    if (messageNum > 0 && ++num >= limit) {
                        break;
                    }
                }
            });
        }

        sendThreadPool.shutdown();
        sendThreadPool.awaitTermination(Long.MAX_VALUE, TimeUnit.DAYS);
        if (asyncEnable) {
            // let in-flight async callbacks land before the final report (bounded)
            ThreadPoolExecutor e = (ThreadPoolExecutor) producer.getDefaultMQProducerImpl().getAsyncSenderExecutor();
            long end = System.currentTimeMillis() + 5000;
            while ((e.getQueue().size() > 0 || e.getActiveCount() > 0) && System.currentTimeMillis() < end) {
                Thread.sleep(50);
            }
        }
        timer.shutdown();
        timer.awaitTermination(5000, TimeUnit.MILLISECONDS);
        synchronized (snapshots) {
            snapshots.addLast(snapshot());
            if (snapshots.size() > 11) {
                snapshots.removeFirst();
            }
            if (snapshots.size() > 1) {
                printStats(snapshots, true);
            } else {
                System.out.printf("[Complete] Send Total: %d Send Failed: %d Response Failed: %d%n",
                    sendRequestSuccess.longValue() + sendRequestFailed.longValue(), sendRequestFailed.longValue(),
                    receiveResponseFailed.longValue());
            }
        }
        System.out.flush();
        producer.shutdown();
        System.exit(sendRequestFailed.longValue() + receiveResponseFailed.longValue() == 0 ? 0 : 3);
    }

    private static void success(long begin) {
        sendRequestSuccess.increment();
        receiveResponseSuccess.increment();
        long rt = System.currentTimeMillis() - begin;
        sendSuccessRtTotal.add(rt);
        long prev = sendMaxRt.get();
        while (rt > prev && !sendMaxRt.compareAndSet(prev, rt)) {
            prev = sendMaxRt.get();
        }
    }

    private static void printStats(LinkedList<Long[]> snaps, boolean done) {
        Long[] begin = snaps.getFirst();
        Long[] end = snaps.getLast();
        final long sendTps = (long) (((end[3] - begin[3]) / (double) (end[0] - begin[0])) * 1000L);
        final double averageRT = (end[5] - begin[5]) / (double) (end[3] - begin[3]);
        if (done) {
            System.out.printf("[Complete] Send Total: %d | Send TPS: %d | Max RT(ms): %d | Average RT(ms): %7.3f | Send Failed: %d | Response Failed: %d%n",
                sendRequestSuccess.longValue() + sendRequestFailed.longValue(), sendTps, sendMaxRt.get(), averageRT, end[2], end[4]);
        } else {
            System.out.printf("Current Time: %s | Send TPS: %d | Max RT(ms): %d | Average RT(ms): %7.3f | Send Failed: %d | Response Failed: %d%n",
                UtilAll.timeMillisToHumanString2(System.currentTimeMillis()), sendTps, sendMaxRt.get(), averageRT, end[2], end[4]);
        }
    }

    private static void addProperties(Message msg, int propertySize) {
        if (msg.getProperties() != null) {
            msg.getProperties().clear();
        }
        int i = 0;
        int startValue = new Random(System.currentTimeMillis()).nextInt(100);
        int size = 0;
        while (true) {
            String k1 = "prop" + i;
            String v1 = "hello" + startValue;
            String k2 = "prop" + (i + 1);
            String v2 = String.valueOf(startValue);
            msg.putUserProperty(k1, v1);
            msg.putUserProperty(k2, v2);
            size += k1.length() + k2.length() + v1.length() + v2.length();
            if (size > propertySize) {
                break;
            }
            i += 2;
            startValue += 2;
        }
    }

    static String randomAlphanumeric(int n) {
        final String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        Random r = new Random();
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
        }
    }
}
