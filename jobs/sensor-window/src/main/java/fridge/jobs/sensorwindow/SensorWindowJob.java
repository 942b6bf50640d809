package fridge.jobs.sensorwindow;

import fridge.jobs.sensorwindow.mqtt.MqttSink;
import fridge.jobs.sensorwindow.mqtt.MqttSource;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.util.ParameterTool;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.windowing.assigners.TumblingProcessingTimeWindows;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * The Fridge's example job: sensor readings (generated: sensor-0..N-1 at a fixed rate; or read from MQTT), a running
 * count per sensor in keyed state, and avg/min/max per sensor per tumbling window, printed to the TaskManagers'
 * stdout and, when asked, published to MQTT.
 *
 * <p>Options: --rate readings/s (10), --sensors (10), --window-seconds (10), --checkpoint-seconds (5),
 * --fridge-jar DIGEST (job-submit passes the jar's short sha256; the job is then named sensor-window@DIGEST so a
 * second submit of the same jar can see it is already running), --fail-in main|open
 * (to exercise failure reporting), --fail-once-after N (one task failure after N readings, then a restart from
 * the last checkpoint: exercises exactly-once state), --mqtt-url tcp://host:1883 (read readings from MQTT instead
 * of generating them), --mqtt-topic FILTER[,FILTER] (sensors/+/readings), --mqtt-client-id PREFIX (sensor-window),
 * --mqtt-results-topic TOPIC (publish window results; {sensor} is replaced), --mqtt-fail-before-ack N (the MQTT
 * source fails once when its N-th checkpoint completes, before acknowledging: exercises the de-duplication).
 * See the README for the payloads.
 */
public final class SensorWindowJob {
    public static final String JOB_NAME = "sensor-window";
    public static final String DEFAULT_MQTT_TOPIC = "sensors/+/readings";
    public static final String DEFAULT_MQTT_CLIENT_ID = "sensor-window";

    private SensorWindowJob() {}

    /** The job, built but not started: main() executes it, the tests submit it to a MiniCluster. */
    public record Job(StreamExecutionEnvironment env, String name) {}

    public static void main(String[] args) throws Exception {
        Job job = build(args);
        job.env().execute(job.name());
    }

