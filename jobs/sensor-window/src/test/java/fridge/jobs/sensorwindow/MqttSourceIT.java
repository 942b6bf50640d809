package fridge.jobs.sensorwindow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import fridge.jobs.sensorwindow.mqtt.Mosquitto;
import fridge.jobs.sensorwindow.mqtt.MqttSource;
import fridge.jobs.sensorwindow.mqtt.TestMetrics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.scheduler.exceptionhistory.RootExceptionHistoryEntry;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MQTT source against a real Mosquitto and Flink's MiniCluster: numbered readings published with QoS 1 while
 * the job runs, one failure injected mid-stream, and every sensor's running count (exactly-once keyed state, read
 * from the results the job publishes back to MQTT) ends at exactly the number of readings published, no less (no
 * loss), no more (no duplicate). Runs with -Dfridge.mqtt-it (npm test: test/integration/13-mqtt-source.test.ts).
 */
class MqttSourceIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SENSORS = 4;
    private static final int PER_SENSOR = 250;
    private static final int RATE = 200;

    @TempDir
    static Path dir;

    private static Mosquitto broker;
    private static MiniCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        broker = Mosquitto.start(dir);
        Configuration conf = new Configuration();
        // Loopback only, and no fixed port (8081 may be taken on this machine).
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        conf.set(RestOptions.BIND_PORT, "0");
        conf.set(JobManagerOptions.ADDRESS, "127.0.0.1");
        conf.set(TaskManagerOptions.HOST, "127.0.0.1");
        conf.set(TaskManagerOptions.BIND_HOST, "127.0.0.1");
        conf.setString("metrics.reporter.test.factory.class", TestMetrics.Factory.class.getName());
        cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(4)
                .build());
        cluster.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) cluster.close();
        if (broker != null) broker.close();
    }

    @Test
    void countsExactlyOnceWhenTheSourceFailsBeforeAcknowledgingACheckpoint() throws Exception {
        // The checkpoint restored covers messages the broker still redelivers: they must be dropped, not counted.
        Run run = run("dedup", "--mqtt-fail-before-ack", "2");
        assertTrue(run.failures.stream().anyMatch(f -> f.contains("fails before acknowledging checkpoint")), run.failures::toString);
        assertTrue(run.duplicatesDropped > 0, "the restore made the broker redeliver messages the checkpoint held: " + run);
    }

    @Test
    void countsExactlyOnceWhenAnOperatorFailsMidStream() throws Exception {
        // Readings after the last checkpoint are redelivered (never acknowledged) and counted again from its state.
        Run run = run("redelivery", "--fail-once-after", "150");
        assertTrue(run.failures.stream().anyMatch(f -> f.contains("--fail-once-after")), run.failures::toString);
    }

    private record Run(List<String> failures, long duplicatesDropped, Map<String, Long> maxRunningCount) {}

    private Run run(String name, String... failure) throws Exception {
        String prefix = "it-" + name;
        String topic = "it/" + name + "/+/readings";
        String jobName = "sensor-window-" + name;
        // The job's session exists before it starts (as after its first run): the broker keeps every reading for it.
        MqttClient session = new MqttClient(broker.url(), MqttSource.clientId(prefix, MqttSource.SPLIT_ID), new MemoryPersistence());
        session.connect(options(false));
        session.subscribe(topic, 1);
        session.disconnect();
        session.close();

        Map<String, Long> maxRunning = new ConcurrentHashMap<>();
        List<String> bad = new ArrayList<>();
        MqttClient results = new MqttClient(broker.url(), prefix + "-test-results", new MemoryPersistence());
        results.connect(options(true));
        results.subscribe("it/" + name + "/results/+", 1, (t, m) -> {
            try {
                JsonNode n = JSON.readTree(m.getPayload());
                maxRunning.merge(n.get("sensor").asText(), n.get("runningCount").asLong(), Math::max);
                if (n.get("count").asLong() <= 0 || n.get("newestTs").asLong() <= 0 || n.get("publishedAt").asLong() < n.get("newestTs").asLong()) {
                    synchronized (bad) { bad.add(new String(m.getPayload(), StandardCharsets.UTF_8)); }
                }
            } catch (Exception e) {
                synchronized (bad) { bad.add(e.toString()); }
            }
        });

        List<String> args = new ArrayList<>(List.of(
                "--mqtt-url", broker.url(),
                "--mqtt-topic", topic,
                "--mqtt-client-id", prefix,
                "--mqtt-results-topic", "it/" + name + "/results/{sensor}",
                "--window-seconds", "1",
                "--checkpoint-seconds", "1"));
        args.addAll(List.of(failure));
        SensorWindowJob.Job job = SensorWindowJob.build(args.toArray(String[]::new));
        job.env().setParallelism(2);
        StreamGraph graph = job.env().getStreamGraph();
        graph.setJobName(jobName);
        graph.setJobId(new JobID());
        JobID id = cluster.submitJob(graph).get().getJobID();
        try {
            publish("it/" + name);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (System.nanoTime() < deadline && !allReached(maxRunning)) {
                JobStatus status = cluster.getJobStatus(id).get();
                if (status.isGloballyTerminalState()) fail("the job ended: " + status + " " + failures(id));
                Thread.sleep(200);
            }
            // A few more windows: a duplicate would show up as a running count above the number published.
            Thread.sleep(3_000);
            Run run = new Run(failures(id), TestMetrics.sum(jobName, "mqttDuplicatesDropped"), new TreeMap<>(maxRunning));
            Map<String, Long> expected = new TreeMap<>();
            for (int s = 0; s < SENSORS; s++) expected.put("sensor-" + s, (long) PER_SENSOR);
            assertEquals(expected, run.maxRunningCount(), "every sensor's running count: " + run);
            assertEquals(0, TestMetrics.sum(jobName, RunningCount.DUPLICATES_GAUGE), "readings counted twice");
            assertEquals(0, TestMetrics.sum(jobName, RunningCount.GAPS_GAUGE), "readings lost");
            assertEquals(List.of(), bad, "malformed results");
            System.out.println("MqttSourceIT " + name + ": " + run);
            return run;
        } finally {
            cluster.cancelJob(id).get();
            results.disconnect();
            results.close();
        }
    }

    private static boolean allReached(Map<String, Long> maxRunning) {
        if (maxRunning.size() < SENSORS) return false;
        return maxRunning.values().stream().allMatch(v -> v >= PER_SENSOR);
    }

    /** Reading i is reading number i div SENSORS of sensor i mod SENSORS, at RATE readings per second. */
    private static void publish(String base) throws Exception {
        MqttClient p = new MqttClient(broker.url(), base.replace('/', '-') + "-publisher", new MemoryPersistence());
        p.connect(options(true));
        long start = System.nanoTime();
        for (int i = 0; i < SENSORS * PER_SENSOR; i++) {
            String sensor = "sensor-" + (i % SENSORS);
            long seq = i / SENSORS;
            p.publish(base + "/" + sensor + "/readings", ReadingJson.reading(sensor, seq, 20.0 + seq % 7, System.currentTimeMillis()), 1, false);
            long due = start + TimeUnit.SECONDS.toNanos(1) * (i + 1) / RATE;
            long wait = due - System.nanoTime();
            if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
        }
        p.disconnect();
        p.close();
    }

    private static MqttConnectOptions options(boolean clean) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(clean);
        // Paho counts a publish in flight a little past its acknowledgement: room for that.
        o.setMaxInflight(1000);
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        return o;
    }

    private static List<String> failures(JobID id) throws Exception {
        Iterable<RootExceptionHistoryEntry> history = cluster.getExecutionGraphInfo(id).get().getExceptionHistory();
        return StreamSupport.stream(history.spliterator(), false)
                .map(e -> e.getExceptionAsString().lines().findFirst().orElse(""))
                .collect(Collectors.toList());
    }
}
