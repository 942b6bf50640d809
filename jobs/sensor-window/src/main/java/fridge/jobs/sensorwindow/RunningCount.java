package fridge.jobs.sensorwindow;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Counts readings per sensor in keyed state, so the count survives a stop-with-savepoint and restore, and checks
 * each sensor's sequence numbers in keyed state too: the highest seen, gaps (numbers skipped: readings lost) and
 * duplicates (numbers at or below the highest: readings counted twice). With exactly-once state both stay 0
 * across savepoints, redeploys and restores from a checkpoint.
 *
 * <p>Gauges, each the sum over the sensors this subtask has seen since it started (every sensor reports within
 * one round of readings, so right after a restore they show the restored sums instead of zero): {@code
 * readingsTotal}, {@code readingsGaps}, {@code readingsDuplicates}, {@code readingsHighestSeq}. They are read
 * through Flink's REST API (vertex metrics).
 */
public class RunningCount extends KeyedProcessFunction<String, SensorReading, SensorReading> {
    public static final String GAUGE = "readingsTotal";
    public static final String GAPS_GAUGE = "readingsGaps";
    public static final String DUPLICATES_GAUGE = "readingsDuplicates";
    public static final String HIGHEST_SEQ_GAUGE = "readingsHighestSeq";

    private final long failOnceAfter;

    private transient ValueState<Long> count;
    private transient ValueState<Long> highest;
    private transient ValueState<Long> gaps;
    private transient ValueState<Long> duplicates;
    private transient SensorSums totals;
    private transient SensorSums gapSums;
    private transient SensorSums duplicateSums;
    private transient SensorSums highestSums;
    private transient boolean mayFail;
    private transient long processed;

    public RunningCount() {
        this(0L);
    }

    /**
     * @param failOnceAfter when > 0, throw at reading failOnceAfter + 1 of this subtask, in the job's first
     *     attempt only: the job then restarts from its last checkpoint and runs on (tests of exactly-once state)
     */
    public RunningCount(long failOnceAfter) {
        this.failOnceAfter = failOnceAfter;
    }

    @Override
    public void open(OpenContext openContext) {
        count = getRuntimeContext().getState(new ValueStateDescriptor<>("running-count", Types.LONG));
        // New states next to the count: a savepoint of an earlier version restores without them (see SequenceCheck.first).
        highest = getRuntimeContext().getState(new ValueStateDescriptor<>("sequence-highest", Types.LONG));
        gaps = getRuntimeContext().getState(new ValueStateDescriptor<>("sequence-gaps", Types.LONG));
        duplicates = getRuntimeContext().getState(new ValueStateDescriptor<>("sequence-duplicates", Types.LONG));
        totals = new SensorSums();
        gapSums = new SensorSums();
        duplicateSums = new SensorSums();
        highestSums = new SensorSums();
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        metrics.gauge(GAUGE, (Gauge<Long>) totals::total);
        metrics.gauge(GAPS_GAUGE, (Gauge<Long>) gapSums::total);
        metrics.gauge(DUPLICATES_GAUGE, (Gauge<Long>) duplicateSums::total);
        metrics.gauge(HIGHEST_SEQ_GAUGE, (Gauge<Long>) highestSums::total);
        mayFail = failOnceAfter > 0 && getRuntimeContext().getTaskInfo().getAttemptNumber() == 0;
        processed = 0L;
    }

    @Override
    public void processElement(SensorReading reading, Context ctx, Collector<SensorReading> out) throws Exception {
        if (mayFail && ++processed > failOnceAfter) {
            throw new IllegalStateException(
                    "sensor-window: failing once after " + failOnceAfter + " readings as asked (--fail-once-after)");
        }
        Long previous = count.value();
        long next = (previous == null ? 0L : previous) + 1L;
        count.update(next);
        totals.update(reading.sensorId, next);

        Long seen = highest.value();
        SequenceCheck check = SequenceCheck.observe(
                seen == null ? null : new SequenceCheck(seen, orZero(gaps.value()), orZero(duplicates.value())),
                reading.sensorSequence);
        highest.update(check.highest);
        gaps.update(check.gaps);
        duplicates.update(check.duplicates);
        highestSums.update(reading.sensorId, check.highest);
        gapSums.update(reading.sensorId, check.gaps);
        duplicateSums.update(reading.sensorId, check.duplicates);

        reading.runningCount = next;
        out.collect(reading);
    }

    private static long orZero(Long v) {
        return v == null ? 0L : v;
    }
}