    public static Job build(String[] args) {
        ParameterTool params = ParameterTool.fromArgs(args);
        int rate = params.getInt("rate", 10);
        int sensors = params.getInt("sensors", 10);
        long windowSeconds = params.getLong("window-seconds", 10);
        long checkpointSeconds = params.getLong("checkpoint-seconds", 5);
        String jarDigest = params.get("fridge-jar", "");
        String failIn = params.get("fail-in", "");
        long failOnceAfter = params.getLong("fail-once-after", 0L);
        String mqttUrl = params.get("mqtt-url", "");
        String mqttTopic = params.get("mqtt-topic", DEFAULT_MQTT_TOPIC);
        String mqttClientId = params.get("mqtt-client-id", DEFAULT_MQTT_CLIENT_ID);
        String resultsTopic = params.get("mqtt-results-topic", "");
        long failBeforeAck = params.getLong("mqtt-fail-before-ack", 0L);
        boolean mqtt = !mqttUrl.isEmpty();

        if (failIn.equals("main")) {
            throw new IllegalStateException("sensor-window: failing in main() as asked (--fail-in main)");
        }
        if (rate <= 0 || sensors <= 0 || windowSeconds <= 0 || checkpointSeconds <= 0) {
            throw new IllegalArgumentException("--rate, --sensors, --window-seconds, --checkpoint-seconds must be > 0");
        }
        if (params.has("fail-once-after") && failOnceAfter <= 0) {
            throw new IllegalArgumentException("--fail-once-after must be > 0");
        }
        if (params.has("mqtt-url") && !mqttUrl.matches("(tcp|ssl)://[^/\\s]+")) {
            throw new IllegalArgumentException("--mqtt-url must look like tcp://host:1883 (or ssl://host:8883), not '" + mqttUrl + "'");
        }
        for (String o : new String[] {"mqtt-topic", "mqtt-client-id", "mqtt-results-topic", "mqtt-fail-before-ack"}) {
            if (params.has(o) && !mqtt) throw new IllegalArgumentException("--" + o + " needs --mqtt-url");
        }
        List<String> topics = Arrays.stream(mqttTopic.split(",")).map(String::trim).filter(t -> !t.isEmpty()).toList();
        if (mqtt && topics.isEmpty()) throw new IllegalArgumentException("--mqtt-topic names no topic filter");
        if (mqttClientId.isBlank()) throw new IllegalArgumentException("--mqtt-client-id must not be empty");
        if (params.has("mqtt-results-topic") && (resultsTopic.isEmpty() || resultsTopic.contains("+") || resultsTopic.contains("#"))) {
            throw new IllegalArgumentException("--mqtt-results-topic must be a topic name (no wildcards)");
        }
        if (params.has("mqtt-fail-before-ack") && failBeforeAck <= 0) {
            throw new IllegalArgumentException("--mqtt-fail-before-ack must be > 0");
        }

        Configuration conf = new Configuration();
        if (failIn.equals("open")) {
            // Fail once, visibly, instead of restarting forever.
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        } else if (mqtt) {
            // The MQTT source fails whenever its connection drops (the broker restarts, the network blinks), and a
            // restore is how it stays exactly-once: keep restarting, backing off up to a minute.
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF, Duration.ofSeconds(1));
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF, Duration.ofMinutes(1));
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_ATTEMPTS, Integer.MAX_VALUE);
        } else {
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(5));
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.enableCheckpointing(checkpointSeconds * 1000L);

        // Stable uids: a savepoint maps state to operators by uid, so these must never change.
        DataStream<SensorReading> readings;
        if (mqtt) {
            MqttSource<SensorReading> source = new MqttSource<>(
                    new MqttSource.Config(mqttUrl, topics, mqttClientId, failBeforeAck),
                    new ReadingJson(),
                    TypeInformation.of(SensorReading.class));
            // Its own uid: the DataGen source's state (a position) means nothing to it. One session, so one reader.
            readings = env
                    .fromSource(source, WatermarkStrategy.noWatermarks(), "mqtt-readings")
                    .uid("mqtt-readings")
                    .setParallelism(1);
        } else {
            DataGeneratorSource<SensorReading> source = new DataGeneratorSource<>(
                    new Readings(sensors),
                    Long.MAX_VALUE,
                    RateLimiterStrategy.perSecond(rate),
                    TypeInformation.of(SensorReading.class));
            readings = env
                    .fromSource(source, WatermarkStrategy.noWatermarks(), "sensor-readings")
                    .uid("sensor-readings")
                    // One sequence, so each sensor's reading numbers are dense (0, 1, 2, ...) and a gap or a duplicate
                    // means a lost or repeated reading: with more readers DataGen splits the sequence into ranges and
                    // every sensor would get several interleaved ones. One reader is far faster than any --rate here.
                    .setParallelism(1);
        }

        DataStream<SensorReading> counted = readings
                .keyBy(r -> r.sensorId)
                .process(failIn.equals("open") ? new FailingRunningCount() : new RunningCount(failOnceAfter))
                .uid("running-count")
                .name("running-count");

        DataStream<WindowStats> windows = counted
                .keyBy(r -> r.sensorId)
                .window(TumblingProcessingTimeWindows.of(Duration.ofSeconds(windowSeconds)))
                .aggregate(new StatsAggregate(), new StampWindow())
                .uid("window-stats")
                .name("window-stats");
        windows.print().uid("print").name("print");
        if (!resultsTopic.isEmpty()) {
            String template = resultsTopic;
            windows.sinkTo(new MqttSink<WindowStats>(
                            mqttUrl,
                            mqttClientId,
                            s -> ReadingJson.resultTopic(template, s.sensorId),
                            s -> ReadingJson.result(s, System.currentTimeMillis())))
                    .uid("mqtt-results")
                    .name("mqtt-results");
        }

        return new Job(env, jarDigest.isEmpty() ? JOB_NAME : JOB_NAME + "@" + jarDigest);
    }

    /** Throws when the task starts, so the job fails with a known root exception. */
    static final class FailingRunningCount extends RunningCount {
        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext openContext) {
            throw new IllegalStateException("sensor-window: failing in open() as asked (--fail-in open)");
        }
    }
}
