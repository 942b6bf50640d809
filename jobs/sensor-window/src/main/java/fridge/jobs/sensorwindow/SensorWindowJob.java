package fridge.jobs.sensorwindow;

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

/**
 * The Fridge's example job: generated sensor readings (sensor-0..N-1 at a fixed rate), a running count per
 * sensor in keyed state, and avg/min/max per sensor per tumbling window, printed to the TaskManagers' stdout.
 *
 * <p>Options: --rate readings/s (10), --sensors (10), --window-seconds (10), --checkpoint-seconds (5),
 * --fridge-jar DIGEST (job-submit passes the jar's short sha256; the job is then named sensor-window@DIGEST so a
 * second submit of the same jar can see it is already running), --fail-in main|open
 * (to exercise failure reporting), --fail-once-after N (one task failure after N readings, then a restart from
 * the last checkpoint: exercises exactly-once state), --mqtt-url (not supported: see README).
 */
public final class SensorWindowJob {
    public static final String JOB_NAME = "sensor-window";

    private SensorWindowJob() {}

    public static void main(String[] args) throws Exception {
        ParameterTool params = ParameterTool.fromArgs(args);
        int rate = params.getInt("rate", 10);
        int sensors = params.getInt("sensors", 10);
        long windowSeconds = params.getLong("window-seconds", 10);
        long checkpointSeconds = params.getLong("checkpoint-seconds", 5);
        String jarDigest = params.get("fridge-jar", "");
        String failIn = params.get("fail-in", "");
        long failOnceAfter = params.getLong("fail-once-after", 0L);

        if (params.has("mqtt-url")) {
            throw new IllegalArgumentException(
                    "--mqtt-url is not supported: no MQTT connector for Flink 2.x is published on Maven Central");
        }
        if (failIn.equals("main")) {
            throw new IllegalStateException("sensor-window: failing in main() as asked (--fail-in main)");
        }
        if (rate <= 0 || sensors <= 0 || windowSeconds <= 0 || checkpointSeconds <= 0) {
            throw new IllegalArgumentException("--rate, --sensors, --window-seconds, --checkpoint-seconds must be > 0");
        }
        if (params.has("fail-once-after") && failOnceAfter <= 0) {
            throw new IllegalArgumentException("--fail-once-after must be > 0");
        }

        Configuration conf = new Configuration();
        if (failIn.equals("open")) {
            // Fail once, visibly, instead of restarting forever.
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        } else {
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(5));
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.enableCheckpointing(checkpointSeconds * 1000L);

        DataGeneratorSource<SensorReading> source = new DataGeneratorSource<>(
                new Readings(sensors),
                Long.MAX_VALUE,
                RateLimiterStrategy.perSecond(rate),
                TypeInformation.of(SensorReading.class));

        // Stable uids: a savepoint maps state to operators by uid, so these must never change.
        DataStream<SensorReading> readings = env
                .fromSource(source, WatermarkStrategy.noWatermarks(), "sensor-readings")
                .uid("sensor-readings")
                // One sequence, so each sensor's reading numbers are dense (0, 1, 2, ...) and a gap or a duplicate
                // means a lost or repeated reading: with more readers DataGen splits the sequence into ranges and
                // every sensor would get several interleaved ones. One reader is far faster than any --rate here.
                .setParallelism(1);

        DataStream<SensorReading> counted = readings
                .keyBy(r -> r.sensorId)
                .process(failIn.equals("open") ? new FailingRunningCount() : new RunningCount(failOnceAfter))
                .uid("running-count")
                .name("running-count");

        counted
                .keyBy(r -> r.sensorId)
                .window(TumblingProcessingTimeWindows.of(Duration.ofSeconds(windowSeconds)))
                .aggregate(new StatsAggregate(), new StampWindow())
                .uid("window-stats")
                .name("window-stats")
                .print()
                .uid("print")
                .name("print");

        env.execute(jarDigest.isEmpty() ? JOB_NAME : JOB_NAME + "@" + jarDigest);
    }

    /** Throws when the task starts, so the job fails with a known root exception. */
    static final class FailingRunningCount extends RunningCount {
        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext openContext) {
            throw new IllegalStateException("sensor-window: failing in open() as asked (--fail-in open)");
        }
    }
}
