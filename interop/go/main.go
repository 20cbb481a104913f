// Interop test on the unchanged Go client github.com/apache/rocketmq-client-go/v2:
// send N messages (single sync sends, or batches with -batch K), then push-consume them with a
// fresh group from the first offset and check that exactly the sent bodies arrive.
//
//	go run . -n 127.0.0.1:9876 [-t topic] [-g group] [-c 1000] [-batch 0] [-timeout 60]
//
// Prints "PASS ..." and exits 0, or "FAIL: reason" and exits 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/apache/rocketmq-client-go/v2/rlog"
)

func fail(format string, a ...interface{}) {
	fmt.Printf("FAIL: "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	ns := flag.String("n", os.Getenv("NAMESRV_ADDR"), "name server host:port")
	topic := flag.String("t", "", "topic (default: unique)")
	group := flag.String("g", "", "consumer group (default: unique)")
	count := flag.Int("c", 1000, "messages to send")
	batch := flag.Int("batch", 0, "send in batches of this size (0 = single sync sends)")
	timeoutSec := flag.Int("timeout", 60, "overall time limit in seconds (max 60)")
	flag.Parse()
	if *ns == "" {
		fail("-n host:port is required")
	}
	if *timeoutSec > 60 || *timeoutSec <= 0 {
		*timeoutSec = 60
	}
	rlog.SetLogLevel("error")
	start := time.Now()
	deadline := start.Add(time.Duration(*timeoutSec) * time.Second)
	go func() {
		time.Sleep(time.Until(deadline) + 10*time.Second)
		fmt.Printf("FAIL: watchdog: did not finish in %d s\n", *timeoutSec+10)
		os.Exit(1)
	}()

	run := fmt.Sprintf("%x%03d", time.Now().UnixNano()%(1<<40), rand.Intn(1000))
	if *topic == "" {
		*topic = "it_go_" + run
	}
	if *group == "" {
		*group = "itg_go_" + run
	}
	resolver := primitive.NewPassthroughResolver([]string{*ns})

	p, err := rocketmq.NewProducer(
		producer.WithNsResolver(resolver),
		producer.WithGroupName("itp_go_"+run),
		producer.WithInstanceName("itp_go_"+run),
		producer.WithRetry(2),
		producer.WithSendMsgTimeout(10*time.Second),
	)
	if err != nil {
		fail("new producer: %v", err)
	}
	if err := p.Start(); err != nil {
		fail("producer start: %v", err)
	}
	expected := make(map[string]bool, *count)
	body := func(i int) string { return fmt.Sprintf("%s-%d", run, i) }
	ctx := context.Background()
	if *batch <= 0 {
		for i := 0; i < *count; i++ {
			m := primitive.NewMessage(*topic, []byte(body(i)))
			m.WithTag("TagG")
			m.WithKeys([]string{fmt.Sprintf("gk-%d", i)})
			res, err := p.SendSync(ctx, m)
			if err != nil {
				fail("send %d: %v", i, err)
			}
			if res.Status != primitive.SendOK || res.MsgID == "" {
				fail("send %d: %v", i, res)
			}
			expected[body(i)] = true
			if time.Now().After(deadline) {
				fail("timed out after %d sends", i)
			}
		}
	} else {
		for i := 0; i < *count; i += *batch {
			var msgs []*primitive.Message
			for j := i; j < i+*batch && j < *count; j++ {
				m := primitive.NewMessage(*topic, []byte(body(j)))
				m.WithTag("TagG")
				msgs = append(msgs, m)
				expected[body(j)] = true
			}
			res, err := p.SendSync(ctx, msgs...)
			if err != nil {
				fail("batch send at %d: %v", i, err)
			}
			if res.Status != primitive.SendOK {
				fail("batch send at %d: %v", i, res)
			}
		}
	}
	_ = p.Shutdown()
	sendDone := time.Since(start)

	var mu sync.Mutex
	got := map[string]int{}
	var badTopic string
	c, err := rocketmq.NewPushConsumer(
		consumer.WithNsResolver(resolver),
		consumer.WithGroupName(*group),
		consumer.WithInstance("itc_go_"+run),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
	)
	if err != nil {
		fail("new push consumer: %v", err)
	}
	err = c.Subscribe(*topic, consumer.MessageSelector{Type: consumer.TAG, Expression: "*"},
		func(ctx context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range msgs {
				if m.Topic != *topic {
					badTopic = m.Topic
				}
				got[string(m.Body)]++
			}
			return consumer.ConsumeSuccess, nil
		})
	if err != nil {
		fail("subscribe: %v", err)
	}
	if err := c.Start(); err != nil {
		fail("consumer start: %v", err)
	}
	distinct := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for b := range got {
			if expected[b] {
				n++
			}
		}
		return n
	}
	for time.Now().Before(deadline) && distinct() < len(expected) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // strays / duplicates
	_ = c.Shutdown()

	mu.Lock()
	defer mu.Unlock()
	if badTopic != "" {
		fail("message of topic %q delivered to subscription of %q", badTopic, *topic)
	}
	var missing, unexpected []string
	dups := 0
	for b := range expected {
		if got[b] == 0 {
			missing = append(missing, b)
		}
	}
	for b, n := range got {
		if !expected[b] {
			unexpected = append(unexpected, b)
		}
		dups += n - 1
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		fail("%d of %d messages never delivered (e.g. %s)", len(missing), len(expected), strings.Join(missing[:min(5, len(missing))], ","))
	}
	if len(unexpected) > 0 {
		fail("%d unexpected bodies delivered (e.g. %s)", len(unexpected), strings.Join(unexpected[:min(5, len(unexpected))], ","))
	}
	if dups > 0 {
		fail("%d duplicate deliveries", dups)
	}
	mode := "single sync sends"
	if *batch > 0 {
		mode = fmt.Sprintf("batches of %d", *batch)
	}
	fmt.Printf("PASS go (%d messages as %s in %v, all push-consumed exactly once; %d ms)\n",
		len(expected), mode, sendDone.Round(time.Millisecond), time.Since(start).Milliseconds())
	os.Exit(0)
}
